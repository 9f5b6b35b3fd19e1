"""The snapshot refresh gives, for every organisation, period, filter and measure, the
figures worked out straight from the records of the known data set.

The expected figures are computed here in plain Python over ORM reads, following the
definitions in ``core/reporting/models.py`` and the decisions in
``core/reporting/snapshots.py``'s docstring, never through the refresh's SQL. Whole
tables are compared row by row (every measure, every organisation, every period, with
and without a stream), and a few figures of the story are checked by their known
values, so a definition misread the same way in both places is still caught.
"""

from __future__ import annotations

import datetime
import math
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

import pytest
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
from core.reporting.models import (
    MIXED,
    FigureSnapshot,
    MoneySnapshot,
    PeopleSnapshot,
    SnapshotRun,
    SpendSnapshot,
)
from core.reporting.periods import Period, periods_kept
from core.reporting.snapshots import snapshot_refresh
from marketplace.matching import postcode_area
from marketplace.models import Category, Provider, Service
from plans.models import SupportPlan
from tests.reporting.dataset import Dataset, build_dataset
from users.models import Organisation

TODAY = datetime.date(2026, 11, 20)
PERIODS = periods_kept(TODAY)


@pytest.fixture
def ds(db: Any) -> Dataset:
    return build_dataset(TODAY)


@pytest.fixture
def refreshed(ds: Dataset) -> Dataset:
    run = snapshot_refresh(trigger=SnapshotRun.Trigger.SCHEDULED, today=TODAY)
    assert run.status == SnapshotRun.Status.DONE, run.error
    return ds


# The expected figures, from the records ------------------------------------------------


def in_place_span(budget: Budget) -> tuple[datetime.date, datetime.date] | None:
    """(first, last) day in place, or None for a budget that never became active."""
    if budget.active_from is None and budget.state not in ("active", "suspended"):
        return None
    first = max(budget.period_start, budget.active_from or budget.period_start)
    last = min(budget.period_end, budget.ended_on or budget.period_end, TODAY)
    return first, last


def in_place_during(budget: Budget, period: Period) -> bool:
    span = in_place_span(budget)
    return span is not None and max(period.start, span[0]) <= min(period.ends_by(TODAY), span[1])


def in_place_on(budget: Budget, day: datetime.date) -> bool:
    span = in_place_span(budget)
    return span is not None and span[0] <= day <= span[1]


def option_of(budget: Budget) -> str:
    options = {c.management_option for c in budget.contributions.all()}
    return options.pop() if len(options) == 1 else (MIXED if options else "")


def integrated(budget: Budget) -> bool:
    return len({c.funder_id for c in budget.contributions.all()}) > 1


def is_child(holder: BudgetHolder, on: datetime.date) -> bool:
    born = holder.date_of_birth
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day)) < 18


def orgs_of(holder: BudgetHolder) -> list[int]:
    return [holder.organisation_id] + ([holder.council_id] if holder.council_id else [])


def expected_people() -> dict[tuple[Any, ...], tuple[int, ...]]:
    rows: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
    for holder in BudgetHolder.objects.prefetch_related("budgets__contributions"):
        budgets = list(holder.budgets.all())
        spans = [in_place_span(b) for b in budgets]
        firsts = [s[0] for s in spans if s is not None and s[0] <= s[1]]
        for period in PERIODS:
            placed = [b for b in budgets if in_place_during(b, period)]
            if not placed:
                continue
            budget = max(placed, key=lambda b: (in_place_span(b)[0], b.pk))  # type: ignore[index]
            last_day = period.ends_by(TODAY)
            at_end = any(in_place_on(b, last_day) for b in budgets)
            streams = {c.stream for c in budget.contributions.all()}
            for org in orgs_of(holder):
                for stream in ["", *streams]:
                    key = (
                        org,
                        period.key,
                        holder.eligibility_route,
                        option_of(budget),
                        postcode_area(holder.postcode),
                        is_child(holder, last_day),
                        stream,
                    )
                    rows[key]["in_period"] += 1
                    rows[key]["at_end"] += at_end
                    rows[key]["active_now"] += budget.state == "active"
                    rows[key]["new"] += period.start <= min(firsts) <= last_day
                    rows[key]["ended"] += not at_end
                    rows[key]["integrated"] += integrated(budget)
    names = ["in_period", "at_end", "active_now", "new", "ended", "integrated"]
    return {key: tuple(c[n] for n in names) for key, c in rows.items()}


