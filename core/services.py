"""Writes shared by every app: the audit trail and notifications."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils import timezone

from core import request_context
from core.models import AuditEvent, Notification


def audit_columns(
    *,
    actor: Any,
    action: str,
    organisation: Any = None,
    person: Any = None,
    acting_for: Any = None,
    actor_label: str = "",
) -> dict[str, Any]:
    """Who did what, for whom and from which request: the columns of an audit event
    other than the object and its changes. ``audit_record`` writes them with the ORM; a
    hot path may write them in its own SQL statement (``budgets.services.spend_record``)."""
    context = request_context.current()
    user = actor if getattr(actor, "is_authenticated", False) else None
    return {
        "actor_id": getattr(user, "pk", None),
        "actor_label": actor_label or context.actor_label or (user.email if user else "system"),
        "acting_for_id": getattr(acting_for, "pk", None),
        "person_id": getattr(person, "pk", None),
        "organisation_id": getattr(organisation, "pk", None),
        "action": action,
        "request_id": context.request_id,
        "ip_address": context.ip_address,
    }


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    organisation: Any = None,
    person: Any = None,
    acting_for: Any = None,
    changes: dict[str, Any] | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Append one audit event. Call it inside the service's transaction, so the event
    exists exactly when the change does. ``actor`` may be ``None`` for scheduled jobs."""
    return AuditEvent.objects.create(
        **audit_columns(
            actor=actor,
            action=action,
            organisation=organisation,
            person=person,
            acting_for=acting_for,
            actor_label=actor_label,
        ),
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        changes=changes or {},
    )


def personal_record_viewed(*, viewer: Any, person: Any, what: str) -> AuditEvent | None:
    """Staff looking at a person's record is logged; people looking at their own (or a
    representative at the record of the person they act for) is not an event."""
    if getattr(person, "user_id", None) == viewer.pk:
        return None
    acting_for = None
    if person.representations.current().filter(representative=viewer).exists():
        acting_for = person
        if not viewer.memberships.exists():
            return None
    return audit_record(
        actor=viewer,
        action="personal_record.viewed",
        obj=person,
        organisation=person.organisation,
        person=person,
        acting_for=acting_for,
        changes={"page": what},
    )


def notification_send(
    *, user: Any, subject: str, body: str, link: str = "", email: bool = True
) -> Notification:
    """Record an in-app notification and, once the transaction commits, email it.

    The email goes through a Celery task, so a failed send never rolls back the work
    that caused it, and a retried task sends once (``emailed_at`` compare-and-set)."""
    notification = Notification(
        user=user, subject=subject, body=body, link=link, email_requested=email
    )
    notification.full_clean()
    notification.save()
    if email:
        from core.tasks import notification_email

        transaction.on_commit(lambda: notification_email.delay(notification.pk))
    return notification


def notification_mark_read(*, notification: Notification) -> Notification:
    """Mark as read; re-marking is a no-op."""
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    notification.refresh_from_db(fields=["read_at"])
    return notification


def notification_mark_all_read(*, user: Any) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
