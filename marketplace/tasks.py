"""Marketplace jobs. Thin: the sweep takes its own lock, so two beats or workers never run
it at once, and moves each listing with a compare-and-set, so a re-run changes nothing."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from marketplace.listings import verification_expire_sweep
from marketplace.pooling import pool_expire_sweep


@shared_task(time_limit=10 * 60)
def verification_expire_task() -> dict[str, Any] | None:
    """Daily: verified listings whose verification has run out go back to pending."""
    return verification_expire_sweep()


@shared_task(time_limit=10 * 60)
def pool_expire_task() -> int:
    """Daily: open pools past their deadline close (expired without enough members, or
    cancelled when never funded), and their members are told."""
    return pool_expire_sweep()
