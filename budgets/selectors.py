"""Reads for the budgets pages that are more than one line: a budget's figures, its
balance over time, its ledger with a running balance, spending with filters, and the
notices a holder has been sent. Every figure comes from the ledger's entries (or the
balances the ledger trigger keeps), never from a total stored beside them."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from budgets.models import (
    Budget,
    BudgetHolder,
    BudgetNotice,
    FundingContribution,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Spend,
    SpendQuery,
)
from budgets.models.budgets import due_dates, instalment_pence
from users.models import Representation

KIND = LedgerTransaction.Kind


@dataclass
class Figures:
    """Money in and out of budget accounts, in pence, by what moved it."""

    paid_in_pence: int = 0
    spent_pence: int = 0  # net of refunds and corrected spends
    recovered_pence: int = 0
    balance_pence: int = 0

    def add(self, kind: str, reverses_kind: str | None, amount_pence: int) -> None:
        """``amount_pence`` is the transaction's net effect on the budget account."""
        if kind == KIND.ALLOCATION or (
            kind == KIND.CORRECTION and reverses_kind == KIND.ALLOCATION
        ):
            self.paid_in_pence += amount_pence
        elif kind == KIND.RECOVERY:
            self.recovered_pence -= amount_pence
        else:  # spends, refunds, corrections of spends
            self.spent_pence -= amount_pence
        self.balance_pence += amount_pence


@dataclass
class Payment:
    due_on: datetime.date
    amount_pence: int


@dataclass
class FunderPart:
    contribution: FundingContribution
    figures: Figures
    next_payment: Payment | None


@dataclass
class BudgetSummary:
    budget: Budget
    annual_pence: int
    figures: Figures
    parts: list[FunderPart]
    next_payment: Payment | None
    # The balances the ledger trigger keeps; always equal to figures.balance_pence.
    cached_balance_pence: int = 0
    open_queries: int = 0


def _entries_by_contribution(budget: Budget) -> dict[int, Figures]:
    rows = (
        LedgerEntry.objects.filter(account__kind=LedgerAccount.Kind.BUDGET, account__budget=budget)
        .values("account__contribution_id", "transaction__kind", "transaction__reverses__kind")
        .annotate(total=Sum("amount_pence"))
        .order_by()
    )
    figures: dict[int, Figures] = defaultdict(Figures)
    for row in rows:
        figures[row["account__contribution_id"]].add(
            row["transaction__kind"], row["transaction__reverses__kind"], row["total"]
        )
    return figures


def next_payment(
    budget: Budget, contribution: FundingContribution, paid_due_dates: set[datetime.date]
) -> Payment | None:
    """The first payment of the year not yet posted for this funder (the daily job posts
    any that have fallen due, so one a day or two past is still on its way). None when
    the budget is not active (only active budgets are paid) or the year's are all paid."""
    if budget.state != Budget.State.ACTIVE:
        return None
    dates = due_dates(budget.payment_schedule, budget.period_start, budget.period_end)
    for index, day in enumerate(dates):
        if day not in paid_due_dates:
            amount = instalment_pence(contribution.yearly_pence, index, len(dates))
            return Payment(due_on=day, amount_pence=amount) if amount > 0 else None
    return None


def budget_summary(budget: Budget) -> BudgetSummary:
    """The figures for "My budget": the year's amount, paid in, spent, what is left, the
    next payment, and each funder's part of all of these."""
    contributions = list(budget.contributions.select_related("funder", "managed_by"))
    by_contribution = _entries_by_contribution(budget)
    paid: dict[int, set[datetime.date]] = defaultdict(set)
    for contribution_id, due_on in LedgerTransaction.objects.filter(
        budget=budget, kind=KIND.ALLOCATION
    ).values_list("contribution_id", "due_on"):
        if due_on is not None:  # every payment in has its due date; be safe
            paid[contribution_id].add(due_on)

    total = Figures()
    parts = []
    for contribution in contributions:
        figures = by_contribution.get(contribution.pk, Figures())
        for name in ("paid_in_pence", "spent_pence", "recovered_pence", "balance_pence"):
            setattr(total, name, getattr(total, name) + getattr(figures, name))
        parts.append(
            FunderPart(
                contribution=contribution,
                figures=figures,
                next_payment=next_payment(budget, contribution, paid[contribution.pk]),
            )
        )
    upcoming = [part.next_payment for part in parts if part.next_payment]
    soonest = None
    if upcoming:
        first = min(payment.due_on for payment in upcoming)
        soonest = Payment(
            due_on=first,
            amount_pence=sum(p.amount_pence for p in upcoming if p.due_on == first),
        )
    cached = LedgerAccount.objects.filter(kind=LedgerAccount.Kind.BUDGET, budget=budget).aggregate(
        total=Sum("balance_pence", default=0)
    )["total"]
    return BudgetSummary(
        budget=budget,
        annual_pence=sum(c.yearly_pence for c in contributions),
        figures=total,
        parts=parts,
        next_payment=soonest,
        cached_balance_pence=cached,
        open_queries=SpendQuery.objects.filter(
            spend__budget=budget, answered_at__isnull=True
        ).count(),
    )


