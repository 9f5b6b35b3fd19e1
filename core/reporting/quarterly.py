"""The quarterly PHB return: for each ICB, how many people had a personal health budget
in a quarter and in the financial year to date, by type, management option and age
group, as a CSV in the layout ``docs/quarterly-return.md`` documents.

Counting (the layout's rules, in one place):

- A budget is *in place* on a day from the later of its start and the day it first
  became active, to the earlier of its last day and the day it was closed. A budget
  that never became active (no ``active_from`` and not active or suspended now) is
  never in place.
- A person *has a PHB* in a period if a budget of theirs is in place on some day of it;
  they count for their responsible ICB (``BudgetHolder.organisation``), however many
  budgets they have and however many organisations fund them (an integrated budget
  counts once, for the ICB).
- Each person falls in exactly one cell of type x management option x age group, so
  every "all" row is the sum of the rows it covers and no person is counted twice:
  type is the person's eligibility route (social care and other routes are "other");
  management option is that of their *latest* budget in place in the period (latest
  start, then latest created), "mixed" where its contributions use more than one
  option; age group is their age on the quarter's last day (both measures).

The figures are computed by one SQL statement for any number of ICBs (``GROUP BY
CUBE`` gives the "all" rows), so the nightly job builds every ICB's return in one pass
over the budgets, never a Python loop per budget.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, QuerySet

from budgets.models import EligibilityRoute, ManagementOption
from core.exports import csv_bytes, download_filename
from core.reporting.models import MIXED, QuarterlyReturn, QuarterlyReturnDownload
from core.reporting.periods import Period, last_completed_quarter
from core.services import audit_record
from users.models import Membership, Organisation, Role

LAYOUT = "phb-qr-1"
ALL = "all"

# The measures: people with a budget in place in the quarter, and from 1 April of the
# financial year to the quarter's last day.
QUARTER = "quarter"
YEAR_TO_DATE = "year_to_date"
MEASURES: list[tuple[str, str]] = [
    (QUARTER, "In the quarter"),
    (YEAR_TO_DATE, "Year to date"),
]

# The return's types, in the order of the return, and the eligibility routes each
# covers. Social care (and any route added later) is reported as "other".
TYPES: list[tuple[str, str]] = [
    ("chc", "NHS continuing healthcare"),
    ("childrens_continuing_care", "Children's continuing care"),
    ("s117_aftercare", "Section 117 aftercare"),
    ("wheelchair", "Wheelchair"),
    ("end_of_life", "End of life care"),
    ("maternity", "Maternity"),
    ("learning_disability_autism", "Learning disability and autism"),
    ("mental_health", "Mental health"),
    ("other", "Other (including social care)"),
]
OTHER_TYPE = "other"
ROUTE_TYPES: dict[str, str] = {
    EligibilityRoute.CHC: "chc",
    EligibilityRoute.CHILDRENS_CONTINUING_CARE: "childrens_continuing_care",
    EligibilityRoute.S117_AFTERCARE: "s117_aftercare",
    EligibilityRoute.WHEELCHAIR: "wheelchair",
    EligibilityRoute.END_OF_LIFE: "end_of_life",
    EligibilityRoute.MATERNITY: "maternity",
    EligibilityRoute.LEARNING_DISABILITY_AUTISM: "learning_disability_autism",
    EligibilityRoute.MENTAL_HEALTH: "mental_health",
}

OPTIONS: list[tuple[str, str]] = [
    (ManagementOption.NOTIONAL, "Notional budget"),
    (ManagementOption.THIRD_PARTY, "Third-party budget"),
    (ManagementOption.DIRECT_PAYMENT, "Direct payment"),
    (MIXED, "Mixed (more than one option)"),
]
AGE_GROUPS: list[tuple[str, str]] = [("adult", "Adults (18 and over)"), ("child", "Children")]

HEADER = [
    "layout_version",
    "icb_code",
    "icb_name",
    "financial_year",
    "quarter",
    "measure",
    "period_start",
    "period_end",
    "phb_type",
    "management_option",
    "age_group",
    "people",
]

# Who may see, download and rebuild an ICB's returns.
RETURN_ROLES = (Role.COMMISSIONER, Role.FINANCE_OFFICER)

Key = tuple[str, str, str, str]  # measure, type, option, age group


def _route_case(column: str) -> str:
    whens = " ".join(f"WHEN '{route}' THEN '{kind}'" for route, kind in ROUTE_TYPES.items())
    return f"CASE {column} {whens} ELSE '{OTHER_TYPE}' END"


# One statement for every ICB asked for. Raw SQL because the ORM has no GROUP BY CUBE
# and no DISTINCT ON over a union; at 1,000,000 budgets it is one scan of the budgets
# of the ICBs' holders and one of their contributions.
# Only this module's constants are formatted into it; the values are parameters.
_FIGURES_SQL = f"""
WITH in_place AS (
    SELECT b.id, b.holder_id, b.period_start, h.organisation_id AS icb_id,
           h.eligibility_route, h.date_of_birth,
           greatest(b.period_start, coalesce(b.active_from, b.period_start)) AS from_day,
           least(b.period_end, coalesce(b.ended_on, b.period_end)) AS to_day
    FROM budgets_budget b
    JOIN budgets_budgetholder h ON h.id = b.holder_id
    WHERE h.organisation_id = ANY(%(icbs)s)
      AND (b.active_from IS NOT NULL OR b.state IN ('active', 'suspended'))
      AND b.period_start <= %(end)s
      AND least(b.period_end, coalesce(b.ended_on, b.period_end)) >= %(year_start)s
),
measured AS (
    SELECT '{QUARTER}' AS measure, * FROM in_place
    WHERE greatest(from_day, %(quarter_start)s) <= least(to_day, %(end)s)
    UNION ALL
    SELECT '{YEAR_TO_DATE}' AS measure, * FROM in_place
    WHERE greatest(from_day, %(year_start)s) <= least(to_day, %(end)s)
),
latest AS (
    SELECT DISTINCT ON (measure, holder_id)
           measure, holder_id, icb_id, id AS budget_id, eligibility_route, date_of_birth
    FROM measured
    ORDER BY measure, holder_id, period_start DESC, id DESC
),
options AS (
    SELECT c.budget_id,
           CASE WHEN count(DISTINCT c.management_option) > 1 THEN '{MIXED}'
                ELSE min(c.management_option) END AS option
    FROM budgets_fundingcontribution c
    WHERE c.budget_id IN (SELECT budget_id FROM latest)
    GROUP BY c.budget_id
),
people AS (
    SELECT l.icb_id, l.measure,
           {_route_case("l.eligibility_route")} AS kind,
           coalesce(o.option, '{ManagementOption.NOTIONAL}') AS option,
           CASE WHEN l.date_of_birth + interval '18 years' > %(end)s
                THEN 'child' ELSE 'adult' END AS age_group
    FROM latest l
    LEFT JOIN options o ON o.budget_id = l.budget_id
)
SELECT icb_id, measure,
       coalesce(kind, '{ALL}'), coalesce(option, '{ALL}'), coalesce(age_group, '{ALL}'),
       count(*)
