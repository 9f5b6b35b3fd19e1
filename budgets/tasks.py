"""Budget jobs. Thin: they take ids or dates, and call the set-based services, which
take their own locks so two beats or workers never run one twice."""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.contrib.auth import get_user_model

from budgets.allocation import AllocationAlreadyRunning, allocation_run
from budgets.monitoring import monitoring_sweep, reconciliation_run

logger = logging.getLogger(__name__)

# A national run takes minutes, not hours; the limit stops a stuck run holding its lock.
ALLOCATION_TIME_LIMIT = 60 * 60


@shared_task(time_limit=ALLOCATION_TIME_LIMIT, soft_time_limit=ALLOCATION_TIME_LIMIT - 60)
def allocation_run_task(as_of: str | None = None, triggered_by_id: int | None = None) -> int | None:
    """Daily, and on finance's "run now": post every payment due. Safe to re-run."""
    user = get_user_model().objects.get(pk=triggered_by_id) if triggered_by_id else None
    try:
        run = allocation_run(
            as_of=datetime.date.fromisoformat(as_of) if as_of else None, triggered_by=user
        )
    except AllocationAlreadyRunning:
        logger.info("Allocation run skipped: another is in progress")
        return None
    return run.pk


@shared_task(time_limit=30 * 60)
def monitoring_sweep_task() -> dict[str, int] | None:
    return monitoring_sweep()


@shared_task(time_limit=30 * 60)
def reconciliation_task() -> int | None:
    run = reconciliation_run()
    return run.pk if run else None
