"""Every dashboard figure equals the same figure worked out straight from the records.

The known data set (tests/reporting/dataset.py: two ICBs and a council, integrated
budgets on both an ICB's and the council's dashboard) is built, the snapshots are
refreshed, and each figure the dashboard selector gives is compared with a plain-Python
count over the budgets, contributions, ledger entries, spends, flags, recoveries, plans
and providers, following the definitions in docs/dashboard.md. Nothing here calls the
snapshot SQL or the selector to work out what to expect."""

from __future__ import annotations

import datetime
import math
import statistics
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from budgets.models import (
    Budget,
    BudgetHolder,
    FundingContribution,
    LedgerEntry,
    MonitoringFlag,
    Spend,
    SurplusRecovery,
)
from core.reporting.dashboard import DashboardFilters, dashboard_figures
from core.reporting.periods import Period, financial_year_of
from core.reporting.snapshots import snapshot_refresh
from marketplace.matching import postcode_area
from marketplace.models import Category, Provider, Service
from plans.models import SupportPlan
from tests.reporting.dataset import Dataset, build_dataset

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 8, 20)
MONEY_STATES = {"agreed", "active", "suspended"}


@pytest.fixture(scope="module")
def ds(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """The data set and one refresh, shared by the module's tests (read only)."""
    with django_db_blocker.unblock():
        from django.db import transaction

        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            data = build_dataset(TODAY)
            run = snapshot_refresh(trigger="scheduled", today=TODAY)
            assert run.status == "done", run.error
            yield data, run
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


# Working out the figures from the records -------------------------------------------


def local_day(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment, timezone=_tz()).date()


def _tz() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(settings.TIME_ZONE)


def in_place(budget: Budget, today: datetime.date) -> tuple[datetime.date, datetime.date] | None:
    """The days a budget was in place: from the later of its start and the day it became
    active to the earliest of its end, the day it was closed and today."""
    if budget.active_from is None and budget.state not in ("active", "suspended"):
        return None
    start = max(budget.period_start, budget.active_from or budget.period_start)
    end = min(budget.period_end, budget.ended_on or datetime.date.max, today)
    return (start, end) if start <= end else None


def option_of(contributions: list[FundingContribution]) -> str:
    options = {c.management_option for c in contributions}
    if not options:
        return ""
    return options.pop() if len(options) == 1 else "mixed"


def is_child(born: datetime.date, on: datetime.date) -> bool:
    return born > on.replace(year=on.year - 18)


def orgs_of(holder: BudgetHolder) -> set[int]:
    return {holder.organisation_id} | ({holder.council_id} if holder.council_id else set())


class Expected:
    """Plain-Python figures over every record of the data set."""

    def __init__(self, today: datetime.date) -> None:
        self.today = today
        self.holders = {h.pk: h for h in BudgetHolder.objects.all()}
        self.budgets = list(Budget.objects.all())
        self.contributions = defaultdict(list)
        for c in FundingContribution.objects.all():
            self.contributions[c.budget_id].append(c)
        self.budget_by_pk = {b.pk: b for b in self.budgets}

    def matches(self, holder: BudgetHolder, budget: Budget | None, f: DashboardFilters, on: Any):
        if f.route and holder.eligibility_route != f.route:
            return False
        if f.area and postcode_area(holder.postcode) != f.area:
            return False
        return not (f.option and option_of(self.contributions[budget.pk]) != f.option)

    # People and budgets
    def people(self, org: int, f: DashboardFilters) -> dict[str, Any]:
        period = f.period
        ends = period.ends_by(self.today)
        totals: Counter[str] = Counter()
        by_route: dict[str, Counter[str]] = defaultdict(Counter)
        by_option: dict[str, Counter[str]] = defaultdict(Counter)
        by_age: dict[str, Counter[str]] = defaultdict(Counter)
        for holder in self.holders.values():
            if org not in orgs_of(holder):
                continue
            placed = [
                (span, b)
                for b in self.budgets
                if b.holder_id == holder.pk and (span := in_place(b, self.today))
            ]
            in_period = [(s, b) for s, b in placed if s[0] <= ends and s[1] >= period.start]
            if not in_period:
                continue
            (_start, _end), budget = max(in_period, key=lambda sb: (sb[0][0], sb[1].pk))
            contributions = self.contributions[budget.pk]
            if f.stream and f.stream not in {c.stream for c in contributions}:
                continue
            if not self.matches(holder, budget, f, ends):
                continue
            at_end = any(s[0] <= ends <= s[1] for s, _ in placed)
            first = min(s[0] for s, _ in placed)
            figures = Counter(
                in_period=1,
                at_end=int(at_end),
                ended=int(not at_end),
                new=int(period.start <= first <= ends),
                active_now=int(budget.state == "active"),
                integrated=int(len({c.funder_id for c in contributions}) > 1),
            )
            totals.update(figures)
            by_route[holder.eligibility_route].update(figures)
            by_option[option_of(contributions)].update(figures)
            by_age["children" if is_child(holder.date_of_birth, ends) else "adults"].update(figures)
        return {"total": totals, "route": by_route, "option": by_option, "age": by_age}

    # Money
    def _money_contributions(self, org: int, f: DashboardFilters, *, own: bool):
        for budget in self.budgets:
            agreed = budget.state in MONEY_STATES or (
                budget.state == "closed" and budget.active_from is not None
            )
            holder = self.holders[budget.holder_id]
            if not agreed or org not in orgs_of(holder):
                continue
            if not self.matches(holder, budget, f, f.period.ends_by(self.today)):
                continue
            for c in self.contributions[budget.pk]:
                if f.stream and c.stream != f.stream:
                    continue
                if own and c.funder_id != org:
                    continue
                yield budget, c

    def money(self, org: int, f: DashboardFilters) -> dict[str, Counter[str]]:
        period = f.period
        by_stream: dict[str, Counter[str]] = defaultdict(Counter)
        for budget, c in self._money_contributions(org, f, own=True):
            row = by_stream[c.stream]
            if financial_year_of(budget.period_start) == period.financial_year:
                row["allocated_pence"] += c.yearly_pence
            entries = LedgerEntry.objects.filter(
                account__contribution=c,
                transaction__occurred_on__gte=period.start,
                transaction__occurred_on__lte=period.end,
            ).select_related("transaction", "transaction__reverses")
            for entry in entries:
                kind = entry.transaction.kind
                if kind == "correction":
                    kind = {"allocation": "allocation_fix", "spend": "spend_fix"}.get(
                        entry.transaction.reverses.kind, "other"
                    )
                if kind in ("allocation", "allocation_fix"):
                    row["paid_in_pence"] += entry.amount_pence
                elif kind == "spend":
                    row["spent_pence"] -= entry.amount_pence
                elif kind in ("refund", "spend_fix"):
                    row["refunded_pence"] += entry.amount_pence
                elif kind == "recovery":
                    row["recovered_pence"] -= entry.amount_pence
        return by_stream

    def integrated_shares(self, org: int, f: DashboardFilters) -> dict[int, int]:
        shares: Counter[int] = Counter()
        for budget, c in self._money_contributions(org, f, own=False):
            if len({x.funder_id for x in self.contributions[budget.pk]}) < 2:
                continue
            if financial_year_of(budget.period_start) == f.period.financial_year:
                shares[c.funder_id] += c.yearly_pence
        return {k: v for k, v in shares.items() if v}

    def spending(self, org: int, f: DashboardFilters) -> dict[str, tuple[int, int, int]]:
        found: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for spend in Spend.objects.select_related("contribution", "budget"):
            c = spend.contribution
            if c.funder_id != org or not f.period.start <= spend.spent_on <= f.period.end:
                continue
            if f.stream and c.stream != f.stream:
                continue
            holder = self.holders[spend.budget.holder_id]
            if not self.matches(holder, spend.budget, f, None):
                continue
            row = found[spend.category]
            row[0] += 1
            row[1] += spend.amount_pence
            row[2] += spend.refunded_pence
        return {k: tuple(v) for k, v in found.items()}

    def flags(self, org: int, f: DashboardFilters) -> Counter[str]:
        counted: Counter[str] = Counter()
        for flag in MonitoringFlag.objects.exclude(state="resolved").select_related("budget"):
            holder = self.holders[flag.budget.holder_id]
            if org in orgs_of(holder) and self._route_area(holder, f):
                counted[f"{flag.kind}:{flag.state}"] += 1
        return counted

    def recoveries(self, org: int, f: DashboardFilters) -> dict[str, tuple[int, int]]:
        found: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in SurplusRecovery.objects.filter(
            state__in=["notice_sent", "reconsideration_requested"]
        ).select_related("budget"):
            holder = self.holders[r.budget.holder_id]
            if org in orgs_of(holder) and self._route_area(holder, f):
                found[r.state][0] += 1
                found[r.state][1] += r.amount_pence
        return {k: tuple(v) for k, v in found.items()}

    def _route_area(self, holder: BudgetHolder, f: DashboardFilters) -> bool:
        if f.route and holder.eligibility_route != f.route:
            return False
        return not (f.area and postcode_area(holder.postcode) != f.area)

    # Plans
    def plans(self, org: int, f: DashboardFilters) -> dict[str, Any]:
        waits: dict[str, list[int]] = defaultdict(list)
        due = overdue = 0
        first_approval: dict[int, datetime.date] = {}
        for plan in SupportPlan.objects.all():
            holder = self.holders[plan.holder_id]
            if plan.approved_at is not None:
                day = local_day(plan.approved_at)
                first_approval[holder.pk] = min(first_approval.get(holder.pk, day), day)
            if org not in orgs_of(holder) or not self._route_area(holder, f):
                continue
            since = {
                "draft": plan.created_at,
                "submitted": plan.submitted_at,
                "changes_requested": plan.updated_at,
                "approved": plan.approved_at,
            }.get(plan.state)
            if since is not None:
                waits[plan.state].append((self.today - local_day(since)).days)
            if plan.state == "active" and plan.next_review_on is not None:
                if plan.next_review_on < self.today:
                    overdue += 1
                elif plan.next_review_on <= self.today + datetime.timedelta(days=28):
                    due += 1
        referral = []
        for holder_pk, approved_on in first_approval.items():
            holder = self.holders[holder_pk]
            if org not in orgs_of(holder) or not self._route_area(holder, f):
                continue
            if f.period.start <= approved_on <= f.period.ends_by(self.today):
                referral.append((approved_on - local_day(holder.created_at)).days)
        return {
            "waits": waits,
            "due": due,
            "overdue": overdue,
            "referral": referral,
        }

    # Market
    def market(self, org: int, area: str) -> dict[str, Any]:
        providers = [
            p
            for p in Provider.objects.prefetch_related("areas")
            if org in {a.pk for a in p.areas.all()}
            and (not area or postcode_area(p.postcode or "") == area)
        ]
        listed = [p for p in providers if p.listed]
        pending = [p for p in providers if p.verification == "pending"]
        services: Counter[str] = Counter(
            s.category.code
            for s in Service.objects.filter(status="active", provider__in=listed).select_related(
                "category"
            )
        )
        usable = {c.code for c in Category.objects.for_area([org])}
        return {
            "by_kind": Counter(p.kind for p in listed),
            "user_led": sum(p.user_led for p in listed),
            "micro": sum(p.kind == "micro_enterprise" for p in listed),
            "queue": len(pending),
            "longest": max(
                ((self.today - local_day(p.updated_at)).days for p in pending), default=None
            ),
            "services": services,
            "gaps": usable - set(services),
        }


def half_up(value: float) -> int:
    return int(Decimal(str(value)).quantize(Decimal(1), ROUND_HALF_UP))


def percentile(values: list[int], fraction: float) -> int:
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return half_up(value)


# The comparisons ----------------------------------------------------------------------

PEOPLE_FIELDS = ("in_period", "at_end", "active_now", "new", "ended", "integrated")
MONEY_FIELDS = (
    "allocated_pence",
    "paid_in_pence",
    "spent_pence",
    "refunded_pence",
    "recovered_pence",
)


def _figures(ds: Dataset, run: Any, org: Any, f: DashboardFilters) -> Any:
    return dashboard_figures(
        organisation_ids=[org.pk], organisation_names={org.pk: org.name}, filters=f, run=run
    )


def _name(chosen: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in chosen.items()) or "all"


FILTERS = [
    {},
    {"route": "chc"},
    {"route": "childrens_continuing_care"},
    {"option": "mixed"},
    {"option": "direct_payment"},
    {"area": "LS"},
    {"stream": "council_children"},
    {"stream": "nhs_chc"},
]
PERIODS = ["2026", "2026Q2", "2026Q1", "2025", "2025Q4"]


@pytest.mark.parametrize("org_key", ["icb_a", "council", "icb_b"])
@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize(
    "chosen", FILTERS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "all"
)
def test_people_and_money_figures_equal_the_records(ds, org_key, period, chosen) -> None:
    data, run = ds
    org = data.organisations[org_key]
    f = DashboardFilters(period=Period.parse(period), **chosen)
    d = _figures(data, run, org, f)
    expected = Expected(TODAY)

    people = expected.people(org.pk, f)
    for name in PEOPLE_FIELDS:
        assert getattr(d.people.total, name) == people["total"][name], name
    assert {
        r.key: {n: getattr(r.figures, n) for n in PEOPLE_FIELDS} for r in d.people.by_route
    } == {k: {n: v[n] for n in PEOPLE_FIELDS} for k, v in people["route"].items()}
    assert {r.key: r.figures.in_period for r in d.people.by_option} == {
        k: v["in_period"] for k, v in people["option"].items()
    }
    assert {r.key: r.figures.at_end for r in d.people.by_age} == {
        k: v["at_end"] for k, v in people["age"].items()
    }

    money = expected.money(org.pk, f)
    shown = {r.key: r.figures for r in d.money.by_stream}
    for stream, figures in money.items():
        if not any(figures.values()):
            continue  # a contribution with nothing in the period may have no row
        for name in MONEY_FIELDS:
            assert getattr(shown[stream], name) == figures[name], (stream, name)
    assert set(shown) <= set(money)
    for name in MONEY_FIELDS:
        assert getattr(d.money.own, name) == sum(m[name] for m in money.values()), name
    assert d.money.own.unspent_pence == sum(
        m["paid_in_pence"] - m["spent_pence"] + m["refunded_pence"] - m["recovered_pence"]
        for m in money.values()
    )
    assert {
        s.funder_id: s.allocated_pence for s in d.money.integrated_shares if s.allocated_pence
    } == expected.integrated_shares(org.pk, f)

    spending = expected.spending(org.pk, f)
    assert {
        r.key: (r.figures.spends, r.figures.spent_pence, r.figures.refunded_pence)
        for r in d.money.by_category
    } == spending


@pytest.mark.parametrize("org_key", ["icb_a", "council", "icb_b"])
@pytest.mark.parametrize(
    "chosen", [{}, {"route": "chc"}, {"area": "LS"}, {"route": "s117_aftercare", "area": "LS"}]
)
@pytest.mark.parametrize("period", ["2026", "2025"])
def test_flags_recoveries_and_plans_equal_the_records(ds, org_key, chosen, period) -> None:
    data, run = ds
    org = data.organisations[org_key]
    f = DashboardFilters(period=Period.parse(period), **chosen)
    d = _figures(data, run, org, f)
    expected = Expected(TODAY)

    assert {r.key: r.figures for r in d.money.flags} == dict(expected.flags(org.pk, f))
    assert {r.key: r.figures for r in d.money.recoveries} == expected.recoveries(org.pk, f)

    plans = expected.plans(org.pk, f)
    for row in d.plans.waiting:
        waits = plans["waits"].get(row.key, [])
        assert row.figures.count == len(waits), row.key
        assert row.figures.longest_days == (max(waits) if waits else None), row.key
        assert row.figures.median_days == (half_up(statistics.median(waits)) if waits else None), (
            row.key
        )
    assert d.plans.reviews_due == plans["due"]
    assert d.plans.reviews_overdue == plans["overdue"]
    referral = plans["referral"]
    assert d.plans.referral_to_plan_count == len(referral)
    assert d.plans.referral_to_plan_median_days == (percentile(referral, 0.5) if referral else None)
    assert d.plans.referral_to_plan_p90_days == (percentile(referral, 0.9) if referral else None)


@pytest.mark.parametrize("org_key", ["icb_a", "council", "icb_b"])
@pytest.mark.parametrize("area", ["", "LS"])
def test_market_figures_equal_the_records(ds, org_key, area) -> None:
    data, run = ds
    org = data.organisations[org_key]
    d = _figures(data, run, org, DashboardFilters(period=Period.parse("2026"), area=area))
    market = Expected(TODAY).market(org.pk, area)
    assert {r.key: r.figures for r in d.market.providers_by_kind} == dict(market["by_kind"])
    assert d.market.providers_total == sum(market["by_kind"].values())
    assert d.market.providers_user_led == market["user_led"]
    assert d.market.providers_micro == market["micro"]
    assert d.market.verification_queue == market["queue"]
    assert d.market.verification_longest_days == market["longest"]
    assert {r.key: r.figures[0] for r in d.market.services_by_category} == dict(market["services"])
    if not area:
        assert {r.key for r in d.market.gaps} == market["gaps"]


def test_the_data_set_has_something_to_count(ds) -> None:
    """The comparisons above mean something only if the figures are not all zero."""
    data, run = ds
    d = _figures(data, run, data.icb_a, DashboardFilters(period=Period.parse("2026")))
    assert d.people.total.in_period >= 5
    assert d.money.own.spent_pence > 0
    assert d.money.own.refunded_pence > 0
    assert d.money.integrated_shares
    assert d.money.flags
    assert d.money.recoveries
    assert any(r.figures.count for r in d.plans.waiting)
    assert d.market.providers_total > 0
    council = _figures(data, run, data.council, DashboardFilters(period=Period.parse("2026")))
    assert council.people.total.integrated >= 1