FROM people
GROUP BY icb_id, measure, CUBE (kind, option, age_group)
"""  # noqa: S608


def _quarter_number(period: Period) -> int:
    if period.quarter is None:
        raise ValueError("A return is for a quarter, not a whole year.")
    return period.quarter


def return_figures(*, icb_ids: Sequence[int], quarter: Period) -> dict[int, dict[Key, int]]:
    """For each ICB, the number of people in every (measure, type, option, age group)
    cell of the return, "all" included, for ``quarter``. Cells with nobody are absent."""
    _quarter_number(quarter)
    params: dict[str, Any] = {
        "icbs": list(icb_ids),
        "quarter_start": quarter.start,
        "year_start": quarter.year.start,
        "end": quarter.end,
    }
    figures: dict[int, dict[Key, int]] = {icb_id: {} for icb_id in icb_ids}
    with connection.cursor() as cursor:
        cursor.execute(_FIGURES_SQL, params)
        for icb_id, measure, kind, option, age_group, count in cursor.fetchall():
            figures[icb_id][(measure, kind, option, age_group)] = count
    return figures


def row_keys() -> list[Key]:
    """Every row of the return, in the file's order: the measure, then the type ("all"
    first), then the option ("all" first), then the age group ("all" first)."""
    kinds = [ALL, *(k for k, _ in TYPES)]
    options = [ALL, *(o for o, _ in OPTIONS)]
    ages = [ALL, *(a for a, _ in AGE_GROUPS)]
    return [
        (measure, kind, option, age)
        for measure, _ in MEASURES
        for kind in kinds
        for option in options
        for age in ages
    ]


def measure_period(measure: str, quarter: Period) -> tuple[datetime.date, datetime.date]:
    start = quarter.start if measure == QUARTER else quarter.year.start
    return start, quarter.end


def return_csv(*, icb: Organisation, quarter: Period, figures: dict[Key, int]) -> str:
    """The return's file, as text (it starts with the byte order mark that
    ``core.exports`` writes, so storing and serving it keeps the bytes the same)."""
    number = _quarter_number(quarter)
    rows: list[list[Any]] = []
    for key in row_keys():
        measure, kind, option, age = key
        start, end = measure_period(measure, quarter)
        rows.append(
            [
                LAYOUT,
                icb.ods_code,
                icb.name,
                quarter.year_label,
                number,
                measure,
                start,
                end,
                kind,
                option,
                age,
                figures.get(key, 0),
            ]
        )
    return csv_bytes(HEADER, rows).decode("utf-8")


# Reading a stored return ------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnRow:
    measure: str
    kind: str
    option: str
    age_group: str
    people: int


def parse_return(text: str) -> list[ReturnRow]:
    """The rows of a stored return's file (figures always come from the file itself, so
    the page and the API show exactly what was built and downloaded)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    return [
        ReturnRow(
            measure=row["measure"],
            kind=row["phb_type"],
            option=row["management_option"],
            age_group=row["age_group"],
            people=int(row["people"]),
        )
        for row in reader
    ]


