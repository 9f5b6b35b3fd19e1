"""Watching balances: flags for staff, the nightly reconciliation, surplus recovery."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q


class MonitoringFlagQuerySet(models.QuerySet["MonitoringFlag"]):
    def for_user(self, user: Any) -> MonitoringFlagQuerySet:
        from budgets.models.holders import BudgetHolder

        return self.filter(budget__holder__in=BudgetHolder.objects.for_staff(user))

    def unresolved(self) -> MonitoringFlagQuerySet:
        return self.exclude(state=MonitoringFlag.State.RESOLVED)


class MonitoringFlag(models.Model):
    class Kind(models.TextChoices):
        SURPLUS = "surplus", "Unspent money above the threshold"
        RUNNING_OUT = "running_out", "Money running out before the next payment"
        NO_SPENDING = "no_spending", "No spending recorded for a long time"
        LEDGER_MISMATCH = "ledger_mismatch", "Balance does not match the ledger"
        OUTSIDE_PLAN = "outside_plan", "Spending that matches no plan item"
        REVIEW_OVERDUE = "review_overdue", "Support plan review overdue"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    TRANSITIONS: dict[str, frozenset[str]] = {
        State.OPEN: frozenset({State.ACKNOWLEDGED, State.RESOLVED}),
        State.ACKNOWLEDGED: frozenset({State.RESOLVED}),
        State.RESOLVED: frozenset(),
    }

    budget = models.ForeignKey("budgets.Budget", on_delete=models.PROTECT, related_name="flags")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    details = models.JSONField(default=dict)
    raised_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    objects = MonitoringFlagQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            # The sweep raises a flag once; it is raised again only after it is resolved.
            models.UniqueConstraint(
                fields=["budget", "kind"],
                condition=~Q(state="resolved"),
                name="flag_one_unresolved_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.budget})"


class ReconciliationRun(models.Model):
    """The nightly check that the ledger adds up, kept as a record either way."""

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(null=True)
    accounts_checked = models.PositiveIntegerField(default=0)
    ledger_total_pence = models.BigIntegerField(default=0)
    mismatches = models.JSONField(default=list)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Reconciliation {self.started_at:%Y-%m-%d %H:%M}"


class SurplusRecoveryQuerySet(models.QuerySet["SurplusRecovery"]):
    def for_user(self, user: Any) -> SurplusRecoveryQuerySet:
        from budgets.models.budgets import Budget

        return self.filter(budget__in=Budget.objects.for_user(user))


class SurplusRecovery(models.Model):
    """Finance proposes taking back unspent money. The holder gets a written notice
    and may ask for reconsideration; only finance's decision after that (or after the
    deadline passes) posts money back to the funder."""

    class State(models.TextChoices):
        NOTICE_SENT = "notice_sent", "Notice sent"
        RECONSIDERATION_REQUESTED = "reconsideration_requested", "Reconsideration requested"
        RECOVERED = "recovered", "Recovered"
        WITHDRAWN = "withdrawn", "Withdrawn"

    TRANSITIONS: dict[str, frozenset[str]] = {
        State.NOTICE_SENT: frozenset(
            {State.RECONSIDERATION_REQUESTED, State.RECOVERED, State.WITHDRAWN}
        ),
        State.RECONSIDERATION_REQUESTED: frozenset({State.RECOVERED, State.WITHDRAWN}),
        State.RECOVERED: frozenset(),
        State.WITHDRAWN: frozenset(),
    }

    budget = models.ForeignKey(
        "budgets.Budget", on_delete=models.PROTECT, related_name="recoveries"
    )
    contribution = models.ForeignKey(
        "budgets.FundingContribution", on_delete=models.PROTECT, related_name="recoveries"
    )
    amount_pence = models.BigIntegerField()
    reasons = models.TextField()
    respond_by = models.DateField()
    state = models.CharField(max_length=32, choices=State.choices, default=State.NOTICE_SENT)
    notice = models.OneToOneField(
        "budgets.BudgetNotice", on_delete=models.PROTECT, related_name="recovery"
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    reconsideration_reasons = models.TextField(blank=True)
    reconsideration_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reconsideration_requested_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reasons = models.TextField(blank=True)
    recovered_pence = models.BigIntegerField(null=True, blank=True)
    transaction = models.OneToOneField(
        "budgets.LedgerTransaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recovery",
    )

    objects = SurplusRecoveryQuerySet.as_manager()

    class Meta:
        ordering = ["-proposed_at"]
        verbose_name_plural = "surplus recoveries"
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_pence__gt=0), name="recovery_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(recovered_pence__isnull=True)
                | (Q(recovered_pence__gt=0) & Q(recovered_pence__lte=models.F("amount_pence"))),
                name="recovery_no_more_than_proposed",
            ),
        ]

    def __str__(self) -> str:
        return f"Recovery from {self.budget}"
