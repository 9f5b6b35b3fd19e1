"""Outcome reports: the one place the figures are computed (pages, exports, the API and
the dashboard all call this module), and the one place small groups are suppressed, so
no caller can get a raw small number.

What is counted
---------------
For each outcome area, the answers to its "better, the same or worse" questions in sent
responses: better (a lot better + better), the same, worse (worse + a lot worse) and n,
their sum. "Does not apply to me" (and anything that is not on the scale) is left out
of n. Counting is done in SQL (GROUP BY area and the breakdown, with conditional counts
on Answer joined to SurveyResponse), never by reading answers one by one.

Whose responses a user sees
---------------------------
``ReportFilter.organisation_ids`` is the scope: responses whose ICB (``organisation``)
or ``council`` is one of them. ``report_organisation_ids(user)`` gives the organisations
in which the user holds a role that serves people; a filter naming an organisation
outside the scope raises ``ReportScopeError`` (pages answer 404).

Suppression: no group under 5, directly or by subtraction
---------------------------------------------------------
Every figure is for an (area, group) cell; ``SUPPRESS_BELOW`` is 5.

1. Primary: a cell with n < 5 (0 included) is suppressed: no counts, no n, no
   percentages, shown as "fewer than 5".

2. Breakdowns (and the easy/hard, included/not split of ``process_outcomes``): the
   total is shown beside the groups, so the groups that are hidden can be worked out
   together as "total minus the groups shown". The rule: the hidden groups' combined n
   must be 0 or at least 5. While it is between 1 and 4, the smallest group still
   shown is hidden too. This includes the issue's "if exactly one group is suppressed,
   suppress the next smallest" (one hidden group has n 1-4) and also catches two hidden
   groups of 1 and 2. In ``process_outcomes`` the people who were neither easy nor hard
   (or included nor not) are a group that is never shown, and counts as hidden.

3. Filtered views: anyone can compare a filtered view with a wider one, and views
   filtered on several things with each other ("everyone" minus "continuing healthcare"
   minus "section 117" is everyone else on any other route). A filtered view is
   therefore shown for an area only if, in its user's whole scope, every cell of the
   cross-classification by the dimensions the view filters on (and its breakdown, if
   any) has n of 0 or at least 5. Every view on those dimensions is a union of such
   cells, so any difference of two of them is one too, and cannot be a group under 5.
   The dimensions are: organisation (the pair ICB and council a response carries, so
   an ICB view and a council view cannot be subtracted to isolate their overlap),
   eligibility route, management option, budget band, and period by financial quarter
   (and, in ``process_outcomes``, the easy/hard or included/not class). A filter that
   keeps the whole scope (an organisation filter naming the user's only organisation)
   is not a filter. This is stricter than it needs to be in places (a rare route with
   three answers anywhere in the scope suppresses every view filtered by route for that
   area); we chose certainty over figures. Unfiltered breakdowns follow rules 1 and 2.

4. Periods are whole financial quarters: a date range is widened to the quarters it
   touches, so two ranges a day apart cannot isolate one day's answers.

What this does not cover: people in more than one organisation's scope comparing notes,
and counts in one area against another (each area's n is its own); the figures are of
answers, never of named people.

How the process relates to outcomes
-----------------------------------
A response "found the process easy" if more of its answers to the ease questions
(``Question.measure == "ease"``) are on the positive side than on the negative side,
and "hard" if more are negative; neutral answers ("neither", "don't know") count for
neither, and a tie or no answer puts the response in neither group. The same majority
rule with the "views" questions says whether the person's views were included. For
each area, ``process_outcomes`` gives the share saying better in each group, suppressed
by the rules above."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncQuarter

from budgets.models import EligibilityRoute
from outcomes.models import (
    BETTER,
    CARER_AREAS,
    HOLDER_AREAS,
    MANAGEMENT_CHOICES,
    SUPPRESS_BELOW,
    WORSE,
    Answer,
    BudgetBand,
    Change,
    OutcomeArea,
    Question,
    QuestionOption,
    ReferenceFigure,
    RespondentKind,
    SurveyResponse,
)

__all__ = [
    "SUPPRESS_BELOW",
    "AreaFigures",
    "Breakdown",
    "GroupFigures",
    "OutcomeSummary",
    "ProcessRow",
    "ReportFilter",
    "ReportScopeError",
    "Share",
    "areas_for",
    "financial_quarter_label",
    "outcome_summary",
    "period_bounds",
    "period_choices",
    "process_outcomes",
    "reference_figure_create",
    "reference_figures",
    "report_organisation_ids",
]

# Roles that serve people may read their organisations' reports (HOLDER_STAFF in
# config/authorization.py).
REPORT_ROLES = frozenset(
    {"care_coordinator", "support_planner", "clinician", "commissioner", "finance_officer"}
)

SCALE = [c.value for c in Change if c != Change.NOT_APPLICABLE]
BETTER_VALUES = sorted(str(c) for c in BETTER)
WORSE_VALUES = sorted(str(c) for c in WORSE)


class ReportScopeError(ValueError):
    """A filter names an organisation the user may not see (pages answer 404)."""


class Breakdown:
    NONE = ""
    ORGANISATION = "organisation"
    ELIGIBILITY_ROUTE = "eligibility_route"
    MANAGEMENT_OPTION = "management_option"
    BUDGET_BAND = "budget_band"
    PERIOD = "period"

    choices: tuple[tuple[str, str], ...] = (
        (NONE, "No breakdown"),
        (ORGANISATION, "Organisation (ICB)"),
        (ELIGIBILITY_ROUTE, "Eligibility route"),
        (MANAGEMENT_OPTION, "How the budget is managed"),
        (BUDGET_BAND, "Budget size"),
        (PERIOD, "Quarter"),
    )
    values: tuple[str, ...] = tuple(value for value, _ in choices if value)


# Periods: whole financial quarters ---------------------------------------------------


def _quarter_start(day: datetime.date) -> datetime.date:
    return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


def _quarter_end(day: datetime.date) -> datetime.date:
    start = _quarter_start(day)
    month = start.month + 3
    year = start.year + (month > 12)
    month = month - 12 if month > 12 else month
    return datetime.date(year, month, 1) - datetime.timedelta(days=1)


def _financial_quarter(day: datetime.date) -> tuple[int, int]:
    """(the year the financial year starts, quarter 1-4): April to June is Q1."""
    if day.month >= 4:
        return day.year, (day.month - 4) // 3 + 1
    return day.year - 1, 4


def financial_quarter_label(day: datetime.date) -> str:
    year, quarter = _financial_quarter(day)
    start = _quarter_start(day)
    return f"{year}/{(year + 1) % 100:02d} Q{quarter} ({start:%B} to {_quarter_end(day):%B %Y})"


def period_bounds(code: str) -> tuple[datetime.date, datetime.date]:
    """The dates of a period code: ``fy2025`` is April 2025 to March 2026; ``fy2025q1``
    April to June 2025. Raises ValueError for anything else."""
    text = code.strip().lower()
    if not text.startswith("fy") or len(text) not in (6, 8):
        raise ValueError(f"Not a period: {code!r}")
    year = int(text[2:6])
    if not 2000 <= year <= 2100:
        raise ValueError(f"Not a period: {code!r}")
    if len(text) == 6:
        return datetime.date(year, 4, 1), datetime.date(year + 1, 3, 31)
    if text[6] != "q" or text[7] not in "1234":
        raise ValueError(f"Not a period: {code!r}")
    quarter = int(text[7])
    month = 4 + 3 * (quarter - 1)
    start = datetime.date(year + (month > 12), month - 12 if month > 12 else month, 1)
    return start, _quarter_end(start)


def period_choices(today: datetime.date, *, years: int = 4) -> list[tuple[str, str]]:
    """Financial years and their quarters, newest first, up to the current quarter."""
    current_year, _ = _financial_quarter(today)
    choices: list[tuple[str, str]] = []
    for year in range(current_year, current_year - years, -1):
        choices.append((f"fy{year}", f"{year}/{(year + 1) % 100:02d} (April to March)"))
        for quarter in (4, 3, 2, 1):
            start, _ = period_bounds(f"fy{year}q{quarter}")
            if start <= today:
                choices.append((f"fy{year}q{quarter}", financial_quarter_label(start)))
    return choices


# The filter -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFilter:
    """What a report counts. ``organisation_ids`` is the user's scope (required: an
    empty scope counts nothing); the rest narrow it. Dates are widened to whole
    quarters (rule 4 in the module docstring)."""

    organisation_ids: frozenset[int]
    respondent_kind: str = RespondentKind.HOLDER
    organisation_id: int | None = None
    eligibility_route: str = ""
    management_option: str = ""
    budget_band: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "organisation_ids", frozenset(self.organisation_ids))
        if self.respondent_kind not in RespondentKind.values:
            raise ValueError(f"Unknown respondent kind {self.respondent_kind!r}")
        if self.eligibility_route and self.eligibility_route not in EligibilityRoute.values:
            raise ValueError(f"Unknown eligibility route {self.eligibility_route!r}")
        if self.management_option and self.management_option not in dict(MANAGEMENT_CHOICES):
            raise ValueError(f"Unknown management option {self.management_option!r}")
        if self.budget_band and self.budget_band not in BudgetBand.values:
            raise ValueError(f"Unknown budget band {self.budget_band!r}")
        if self.organisation_id is not None and self.organisation_id not in self.organisation_ids:
            raise ReportScopeError("That organisation is not one of yours.")
        if self.date_from is not None:
            object.__setattr__(self, "date_from", _quarter_start(self.date_from))
        if self.date_to is not None:
            object.__setattr__(self, "date_to", _quarter_end(self.date_to))
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("The period ends before it starts.")

    @property
    def areas(self) -> tuple[str, ...]:
        return areas_for(self.respondent_kind)

    def active_dimensions(self) -> list[str]:
        """The dimensions this filter narrows (rule 3)."""
        active = []
        if self.organisation_id is not None and self.organisation_ids != {self.organisation_id}:
            active.append(Breakdown.ORGANISATION)
        if self.eligibility_route:
            active.append(Breakdown.ELIGIBILITY_ROUTE)
        if self.management_option:
            active.append(Breakdown.MANAGEMENT_OPTION)
        if self.budget_band:
            active.append(Breakdown.BUDGET_BAND)
        if self.date_from or self.date_to:
            active.append(Breakdown.PERIOD)
        return active

    def scope_q(self) -> Q:
        ids = sorted(self.organisation_ids)
        return Q(response__organisation_id__in=ids) | Q(response__council_id__in=ids)

    def filter_q(self) -> Q:
        q = Q()
        if self.organisation_id is not None:
            q &= Q(response__organisation_id=self.organisation_id) | Q(
                response__council_id=self.organisation_id
            )
        if self.eligibility_route:
            q &= Q(response__eligibility_route=self.eligibility_route)
        if self.management_option:
            q &= Q(response__management_option=self.management_option)
        if self.budget_band:
            q &= Q(response__budget_band=self.budget_band)
        if self.date_from:
            q &= Q(response__submitted_on__gte=self.date_from)
        if self.date_to:
            q &= Q(response__submitted_on__lte=self.date_to)
        return q


def areas_for(respondent_kind: str) -> tuple[str, ...]:
    return CARER_AREAS if respondent_kind == RespondentKind.CARER else HOLDER_AREAS


def report_organisation_ids(user: Any) -> frozenset[int]:
    """The organisations whose reports ``user`` may read: those where they hold a role
    that serves people."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    from users.models import Membership

    return frozenset(
        Membership.objects.filter(user=user, role__in=REPORT_ROLES).values_list(
            "organisation_id", flat=True
        )
    )