@dataclass(frozen=True)
class FigureTable:
    """One table of the detail page: rows (a type or an option) x all/adults/children."""

    measure: str
    caption: str
    first_column: str
    rows: list[tuple[str, list[int]]]


def return_tables(quarterly_return: QuarterlyReturn) -> list[FigureTable]:
    """The detail page's tables: for each measure, people by type and by management
    option, each split into all, adults and children."""
    cells = {
        (r.measure, r.kind, r.option, r.age_group): r.people
        for r in parse_return(quarterly_return.csv)
    }
    ages = [ALL, *(a for a, _ in AGE_GROUPS)]
    tables: list[FigureTable] = []
    for measure, measure_label in MEASURES:
        by_type = [
            (label, [cells.get((measure, kind, ALL, age), 0) for age in ages])
            for kind, label in [*TYPES, (ALL, "All types")]
        ]
        by_option = [
            (label, [cells.get((measure, ALL, option, age), 0) for age in ages])
            for option, label in [*OPTIONS, (ALL, "All options")]
        ]
        tables.append(FigureTable(measure, f"{measure_label}: people by type", "Type", by_type))
        tables.append(
            FigureTable(
                measure, f"{measure_label}: people by management option", "Option", by_option
            )
        )
    return tables


def return_filename(quarterly_return: QuarterlyReturn) -> str:
    icb = quarterly_return.icb
    stem = (
        f"phb-return-{icb.ods_code or icb.name}-{quarterly_return.financial_year}"
        f"-q{quarterly_return.quarter}-v{quarterly_return.version}"
    )
    return download_filename(stem, "csv", on=quarterly_return.built_at.date())


# Who sees which returns ------------------------------------------------------------------


def return_icbs_for_user(user: Any) -> QuerySet[Organisation]:
    """The ICBs where the user is a commissioner or finance officer."""
    if not getattr(user, "is_authenticated", False):
        return Organisation.objects.none()
    return Organisation.objects.filter(
        kind=Organisation.Kind.ICB,
        pk__in=Membership.objects.filter(user=user, role__in=RETURN_ROLES).values(
            "organisation_id"
        ),
    )


def returns_for_user(user: Any) -> QuerySet[QuarterlyReturn]:
    return QuarterlyReturn.objects.filter(icb__in=return_icbs_for_user(user)).select_related(
        "icb", "built_by"
    )


def returns_for_application(application: Any) -> QuerySet[QuarterlyReturn]:
    return QuarterlyReturn.objects.filter(icb_id=application.organisation_id).select_related(
        "icb", "built_by"
    )


# Building -----------------------------------------------------------------------------


