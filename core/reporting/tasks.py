"""The dashboard snapshots' job: nightly from beat (after the money jobs), and on
demand when a commissioner or finance officer asks for fresh figures.

The task is thin: it calls ``snapshot_refresh``, which takes its own lock, so a beat
and an on-demand request arriving together run one refresh (the second returns the
one in progress). A refresh rebuilds everything from the records, so running it again
(a redelivered late-acknowledged task) is harmless.
"""

from __future__ import annotations

import datetime
from typing import Any

from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone

from core.exceptions import Conflict
from core.models import AuditEvent
from core.reporting.models import SnapshotRun
from core.reporting.snapshots import snapshot_refresh
from core.services import audit_record
from users.models import Membership, Role

# At national scale a refresh takes minutes; the limit only stops a stuck one for
# ever holding the lock. Below the broker's visibility timeout (two hours), so a
# running task is never handed to a second worker.
REFRESH_TIME_LIMIT = 90 * 60
REQUEST_INTERVAL = datetime.timedelta(minutes=5)
REQUEST_ACTION = "reporting.snapshot_refresh_requested"


@shared_task(acks_late=True, time_limit=REFRESH_TIME_LIMIT, soft_time_limit=REFRESH_TIME_LIMIT - 60)
def snapshot_refresh_task(
    trigger: str = SnapshotRun.Trigger.SCHEDULED, requested_by_id: int | None = None
) -> int:
    """Rebuild the dashboard snapshots; returns the run's id."""
    user = get_user_model().objects.filter(pk=requested_by_id).first() if requested_by_id else None
    return snapshot_refresh(trigger=trigger, requested_by=user).pk


def _may_request(user: Any) -> bool:
    if getattr(user, "is_platform_admin", False):
        return True
    return Membership.objects.filter(
        user=user,
        role__in=[Role.COMMISSIONER, Role.FINANCE_OFFICER],
        organisation__kind__in=["icb", "local_authority"],
    ).exists()


@transaction.atomic
def snapshot_refresh_request(*, user: Any) -> SnapshotRun | None:
    """Ask for the snapshots to be rebuilt now: the refresh is queued when this
    transaction commits, and the request is audited. Returns None (the run is recorded
    when a worker starts it).

    Raises PermissionDenied for anyone but a commissioner or finance officer of an ICB
    or council (or a platform admin), and Conflict if a refresh is running or one was
    asked for in the last five minutes (someone else's click counts too)."""
    if not getattr(user, "is_authenticated", False) or not _may_request(user):
        raise PermissionDenied
    # Two requests at the same moment: the second waits here, then sees the first.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [REQUEST_ACTION])
    if SnapshotRun.objects.filter(status=SnapshotRun.Status.RUNNING).exists():
        raise Conflict("The figures are being worked out now. Reload the page in a few minutes.")
    since = timezone.now() - REQUEST_INTERVAL
    if (
        AuditEvent.objects.filter(action=REQUEST_ACTION, created_at__gte=since).exists()
        or SnapshotRun.objects.filter(
            trigger=SnapshotRun.Trigger.ON_DEMAND, started_at__gte=since
        ).exists()
    ):
        raise Conflict(
            "Fresh figures were asked for less than 5 minutes ago. Reload the page in a "
            "few minutes to see them."
        )
    audit_record(actor=user, action=REQUEST_ACTION, changes={"trigger": "on_demand"})
    user_id = user.pk
    transaction.on_commit(
        lambda: snapshot_refresh_task.delay(SnapshotRun.Trigger.ON_DEMAND.value, user_id)
    )
    return None
