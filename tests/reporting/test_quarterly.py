"""The quarterly PHB return's figures and file (core/reporting/quarterly.py), on the
hand-built data set of tests.reporting.test_quarterly_data.py: each person is counted once per
category, at the quarter's boundary days, by their age on its last day; closed and
never-active budgets; an integrated budget once for the ICB."""

from __future__ import annotations

import csv
import datetime
import io
import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import AuditEvent
from core.reporting import quarterly
from core.reporting.models import QuarterlyReturn
from core.reporting.periods import Period
from tests.factories import BudgetHolderFactory, make_budget
from tests.reporting.test_quarterly_data import (
    EXPECTED_NORTH,
    IN_QUARTER_NORTH,
    IN_YEAR_TO_DATE_NORTH,
    QUARTER,
    make_returns_world,
)

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "quarterly-return.md"
EXPECTED_HEADER = [
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
TYPES = [
    "chc",
    "childrens_continuing_care",
    "s117_aftercare",
    "wheelchair",
    "end_of_life",
    "maternity",
    "learning_disability_autism",
    "mental_health",
    "other",
]
OPTIONS = ["notional", "third_party", "direct_payment", "mixed"]
AGES = ["adult", "child"]


def _rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")  # the byte order mark core.exports writes
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_the_return_counts_each_person_once_in_each_cell() -> None:
    w = make_returns_world()

    figures = quarterly.return_figures(icb_ids=[w.north.pk, w.south.pk], quarter=QUARTER)

    # North: 7 people in the quarter and 9 in the year to date (test_quarterly_data.py says who
    # and why); every other cell, "all" rows included, as counted by hand.
    assert figures[w.north.pk] == EXPECTED_NORTH
    assert figures[w.north.pk][("quarter", "all", "all", "all")] == 7
    assert figures[w.north.pk][("year_to_date", "all", "all", "all")] == 9
    # Ann has two budgets in the quarter: one person, under her later budget's option.
    assert figures[w.north.pk][("quarter", "chc", "all", "all")] == 1
    assert figures[w.north.pk][("quarter", "chc", "direct_payment", "all")] == 1
    assert ("quarter", "chc", "notional", "all") not in figures[w.north.pk]
    # Jo is South's only person; nobody of North's is South's.
    assert figures[w.south.pk] == {
        (measure, kind, option, age): 1
        for measure in ("quarter", "year_to_date")
        for kind in ("chc", "all")
        for option in ("notional", "all")
        for age in ("adult", "all")
    }


def test_boundary_days_of_the_quarter() -> None:
    w = make_returns_world()

    figures = quarterly.return_figures(icb_ids=[w.north.pk], quarter=QUARTER)[w.north.pk]

    # Ben's budget closed on 1 July (in place that day); Cat's started on 30 September.
    assert figures[("quarter", "s117_aftercare", "third_party", "adult")] == 1
    assert figures[("quarter", "wheelchair", "notional", "adult")] == 1
    # Nia's closed on 30 June: the year to date only. Kit's starts on 1 October: nowhere.
    assert figures[("year_to_date", "chc", "notional", "all")] == 1
    assert figures[("quarter", "chc", "all", "all")] == 1  # Ann alone
    # In the previous quarter (April to June) Ben, Hal and Nia were in place, and Cat
    # (from 30 September) and Kit were not.
    q1 = quarterly.return_figures(icb_ids=[w.north.pk], quarter=Period(2025, 1))[w.north.pk]
    assert q1[("quarter", "end_of_life", "all", "all")] == 1
    assert ("quarter", "wheelchair", "all", "all") not in q1
    # Ann, Ben, Dan, Eve, Fay, Hal, Lee, Nia (Cat, Kit and Max not yet).
    assert q1[("quarter", "all", "all", "all")] == 8


def test_a_child_who_turns_18_in_the_quarter_is_an_adult_in_it() -> None:
    w = make_returns_world()
    dan = w.people["Dan"]
    assert dan.date_of_birth == datetime.date(2007, 8, 10)

    figures = quarterly.return_figures(icb_ids=[w.north.pk], quarter=QUARTER)[w.north.pk]
    q1 = quarterly.return_figures(icb_ids=[w.north.pk], quarter=Period(2025, 1))[w.north.pk]

    # 18 on 10 August, so an adult on 30 September; a child on 30 June.
    assert figures[("quarter", "childrens_continuing_care", "all", "adult")] == 1
    assert ("quarter", "childrens_continuing_care", "all", "child") not in figures
    assert q1[("quarter", "childrens_continuing_care", "all", "child")] == 1
    # Eve is the only child in Q2.
    assert figures[("quarter", "all", "all", "child")] == 1


def test_closed_never_active_and_not_yet_active_budgets_are_not_counted() -> None:
    w = make_returns_world()

    figures = quarterly.return_figures(icb_ids=[w.north.pk], quarter=QUARTER)[w.north.pk]

    # Gus (agreed, never active), Ida (closed before becoming active; an old budget) and
    # Max (active only from 5 October) are nowhere.
    for measure in ("quarter", "year_to_date"):
        assert (measure, "maternity", "all", "all") not in figures
        assert (measure, "learning_disability_autism", "all", "all") not in figures
        assert figures[(measure, "mental_health", "all", "all")] == 1  # Eve, not Max
    # Hal, closed on 10 June, is in the year to date only.
    assert ("quarter", "end_of_life", "all", "all") not in figures
    assert figures[("year_to_date", "end_of_life", "all", "all")] == 1


def test_an_integrated_budget_counts_once_for_the_holders_icb_as_mixed() -> None:
    w = make_returns_world()

    figures = quarterly.return_figures(
        icb_ids=[w.north.pk, w.south.pk, w.council.pk], quarter=QUARTER
    )

    assert figures[w.north.pk][("quarter", "other", "mixed", "all")] == 1
    assert figures[w.north.pk][("quarter", "all", "mixed", "all")] == 1
    assert figures[w.north.pk][("quarter", "other", "all", "all")] == 2  # Fay and Lee
    assert figures[w.council.pk] == {}  # counted for the ICB, not the council


def test_the_csv_has_the_documented_layout() -> None:
    w = make_returns_world()
    quarterly.quarterly_returns_build_due(today=datetime.date(2025, 10, 2))
    built = QuarterlyReturn.objects.get(icb=w.north)

    rows = _rows(built.csv)

    assert built.csv.splitlines()[0].lstrip("\ufeff").split(",") == EXPECTED_HEADER
    # Every combination once: 2 measures x (9 types + all) x (4 options + all) x
    # (2 age groups + all), in the documented order.
    assert len(rows) == 2 * 10 * 5 * 3
    keys = [(r["measure"], r["phb_type"], r["management_option"], r["age_group"]) for r in rows]
    assert keys == [
        (m, k, o, a)
        for m in ("quarter", "year_to_date")
        for k in ["all", *TYPES]
        for o in ["all", *OPTIONS]
        for a in ["all", *AGES]
    ]
    for row in rows:
        assert row["layout_version"] == "phb-qr-1"
        assert row["icb_code"] == "QN1"
        assert row["icb_name"] == "North ICB"
        assert row["financial_year"] == "2025/26"
        assert row["quarter"] == "2"
        assert row["period_end"] == "2025-09-30"
        expected_start = "2025-07-01" if row["measure"] == "quarter" else "2025-04-01"
        assert row["period_start"] == expected_start
        key = (row["measure"], row["phb_type"], row["management_option"], row["age_group"])
        assert int(row["people"]) == EXPECTED_NORTH.get(key, 0), key
    assert built.people_in_quarter == len(IN_QUARTER_NORTH)
    assert built.people_year_to_date == len(IN_YEAR_TO_DATE_NORTH)


def test_the_layout_document_names_every_column_and_code() -> None:
    text = DOC.read_text()
    documented = re.findall(r"^\| `([a-z_]+)` \|", text, flags=re.MULTILINE)

    assert documented[: len(EXPECTED_HEADER)] == EXPECTED_HEADER
    for code in [*TYPES, *OPTIONS, *AGES, "quarter", "year_to_date", "phb-qr-1"]:
        assert f"`{code}`" in text, code


def test_an_icb_name_that_looks_like_a_formula_is_written_as_text() -> None:
    w = make_returns_world()
    w.north.name = "=HYPERLINK(1)"
    w.north.save()

    text = quarterly.return_csv(icb=w.north, quarter=QUARTER, figures={})

    assert _rows(text)[0]["icb_name"] == "'=HYPERLINK(1)"


def test_the_scheduled_build_makes_one_return_per_icb_and_a_rerun_builds_nothing() -> None:
    w = make_returns_world()

    first = quarterly.quarterly_returns_build_due(today=datetime.date(2025, 10, 2))
    again = quarterly.quarterly_returns_build_due(today=datetime.date(2025, 11, 20))

    # The council and the budget manager are not ICBs.
    assert sorted(r.icb.name for r in first) == ["North ICB", "South ICB"]
    assert again == []
    assert QuarterlyReturn.objects.count() == 2
    north = QuarterlyReturn.objects.get(icb=w.north)
    assert (north.financial_year, north.quarter, north.version) == (2025, 2, 1)
    assert north.built_by is None
    assert north.layout == "phb-qr-1"
    events = AuditEvent.objects.filter(action="quarterly_return.built")
    assert events.count() == 2
    assert set(events.values_list("actor_id", flat=True)) == {None}


def test_a_return_built_meanwhile_by_another_run_is_left_alone() -> None:
    w = make_returns_world()
    other = QuarterlyReturn.objects.create(
        icb=w.north, financial_year=2025, quarter=2, layout="phb-qr-1", csv="kept"
    )

    built = quarterly.quarterly_returns_build_due(today=datetime.date(2025, 10, 2))

    assert [r.icb for r in built] == [w.south]
    other.refresh_from_db()
    assert other.csv == "kept"


def test_the_build_of_the_next_quarter_waits_until_it_ends() -> None:
    make_returns_world()

    quarterly.quarterly_returns_build_due(today=datetime.date(2025, 12, 31))
    quarterly.quarterly_returns_build_due(today=datetime.date(2026, 1, 1))

    assert sorted(QuarterlyReturn.objects.values_list("quarter", flat=True)) == [2, 2, 3, 3]


def test_the_figures_take_one_query_however_many_icbs_and_budgets() -> None:
    w = make_returns_world()
    with CaptureQueriesContext(connection) as few:
        quarterly.return_figures(icb_ids=[w.north.pk], quarter=QUARTER)
    for _ in range(5):
        make_budget(BudgetHolderFactory(organisation=w.south), period_start=QUARTER.start)

    with CaptureQueriesContext(connection) as more:
        quarterly.return_figures(icb_ids=[w.north.pk, w.south.pk, w.council.pk], quarter=QUARTER)

    assert len(few) == len(more) == 1
