"""Signed survey links for people who answer without an account (family carers, and
staff or holders who prefer the email). The token signs the invitation's public id and
the time it was made; it is refused once the invitation expires, once the answers are
sent (a link works for one response only), and if a single character is changed."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from outcomes.models import SurveyInvitation

_SALT = "outcomes.invitation-link"


class LinkRefused(Exception):
    """The link cannot be used; ``reason`` says why in words for the person."""

    def __init__(self, reason: str, *, status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def invitation_token(invitation: SurveyInvitation) -> str:
    return signing.TimestampSigner(salt=_SALT).sign(str(invitation.public_id))


def invitation_url(invitation: SurveyInvitation) -> str:
    """The absolute address to put in an email."""
    path = reverse("outcomes:survey_link", args=[invitation_token(invitation)])
    return settings.PHB_SITE_URL.rstrip("/") + path


def invitation_from_token(token: str) -> SurveyInvitation:
    """The invitation a link names, if it may still be answered through it.

    Raises LinkRefused: 404 for a link that was not made here (or was altered), 410 for
    one that has expired, was declined, or whose answers were already sent.
    """
    try:
        public_id = signing.TimestampSigner(salt=_SALT).unsign(token)
    except signing.BadSignature as error:
        raise LinkRefused("This survey link is not valid.", status=404) from error
    invitation = (
        SurveyInvitation.objects.select_related("round", "holder", "round__instrument")
        .filter(public_id=public_id)
        .first()
    )
    if invitation is None:
        raise LinkRefused("This survey link is not valid.", status=404)
    if invitation.state == SurveyInvitation.State.SUBMITTED:
        raise LinkRefused("This link has been used: the answers were sent. Thank you.", status=410)
    if invitation.state == SurveyInvitation.State.DECLINED:
        raise LinkRefused("This survey was declined, so the link no longer works.", status=410)
    if (
        invitation.state == SurveyInvitation.State.EXPIRED
        or invitation.expires_at <= timezone.now()
    ):
        raise LinkRefused("This survey has closed, so the link no longer works.", status=410)
    return invitation
