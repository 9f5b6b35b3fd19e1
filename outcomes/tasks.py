"""Survey jobs. Thin: the sweep takes its own lock and claims each invitation before
sending it (outcomes/scheduling.py), so two beats, two workers or a retry invite nobody
twice."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from outcomes.links import invitation_url
from outcomes.models import SurveyInvitation
from outcomes.scheduling import ANSWERABLE, survey_sweep


@shared_task(time_limit=30 * 60, soft_time_limit=25 * 60)
def survey_sweep_task() -> dict[str, int] | None:
    """Daily: invite those whose survey is due, send, remind once, expire, close rounds."""
    return survey_sweep()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def survey_link_email(invitation_id: int, *, reminder: bool = False) -> bool:
    """Email a survey link to someone who answers without an account (a family carer).
    The sweep enqueues it after the commit that claimed the invitation (``sent_at`` or
    ``reminded_at``), so each is enqueued once; nothing is sent for an invitation that
    can no longer be answered by the time the task runs."""
    invitation = (
        SurveyInvitation.objects.select_related("holder")
        .filter(pk=invitation_id, state__in=ANSWERABLE, expires_at__gt=timezone.now())
        .exclude(email="")
        .first()
    )
    if invitation is None:
        return False
    closes = f"{timezone.localtime(invitation.expires_at):%-d %B %Y}"
    greeting = f"Dear {invitation.name}," if invitation.name else "Hello,"
    subject = "Tell us how being a carer is going"
    send_mail(
        subject=f"{settings.PHB_SERVICE_NAME}: {'Reminder: ' if reminder else ''}{subject}",
        message=(
            f"{greeting}\n\n"
            f"You are named as a family carer in {invitation.holder.name}'s support plan. "
            "We would like to know what has changed for you since their personal health "
            "budget started. The survey takes about 10 minutes and you do not need an "
            "account.\n\n"
            f"{invitation_url(invitation)}\n\n"
            f"The link works until {closes}, for one set of answers. If you would rather "
            "not take part, you can say so through the same link."
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )
    return True
