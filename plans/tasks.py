"""Plan jobs. Thin: the sweep takes its own lock, so two beats or workers never run it
twice at once, and its reminders are recorded so a re-run sends none again."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from plans.reviews import review_sweep


@shared_task(time_limit=30 * 60)
def review_sweep_task() -> dict[str, Any] | None:
    """Daily: review reminders, overdue reviews, spending outside the plan."""
    return review_sweep()
