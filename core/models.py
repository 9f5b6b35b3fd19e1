"""What every app shares: the audit trail, notifications, API idempotency records and
the beat heartbeat."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def for_user(self, user: Any) -> AuditEventQuerySet:
        """Platform admins see every event; commissioners and organisation admins see
        events of their organisations (or about people those organisations serve)."""
        from users.models import Role

        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_platform_admin:
            return self.all()
        org_ids = user.memberships.filter(
            role__in=[Role.COMMISSIONER, Role.ORGANISATION_ADMIN]
        ).values("organisation_id")
        return self.filter(Q(organisation_id__in=org_ids) | Q(person__organisation_id__in=org_ids))


class AuditEvent(models.Model):
    """One row per change to money, plans or access, and per staff view of a person's
    record. Append-only: Postgres refuses UPDATE and DELETE (migration 0001)."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for the system (scheduled jobs).",
        db_index=False,  # (actor, -created_at) below serves it
    )
    actor_label = models.CharField(
        max_length=200, blank=True, help_text="Who acted, as shown at the time (user or app)."
    )
    acting_for = models.ForeignKey(
        "budgets.BudgetHolder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The budget holder a representative acted for.",
        db_index=False,  # a partial index below, where set
    )
    person = models.ForeignKey(
        "budgets.BudgetHolder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
        help_text="The person whose record this is about.",
        db_index=False,  # (person, -created_at) below serves it
    )
    organisation = models.ForeignKey(
        "users.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["actor", "-created_at"]),
            models.Index(fields=["person", "-created_at"]),
            # Exact matches only (no LIKE pattern index: every event would maintain it).
            models.Index(fields=["action"], name="audit_action"),
            models.Index(
                fields=["acting_for"],
                condition=Q(acting_for__isnull=False),
                name="audit_acting_for",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id} by {self.actor_label}"


class NotificationQuerySet(models.QuerySet["Notification"]):
    def for_user(self, user: Any) -> NotificationQuerySet:
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(user=user)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """An in-app message; ``notification_send`` also emails it (after commit)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    link = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email_requested = models.BooleanField(default=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.subject


class IdempotencyRecord(models.Model):
    """The first response to an API POST, replayed for a retry with the same key."""

    client = models.CharField(max_length=100, help_text="user:<id> or application:<id>")
    key = models.CharField(max_length=200)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="idempotency_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.key}"


class Heartbeat(models.Model):
    """Last time a named process proved it was alive (beat writes ``beat``)."""

    name = models.CharField(max_length=50, unique=True)
    last_seen = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.last_seen:%Y-%m-%d %H:%M:%S}"


# The reporting tables live in their own module; importing them here registers them
# with the core app.
from core.reporting.models import (  # noqa: E402, F401
    FigureSnapshot,
    MoneySnapshot,
    PeopleSnapshot,
    QuarterlyReturn,
    QuarterlyReturnDownload,
    ReportJob,
    SnapshotRun,
    SpendSnapshot,
    SpendTarget,
)
