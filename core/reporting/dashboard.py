"""The commissioner dashboard's figures: read from the snapshot tables
(``core/reporting/models.py`` defines every column) with a fixed number of aggregate
queries, whatever the size of the data.

One call, ``dashboard_figures``, gives every figure the page and the API show, for one
organisation or (``combined``) the sum over several. The queries, each one over the
organisation's snapshot rows of one table (a few thousand rows at national scale):

1. the latest finished ``SnapshotRun`` (what the figures are "as of");
2. people, grouped by route, management option and adults/children;
3. money, grouped by organisation, funder, stream and integrated;
4. spending by category;
5. the smaller figures (plans, flags, recoveries, the market) of ``FigureSnapshot``;
6. each organisation's allocated money for the year, unfiltered (for the target share);
7. the spend targets;
8. the postcode areas present (for the area filter);
9. the marketplace categories the market figures name (for their links).

Then live sources that are small by nature: the outcome figures (``outcomes.reports``,
which suppresses small groups itself) and the open improvement actions.

What the combined view shows: each organisation's figures added up. A person whose
budget is integrated, with an ICB and a council that are both the user's, is on both
organisations' dashboards and so is counted in each; the page says so. Money is
counted once: the money totals are each organisation's own contributions (funder is the
organisation), and a contribution has one funder. Medians and percentiles cannot be
added up, so the combined view leaves them out (longest waits are the longest of any).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import F, Max, Q, Sum

from budgets.models import EligibilityRoute, FundingStream, ManagementOption, MonitoringFlag
from budgets.models.monitoring import SurplusRecovery
from budgets.models.spending import SpendCategory
from core.reporting.models import (
    MIXED,
    FigureSnapshot,
    MoneySnapshot,
    PeopleSnapshot,
    SnapshotRun,
    SpendSnapshot,
    SpendTarget,
)
from core.reporting.periods import Period, periods_kept

OPTION_LABELS: dict[str, str] = {
    **{str(value): str(label) for value, label in ManagementOption.choices},
    MIXED: "A mix of ways",
}
ROUTE_LABELS: dict[str, str] = {str(v): str(label) for v, label in EligibilityRoute.choices}
STREAM_LABELS: dict[str, str] = {str(v): str(label) for v, label in FundingStream.choices}
CATEGORY_LABELS: dict[str, str] = {str(v): str(label) for v, label in SpendCategory.choices}
FLAG_LABELS: dict[str, str] = {str(v): str(label) for v, label in MonitoringFlag.Kind.choices}
FLAG_STATE_LABELS: dict[str, str] = {
    str(v): str(label) for v, label in MonitoringFlag.State.choices
}
RECOVERY_LABELS: dict[str, str] = {str(v): str(label) for v, label in SurplusRecovery.State.choices}
PLAN_STEPS: list[tuple[str, str]] = [
    ("draft", "Being written (draft)"),
    ("submitted", "Sent for approval"),
    ("changes_requested", "Sent back for changes"),
    ("approved", "Approved, waiting to start"),
]


@dataclass(frozen=True)
class DashboardFilters:
    """What the figures are narrowed to. ``period`` is one of the kept periods; the
    rest are blank for "all"."""

    period: Period
    stream: str = ""
    route: str = ""
    option: str = ""
    area: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "period": self.period.key,
            "stream": self.stream,
            "route": self.route,
            "option": self.option,
            "area": self.area,
        }


# Figures ----------------------------------------------------------------------------


@dataclass
class PeopleCounts:
    """People counts of one group (see ``PeopleSnapshot`` for each measure)."""

    in_period: int = 0
    at_end: int = 0
    active_now: int = 0
    new: int = 0
    ended: int = 0
    integrated: int = 0

    def add(self, row: dict[str, Any]) -> None:
        for name in ("in_period", "at_end", "active_now", "new", "ended", "integrated"):
            setattr(self, name, getattr(self, name) + int(row[name] or 0))


@dataclass
class Row:
    """One line of a breakdown: its key, a label and its figures."""

    key: str
    label: str
    figures: Any


@dataclass
class People:
    total: PeopleCounts
    by_route: list[Row]
    by_option: list[Row]
    by_age: list[Row]


@dataclass
class MoneyCounts:
    contributions: int = 0
    allocated_pence: int = 0
    paid_in_pence: int = 0
    spent_pence: int = 0
    refunded_pence: int = 0
    recovered_pence: int = 0

    @property
    def unspent_pence(self) -> int:
        """Paid in, less spent, plus refunded, less recovered, in the period."""
        return self.paid_in_pence - self.spent_pence + self.refunded_pence - self.recovered_pence

    def add(self, row: dict[str, Any]) -> None:
        for name in (
            "contributions",
            "allocated_pence",
            "paid_in_pence",
            "spent_pence",
            "refunded_pence",
            "recovered_pence",
        ):
            setattr(self, name, getattr(self, name) + int(row[name] or 0))

    def as_dict(self) -> dict[str, int]:
        return {
            "contributions": self.contributions,
            "allocated_pence": self.allocated_pence,
            "paid_in_pence": self.paid_in_pence,
            "spent_pence": self.spent_pence,
            "refunded_pence": self.refunded_pence,
            "recovered_pence": self.recovered_pence,
            "unspent_pence": self.unspent_pence,
        }


@dataclass
class SpendCounts:
    spends: int = 0
    spent_pence: int = 0
    refunded_pence: int = 0

    @property
    def net_pence(self) -> int:
        return self.spent_pence - self.refunded_pence


@dataclass
class FunderShare:
    funder_id: int
    funder: str
    contributions: int
    allocated_pence: int
    share_basis_points: int | None  # of all integrated budgets' allocated money


@dataclass
class Money:
    own: MoneyCounts
    by_stream: list[Row]
    by_category: list[Row]
    integrated_shares: list[FunderShare]
    flags: list[Row]  # figures: count; key "<kind>:<state>"
    recoveries: list[Row]  # figures: (count, pence)


@dataclass
class Wait:
    count: int
    median_days: int | None
    longest_days: int | None


@dataclass
class Plans:
    waiting: list[Row]  # figures: Wait
    reviews_due: int
    reviews_overdue: int
    referral_to_plan_count: int
    referral_to_plan_median_days: int | None
    referral_to_plan_p90_days: int | None


@dataclass
class Market:
    providers_by_kind: list[Row]  # figures: count
    providers_by_area: list[Row]  # figures: count (all kinds)
    providers_total: int
    providers_user_led: int
    providers_micro: int
    verification_queue: int
    verification_longest_days: int | None
    services_by_category: list[Row]  # figures: (count, category pk or None)
    gaps: list[Row]  # categories with no service: figures (0, category pk or None)


@dataclass
class Target:
    organisation_id: int
    organisation: str
    financial_year: int
    allocated_pence: int
    relevant_spend_pence: int | None
    target_basis_points: int | None
    share_basis_points: int | None  # allocated / relevant spend, in hundredths of a percent


@dataclass
class Dashboard:
    run: SnapshotRun | None
    organisation_ids: list[int]
    combined: bool
    filters: DashboardFilters | None
    periods: list[Period] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)
    people: People | None = None
    money: Money | None = None
    plans: Plans | None = None
    market: Market | None = None
    targets: list[Target] = field(default_factory=list)


def basis_points(part: int, whole: int) -> int | None:
    """``part`` of ``whole`` in hundredths of a percent, rounded half up; None for 0."""
    if whole <= 0:
        return None
    return int((Decimal(part) * 10000 / Decimal(whole)).quantize(Decimal(1), ROUND_HALF_UP))


# Reading ----------------------------------------------------------------------------


def latest_run() -> SnapshotRun | None:
    """The latest finished snapshot run: what the dashboard's figures are as of."""
    return (
        SnapshotRun.objects.filter(status=SnapshotRun.Status.DONE)
        .order_by("-finished_at", "-pk")
        .first()
    )