# Results ----------------------------------------------------------------------------


def _percent(part: int, whole: int) -> Decimal:
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class AreaFigures:
    """One area in one group. When ``suppressed`` every count and percentage is None."""

    area: str
    label: str
    suppressed: bool
    n: int | None = None
    better: int | None = None
    same: int | None = None
    worse: int | None = None
    better_percent: Decimal | None = None
    same_percent: Decimal | None = None
    worse_percent: Decimal | None = None

    @classmethod
    def shown(cls, area: str, counts: _Counts) -> AreaFigures:
        return cls(
            area=area,
            label=OutcomeArea(area).label,
            suppressed=False,
            n=counts.n,
            better=counts.better,
            same=counts.same,
            worse=counts.worse,
            better_percent=_percent(counts.better, counts.n),
            same_percent=_percent(counts.same, counts.n),
            worse_percent=_percent(counts.worse, counts.n),
        )

    @classmethod
    def hidden(cls, area: str) -> AreaFigures:
        return cls(area=area, label=OutcomeArea(area).label, suppressed=True)


@dataclass(frozen=True)
class GroupFigures:
    key: str
    label: str
    areas: list[AreaFigures]


@dataclass(frozen=True)
class OutcomeSummary:
    filters: ReportFilter
    areas: list[AreaFigures]
    breakdown: str = ""
    groups: list[GroupFigures] = field(default_factory=list)

    @property
    def anything_shown(self) -> bool:
        return any(not a.suppressed for a in self.areas)


