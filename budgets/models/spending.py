"""Spending recorded against a budget, its receipts, and finance's questions about it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models
from django.db.models import Q


class SpendCategory(models.TextChoices):
    PERSONAL_ASSISTANT = "personal_assistant", "Personal assistant"
    CARE_AGENCY = "care_agency", "Care or support agency"
    THERAPY = "therapy", "Therapy and health treatment"
    EQUIPMENT = "equipment", "Equipment and adaptations"
    TRANSPORT = "transport", "Transport"
    ACTIVITIES = "activities", "Activities, leisure and community"
    RESPITE = "respite", "Short breaks and respite"
    TRAINING = "training", "Training"
    EMPLOYMENT_COSTS = "employment_costs", "Employment costs (payroll, insurance)"
    OTHER = "other", "Other"


class SpendQuerySet(models.QuerySet["Spend"]):
    def for_user(self, user: Any) -> SpendQuerySet:
        from budgets.models.budgets import Budget

        return self.filter(budget__in=Budget.objects.for_user(user))


def receipt_path(spend: Spend, filename: str) -> str:
    # The stored name never uses the uploaded one: it would leak into URLs and logs.
    return f"{spend.budget_id}/{spend.transaction_id}.{spend.receipt_extension}"


def receipt_storage() -> Storage:
    return storages["receipts"]


class Spend(models.Model):
    class State(models.TextChoices):
        RECORDED = "recorded", "Recorded"
        QUERIED = "queried", "Queried by finance"
        ANSWERED = "answered", "Query answered"
        VERIFIED = "verified", "Verified"

    TRANSITIONS: dict[str, frozenset[str]] = {
        State.RECORDED: frozenset({State.VERIFIED, State.QUERIED}),
        State.QUERIED: frozenset({State.ANSWERED}),
        State.ANSWERED: frozenset({State.VERIFIED, State.QUERIED}),
        State.VERIFIED: frozenset({State.QUERIED}),
    }

    # Indexed by (budget, spent_on) below, which also serves lookups by budget alone.
    budget = models.ForeignKey(
        "budgets.Budget", on_delete=models.PROTECT, related_name="spends", db_index=False
    )
    contribution = models.ForeignKey(
        "budgets.FundingContribution", on_delete=models.PROTECT, related_name="spends"
    )
    transaction = models.OneToOneField(
        "budgets.LedgerTransaction", on_delete=models.PROTECT, related_name="spend"
    )
    payee = models.CharField(max_length=200)
    spent_on = models.DateField()
    amount_pence = models.BigIntegerField()
    category = models.CharField(max_length=32, choices=SpendCategory.choices)
    note = models.TextField(blank=True)
    receipt = models.FileField(upload_to=receipt_path, blank=True, storage=receipt_storage)
    receipt_content_type = models.CharField(max_length=64, blank=True)
    receipt_extension = models.CharField(max_length=8, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RECORDED)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    # Never searched by; shown on the spend. No index for every spend to maintain.
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    refunded_pence = models.BigIntegerField(default=0)
    plan_item = models.ForeignKey(
        "plans.SupportItem",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="spends",
        help_text="The support plan item this pays for; spending that matches none is flagged.",
        db_index=False,  # a partial index below, where set
    )

    objects = SpendQuerySet.as_manager()

    class Meta:
        ordering = ["-spent_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_pence__gt=0), name="spend_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_pence__gte=0)
                & Q(refunded_pence__lte=models.F("amount_pence")),
                name="spend_refund_within_amount",
            ),
        ]
        indexes = [
            models.Index(fields=["budget", "spent_on"]),
            models.Index(fields=["state"]),
            models.Index(
                fields=["plan_item"], condition=Q(plan_item__isnull=False), name="spend_plan_item"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payee} on {self.spent_on}"


class SpendQuery(models.Model):
    """Finance asks about a spend; the holder (or whoever manages the money) answers."""

    spend = models.ForeignKey(Spend, on_delete=models.PROTECT, related_name="queries")
    question = models.TextField()
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    asked_at = models.DateTimeField(auto_now_add=True)
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asked_at"]
        verbose_name_plural = "spend queries"
        constraints = [
            models.UniqueConstraint(
                fields=["spend"], condition=Q(answered_at__isnull=True), name="spend_one_open_query"
            )
        ]

    def __str__(self) -> str:
        return f"Query on {self.spend}"
