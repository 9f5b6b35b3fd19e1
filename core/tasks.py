"""Platform jobs. Tasks take ids, re-fetch, and call a service; each is safe to re-run."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from core.locks import sweep_lock
from core.models import Heartbeat, Notification

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notification_email(notification_id: int) -> bool:
    """Email a notification once. The claim (``emailed_at`` set where still empty) comes
    first, so two deliveries of this task cannot both send."""
    claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    if not claimed:
        return False
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    try:
        body = notification.body
        if notification.link:
            body += f"\n\n{settings.PHB_SITE_URL.rstrip('/')}{notification.link}"
        send_mail(
            subject=f"{settings.PHB_SERVICE_NAME}: {notification.subject}",
            message=body,
            from_email=None,
            recipient_list=[notification.user.email],
        )
    except OSError:
        # Release the claim so the retry can send.
        Notification.objects.filter(pk=notification_id).update(emailed_at=None)
        raise
    return True


@shared_task
def beat_heartbeat() -> None:
    """Scheduled every minute; /healthz reports how long since it last ran."""
    with sweep_lock("beat_heartbeat") as acquired:
        if not acquired:
            return
        Heartbeat.objects.update_or_create(name="beat", defaults={"last_seen": timezone.now()})


@shared_task
def expired_records_clear() -> None:
    """Hourly: drop expired OAuth2 tokens and idempotency records past their keep time,
    and empty report jobs' files kept longer than a week."""
    from oauth2_provider.models import clear_expired

    from core.models import IdempotencyRecord
    from core.reporting.jobs import report_files_expire

    with sweep_lock("expired_records_clear") as acquired:
        if not acquired:
            logger.info("expired_records_clear is already running; skipped")
            return
        clear_expired()
        cutoff = timezone.now() - settings.IDEMPOTENCY_KEYS_KEPT_FOR
        IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
        report_files_expire()


# The reporting area keeps its tasks beside its code (core/reporting/tasks_*.py); Celery
# discovers only each app's tasks module, so importing them here registers them.
from core.reporting import tasks as reporting_tasks  # noqa: E402, F401
from core.reporting import tasks_reports, tasks_returns  # noqa: E402, F401
