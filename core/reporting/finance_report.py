"""The monthly finance report of one organisation: the money it funds, for one calendar
month, read straight from the records (not from the dashboard snapshots, so it is
exact to the penny and can be built for any month).

Whose money: the organisation's own funding contributions (``funder`` is the
organisation). An integrated budget's other funders' shares are in their own reports.

Sections, each a table with a total row:

- **Allocations**: every contribution to a budget whose year overlaps the month (and is
  past "indicative"), with its yearly amount and the payments in posted in the month
  (ledger transactions of kind "allocation" dated in the month).
- **Spending by category**, **by funding stream** and **by payee**: spends dated in the
  month (``Spend.spent_on``), their number and amount; "refunded or corrected" is money
  back to the budget dated in the month from refunds and corrections of spends (by the
  original spend's category, stream or payee); net is spent less that.
- **Balances**: each budget account (one per contribution) with any money by the
  month's end: the balance at the start of the month, the month's movements by kind,
  and the balance at its end (start + paid in - spent + refunds - recovered +
  corrections = end, to the penny).
- **Recoveries**: proposals to take back unspent money that were in progress at the
  month's end (proposed by then, not decided by then), and those recovered in the month
  (the recovery's ledger transaction dated in the month).

Dates are the ledger's ``occurred_on`` (the day money moved), so a month's figures do
not change when a payment is posted late at night; times of proposals and decisions are
read in UK time. Amounts are pence here; ``core.reporting.report_tables`` turns them
into pounds at the edges."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from budgets.models import (
    Budget,
    FundingContribution,
    FundingStream,
    LedgerEntry,
    LedgerTransaction,
    ManagementOption,
    Spend,
    SpendCategory,
    SurplusRecovery,
)
from budgets.models.holders import format_nhs_number
from core.reporting.report_tables import COUNT, DATE, MONEY, Column, Report, Section

Progress = Callable[[int, str], None]
Kind = LedgerTransaction.Kind

_MONTH = re.compile(r"^(?P<year>20[0-9]{2})-(?P<month>0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, key: str) -> Month:
        """The month a key such as "2026-10" names; ValueError for anything else."""
        match = _MONTH.match(key or "")
        if match is None:
            raise ValueError(f"Not a month: {key!r}")
        return cls(int(match["year"]), int(match["month"]))

    @classmethod
    def last_complete(cls, today: datetime.date) -> Month:
        day = today.replace(day=1) - datetime.timedelta(days=1)
        return cls(day.year, day.month)

    @property
    def key(self) -> str:
        return f"{self.year}-{self.month:02d}"

    @property
    def start(self) -> datetime.date:
        return datetime.date(self.year, self.month, 1)

    @property
    def end(self) -> datetime.date:
        following = Month(self.year + self.month // 12, self.month % 12 + 1)
        return following.start - datetime.timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.start:%B %Y}"

    def previous(self) -> Month:
        return Month.last_complete(self.start)


def month_choices(today: datetime.date, *, count: int = 24) -> list[tuple[str, str]]:
    """The last ``count`` complete months, newest first, and the current month at the
    top (its figures are so far)."""
    current = Month(today.year, today.month)
    choices = [(current.key, f"{current.label} (so far)")]
    month = current
    for _ in range(count):
        month = month.previous()
        choices.append((month.key, month.label))
    return choices


def _end_of_day(day: datetime.date) -> datetime.datetime:
    """The first moment after ``day`` in UK time (for times such as ``proposed_at``)."""
    following = day + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(following, datetime.time.min))


def _person(holder_name: str, nhs_number: str) -> list[Any]:
    return [holder_name, format_nhs_number(nhs_number)]


def _budget_year(start: datetime.date, end: datetime.date) -> str:
    return f"{start:%-d %b %Y} to {end:%-d %b %Y}"


STREAMS = dict(FundingStream.choices)
OPTIONS = dict(ManagementOption.choices)
CATEGORIES = dict(SpendCategory.choices)

PERSON_COLUMNS = [Column("Person"), Column("NHS number")]


def _allocations(organisation: Any, month: Month) -> Section:
    entries_in_month = LedgerEntry.objects.filter(
        transaction__kind=Kind.ALLOCATION,
        transaction__occurred_on__gte=month.start,
        transaction__occurred_on__lte=month.end,
    )
    paid = (
        entries_in_month.filter(account__contribution=OuterRef("pk"))
        .order_by()
        .values("account__contribution")
        .annotate(total=Sum("amount_pence"))
        .values("total")
    )
    in_year = Q(budget__period_start__lte=month.end, budget__period_end__gte=month.start) & ~Q(
        budget__state=Budget.State.INDICATIVE
    )
    paid_ids = entries_in_month.filter(account__contribution__funder=organisation).values(
        "account__contribution_id"
    )
    contributions = (
        FundingContribution.objects.filter(funder=organisation)
        .filter(in_year | Q(pk__in=paid_ids))
        .annotate(paid_in=Coalesce(Subquery(paid), Value(0)))
        .values(
            "pk",
            "stream",
            "management_option",
            "yearly_pence",
            "paid_in",
            "budget__period_start",
            "budget__period_end",
            "budget__holder__name",
            "budget__holder__nhs_number",
        )
        .order_by("budget__holder__name", "budget__period_start", "pk")
    )
    rows = [
        [
            *_person(c["budget__holder__name"], c["budget__holder__nhs_number"]),
            _budget_year(c["budget__period_start"], c["budget__period_end"]),
            STREAMS.get(c["stream"], c["stream"]),
            OPTIONS.get(c["management_option"], c["management_option"]),
            c["yearly_pence"],
            c["paid_in"],
        ]
        for c in contributions
    ]
    return Section(
        key="allocations",
        title="Allocations",
        description=(
            "Each budget this organisation funds whose year includes the month: the "
            "yearly amount agreed, and the payments into the budget made in the month."
        ),
        columns=[
            *PERSON_COLUMNS,
            Column("Budget year"),
            Column("Funding stream"),
            Column("How the money is managed"),
            Column("Yearly amount", MONEY),
            Column("Paid in this month", MONEY),
        ],
        rows=rows,
        total=["Total", "", "", "", "", sum(r[5] for r in rows), sum(r[6] for r in rows)],
        empty_text="This organisation funded no budget in this month.",
    )


def _spend_groups(
    organisation: Any, month: Month, spend_field: str, back_field: str
) -> tuple[dict[Any, tuple[int, int]], dict[Any, int]]:
    """Spends in the month grouped by ``spend_field`` ({key: (count, pence)}) and the
    money back (refunds and corrections of spends) in the month by ``back_field``."""
    spent = (
        Spend.objects.filter(
            contribution__funder=organisation,
            spent_on__gte=month.start,
            spent_on__lte=month.end,
        )
        .order_by()
        .values(spend_field)
        .annotate(n=Count("pk"), total=Sum("amount_pence"))
    )
    back = (
        LedgerEntry.objects.filter(
            account__contribution__funder=organisation,
            transaction__kind__in=[Kind.REFUND, Kind.CORRECTION],
            transaction__reverses__kind=Kind.SPEND,
            transaction__occurred_on__gte=month.start,
            transaction__occurred_on__lte=month.end,
        )
        .order_by()
        .values(back_field)
        .annotate(total=Sum("amount_pence"))
    )
    return (
        {row[spend_field]: (row["n"], row["total"]) for row in spent},
        {row[back_field]: row["total"] for row in back},
    )


def _spend_section(
    key: str,
    title: str,
    description: str,
    first: Column,
    groups: tuple[dict[Any, tuple[int, int]], dict[Any, int]],
    label: Callable[[Any], str],
    order: list[Any] | None = None,
) -> Section:
    spent, back = groups
    keys = set(spent) | set(back)
    if order is not None:
        ordered = [k for k in order if k in keys] + sorted(k for k in keys if k not in order)
    else:
        # Payees: the most spent first.
        ordered = sorted(keys, key=lambda k: (-spent.get(k, (0, 0))[1], str(k)))
    rows: list[list[Any]] = []
    for k in ordered:
        count, amount = spent.get(k, (0, 0))
        returned = back.get(k, 0)
        rows.append([label(k), count, amount, returned, amount - returned])
    return Section(
        key=key,
        title=title,
        description=description,
        columns=[
            first,
            Column("Spends", COUNT),
            Column("Spent", MONEY),
            Column("Refunded or corrected", MONEY),
            Column("Net spent", MONEY),
        ],
        rows=rows,
        total=["Total", *(sum(r[i] for r in rows) for i in range(1, 5))],
        empty_text="No spending was recorded in this month.",
    )


def _spending(organisation: Any, month: Month) -> list[Section]:
    back_note = (
        " Refunded or corrected is money paid back into budgets in the month for "
        "spending (refunds from payees, and corrections of spends recorded in error)."
    )
    return [
        _spend_section(
            "spend_by_category",
            "Spending by category",
            "What the money funded by this organisation was spent on in the month." + back_note,
            Column("Category"),
            _spend_groups(
                organisation, month, "category", "transaction__reverses__spend__category"
            ),
            lambda k: CATEGORIES.get(k, k),
            order=list(SpendCategory.values),
        ),
        _spend_section(
            "spend_by_stream",
            "Spending by funding stream",
            "The same spending, by the funding stream it was paid from.",
            Column("Funding stream"),
            _spend_groups(
                organisation, month, "contribution__stream", "account__contribution__stream"
            ),
            lambda k: STREAMS.get(k, k),
            order=list(FundingStream.values),
        ),
        _spend_section(
            "spend_by_payee",
            "Spending by payee",
            "The same spending, by who was paid, the most first.",
            Column("Payee"),
            _spend_groups(organisation, month, "payee", "transaction__reverses__spend__payee"),
            str,
        ),
    ]


def _balances(organisation: Any, month: Month) -> Section:
    def flow(kind: str) -> Any:
        return Sum(
            "amount_pence",
            filter=Q(transaction__kind=kind, transaction__occurred_on__gte=month.start),
            default=0,
        )

    accounts = (
        LedgerEntry.objects.filter(
            account__contribution__funder=organisation,
            transaction__occurred_on__lte=month.end,
        )
        .order_by()
        .values(
            "account_id",
            "account__contribution__stream",
            "account__budget__period_start",
            "account__budget__period_end",
            "account__budget__holder__name",
            "account__budget__holder__nhs_number",
        )
        .annotate(
            opening=Sum(
                "amount_pence", filter=Q(transaction__occurred_on__lt=month.start), default=0
            ),
            paid_in=flow(Kind.ALLOCATION),
            spent=flow(Kind.SPEND),
            refunds=flow(Kind.REFUND),
            recovered=flow(Kind.RECOVERY),
            corrections=flow(Kind.CORRECTION),
            closing=Sum("amount_pence"),
        )
        .order_by("account__budget__holder__name", "account__budget__period_start", "account_id")
    )
    rows = [
        [
            *_person(a["account__budget__holder__name"], a["account__budget__holder__nhs_number"]),
            _budget_year(a["account__budget__period_start"], a["account__budget__period_end"]),
            STREAMS.get(a["account__contribution__stream"], a["account__contribution__stream"]),
            a["opening"],
            a["paid_in"],
            -a["spent"],
            a["refunds"],
            -a["recovered"],
            a["corrections"],
            a["closing"],
        ]
        for a in accounts
    ]
    return Section(
        key="balances",
        title="Balances",
        description=(
            "Each budget account of this organisation's funding (one for each person's "
            "budget and stream): the balance at the start of the month, what moved in the "
            "month, and the balance at its end. Start, plus paid in, less spent, plus "
            "refunds, less recovered, plus corrections, is the balance at the end."
        ),
        columns=[
            *PERSON_COLUMNS,
            Column("Budget year"),
            Column("Funding stream"),
            Column("At start of month", MONEY),
            Column("Paid in", MONEY),
            Column("Spent", MONEY),
            Column("Refunds", MONEY),
            Column("Recovered", MONEY),
            Column("Corrections", MONEY),
            Column("At end of month", MONEY),
        ],
        rows=rows,
        total=["Total", "", "", "", *(sum(r[i] for r in rows) for i in range(4, 11))],
        empty_text="No budget account of this organisation had money by the end of the month.",
    )


def _recoveries(organisation: Any, month: Month) -> Section:
    after_end = _end_of_day(month.end)
    in_progress = Q(proposed_at__lt=after_end) & (
        Q(decided_at__isnull=True) | Q(decided_at__gte=after_end)
    )
    recovered = Q(
        state=SurplusRecovery.State.RECOVERED,
        transaction__occurred_on__gte=month.start,
        transaction__occurred_on__lte=month.end,
    )
    found = (
        SurplusRecovery.objects.filter(contribution__funder=organisation)
        .filter(in_progress | recovered)
        .select_related("budget__holder", "contribution", "transaction")
        .order_by("budget__holder__name", "proposed_at", "pk")
    )
    rows = []
    for r in found:
        done = (
            r.state == SurplusRecovery.State.RECOVERED
            and r.transaction is not None
            and month.start <= r.transaction.occurred_on <= month.end
        )
        rows.append(
            [
                *_person(r.budget.holder.name, r.budget.holder.nhs_number),
                STREAMS.get(r.contribution.stream, r.contribution.stream),
                timezone.localtime(r.proposed_at).date(),
                r.respond_by,
                "Recovered in the month" if done else "In progress at the end of the month",
                None if done else r.amount_pence,
                r.recovered_pence if done else None,
            ]
        )
    return Section(
        key="recoveries",
        title="Recoveries",
        description=(
            "Proposals to take back unspent money that were still open at the end of the "
            "month (the person may still ask for reconsideration, or finance has not yet "
            "decided), and the money recovered in the month."
        ),
        columns=[
            *PERSON_COLUMNS,
            Column("Funding stream"),
            Column("Proposed on", DATE),
            Column("Respond by", DATE),
            Column("State"),
            Column("Amount in progress", MONEY),
            Column("Recovered", MONEY),
        ],
        rows=rows,
        total=[
            "Total",
            "",
            "",
            None,
            None,
            "",
            sum(r[6] or 0 for r in rows),
            sum(r[7] or 0 for r in rows),
        ],
        empty_text="No recovery was in progress or made in this month.",
    )


def finance_report(*, organisation: Any, month: Month, progress: Progress | None = None) -> Report:
    """The monthly finance report (see the module docstring). ``progress(percent, note)``
    is called before each step, so a job can show how far it has got."""
    say = progress or (lambda percent, note: None)
    say(5, "Reading the allocations")
    allocations = _allocations(organisation, month)
    say(20, "Adding up the spending")
    spending = _spending(organisation, month)
    say(50, "Working out the balances")
    balances = _balances(organisation, month)
    say(70, "Listing the recoveries")
    recoveries = _recoveries(organisation, month)
    today = timezone.localdate()
    notes = ["Amounts are in pounds. Only this organisation's own funding is included."]
    if month.end >= today:
        notes.append(f"The month is not over: figures are up to {today:%-d %B %Y}.")
    return Report(
        title="Monthly finance report",
        organisation_name=organisation.name,
        period_label=month.label,
        built_at=timezone.localtime(),
        sections=[allocations, *spending, balances, recoveries],
        notes=notes,
    )
