"""The outcomes report of one organisation for a financial year or quarter: what budget
holders, family carers and staff said has changed in each area of life, how the process
relates to outcomes, and the organisation's open improvement actions.

Every figure comes from ``outcomes.reports`` (``outcome_summary`` and
``process_outcomes``), which suppresses small groups itself: nothing here counts an
answer. A hidden figure is carried as ``SUPPRESSED`` and stays hidden in the page and
in both files. The filter is the one the outcomes report page would use for the same
choice: the reader's own report scope (``report_organisation_ids``), narrowed to the
organisation and to the period's dates, so the report shows exactly what the reader
could see there, and no more.

Open improvement actions come from ``outcomes.improvement.open_actions_for``: they are
the commissioners' own, so a finance officer's report says they are not shown to them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from core.reporting.periods import Period
from core.reporting.report_tables import (
    COUNT,
    DATE,
    PERCENT,
    SUPPRESSED,
    Column,
    Report,
    Section,
)
from outcomes.improvement import is_commissioner_of, open_actions_for
from outcomes.models import RespondentKind
from outcomes.reports import (
    AreaFigures,
    ReportFilter,
    ReportScopeError,
    Share,
    outcome_summary,
    process_outcomes,
    report_organisation_ids,
)

Progress = Callable[[int, str], None]

KINDS: list[tuple[str, str, str]] = [
    (RespondentKind.HOLDER, "Budget holders", "budget holders"),
    (RespondentKind.CARER, "Family carers", "family carers"),
    (RespondentKind.STAFF, "Staff", "staff"),
]


def _filter(user: Any, organisation: Any, period: Period, kind: str) -> ReportFilter:
    scope = report_organisation_ids(user)
    if organisation.pk not in scope:
        raise ReportScopeError("That organisation is not one of yours.")
    return ReportFilter(
        organisation_ids=scope,
        organisation_id=organisation.pk,
        respondent_kind=kind,
        date_from=period.start,
        date_to=period.end,
    )


def _area_row(figures: AreaFigures) -> list[Any]:
    if figures.suppressed:
        return [figures.label, *([SUPPRESSED] * 7)]
    return [
        figures.label,
        figures.better,
        figures.better_percent,
        figures.same,
        figures.same_percent,
        figures.worse,
        figures.worse_percent,
        figures.n,
    ]


def _kind_section(kind: str, title: str, whose: str, filters: ReportFilter) -> Section:
    summary = outcome_summary(filters)
    return Section(
        key=f"outcomes_{kind}",
        title=title,
        description=(
            f"What {whose} said has changed in each area of life: better (a lot better or "
            "better), about the same, or worse (worse or a lot worse), in numbers and as a "
            'share of the answers. Answers of "does not apply to me" are not counted.'
        ),
        columns=[
            Column("Outcome area"),
            Column("Better", COUNT),
            Column("Better %", PERCENT),
            Column("About the same", COUNT),
            Column("About the same %", PERCENT),
            Column("Worse", COUNT),
            Column("Worse %", PERCENT),
            Column("Answers", COUNT),
        ],
        rows=[_area_row(a) for a in summary.areas],
        may_suppress=True,
    )


GROUPS = [
    ("easy", "Found it easy"),
    ("hard", "Found it hard"),
    ("included", "Views included"),
    ("not_included", "Views not included"),
]


def _share(share: Share) -> list[Any]:
    if share.suppressed:
        return [SUPPRESSED, SUPPRESSED]
    return [share.better_percent, share.n]


def _process_section(filters_by_kind: list[tuple[str, ReportFilter]]) -> Section:
    rows = []
    for title, filters in filters_by_kind:
        for row in process_outcomes(filters):
            cells: list[Any] = [title, row.label]
            for attribute, _ in GROUPS:
                cells.extend(_share(getattr(row, attribute)))
            rows.append(cells)
    columns = [Column("Whose answers"), Column("Outcome area")]
    for _, label in GROUPS:
        columns.extend(
            [Column(f"{label}: % saying better", PERCENT), Column(f"{label}: answers", COUNT)]
        )
    return Section(
        key="outcomes_process",
        title="Process and outcomes",
        description=(
            "The share who said things were better, among people who found getting and "
            "planning their budget easy and those who found it hard, and among people "
            "whose views were included in their plan and those whose were not."
        ),
        columns=columns,
        rows=rows,
        may_suppress=True,
    )


def _actions_section(user: Any, organisation: Any) -> Section:
    actions = (
        open_actions_for(user).filter(issue__organisation=organisation).select_related("issue")
    )
    rows = [
        [
            a.issue.title,
            a.description,
            a.owner,
            a.due_on,
            a.get_status_display() + (" (overdue)" if getattr(a, "is_overdue", False) else ""),
        ]
        for a in actions
    ]
    return Section(
        key="improvement_actions",
        title="Open improvement actions",
        description=(
            "What the organisation has agreed to do about what the surveys showed, not "
            "yet done: overdue first, then by the date due."
        ),
        columns=[
            Column("Issue"),
            Column("Action"),
            Column("Who will do it"),
            Column("Due", DATE),
            Column("Status"),
        ],
        rows=rows,
        empty_text="No open improvement actions.",
    )


def outcomes_report(
    *, user: Any, organisation: Any, period: Period, progress: Progress | None = None
) -> Report:
    """The outcomes report (module docstring). Raises ReportScopeError when the
    organisation is not among those whose reports ``user`` may read."""
    say = progress or (lambda percent, note: None)
    sections: list[Section] = []
    filters_by_kind: list[tuple[str, ReportFilter]] = []
    for step, (kind, title, whose) in enumerate(KINDS):
        say(5 + 20 * step, f"Counting the answers of {whose}")
        filters = _filter(user, organisation, period, kind)
        filters_by_kind.append((title, filters))
        sections.append(_kind_section(kind, title, whose, filters))
    say(65, "Relating the process to outcomes")
    sections.append(_process_section(filters_by_kind))
    say(80, "Listing the open improvement actions")
    sections.append(_actions_section(user, organisation))
    notes = [
        "To protect people's privacy, any group with fewer than 5 answers is not shown, "
        "nor any figure from which such a group could be worked out.",
    ]
    if not is_commissioner_of(user, organisation.pk):
        notes.append("Improvement actions are shown to the organisation's commissioners only.")
    return Report(
        title="Outcomes report",
        organisation_name=organisation.name,
        period_label=period.label,
        built_at=timezone.localtime(),
        sections=sections,
        notes=notes,
    )