@dataclass(frozen=True)
class Share:
    """The share saying better in one group; None figures when suppressed."""

    suppressed: bool
    n: int | None = None
    better: int | None = None
    better_percent: Decimal | None = None


@dataclass(frozen=True)
class ProcessRow:
    area: str
    label: str
    easy: Share
    hard: Share
    included: Share
    not_included: Share


# Counting ---------------------------------------------------------------------------


@dataclass
class _Counts:
    n: int = 0
    better: int = 0
    same: int = 0
    worse: int = 0


_HIDDEN_CLASS = "neither"


def _polar_count(measure: str, polarity: str) -> Subquery:
    """Per response: how many of its answers to ``measure`` questions chose an option
    of ``polarity``."""
    options = QuestionOption.objects.filter(
        question_id=OuterRef("question_id"), code=OuterRef("choice"), polarity=polarity
    )
    answers = (
        Answer.objects.filter(response_id=OuterRef("response_id"), question__measure=measure)
        .filter(Exists(options))
        .order_by()
        .values("response_id")
        .annotate(c=Count("pk"))
        .values("c")
    )
    return Subquery(answers, output_field=IntegerField())


def _dimension_fields(dimension: str) -> dict[str, Any]:
    """Expressions naming a response's value on a dimension (cells of rule 3)."""
    if dimension == Breakdown.ORGANISATION:
        return {"d_icb": F("response__organisation_id"), "d_council": F("response__council_id")}
    if dimension == Breakdown.ELIGIBILITY_ROUTE:
        return {"d_route": F("response__eligibility_route")}
    if dimension == Breakdown.MANAGEMENT_OPTION:
        return {"d_option": F("response__management_option")}
    if dimension == Breakdown.BUDGET_BAND:
        return {"d_band": F("response__budget_band")}
    if dimension == Breakdown.PERIOD:
        return {"d_quarter": TruncQuarter("response__submitted_on")}
    raise ValueError(f"Unknown dimension {dimension!r}")