def default_period(run: SnapshotRun) -> Period:
    return Period.year_of(run.today)


def areas_present(organisation_ids: Iterable[int], run: SnapshotRun) -> list[str]:
    """The postcode areas the organisations' snapshots name: of people in the kept
    financial years (their all-streams rows, a small part of the table) and of
    providers in the market."""
    ids = list(organisation_ids)
    years = [p.key for p in periods_kept(run.today) if p.quarter is None]
    people = (
        PeopleSnapshot.objects.filter(organisation_id__in=ids, period__in=years, stream="")
        .exclude(area="")
        .values_list("area", flat=True)
        .order_by()
    )
    market = (
        FigureSnapshot.objects.filter(organisation_id__in=ids, section="market")
        .exclude(area="")
        .values_list("area", flat=True)
        .order_by()
    )
    return sorted(set(people.union(market)))


def _label(labels: dict[str, str], key: str) -> str:
    return labels.get(key, key.replace("_", " ").capitalize() if key else "Not known")


def _people(ids: list[int], filters: DashboardFilters) -> People:
    rows = PeopleSnapshot.objects.filter(
        organisation_id__in=ids, period=filters.period.key, stream=filters.stream
    )
    if filters.route:
        rows = rows.filter(route=filters.route)
    if filters.option:
        rows = rows.filter(option=filters.option)
    if filters.area:
        rows = rows.filter(area=filters.area)
    grouped = (
        rows.order_by()
        .values("route", "option", "child")
        .annotate(
            in_period=Sum("in_period"),
            at_end=Sum("at_end"),
            active_now=Sum("active_now"),
            new=Sum("new"),
            ended=Sum("ended"),
            integrated=Sum("integrated"),
        )
    )
    total = PeopleCounts()
    by_route: dict[str, PeopleCounts] = defaultdict(PeopleCounts)
    by_option: dict[str, PeopleCounts] = defaultdict(PeopleCounts)
    by_age: dict[bool, PeopleCounts] = defaultdict(PeopleCounts)
    for row in grouped:
        total.add(row)
        by_route[row["route"]].add(row)
        by_option[row["option"]].add(row)
        by_age[row["child"]].add(row)
    route_order = [*ROUTE_LABELS, *sorted(set(by_route) - set(ROUTE_LABELS))]
    option_order = [*OPTION_LABELS, *sorted(set(by_option) - set(OPTION_LABELS))]
    return People(
        total=total,
        by_route=[
            Row(key, _label(ROUTE_LABELS, key), by_route[key])
            for key in route_order
            if key in by_route
        ],
        by_option=[
            Row(key, _label(OPTION_LABELS, key), by_option[key])
            for key in option_order
            if key in by_option
        ],
        by_age=[
            Row(key, label, by_age[child])
            for key, label, child in (("adults", "Adults", False), ("children", "Children", True))
            if child in by_age
        ],
    )


