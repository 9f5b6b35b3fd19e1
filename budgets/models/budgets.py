"""Budgets, who funds them and how, and the notices a holder is owed."""

from __future__ import annotations

import calendar
import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum


class FundingStream(models.TextChoices):
    NHS_CHC = "nhs_chc", "NHS continuing healthcare"
    NHS_CHILDRENS_CONTINUING_CARE = "nhs_ccc", "NHS children's continuing care"
    NHS_MENTAL_HEALTH = "nhs_mental_health", "NHS mental health"
    NHS_S117 = "nhs_s117", "NHS section 117 aftercare"
    NHS_WHEELCHAIR = "nhs_wheelchair", "NHS wheelchair service"
    NHS_END_OF_LIFE = "nhs_end_of_life", "NHS end of life care"
    NHS_MATERNITY = "nhs_maternity", "NHS maternity"
    NHS_OTHER = "nhs_other", "NHS other"
    COUNCIL_SOCIAL_CARE = "council_social_care", "Council adult social care"
    COUNCIL_CHILDREN = "council_children", "Council children's services"
    COUNCIL_S117 = "council_s117", "Council section 117 aftercare"


class ManagementOption(models.TextChoices):
    NOTIONAL = "notional", "Notional budget"
    THIRD_PARTY = "third_party", "Third-party budget"
    DIRECT_PAYMENT = "direct_payment", "Direct payment"