def actual_people() -> dict[tuple[Any, ...], tuple[int, ...]]:
    rows = PeopleSnapshot.objects.values_list(
        "organisation_id", "period", "route", "option", "area", "child", "stream",
        "in_period", "at_end", "active_now", "new", "ended", "integrated",
    )  # fmt: skip
    result = {tuple(r[:7]): tuple(r[7:]) for r in rows}
    assert len(result) == len(rows), "one row per combination"
    return result


def flow_kind(entry: LedgerEntry) -> str:
    txn = entry.transaction
    if txn.kind == "correction":
        return {"allocation": "paid_in", "spend": "refunded"}[txn.reverses.kind]
    return {
        "allocation": "paid_in",
        "spend": "spent",
        "refund": "refunded",
        "recovery": "recovered",
    }[txn.kind]


def expected_money() -> dict[tuple[Any, ...], tuple[int, ...]]:
    rows: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
    contributions = FundingContribution.objects.select_related("budget__holder", "account")
    for contribution in contributions:
        budget, holder = contribution.budget, contribution.budget.holder
        if not (budget.state in ("agreed", "active", "suspended") or budget.active_from):
            continue
        entries = list(
            LedgerEntry.objects.filter(account=contribution.account).select_related(
                "transaction__reverses"
            )
        )
        for period in PERIODS:
            overlaps = budget.period_start <= period.end and budget.period_end >= period.start
            starts_in_year = period.year.start <= budget.period_start <= period.year.end
            moved = [e for e in entries if period.start <= e.transaction.occurred_on <= period.end]
            if not (overlaps or starts_in_year or moved):
                continue
            for org in orgs_of(holder):
                key = (
                    org,
                    contribution.funder_id,
                    period.key,
                    holder.eligibility_route,
                    option_of(budget),
                    postcode_area(holder.postcode),
                    is_child(holder, period.ends_by(TODAY)),
                    contribution.stream,
                    integrated(budget),
                )
                row = rows[key]
                row["contributions"] += overlaps
                row["allocated"] += contribution.yearly_pence if starts_in_year else 0
                for entry in moved:
                    kind = flow_kind(entry)
                    sign = -1 if kind in ("spent", "recovered") else 1
                    row[kind] += sign * entry.amount_pence
    names = ["contributions", "allocated", "paid_in", "spent", "refunded", "recovered"]
    return {key: tuple(c[n] for n in names) for key, c in rows.items()}


def actual_money() -> dict[tuple[Any, ...], tuple[int, ...]]:
    rows = MoneySnapshot.objects.values_list(
        "organisation_id", "funder_id", "period", "route", "option", "area", "child",
        "stream", "integrated", "contributions", "allocated_pence", "paid_in_pence",
        "spent_pence", "refunded_pence", "recovered_pence",
    )  # fmt: skip
    result = {tuple(r[:9]): tuple(r[9:]) for r in rows}
    assert len(result) == len(rows), "one row per combination"
    return result


def expected_spend() -> dict[tuple[Any, ...], tuple[int, ...]]:
    rows: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
    for spend in Spend.objects.select_related("budget__holder", "contribution"):
        holder = spend.budget.holder
        for period in PERIODS:
            if not period.start <= spend.spent_on <= period.end:
                continue
            key = (
                spend.contribution.funder_id,
                period.key,
                holder.eligibility_route,
                option_of(spend.budget),
                postcode_area(holder.postcode),
                is_child(holder, period.ends_by(TODAY)),
                spend.contribution.stream,
                spend.category,
            )
            rows[key]["spends"] += 1
            rows[key]["spent"] += spend.amount_pence
            rows[key]["refunded"] += spend.refunded_pence
    return {key: (c["spends"], c["spent"], c["refunded"]) for key, c in rows.items()}


def actual_spend() -> dict[tuple[Any, ...], tuple[int, ...]]:
    rows = SpendSnapshot.objects.values_list(
        "organisation_id", "period", "route", "option", "area", "child", "stream", "category",
        "spends", "spent_pence", "refunded_pence",
    )  # fmt: skip
    result = {tuple(r[:8]): tuple(r[8:]) for r in rows}
    assert len(result) == len(rows), "one row per combination"
    return result