def _cube_filter(qs: Any, filters: DashboardFilters) -> Any:
    """Money and spending rows: one per contribution stream (never the blank stream),
    so each movement is counted once and a stream filter picks that stream's rows."""
    qs = qs.filter(stream=filters.stream) if filters.stream else qs.exclude(stream="")
    if filters.route:
        qs = qs.filter(route=filters.route)
    if filters.option:
        qs = qs.filter(option=filters.option)
    if filters.area:
        qs = qs.filter(area=filters.area)
    return qs


def _money(ids: list[int], filters: DashboardFilters) -> tuple[MoneyCounts, list[Row], list[Any]]:
    rows = _cube_filter(
        MoneySnapshot.objects.filter(organisation_id__in=ids, period=filters.period.key), filters
    )
    grouped = (
        rows.order_by()
        .values("organisation_id", "funder_id", "funder__name", "stream", "integrated")
        .annotate(
            contributions=Sum("contributions"),
            allocated_pence=Sum("allocated_pence"),
            paid_in_pence=Sum("paid_in_pence"),
            spent_pence=Sum("spent_pence"),
            refunded_pence=Sum("refunded_pence"),
            recovered_pence=Sum("recovered_pence"),
        )
    )
    own = MoneyCounts()
    by_stream: dict[str, MoneyCounts] = defaultdict(MoneyCounts)
    integrated: dict[int, dict[str, Any]] = {}
    for row in grouped:
        if row["organisation_id"] == row["funder_id"]:
            own.add(row)
            by_stream[row["stream"]].add(row)
        if row["integrated"]:
            share = integrated.setdefault(
                row["funder_id"],
                {"name": row["funder__name"], "contributions": 0, "allocated_pence": 0},
            )
            share["contributions"] += int(row["contributions"] or 0)
            share["allocated_pence"] += int(row["allocated_pence"] or 0)
    stream_order = [*STREAM_LABELS, *sorted(set(by_stream) - set(STREAM_LABELS))]
    all_integrated = sum(s["allocated_pence"] for s in integrated.values())
    shares = [
        FunderShare(
            funder_id=funder_id,
            funder=share["name"],
            contributions=share["contributions"],
            allocated_pence=share["allocated_pence"],
            share_basis_points=basis_points(share["allocated_pence"], all_integrated),
        )
        for funder_id, share in sorted(integrated.items(), key=lambda item: item[1]["name"])
    ]
    return (
        own,
        [
            Row(key, _label(STREAM_LABELS, key), by_stream[key])
            for key in stream_order
            if key in by_stream
        ],
        shares,
    )