@dataclass
class BalancePoint:
    """The balance at the end of a day on which money moved."""

    day: datetime.date
    money_in_pence: int
    money_out_pence: int
    balance_pence: int


def balance_over_time(budget: Budget) -> list[BalancePoint]:
    """One point per day with money movements, oldest first, with the balance at the
    end of that day (all the budget's funders together)."""
    rows = (
        LedgerEntry.objects.filter(account__kind=LedgerAccount.Kind.BUDGET, account__budget=budget)
        .values("transaction__occurred_on")
        .annotate(
            money_in=Sum("amount_pence", filter=Q(amount_pence__gt=0), default=0),
            money_out=Sum("amount_pence", filter=Q(amount_pence__lt=0), default=0),
        )
        .order_by("transaction__occurred_on")
    )
    points = []
    balance = 0
    for row in rows:
        balance += row["money_in"] + row["money_out"]
        points.append(
            BalancePoint(
                day=row["transaction__occurred_on"],
                money_in_pence=row["money_in"],
                money_out_pence=-row["money_out"],
                balance_pence=balance,
            )
        )
    return points


def ledger_rows(
    budget: Budget,
    *,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    kind: str = "",
) -> QuerySet[LedgerTransaction]:
    """The budget's transactions, newest first, each with ``amount_pence`` (its net
    effect on the budget) and ``balance_after_pence`` (the balance once it was made, in
    the order things happened: date, then posting time).

    The balance is a correlated sum over every earlier transaction rather than a window
    function: a window is computed after the WHERE clause, so with a filter on kind or
    date it would sum only the rows shown. Postgres works it out only for the rows on
    the page (the ordering does not depend on it)."""
    budget_legs = LedgerEntry.objects.filter(account__kind=LedgerAccount.Kind.BUDGET)
    amount = Subquery(
        budget_legs.filter(transaction=OuterRef("pk"))
        .order_by()
        .values("transaction")
        .annotate(total=Sum("amount_pence"))
        .values("total")
    )
    same_day = Q(transaction__occurred_on=OuterRef("occurred_on"))
    up_to_here = (
        Q(transaction__occurred_on__lt=OuterRef("occurred_on"))
        | (same_day & Q(transaction__posted_at__lt=OuterRef("posted_at")))
        | (
            same_day
            & Q(transaction__posted_at=OuterRef("posted_at"))
            & Q(transaction_id__lte=OuterRef("pk"))
        )
    )
    balance_after = Subquery(
        budget_legs.filter(up_to_here, account__budget=OuterRef("budget"))
        .order_by()
        .values("account__budget")
        .annotate(total=Sum("amount_pence"))
        .values("total")
    )
    rows = (
        LedgerTransaction.objects.filter(budget=budget)
        .annotate(
            amount_pence=Coalesce(amount, Value(0)),
            balance_after_pence=Coalesce(balance_after, Value(0)),
        )
        .select_related("contribution__funder")
        .order_by("-occurred_on", "-posted_at", "-pk")
    )
    if date_from:
        rows = rows.filter(occurred_on__gte=date_from)
    if date_to:
        rows = rows.filter(occurred_on__lte=date_to)
    if kind:
        rows = rows.filter(kind=kind)
    return rows


@dataclass
class SpendTotals:
    count: int
    amount_pence: int
    refunded_pence: int

    @property
    def net_pence(self) -> int:
        return self.amount_pence - self.refunded_pence


def spends(
    budget: Budget,
    *,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    category: str = "",
    state: str = "",
) -> QuerySet[Spend]:
    """The budget's spending, newest first, each marked with ``has_open_query``."""
    rows = (
        Spend.objects.filter(budget=budget)
        .annotate(
            has_open_query=Exists(
                SpendQuery.objects.filter(spend=OuterRef("pk"), answered_at__isnull=True)
            )
        )
        .select_related("contribution__funder")
    )
    if date_from:
        rows = rows.filter(spent_on__gte=date_from)
    if date_to:
        rows = rows.filter(spent_on__lte=date_to)
    if category:
        rows = rows.filter(category=category)
    if state:
        rows = rows.filter(state=state)
    return rows


def spend_totals(rows: QuerySet[Spend]) -> SpendTotals:
    totals = rows.aggregate(
        count=Count("pk"),
        amount=Sum("amount_pence", default=0),
        refunded=Sum("refunded_pence", default=0),
    )
    return SpendTotals(
        count=totals["count"], amount_pence=totals["amount"], refunded_pence=totals["refunded"]
    )


def notices_for(user: Any) -> QuerySet[BudgetNotice]:
    """Notices about the budgets of the person themselves and of those they act for
    now, newest first. Staff see notices on the holder's record, not here."""
    if not getattr(user, "is_authenticated", False):
        return BudgetNotice.objects.none()
    represented = Representation.objects.current().filter(representative=user)
    holders = BudgetHolder.objects.filter(Q(user=user) | Q(pk__in=represented.values("holder_id")))
    return (
        BudgetNotice.objects.filter(budget__holder__in=holders)
        .select_related("budget__holder", "recovery")
        .order_by("-issued_at", "-pk")
    )