class PaymentSchedule(models.TextChoices):
    FOUR_WEEKLY = "four_weekly", "Every 4 weeks in advance"
    MONTHLY = "monthly", "Monthly in advance"
    QUARTERLY = "quarterly", "Quarterly in advance"


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 = 28 Feb),
    which is what Postgres does for ``date + interval 'n months'``."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_dates(schedule: str, start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """Every payment date of a budget running from ``start`` to ``end`` (its last day).
    Budgets are paid in advance: a payment falls on the first day of each payment period
    that begins before the last day (so a year from 1 April has 13 four-weekly payments,
    not a 14th on 31 March)."""
    dates: list[datetime.date] = []
    k = 0
    while True:
        if schedule == PaymentSchedule.FOUR_WEEKLY:
            day = start + datetime.timedelta(days=28 * k)
        else:
            day = add_months(start, k * (3 if schedule == PaymentSchedule.QUARTERLY else 1))
        if day >= end:
            return dates
        dates.append(day)
        k += 1


def instalment_pence(yearly_pence: int, index: int, count: int) -> int:
    """Payment ``index`` (from 0) of ``count``: the year's amount split so that the
    instalments differ by at most a penny and add up to exactly the yearly amount.
    The allocation SQL uses the same formula."""
    return yearly_pence * (index + 1) // count - yearly_pence * index // count


class BudgetQuerySet(models.QuerySet["Budget"]):
    def for_user(self, user: Any) -> BudgetQuerySet:
        """Budgets of the holders the user may see, and those where the user's
        organisation manages part of the money as a third party."""
        from budgets.models.holders import BudgetHolder
        from users.models import Membership

        if not getattr(user, "is_authenticated", False):
            return self.none()
        managed = FundingContribution.objects.filter(
            managed_by__in=Membership.objects.filter(user=user).values("organisation_id")
        ).values("budget_id")
        return self.filter(Q(holder__in=BudgetHolder.objects.for_user(user)) | Q(pk__in=managed))

    def with_amounts(self) -> BudgetQuerySet:
        return self.annotate(
            annual_pence=Sum("contributions__yearly_pence", default=0),
        )


class Budget(models.Model):
    class State(models.TextChoices):
        INDICATIVE = "indicative", "Indicative"
        AGREED = "agreed", "Agreed"
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        CLOSED = "closed", "Closed"

    # Allowed moves. A budget can be closed from any open state (the person moves
    # away, dies, or no longer wants one); only an active budget can be suspended.
    TRANSITIONS: dict[str, frozenset[str]] = {
        State.INDICATIVE: frozenset({State.AGREED, State.CLOSED}),
        State.AGREED: frozenset({State.ACTIVE, State.CLOSED}),
        State.ACTIVE: frozenset({State.SUSPENDED, State.CLOSED}),
        State.SUSPENDED: frozenset({State.ACTIVE, State.CLOSED}),
        State.CLOSED: frozenset(),
    }

    holder = models.ForeignKey(
        "budgets.BudgetHolder", on_delete=models.PROTECT, related_name="budgets"
    )
    period_start = models.DateField()
    period_end = models.DateField(help_text="The last day of the budget year.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.INDICATIVE)
    payment_schedule = models.CharField(
        max_length=16, choices=PaymentSchedule.choices, default=PaymentSchedule.FOUR_WEEKLY
    )
    indicative_pence = models.BigIntegerField(
        null=True, blank=True, help_text="The indicative amount for the year, in pence."
    )
    indicative_assessment = models.ForeignKey(
        "budgets.RasAssessment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="How the indicative amount was reached.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Kept by ``budget_transition``: when the budget first became active and when it
    # was closed. Reports count a budget as in place from the later of ``period_start``
    # and ``active_from`` to the earliest of ``period_end`` and ``ended_on``.
    active_from = models.DateField(
        null=True, blank=True, editable=False, help_text="The day it first became active."
    )
    ended_on = models.DateField(
        null=True, blank=True, editable=False, help_text="The day it was closed."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BudgetQuerySet.as_manager()

    class Meta:
        ordering = ["-period_start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gt=models.F("period_start")), name="budget_period_order"
            ),
            models.CheckConstraint(
                condition=Q(indicative_pence__isnull=True) | Q(indicative_pence__gte=0),
                name="budget_indicative_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["state", "period_start", "period_end"])]

    def __str__(self) -> str:
        return f"{self.holder} {self.period_start:%Y}-{self.period_end:%y}"

    def can_move_to(self, state: str) -> bool:
        return state in self.TRANSITIONS[self.state]


class FundingContribution(models.Model):
    """One funder's share of a budget: an integrated budget has several. Each has its own
    ledger account, so every penny in and out stays traceable to the funder."""

    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="contributions")
    funder = models.ForeignKey(
        "users.Organisation", on_delete=models.PROTECT, related_name="funding_contributions"
    )
    stream = models.CharField(max_length=32, choices=FundingStream.choices)
    yearly_pence = models.BigIntegerField(help_text="The amount for the budget year, in pence.")
    management_option = models.CharField(
        max_length=16, choices=ManagementOption.choices, default=ManagementOption.NOTIONAL
    )
    managed_by = models.ForeignKey(
        "users.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_contributions",
        help_text="The third-party organisation that manages this part, if any.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Kept by the allocation job (budgets/allocation.py): the next payment date it has
    # not posted yet, or NEVER_DUE once the year is paid; empty until its first run.
    # The nightly run looks only at contributions due by today, so a night with little
    # to pay costs little.
    next_due_on = models.DateField(null=True, blank=True, editable=False)

    NEVER_DUE = datetime.date.max

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["next_due_on"], name="contribution_next_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["budget", "funder", "stream"], name="contribution_unique_stream"
            ),
            # An upper bound well above any real budget: it catches a typo of pounds
            # as pence times a hundred, and keeps sums far from bigint overflow.
            models.CheckConstraint(
                condition=Q(yearly_pence__gt=0) & Q(yearly_pence__lte=10_000_000_00),
                name="contribution_yearly_in_range",
            ),
            models.CheckConstraint(
                condition=~Q(management_option=ManagementOption.THIRD_PARTY)
                | Q(managed_by__isnull=False),
                name="contribution_third_party_has_manager",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_stream_display()} from {self.funder}"


class BudgetNotice(models.Model):
    """A written notice to the holder: a reduction, a proposed surplus recovery, or the
    decision on a reconsideration. Kept for ever and shown on the holder's pages."""

    class Kind(models.TextChoices):
        REDUCTION = "reduction", "Budget reduction"
        SURPLUS_RECOVERY = "surplus_recovery", "Proposed recovery of unspent money"
        RECOVERY_DECISION = "recovery_decision", "Decision on recovery of unspent money"

    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    subject = models.CharField(max_length=200)
    reasons = models.TextField()
    amount_pence = models.BigIntegerField(null=True, blank=True)
    respond_by = models.DateField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return self.subject


class BudgetSettings(models.Model):
    """Monitoring thresholds an organisation sets for the budgets it funds."""

    organisation = models.OneToOneField(
        "users.Organisation", on_delete=models.CASCADE, related_name="budget_settings"
    )
    surplus_weeks = models.PositiveSmallIntegerField(
        default=8, help_text="Flag a balance above this many weeks of funding."
    )
    no_spending_days = models.PositiveSmallIntegerField(
        default=90, help_text="Flag a budget with no spending recorded for this many days."
    )

    class Meta:
        verbose_name_plural = "budget settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(surplus_weeks__gte=1) & Q(no_spending_days__gte=7),
                name="budget_settings_sensible",
            )
        ]

    def __str__(self) -> str:
        return f"Budget settings for {self.organisation}"