def _group_expression(breakdown: str) -> Any:
    if breakdown == Breakdown.ORGANISATION:
        return F("response__organisation_id")
    if breakdown == Breakdown.PERIOD:
        return TruncQuarter("response__submitted_on")
    return F(f"response__{breakdown}")


def _answers(filters: ReportFilter, *, filtered: bool) -> QuerySet[Answer]:
    """Scale answers to the kind's outcome questions in sent responses in scope."""
    qs = Answer.objects.filter(
        filters.scope_q(),
        response__state=SurveyResponse.State.SUBMITTED,
        response__respondent_kind=filters.respondent_kind,
        question__kind=Question.Kind.CHANGE,
        question__area__in=filters.areas,
        choice__in=SCALE,
    )
    if filtered:
        qs = qs.filter(filters.filter_q())
    return qs.order_by()


def _with_classes(qs: QuerySet[Answer], measure: str) -> QuerySet[Answer]:
    """Each answer's response classed "positive", "negative" or "neither" on
    ``measure`` by the majority of its polar answers (module docstring)."""
    return qs.annotate(
        _pos=Coalesce(_polar_count(measure, "positive"), 0),
        _neg=Coalesce(_polar_count(measure, "negative"), 0),
    ).annotate(
        d_class=Case(
            When(Q(_pos__gt=F("_neg")), then=Value("positive")),
            When(Q(_neg__gt=F("_pos")), then=Value("negative")),
            default=Value(_HIDDEN_CLASS),
            output_field=CharField(),
        )
    )