def percentile(values: list[int], fraction: float) -> int:
    """Postgres's percentile_cont (linear between the nearest ranks), rounded half up."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    exact = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return math.floor(exact + 0.5)


def route_area_keys(route: str, area: str) -> Iterable[tuple[str, str]]:
    """The (route, area) rows a record counts on: each, both, and neither."""
    for r in (route, ""):
        for a in (area, ""):
            yield r, a


def local_day(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date()


FigureKey = tuple[
    int, str, str, str, str, str, str
]  # org, section, measure, period, route, area, key


def expected_figures() -> dict[FigureKey, tuple[int, int | None]]:
    groups: dict[FigureKey, list[Any]] = defaultdict(list)

    def add(org: int, section: str, measure: str, period: str, route: str, area: str,
            key: str, value: Any) -> None:  # fmt: skip
        for r, a in route_area_keys(route, area):
            groups[(org, section, measure, period, r, a, key)].append(value)

    entered = {
        "draft": lambda p: p.created_at,
        "submitted": lambda p: p.submitted_at,
        "changes_requested": lambda p: p.updated_at,
        "approved": lambda p: p.approved_at,
    }
    plans = list(SupportPlan.objects.select_related("holder"))
    for plan in plans:
        holder = plan.holder
        route, area = holder.eligibility_route, postcode_area(holder.postcode)
        for org in orgs_of(holder):
            if plan.state in entered:
                days = (TODAY - local_day(entered[plan.state](plan))).days
                add(org, "plans", "waiting", "", route, area, plan.state, days)
            if plan.state == "active" and plan.next_review_on is not None:
                if plan.next_review_on < TODAY:
                    add(org, "plans", "reviews_overdue", "", route, area, "", None)
                elif plan.next_review_on <= TODAY + datetime.timedelta(days=28):
                    add(org, "plans", "reviews_due", "", route, area, "", None)
    first_approved: dict[int, datetime.datetime] = {}
    for plan in plans:
        if plan.approved_at is not None:
            earlier = first_approved.get(plan.holder_id)
            first_approved[plan.holder_id] = min(filter(None, [earlier, plan.approved_at]))
    for holder_id, approved_at in first_approved.items():
        holder = BudgetHolder.objects.get(pk=holder_id)
        approved_on = local_day(approved_at)
        days = (approved_on - local_day(holder.created_at)).days
        for period in PERIODS:
            if period.start <= approved_on <= period.ends_by(TODAY):
                for org in orgs_of(holder):
                    add(org, "plans", "referral", period.key, holder.eligibility_route,
                        postcode_area(holder.postcode), "", days)  # fmt: skip
    for flag in MonitoringFlag.objects.exclude(state="resolved").select_related("budget__holder"):
        holder = flag.budget.holder
        for org in orgs_of(holder):
            add(org, "money", "flags", "", holder.eligibility_route,
                postcode_area(holder.postcode), f"{flag.kind}:{flag.state}", None)  # fmt: skip
    in_progress = SurplusRecovery.objects.filter(
        state__in=["notice_sent", "reconsideration_requested"]
    ).select_related("budget__holder")
    for recovery in in_progress:
        holder = recovery.budget.holder
        for org in orgs_of(holder):
            add(org, "money", "recoveries", "", holder.eligibility_route,
                postcode_area(holder.postcode), recovery.state, recovery.amount_pence)  # fmt: skip

    expected: dict[FigureKey, tuple[int, int | None]] = {}
    for (org, section, measure, period, route, area, key), values in groups.items():
        if measure == "waiting":
            base = (org, section, "waiting", period, route, area, key)
            expected[base] = (len(values), percentile(values, 0.5))
            longest = (org, section, "waiting_longest", period, route, area, key)
            expected[longest] = (len(values), max(values))
        elif measure == "referral":
            median = (org, section, "referral_to_plan", period, route, area, key)
            expected[median] = (len(values), percentile(values, 0.5))
            p90 = (org, section, "referral_to_plan_p90", period, route, area, key)
            expected[p90] = (len(values), percentile(values, 0.9))
        elif measure == "recoveries":
            expected[(org, section, measure, period, route, area, key)] = (
                len(values),
                sum(values),
            )
        else:
            expected[(org, section, measure, period, route, area, key)] = (len(values), None)
    expected.update(expected_market())
    return expected


def expected_market() -> dict[FigureKey, tuple[int, int | None]]:
    counts: dict[FigureKey, list[Any]] = defaultdict(list)
    places: set[tuple[int, str]] = {
        (org.pk, "") for org in Organisation.objects.filter(kind__in=["icb", "local_authority"])
    }
    for provider in Provider.objects.prefetch_related("areas", "services__category"):
        area = postcode_area(provider.postcode)
        areas = [area, ""] if area else [""]
        for org in provider.areas.all():
            measures: list[tuple[str, str, Any]] = []
            if provider.listed:
                places.update((org.pk, a) for a in areas if a)
                measures.append(("providers", provider.kind, None))
                if provider.user_led:
                    measures.append(("providers_user_led", "", None))
                if provider.kind == "micro_enterprise":
                    measures.append(("providers_micro", "", None))
                for service in provider.services.all():
                    if service.status == Service.Status.ACTIVE:
                        measures.append(("services", service.category.code, None))
            if provider.verification == Provider.Verification.PENDING:
                waited = (TODAY - local_day(provider.updated_at)).days
                measures.append(("verification_queue", "", waited))
            for measure, key, value in measures:
                for a in areas:
                    counts[(org.pk, "market", measure, "", "", a, key)].append(value)
    expected: dict[FigureKey, tuple[int, int | None]] = {}
    for org_id, area in places:
        for category in Category.objects.for_area([org_id]):
            expected[(org_id, "market", "services", "", "", area, category.code)] = (0, None)
    for key, values in counts.items():
        waited = max(values) if key[2] == "verification_queue" else None
        expected[key] = (len(values), waited)
    return expected


def actual_figures() -> dict[FigureKey, tuple[int, int | None]]:
    rows = FigureSnapshot.objects.values_list(
        "organisation_id", "section", "measure", "period", "route", "area", "key",
        "count", "value",
    )  # fmt: skip
    result = {tuple(r[:7]): tuple(r[7:]) for r in rows}
    assert len(result) == len(rows), "one row per combination"
    return result  # type: ignore[return-value]


def assert_same(expected: dict[Any, Any], actual: dict[Any, Any]) -> None:
    missing = {k: v for k, v in expected.items() if k not in actual}
    extra = {k: v for k, v in actual.items() if k not in expected}
    wrong = {
        k: (expected[k], actual[k]) for k in expected if k in actual and expected[k] != actual[k]
    }
    assert not missing, f"rows missing: {missing}"
    assert not extra, f"rows not expected: {extra}"
    assert not wrong, f"rows with other figures (expected, actual): {wrong}"
    assert expected, "the data set gives figures to compare"


# The tests ----------------------------------------------------------------------------


def test_people_figures_equal_those_worked_out_from_the_records(refreshed: Dataset) -> None:
    expected = expected_people()
    assert_same(expected, actual_people())
    # The set covers what the figures are about.
    orgs = {key[0] for key in expected}
    assert {refreshed.icb_a.pk, refreshed.icb_b.pk, refreshed.council.pk} <= orgs
    assert {key[1] for key in expected} == {p.key for p in PERIODS}


def test_money_figures_equal_those_worked_out_from_the_records(refreshed: Dataset) -> None:
    expected = expected_money()
    assert_same(expected, actual_money())
    assert any(v[2] < 0 or v[4] for v in expected.values())  # corrections count somewhere


def test_spending_by_category_equals_the_records(refreshed: Dataset) -> None:
    assert_same(expected_spend(), actual_spend())


def test_plans_money_and_market_figures_equal_the_records(refreshed: Dataset) -> None:
    assert_same(expected_figures(), actual_figures())


# Known values of the story, independent of the reference above ------------------------


def people(org: Organisation, period: str, stream: str = "", **filters: Any) -> dict[str, int]:
    rows = PeopleSnapshot.objects.filter(
        organisation=org, period=period, stream=stream, **filters
    ).values("in_period", "at_end", "active_now", "new", "ended", "integrated")
    totals: Counter[str] = Counter()
    for row in rows:
        totals.update(row)
    return dict(totals)


def test_each_person_is_counted_once_in_a_period(refreshed: Dataset) -> None:
    a, c = refreshed.icb_a, refreshed.council
    # North ICB this year: Ada, Ben, Cara, Eve (two budgets, once) and Finn (suspended).
    this_year = people(a, "2026")
    assert this_year["in_period"] == 5
    # Eve is counted on her latest budget, the third-party one.
    eve = people(a, "2026", route="wheelchair")
    assert eve["in_period"] == 1
    assert (
        PeopleSnapshot.objects.get(
            organisation=a, period="2026", route="wheelchair", stream=""
        ).option
        == "third_party"
    )
    # Ada's budget year ended on 30 September: in the year, not at its end (today).
    assert people(a, "2026", route="chc") == {
        "in_period": 1, "at_end": 0, "active_now": 1, "new": 0, "ended": 1, "integrated": 0,
    }  # fmt: skip
    # Last year at North ICB: Ada, Cara, Dev, Eve, Finn.
    assert people(a, "2025")["in_period"] == 5
    # This quarter (October to today): Ben, Eve and Finn (Ada's and Cara's years ended).
    assert people(a, "2026Q3")["in_period"] == 3
    # The council: Ben and Cara (North) and Jay (South), all integrated.
    council = people(c, "2026")
    assert council["in_period"] == council["integrated"] == 3
    assert people(c, "2026", stream="council_children")["in_period"] == 2  # Ben and Jay


def test_an_integrated_budget_is_on_the_icb_and_the_council(refreshed: Dataset) -> None:
    ben = refreshed.holders["ben"]
    for org in (refreshed.icb_a, refreshed.council):
        row = PeopleSnapshot.objects.get(
            organisation=org, period="2026", route=ben.eligibility_route, area="BD", stream=""
        )
        assert (row.in_period, row.integrated, row.child, row.new) == (1, 1, True, 1)
        assert row.option == "direct_payment"
        # Both funders' shares, on both dashboards.
        funders = dict(
            MoneySnapshot.objects.filter(organisation=org, period="2026", area="BD").values_list(
                "funder_id", "allocated_pence"
            )
        )
        assert funders == {refreshed.icb_a.pk: 20_000_00, refreshed.council.pk: 8_000_00}


def test_known_money_of_the_year(refreshed: Dataset) -> None:
    b = refreshed.icb_b
    own = MoneySnapshot.objects.filter(organisation=b, funder=b, period="2026", route="chc")
    row = own.get()  # Ivy's budget
    assert row.allocated_pence == 18_000_00
    assert row.paid_in_pence == 3_000_00  # 4,000 paid in, 1,000 of it corrected
    assert row.spent_pence == 700_00 + 80_00 + 60_00
    assert row.refunded_pence == 60_00  # the corrected spend
    assert row.recovered_pence == 0
    council = MoneySnapshot.objects.filter(
        organisation=refreshed.council, funder=refreshed.council, period="2026", area="BD"
    ).get()
    assert council.recovered_pence == 100_00
    # Gus's indicative budget holds no money.
    assert not MoneySnapshot.objects.filter(route="end_of_life").exists()


def test_known_plan_and_market_figures(refreshed: Dataset) -> None:
    a = refreshed.icb_a

    def figure(measure: str, key: str = "", **filters: Any) -> tuple[int, int | None]:
        row = FigureSnapshot.objects.get(
            organisation=a, measure=measure, key=key, route=filters.pop("route", ""),
            area=filters.pop("area", ""), period=filters.pop("period", ""), **filters,
        )  # fmt: skip
        return row.count, row.value

    assert figure("waiting", "draft") == (1, 15)  # Gus's
    assert figure("waiting", "submitted") == (1, 30)  # Finn's
    assert figure("waiting", "changes_requested") == (1, 4)  # Ada's revision
    assert figure("waiting", "approved") == (1, 12)  # Hana's
    assert figure("reviews_due") == (2, None)  # Ada in 10 days, Eve in 28
    assert figure("reviews_overdue") == (1, None)  # Cara
    assert figure("flags", "surplus:open") == (2, None)  # Ada and Cara
    assert figure("recoveries", "notice_sent") == (1, 200_00)
    assert figure("providers", "micro_enterprise") == (1, None)  # the unlisted one is not
    assert figure("providers_user_led") == (2, None)
    assert figure("verification_queue") == (2, 21)
    assert figure("services", "personal-assistance") == (2, None)
    assert figure("services", "shared-lives") == (0, None)  # a gap
    assert figure("services", "personal-assistance", area="LS") == (2, None)
    assert figure("services", "community-groups", area="BD") == (1, None)
    # The council's own category shows as a gap for the council only.
    assert FigureSnapshot.objects.filter(
        organisation=refreshed.council, measure="services", key="sensory-support", count=0
    ).exists()
    assert not FigureSnapshot.objects.filter(organisation=a, key="sensory-support").exists()


@pytest.mark.parametrize(
    "today",
    [
        datetime.date(2026, 4, 20),  # early in a year: last year's quarters, this one's first
        datetime.date(2027, 2, 3),  # late in a year: every quarter of it
    ],
)
def test_every_table_equals_the_records_on_other_days(
    db: Any, today: datetime.date, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reference above reads the day and its periods from this module.
    monkeypatch.setattr(sys.modules[__name__], "TODAY", today)
    monkeypatch.setattr(sys.modules[__name__], "PERIODS", periods_kept(today))
    build_dataset(today)
    run = snapshot_refresh(trigger=SnapshotRun.Trigger.SCHEDULED, today=today)
    assert run.status == SnapshotRun.Status.DONE, run.error
    assert_same(expected_people(), actual_people())
    assert_same(expected_money(), actual_money())
    assert_same(expected_spend(), actual_spend())
    assert_same(expected_figures(), actual_figures())