def _spend(ids: list[int], filters: DashboardFilters) -> list[Row]:
    rows = _cube_filter(
        SpendSnapshot.objects.filter(organisation_id__in=ids, period=filters.period.key), filters
    )
    grouped = (
        rows.order_by()
        .values("category")
        .annotate(
            spends=Sum("spends"), spent_pence=Sum("spent_pence"), refunded=Sum("refunded_pence")
        )
    )
    found = {
        row["category"]: SpendCounts(
            spends=int(row["spends"] or 0),
            spent_pence=int(row["spent_pence"] or 0),
            refunded_pence=int(row["refunded"] or 0),
        )
        for row in grouped
    }
    order = [*CATEGORY_LABELS, *sorted(set(found) - set(CATEGORY_LABELS))]
    return [Row(key, _label(CATEGORY_LABELS, key), found[key]) for key in order if key in found]


@dataclass
class _Figure:
    count: int = 0
    value_sum: int | None = None
    value_max: int | None = None


def _figure_rows(
    ids: list[int], filters: DashboardFilters
) -> dict[tuple[str, str, str, str], _Figure]:
    """{(section, measure, key, area): figure} summed over the organisations. Market
    providers are read for every area (their breakdown by area), the rest for the
    filter's route and area only (blank = all)."""
    others = Q(route=filters.route, area=filters.area) & ~Q(section="market")
    market = Q(section="market", route="")
    if filters.area:
        market &= Q(area=filters.area)
    else:
        # The page breaks only the providers down by area: the other market figures'
        # area rows (every category in every area) would be read for nothing.
        market &= Q(area="") | Q(measure="providers")
    rows = (
        FigureSnapshot.objects.filter(organisation_id__in=ids)
        .filter(Q(period="") | Q(period=filters.period.key))
        .filter(others | market)
        .order_by()
        .values("section", "measure", "key", "area")
        .annotate(total=Sum("count"), value_sum=Sum("value"), value_max=Max("value"))
    )
    figures: dict[tuple[str, str, str, str], _Figure] = {}
    for row in rows:
        # Market rows keep their area (the breakdown by area) unless one area is
        # chosen, which is then the total; the other sections' rows are the total.
        by_area = row["section"] == "market" and not filters.area
        figures[(row["section"], row["measure"], row["key"], row["area"] if by_area else "")] = (
            _Figure(
                count=int(row["total"] or 0),
                value_sum=row["value_sum"],
                value_max=row["value_max"],
            )
        )
    return figures


def _plans(figures: dict[tuple[str, str, str, str], _Figure], combined: bool) -> Plans:
    def get(measure: str, key: str = "") -> _Figure:
        return figures.get(("plans", measure, key, ""), _Figure())

    waiting = []
    for key, label in PLAN_STEPS:
        waits = get("waiting", key)
        longest = get("waiting_longest", key)
        waiting.append(
            Row(
                key,
                label,
                Wait(
                    count=waits.count,
                    median_days=None if combined else waits.value_max,
                    longest_days=longest.value_max,
                ),
            )
        )
    referral = get("referral_to_plan")
    return Plans(
        waiting=waiting,
        reviews_due=get("reviews_due").count,
        reviews_overdue=get("reviews_overdue").count,
        referral_to_plan_count=referral.count,
        referral_to_plan_median_days=None if combined else referral.value_max,
        referral_to_plan_p90_days=None if combined else get("referral_to_plan_p90").value_max,
    )