def _counted(qs: QuerySet[Answer], group: Any | None) -> dict[str, dict[Any, _Counts]]:
    """{area: {group key: counts}} in one GROUP BY query (key None without a group)."""
    if group is not None:
        qs = qs.annotate(g=group)
    values = ["question__area"] + (["g"] if group is not None else [])
    rows = (
        qs.values(*values)
        .annotate(
            n=Count("pk"),
            better=Count("pk", filter=Q(choice__in=BETTER_VALUES)),
            worse=Count("pk", filter=Q(choice__in=WORSE_VALUES)),
            same=Count("pk", filter=Q(choice=Change.SAME)),
        )
        .order_by()
    )
    result: dict[str, dict[Any, _Counts]] = defaultdict(dict)
    for row in rows:
        key = row.get("g")
        if isinstance(key, datetime.datetime):
            key = key.date()
        result[row["question__area"]][key] = _Counts(
            n=row["n"], better=row["better"], same=row["same"], worse=row["worse"]
        )
    return result


def _unsafe_areas(filters: ReportFilter, extra: Iterable[str] = (), measure: str = "") -> set[str]:
    """Areas where a filtered view could be subtracted to a group under 5 (rule 3)."""
    dimensions = [*filters.active_dimensions()]
    if not dimensions:
        return set()
    for dimension in extra:
        if dimension not in dimensions:
            dimensions.append(dimension)
    qs = _answers(filters, filtered=False)
    fields: dict[str, Any] = {}
    for dimension in dimensions:
        if dimension == "class":
            continue
        fields.update(_dimension_fields(dimension))
    qs = qs.annotate(**fields)
    names = list(fields)
    if measure:
        qs = _with_classes(qs, measure)
        names.append("d_class")
    rows = qs.values("question__area", *names).annotate(n=Count("pk")).order_by()
    return {row["question__area"] for row in rows if 0 < row["n"] < SUPPRESS_BELOW}


def _hidden_groups(groups: Mapping[Any, _Counts], always_hidden: Iterable[Any] = ()) -> set[Any]:
    """Rules 1 and 2: groups under 5, then the smallest shown groups until what is hidden
    adds up to 0 or at least 5."""
    hidden = {key for key, counts in groups.items() if counts.n < SUPPRESS_BELOW}
    hidden |= {key for key in always_hidden if key in groups}
    while 0 < sum(groups[key].n for key in hidden) < SUPPRESS_BELOW:
        shown = sorted((k for k in groups if k not in hidden), key=lambda k: (groups[k].n, str(k)))
        if not shown:
            break
        hidden.add(shown[0])
    return hidden


