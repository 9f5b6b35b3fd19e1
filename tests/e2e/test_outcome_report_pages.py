"""Outcome reports in the browser: a commissioner reads the holders' report, narrows it
to one eligibility route broken down by budget size, downloads it as CSV, looks at the
national reference figures and adds one (errors first), and reads the report on a
phone. Every page ends with the axe check."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from outcomes.models import ReferenceFigure
from tests.e2e.steps import (
    SCREENSHOTS,
    given_i_am_signed_in_as,
    given_i_open,
    then_each_error_link_moves_focus_to_its_field,
    then_i_see_the_heading,
    then_i_see_the_text,
    then_nothing_scrolls_sideways,
    then_the_error_summary_lists,
    then_the_page_is_accessible,
    then_the_title_starts_with,
    when_i_fill_in,
    when_i_follow_the_link,
    when_i_press,
)
from tests.outcomes.test_report_views import make_answers

pytestmark = pytest.mark.e2e


def test_a_commissioner_reads_filters_and_downloads_the_outcomes_report(page: Page, world) -> None:
    make_answers(world)
    ReferenceFigure.objects.get_or_create(
        respondent_kind="holder",
        area="physical_health",
        defaults={
            "better_percent": Decimal("62.0"),
            "source": "A national survey",
            "published_year": 2015,
            "note": "62% said their physical health was better",
        },
    )
    given_i_am_signed_in_as(page, world.commissioner)

    given_i_open(page, "/outcomes/report/")
    then_i_see_the_heading(page, "Outcomes report: budget holders")
    then_i_see_the_text(page, "What has changed for budget holders")
    expect(page.locator("#outcomes-chart-title")).to_have_text(
        "What has changed for budget holders"
    )
    table = page.get_by_role("table", name="Everyone in this report, by outcome area")
    expect(table.get_by_role("row", name=re.compile("^Physical health"))).to_contain_text("31")
    then_the_page_is_accessible(page, "outcome-report")
    page.locator("svg.app-chart").screenshot(path=SCREENSHOTS / "outcome-chart.png")

    page.get_by_label("Eligibility route").select_option(label="NHS continuing healthcare")
    page.get_by_label("Break down by").select_option(label="Budget size")
    when_i_press(page, "Show the report")
    then_i_see_the_text(page, "eligibility route NHS continuing healthcare")
    expect(page.get_by_role("heading", name="By budget size", level=2)).to_be_visible()
    then_the_page_is_accessible(page, "outcome-report-filtered")

    # Fetched with the browser's session rather than clicked: a download aborts the
    # navigation, which the page record would report as a broken asset.
    link = page.get_by_role("link", name="Download as CSV")
    href = link.get_attribute("href")
    assert href is not None
    assert "route=chc" in href
    assert "breakdown=budget_band" in href
    download = page.request.get(href)
    assert download.ok
    disposition = download.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="outcomes-budget-holders-')
    rows = list(csv.reader(io.StringIO(download.body().decode("utf-8-sig"))))
    assert rows[0][:4] == ["Whose answers", "Filters", "Group", "Outcome area"]
    assert all("Eligibility route: NHS continuing healthcare" in r[1] for r in rows[1:])

    when_i_follow_the_link(page, "All national reference figures")
    then_i_see_the_heading(page, "National reference figures")
    then_i_see_the_text(page, "A national survey")
    then_the_page_is_accessible(page, "outcome-reference-list")

    when_i_follow_the_link(page, "Add a reference figure")
    then_i_see_the_heading(page, "Add a national reference figure")
    then_the_page_is_accessible(page, "outcome-reference-form")
    when_i_fill_in(page, "Per cent saying better", "150")
    when_i_press(page, "Add the figure")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(
        page,
        "Choose whose answers the figure is about",
        "Choose the outcome area",
        "Enter a percentage from 0 to 100",
        "Enter the source of the figure",
        "Enter the year the source was published",
    )
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "outcome-reference-form-errors")

    page.get_by_label("Family carer").check()
    page.get_by_label("Outcome area").select_option(label="Being able to keep caring")
    when_i_fill_in(page, "Per cent saying better", "75")
    when_i_fill_in(page, "Source", "A carers' survey")
    when_i_fill_in(page, "Year published", "2015")
    when_i_press(page, "Add the figure")
    then_i_see_the_text(page, "The reference figure has been added.")
    then_i_see_the_text(page, "A carers' survey")
    then_the_page_is_accessible(page, "outcome-reference-added")

    page.set_viewport_size({"width": 320, "height": 800})
    given_i_open(page, "/outcomes/report/?kind=carer")
    then_i_see_the_heading(page, "Outcomes report: family carers")
    then_the_page_is_accessible(page, "outcome-report-phone")
    then_nothing_scrolls_sideways(page)