def _flags_and_recoveries(
    figures: dict[tuple[str, str, str, str], _Figure],
) -> tuple[list[Row], list[Row]]:
    flags = []
    recoveries = []
    for (section, measure, key, _area), figure in figures.items():
        if section != "money":
            continue
        if measure == "flags":
            kind, _, state = key.partition(":")
            label = f"{_label(FLAG_LABELS, kind)} ({_label(FLAG_STATE_LABELS, state).lower()})"
            flags.append(Row(key, label, figure.count))
        elif measure == "recoveries":
            recoveries.append(
                Row(key, _label(RECOVERY_LABELS, key), (figure.count, figure.value_sum or 0))
            )
    kind_order = list(FLAG_LABELS)
    state_order = list(FLAG_STATE_LABELS)

    def flag_sort(row: Row) -> tuple[int, int, str]:
        kind, _, state = row.key.partition(":")
        return (
            kind_order.index(kind) if kind in kind_order else len(kind_order),
            state_order.index(state) if state in state_order else len(state_order),
            row.key,
        )

    flags.sort(key=flag_sort)
    recovery_order = list(RECOVERY_LABELS)
    last = len(recovery_order)
    recoveries.sort(key=lambda r: recovery_order.index(r.key) if r.key in recovery_order else last)
    return flags, recoveries


def _market(
    figures: dict[tuple[str, str, str, str], _Figure], category_ids: dict[str, tuple[int, str]]
) -> Market:
    from marketplace.models import ProviderKind

    kind_labels = {str(v): str(label) for v, label in ProviderKind.choices}
    by_kind: dict[str, int] = defaultdict(int)
    by_area: dict[str, int] = defaultdict(int)
    services: dict[str, int] = defaultdict(int)
    totals: dict[str, _Figure] = {}
    for (section, measure, key, area), figure in figures.items():
        if section != "market":
            continue
        if area:
            if measure == "providers":
                by_area[area] += figure.count
            continue
        if measure == "providers":
            by_kind[key] += figure.count
        elif measure == "services":
            services[key] += figure.count
        else:
            totals[measure] = figure
    kind_order = [*kind_labels, *sorted(set(by_kind) - set(kind_labels))]

    def category(key: str) -> tuple[int | None, str]:
        pk, name = category_ids.get(key, (None, key.replace("-", " ").capitalize()))
        return pk, name

    service_rows: list[Row] = []
    gaps: list[Row] = []
    for key in sorted(services, key=lambda k: category(k)[1].lower()):
        pk, name = category(key)
        row = Row(key, name, (services[key], pk))
        (service_rows if services[key] else gaps).append(row)
    queue = totals.get("verification_queue", _Figure())
    return Market(
        providers_by_kind=[
            Row(key, _label(kind_labels, key), by_kind[key]) for key in kind_order if key in by_kind
        ],
        providers_by_area=[Row(area, area, by_area[area]) for area in sorted(by_area)],
        providers_total=sum(by_kind.values()),
        providers_user_led=totals.get("providers_user_led", _Figure()).count,
        providers_micro=totals.get("providers_micro", _Figure()).count,
        verification_queue=queue.count,
        verification_longest_days=queue.value_max,
        services_by_category=service_rows,
        gaps=gaps,
    )


def _category_ids(
    figures: dict[tuple[str, str, str, str], _Figure], ids: list[int]
) -> dict[str, tuple[int, str]]:
    codes = {
        key
        for (section, measure, key, _area) in figures
        if section == "market" and measure == "services"
    }
    if not codes:
        return {}
    from marketplace.models import Category

    found: dict[str, tuple[int, str]] = {}
    for pk, code, name in (
        Category.objects.for_area(ids)
        .filter(code__in=codes)
        .order_by("-pk")
        .values_list("pk", "code", "name")
    ):
        found[code] = (pk, name)
    return found


def _targets(ids: list[int], names: dict[int, str], year: int) -> list[Target]:
    allocated = dict(
        MoneySnapshot.objects.filter(
            organisation_id__in=ids, funder_id=F("organisation_id"), period=str(year)
        )
        .exclude(stream="")
        .order_by()
        .values("organisation_id")
        .annotate(total=Sum("allocated_pence"))
        .values_list("organisation_id", "total")
    )
    targets = {
        t.organisation_id: t
        for t in SpendTarget.objects.filter(organisation_id__in=ids, financial_year=year)
    }
    result = []
    for pk in sorted(ids, key=lambda i: names.get(i, "")):
        target = targets.get(pk)
        amount = int(allocated.get(pk) or 0)
        result.append(
            Target(
                organisation_id=pk,
                organisation=names.get(pk, ""),
                financial_year=year,
                allocated_pence=amount,
                relevant_spend_pence=target.relevant_spend_pence if target else None,
                target_basis_points=target.target_basis_points if target else None,
                share_basis_points=basis_points(amount, target.relevant_spend_pence)
                if target
                else None,
            )
        )
    return result