def _group_label(breakdown: str, key: Any, organisations: Mapping[int, str]) -> str:
    if breakdown == Breakdown.ORGANISATION:
        return organisations.get(key, "Unknown organisation")
    if breakdown == Breakdown.ELIGIBILITY_ROUTE:
        return str(dict(EligibilityRoute.choices).get(key, key))
    if breakdown == Breakdown.MANAGEMENT_OPTION:
        return str(dict(MANAGEMENT_CHOICES).get(key, "Not recorded"))
    if breakdown == Breakdown.BUDGET_BAND:
        return str(dict(BudgetBand.choices).get(key, key))
    if breakdown == Breakdown.PERIOD and isinstance(key, datetime.date):
        return financial_quarter_label(key)
    return str(key)


def _group_key(key: Any) -> str:
    return key.isoformat() if isinstance(key, datetime.date) else str(key)


def outcome_summary(filters: ReportFilter, *, breakdown: str = "") -> OutcomeSummary:
    """Better / the same / worse and n for each area of the filter's respondent kind,
    optionally broken down; every small group, and any group that could be worked out
    from what is shown, suppressed (see the module docstring)."""
    if breakdown and breakdown not in Breakdown.values:
        raise ValueError(f"Unknown breakdown {breakdown!r}")
    base = _answers(filters, filtered=True)
    totals = _counted(base, None)
    unsafe = _unsafe_areas(filters)
    areas: list[AreaFigures] = []
    for area in filters.areas:
        counts = totals.get(area, {}).get(None, _Counts())
        if area in unsafe or counts.n < SUPPRESS_BELOW:
            areas.append(AreaFigures.hidden(area))
        else:
            areas.append(AreaFigures.shown(area, counts))
    summary = OutcomeSummary(filters=filters, areas=areas, breakdown=breakdown)
    if not breakdown:
        return summary

    grouped = _counted(base, _group_expression(breakdown))
    unsafe_groups = (
        _unsafe_areas(filters, extra=[breakdown]) if filters.active_dimensions() else set()
    )
    keys: set[Any] = set()
    for by_group in grouped.values():
        keys.update(by_group)
    organisations: dict[int, str] = {}
    if breakdown == Breakdown.ORGANISATION:
        from users.models import Organisation

        organisations = dict(Organisation.objects.filter(pk__in=keys).values_list("pk", "name"))
    hidden_by_area: dict[str, set[Any]] = {}
    for area, total in zip(filters.areas, areas, strict=True):
        by_group = {key: grouped.get(area, {}).get(key, _Counts()) for key in keys}
        if total.suppressed or area in unsafe_groups:
            hidden_by_area[area] = set(keys)
        else:
            hidden_by_area[area] = _hidden_groups(by_group)
    ordered = sorted(keys, key=lambda k: _sort_key(breakdown, k, organisations))
    groups = []
    for key in ordered:
        group_areas = []
        for area in filters.areas:
            counts = grouped.get(area, {}).get(key, _Counts())
            if key in hidden_by_area[area]:
                group_areas.append(AreaFigures.hidden(area))
            else:
                group_areas.append(AreaFigures.shown(area, counts))
        groups.append(
            GroupFigures(
                key=_group_key(key),
                label=_group_label(breakdown, key, organisations),
                areas=group_areas,
            )
        )
    return replace(summary, groups=groups)


def _sort_key(breakdown: str, key: Any, organisations: Mapping[int, str]) -> tuple[Any, ...]:
    if breakdown == Breakdown.PERIOD:
        return (key is None, key or datetime.date.min)
    if breakdown == Breakdown.ORGANISATION:
        return (organisations.get(key, ""), key)
    order = {
        Breakdown.ELIGIBILITY_ROUTE: EligibilityRoute.values,
        Breakdown.MANAGEMENT_OPTION: [value for value, _ in MANAGEMENT_CHOICES],
        Breakdown.BUDGET_BAND: BudgetBand.values,
    }.get(breakdown, [])
    return (order.index(key) if key in order else len(order), str(key))


