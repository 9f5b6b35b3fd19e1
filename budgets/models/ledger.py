"""The double-entry ledger. Postgres, not Python, guarantees its rules (migration
``budgets/0004_ledger_rules``): every statement that adds entries must leave each
transaction it touches summing to zero; entries and transactions are never updated or
deleted; a budget account's cached balance is kept by the same trigger and may not go
below the account's permitted overdraft, so concurrent spends cannot overspend."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now


class LedgerAccount(models.Model):
    class Kind(models.TextChoices):
        FUNDER = "funder", "Funder stream"
        BUDGET = "budget", "Budget"
        PAYEE = "payee", "Payee"
        RECOVERY = "recovery", "Recovered funds"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=200)
    # Budget accounts: one per funding contribution, so a budget's money stays
    # traceable to each funder.
    contribution = models.OneToOneField(
        "budgets.FundingContribution",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="account",
    )
    budget = models.ForeignKey(
        "budgets.Budget", on_delete=models.PROTECT, null=True, blank=True, related_name="accounts"
    )
    # Funder and recovery accounts: one per funder organisation and stream.
    organisation = models.ForeignKey(
        "users.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    stream = models.CharField(max_length=32, blank=True)
    # Kept (by the ledger trigger) for budget accounts only: funder and payee accounts
    # are touched by many budgets at once and would become hot rows.
    balance_pence = models.BigIntegerField(default=0, db_default=0)
    overdraft_pence = models.BigIntegerField(
        default=0, db_default=0, help_text="How far below zero this budget account may go."
    )

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="budget") | Q(balance_pence__gte=-models.F("overdraft_pence")),
                name="ledger_account_within_overdraft",
                violation_error_message="The balance would go below the permitted overdraft.",
            ),
            models.CheckConstraint(
                condition=Q(kind="budget") | Q(balance_pence=0),
                name="ledger_account_balance_budget_only",
            ),
            models.CheckConstraint(
                condition=Q(overdraft_pence__gte=0), name="ledger_account_overdraft_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(kind="budget")
                | (Q(contribution__isnull=False) & Q(budget__isnull=False)),
                name="ledger_account_budget_has_contribution",
            ),
            models.UniqueConstraint(
                fields=["kind", "organisation", "stream"],
                condition=Q(kind__in=["funder", "recovery"]),
                name="ledger_account_unique_funder_stream",
            ),
            models.UniqueConstraint(
                fields=["name"], condition=Q(kind="payee"), name="ledger_account_unique_payee"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"


class LedgerTransactionQuerySet(models.QuerySet["LedgerTransaction"]):
    def for_user(self, user: Any) -> LedgerTransactionQuerySet:
        from budgets.models.budgets import Budget

        return self.filter(budget__in=Budget.objects.for_user(user))


class LedgerTransaction(models.Model):
    class Kind(models.TextChoices):
        ALLOCATION = "allocation", "Payment in"
        SPEND = "spend", "Spend"
        REFUND = "refund", "Refund"
        CORRECTION = "correction", "Correction"
        RECOVERY = "recovery", "Recovery of unspent money"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Every money-moving write carries one: a retried request, a re-run job or a
    # double-submitted form finds its key taken and moves nothing.
    # Unique through ``ledger_idempotency_key_unique`` below: a plain unique index, not
    # unique=True, which would add a second (LIKE pattern) index every posting maintains.
    idempotency_key = models.CharField(max_length=200)
    # Indexes are few on purpose: each one is paid a million times per allocation run.
    # (budget, occurred_on) and the allocation unique constraint cover these two.
    budget = models.ForeignKey(
        "budgets.Budget",
        on_delete=models.PROTECT,
        null=True,
        related_name="transactions",
        db_index=False,
    )
    contribution = models.ForeignKey(
        "budgets.FundingContribution",
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
    )
    due_on = models.DateField(null=True, blank=True, help_text="The payment date, for payments in.")
    occurred_on = models.DateField()
    posted_at = models.DateTimeField(db_default=Now())
    description = models.CharField(max_length=300, blank=True)
    reverses = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversals",
        db_index=False,  # a partial index below: most transactions reverse nothing
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
    )
    allocation_run = models.ForeignKey(
        "budgets.AllocationRun",
        on_delete=models.PROTECT,
        null=True,
        related_name="transactions",
        db_index=False,  # a partial index below: spends and refunds have no run
    )

    objects = LedgerTransactionQuerySet.as_manager()

    class Meta:
        ordering = ["-posted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"], name="ledger_idempotency_key_unique"
            ),
            # One payment per contribution per payment date, whatever the key says.
            models.UniqueConstraint(
                fields=["contribution", "due_on"],
                condition=Q(kind="allocation"),
                name="ledger_one_allocation_per_due_date",
            ),
            models.UniqueConstraint(
                fields=["reverses"], condition=Q(kind="correction"), name="ledger_one_correction"
            ),
            models.CheckConstraint(
                condition=~Q(kind="allocation") | Q(due_on__isnull=False),
                name="ledger_allocation_has_due_date",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["refund", "correction"]) | Q(reverses__isnull=False),
                name="ledger_reversal_names_original",
            ),
        ]
        indexes = [
            models.Index(fields=["budget", "occurred_on"]),
            models.Index(fields=["kind", "occurred_on"]),
            # Nullable links are indexed only where set, so a posting without one
            # maintains no index entry for it.
            models.Index(
                fields=["reverses"], condition=Q(reverses__isnull=False), name="ledger_reverses"
            ),
            models.Index(
                fields=["allocation_run"],
                condition=Q(allocation_run__isnull=False),
                name="ledger_allocation_run",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk}"


class LedgerEntry(models.Model):
    """One leg of a transaction: positive pence into the account, negative out of it."""

    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    amount_pence = models.BigIntegerField()

    class Meta:
        ordering = ["pk"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.CheckConstraint(condition=~Q(amount_pence=0), name="ledger_entry_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.amount_pence:+}p to {self.account_id}"