def dashboard_figures(
    *,
    organisation_ids: list[int],
    organisation_names: dict[int, str],
    filters: DashboardFilters | None,
    run: SnapshotRun | None,
) -> Dashboard:
    """Every figure of the dashboard for ``organisation_ids`` (one, or several for the
    combined view), from the snapshots of ``run`` (None: no snapshot yet, no figures).
    The caller has checked the user may see these organisations. The outcome figures
    and improvement actions are live and read separately (``outcomes_for``)."""
    ids = sorted(organisation_ids)
    combined = len(ids) > 1
    if run is None or filters is None:
        return Dashboard(run=run, organisation_ids=ids, combined=combined, filters=filters)
    people = _people(ids, filters)
    own, by_stream, shares = _money(ids, filters)
    by_category = _spend(ids, filters)
    figures = _figure_rows(ids, filters)
    flags, recoveries = _flags_and_recoveries(figures)
    return Dashboard(
        run=run,
        organisation_ids=ids,
        combined=combined,
        filters=filters,
        periods=periods_kept(run.today),
        people=people,
        money=Money(
            own=own,
            by_stream=by_stream,
            by_category=by_category,
            integrated_shares=shares,
            flags=flags,
            recoveries=recoveries,
        ),
        plans=_plans(figures, combined),
        market=_market(figures, _category_ids(figures, ids)),
        targets=_targets(ids, organisation_names, filters.period.financial_year),
    )


# Outcomes (live, through outcomes/reports.py) ---------------------------------------


@dataclass
class Outcomes:
    summary: Any  # outcomes.reports.OutcomeSummary
    report_query: dict[str, str]
    open_actions: list[Any] | None  # None: the user is no commissioner here


def outcome_period_code(period: Period) -> str:
    """The outcome report's name for a period: ``fy2026`` or ``fy2026q1``."""
    return f"fy{period.financial_year}" + (f"q{period.quarter}" if period.quarter else "")


def outcomes_for(
    *,
    user: Any | None,
    organisation_ids: list[int],
    combined: bool,
    filters: DashboardFilters,
    scope: frozenset[int] | None = None,
) -> Outcomes:
    """The latest better / the same / worse picture for budget holders, by outcome
    area, from ``outcomes.reports`` (which suppresses every small group), with the
    dashboard's period, route and management option passed through; and the open
    improvement actions of the organisations where ``user`` is a commissioner.
    ``scope`` is the organisations whose reports the caller reads (default: the
    user's, as the outcome report pages decide); an application passes its own."""
    from outcomes.improvement import open_actions_for
    from outcomes.models import RespondentKind
    from outcomes.reports import ReportFilter, outcome_summary, report_organisation_ids
    from users.models import Membership, Role

    if scope is None:
        scope = report_organisation_ids(user)
    organisation_id = None if combined else organisation_ids[0]
    report_filter = ReportFilter(
        organisation_ids=scope,
        respondent_kind=RespondentKind.HOLDER,
        organisation_id=organisation_id,
        eligibility_route=filters.route,
        management_option=filters.option,
        date_from=filters.period.start,
        date_to=filters.period.end,
    )
    query = {
        "kind": str(RespondentKind.HOLDER),
        "organisation": str(organisation_id) if organisation_id else "",
        "route": filters.route,
        "management": filters.option,
        "period": outcome_period_code(filters.period),
    }
    actions = None
    if (
        user is not None
        and Membership.objects.filter(
            user=user, organisation_id__in=organisation_ids, role=Role.COMMISSIONER
        ).exists()
    ):
        actions = list(open_actions_for(user).filter(issue__organisation_id__in=organisation_ids))
    return Outcomes(
        summary=outcome_summary(report_filter),
        report_query={k: v for k, v in query.items() if v},
        open_actions=actions,
    )


def as_of_text(run: SnapshotRun | None) -> str:
    if run is None:
        return ""
    when = run.as_of
    from django.utils import timezone

    local = timezone.localtime(when) if timezone.is_aware(when) else when
    return f"{local:%-d %B %Y} at {local:%H:%M}"


def today_of(run: SnapshotRun | None) -> datetime.date | None:
    return run.today if run else None