def _shares(
    filters: ReportFilter, measure: str, base: QuerySet[Answer], totals_hidden: set[str]
) -> dict[str, dict[str, Share]]:
    grouped = _counted(_with_classes(base, measure), F("d_class"))
    unsafe = _unsafe_areas(filters, extra=["class"], measure=measure)
    result: dict[str, dict[str, Share]] = {}
    for area in filters.areas:
        by_class = {
            key: grouped.get(area, {}).get(key, _Counts())
            for key in ("positive", "negative", _HIDDEN_CLASS)
        }
        if area in totals_hidden or area in unsafe:
            hidden = set(by_class)
        else:
            hidden = _hidden_groups(by_class, always_hidden=[_HIDDEN_CLASS])
        result[area] = {}
        for key in ("positive", "negative"):
            counts = by_class[key]
            if key in hidden:
                result[area][key] = Share(suppressed=True)
            else:
                result[area][key] = Share(
                    suppressed=False,
                    n=counts.n,
                    better=counts.better,
                    better_percent=_percent(counts.better, counts.n),
                )
    return result


def process_outcomes(filters: ReportFilter) -> list[ProcessRow]:
    """For each area, the share saying better among those who found the process easy
    and those who found it hard, and among those whose views were included and those
    whose views were not (classes defined in the module docstring)."""
    summary = outcome_summary(filters)
    totals_hidden = {a.area for a in summary.areas if a.suppressed}
    base = _answers(filters, filtered=True)
    ease = _shares(filters, Question.Measure.EASE, base, totals_hidden)
    views = _shares(filters, Question.Measure.VIEWS, base, totals_hidden)
    return [
        ProcessRow(
            area=area,
            label=OutcomeArea(area).label,
            easy=ease[area]["positive"],
            hard=ease[area]["negative"],
            included=views[area]["positive"],
            not_included=views[area]["negative"],
        )
        for area in filters.areas
    ]


def reference_figures(respondent_kind: str) -> dict[str, list[ReferenceFigure]]:
    """Published national figures by area, newest first."""
    found: dict[str, list[ReferenceFigure]] = defaultdict(list)
    for figure in ReferenceFigure.objects.filter(respondent_kind=respondent_kind).order_by(
        "area", "-published_year", "pk"
    ):
        found[figure.area].append(figure)
    return dict(found)


def reference_figure_create(
    *,
    by: Any,
    respondent_kind: str,
    area: str,
    source: str,
    published_year: int,
    better_percent: Decimal | None = None,
    same_percent: Decimal | None = None,
    worse_percent: Decimal | None = None,
    respondents: int | None = None,
    source_url: str = "",
    note: str = "",
) -> ReferenceFigure:
    """Record a published national figure (audited). Raises ValidationError when it is
    incomplete (no percentage) or out of range."""
    from django.db import transaction

    from core.services import audit_record

    with transaction.atomic():
        figure = ReferenceFigure(
            respondent_kind=respondent_kind,
            area=area,
            better_percent=better_percent,
            same_percent=same_percent,
            worse_percent=worse_percent,
            respondents=respondents,
            source=source,
            source_url=source_url,
            published_year=published_year,
            note=note,
            entered_by=by,
        )
        figure.full_clean()
        figure.save()
        audit_record(
            actor=by,
            action="reference_figure.created",
            obj=figure,
            changes={
                "respondent_kind": respondent_kind,
                "area": area,
                "better_percent": None if better_percent is None else str(better_percent),
                "same_percent": None if same_percent is None else str(same_percent),
                "worse_percent": None if worse_percent is None else str(worse_percent),
                "source": source,
                "published_year": published_year,
            },
        )
    return figure
