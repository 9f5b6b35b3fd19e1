"""The quarterly return's job: every night, build the last completed quarter's return
for each ICB that has none. Thin: it takes the sweep lock and calls the service; the
unique constraint on (ICB, year, quarter, version) makes a second run build nothing."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from core.locks import sweep_lock
from core.reporting.quarterly import quarterly_returns_build_due


@shared_task(time_limit=30 * 60, soft_time_limit=25 * 60)
def quarterly_returns_build_task() -> int | None:
    """Daily. Returns how many returns were built, or None if another run holds the
    lock."""
    with sweep_lock("quarterly_returns_build") as acquired:
        if not acquired:
            return None
        return len(quarterly_returns_build_due(today=timezone.localdate()))
