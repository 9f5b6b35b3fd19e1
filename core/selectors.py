"""Reads shared by every app."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q, QuerySet

from core.models import AuditEvent


def audit_event_search(
    *,
    user: Any,
    person: str = "",
    actor: str = "",
    action: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events the user may see, narrowed by person's name, actor's name or email,
    action, and an inclusive date range (in the site's time zone)."""
    events = AuditEvent.objects.for_user(user).select_related(
        "actor", "person", "organisation", "acting_for"
    )
    if person:
        events = events.filter(person__name__icontains=person)
    if actor:
        events = events.filter(Q(actor__name__icontains=actor) | Q(actor_label__icontains=actor))
    if action:
        events = events.filter(action__icontains=action)
    if date_from:
        events = events.filter(created_at__date__gte=date_from)
    if date_to:
        events = events.filter(created_at__date__lte=date_to)
    return events