def _build(
    *, icb: Organisation, quarter: Period, figures: dict[Key, int], version: int, built_by: Any
) -> QuarterlyReturn:
    quarterly_return = QuarterlyReturn(
        icb=icb,
        financial_year=quarter.financial_year,
        quarter=_quarter_number(quarter),
        version=version,
        layout=LAYOUT,
        built_by=built_by,
        csv=return_csv(icb=icb, quarter=quarter, figures=figures),
        people_in_quarter=figures.get((QUARTER, ALL, ALL, ALL), 0),
        people_year_to_date=figures.get((YEAR_TO_DATE, ALL, ALL, ALL), 0),
    )
    # The database's unique constraint decides between two runs at once (the caller
    # catches the IntegrityError), so it is not checked here first.
    quarterly_return.full_clean(validate_unique=False, validate_constraints=False)
    quarterly_return.save()
    audit_record(
        actor=built_by,
        action="quarterly_return.built",
        obj=quarterly_return,
        organisation=icb,
        changes={
            "period": quarter.key,
            "version": version,
            "people_in_quarter": quarterly_return.people_in_quarter,
            "people_year_to_date": quarterly_return.people_year_to_date,
        },
    )
    return quarterly_return


def quarterly_returns_build_due(*, today: datetime.date) -> list[QuarterlyReturn]:
    """Build the last completed quarter's return (version 1) for every ICB that has
    none. The figures for all of them come from one statement; each return is saved in
    its own savepoint, and the unique constraint on (ICB, year, quarter, version)
    decides: a return another run built meanwhile is left alone. Re-running builds
    nothing new. Returns the returns built."""
    quarter = last_completed_quarter(today)
    number = _quarter_number(quarter)
    icbs = list(
        Organisation.objects.filter(kind=Organisation.Kind.ICB).exclude(
            quarterly_returns__financial_year=quarter.financial_year,
            quarterly_returns__quarter=number,
        )
    )
    if not icbs:
        return []
    figures = return_figures(icb_ids=[icb.pk for icb in icbs], quarter=quarter)
    built: list[QuarterlyReturn] = []
    for icb in icbs:
        try:
            with transaction.atomic():
                built.append(
                    _build(
                        icb=icb, quarter=quarter, figures=figures[icb.pk], version=1, built_by=None
                    )
                )
        except IntegrityError:
            continue  # built by another run since we looked
    return built


def quarterly_return_rebuild(*, quarterly_return: QuarterlyReturn, by: Any) -> QuarterlyReturn:
    """Build the same ICB's return for the same quarter again, from today's records, as
    the next version; earlier versions stay as they were. The ICB's row is locked so two
    rebuilds at once make versions 2 and 3, never two version 2s.

    Raises ``PermissionError`` if ``by`` is not a commissioner or finance officer of
    the ICB."""
    icb_id = quarterly_return.icb_id
    if not return_icbs_for_user(by).filter(pk=icb_id).exists():
        raise PermissionError("Only the ICB's commissioners and finance officers rebuild it.")
    quarter = Period(quarterly_return.financial_year, quarterly_return.quarter)
    with transaction.atomic():
        icb = Organisation.objects.select_for_update().get(pk=icb_id)
        latest = QuarterlyReturn.objects.filter(
            icb=icb, financial_year=quarter.financial_year, quarter=quarterly_return.quarter
        ).aggregate(latest=Max("version"))["latest"]
        figures = return_figures(icb_ids=[icb.pk], quarter=quarter)[icb.pk]
        return _build(
            icb=icb, quarter=quarter, figures=figures, version=(latest or 0) + 1, built_by=by
        )


def quarterly_return_download(
    *, quarterly_return: QuarterlyReturn, user: Any = None, application: Any = None
) -> QuarterlyReturnDownload:
    """Record that a person (``user``) or a partner system (``application``) took the
    file, with an audit event. The caller has already checked they may."""
    if (user is None) == (application is None):
        raise ValueError("A download is by a person or by an application.")
    name = application.name if application is not None else ""
    with transaction.atomic():
        download = QuarterlyReturnDownload.objects.create(
            quarterly_return=quarterly_return, user=user, application=name
        )
        audit_record(
            actor=user,
            action="quarterly_return.downloaded",
            obj=quarterly_return,
            organisation=quarterly_return.icb,
            changes={"application": name} if name else {},
            actor_label=f"application: {name}" if name else "",
        )
    return download


def downloads_of(returns: Iterable[QuarterlyReturn]) -> dict[int, list[QuarterlyReturnDownload]]:
    """The downloads of each return, newest first, in one query."""
    ids = [r.pk for r in returns]
    found: dict[int, list[QuarterlyReturnDownload]] = {pk: [] for pk in ids}
    for download in QuarterlyReturnDownload.objects.filter(
        quarterly_return_id__in=ids
    ).select_related("user"):
        found[download.quarterly_return_id].append(download)
    return found
