"""The commissioner dashboard in the browser: a commissioner of an ICB and the council
reads one organisation's dashboard, the combined view and a filtered view, sets the
spend target (errors first), and reads the dashboard on a 320px phone. A finance
officer reads theirs. Every page ends with the axe check; the screenshots are looked at.
"""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import Page, expect

from core.reporting.snapshots import snapshot_refresh
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
    when_i_press,
)
from tests.factories import MembershipFactory, with_mfa
from tests.reporting.dataset import build_dataset
from users.models import Role

pytestmark = pytest.mark.e2e

TODAY = datetime.date(2026, 8, 20)


def given_the_figures_are_worked_out() -> dict:
    data = build_dataset(TODAY)
    run = snapshot_refresh(trigger="scheduled", today=TODAY)
    assert run.status == "done", run.error
    return data


def test_a_commissioner_reads_the_dashboard_and_sets_the_target(page: Page) -> None:
    data = given_the_figures_are_worked_out()
    commissioner = with_mfa(data.users["commissioner_a"])
    MembershipFactory(user=commissioner, organisation=data.council, role=Role.COMMISSIONER)
    given_i_am_signed_in_as(page, commissioner)

    given_i_open(page, "/")
    then_the_page_is_accessible(page, "home-with-dashboard-link")
    page.get_by_role(
        "link", name="Dashboard: budgets, money, plans, market and outcomes"
    ).last.click()
    then_i_see_the_heading(page, "Dashboard: North ICB")
    then_i_see_the_text(page, "Figures as of")
    route_table = page.get_by_role("table", name="People with a budget, by eligibility route")
    expect(
        route_table.get_by_role("row", name=re.compile("^NHS continuing healthcare"))
    ).to_be_visible()
    expect(page.locator("#chart-route-title")).to_have_text(
        "People with a budget at the end of the period, by eligibility route"
    )
    then_the_page_is_accessible(page, "dashboard-one-organisation")

    # The combined view of both organisations.
    page.get_by_label("Organisation").select_option(label="All your organisations together")
    when_i_press(page, "Show the figures")
    then_i_see_the_heading(page, "Dashboard: All your organisations")
    then_i_see_the_text(page, "counted once in each")
    then_the_page_is_accessible(page, "dashboard-combined")

    # One organisation, a quarter, one route and one area.
    given_i_open(page, f"/dashboard/?organisation={data.icb_a.pk}&period=2026Q2&route=chc&area=LS")
    then_i_see_the_text(page, "eligibility route: NHS continuing healthcare")
    then_the_page_is_accessible(page, "dashboard-filtered")

    # The spend target: errors first, then saved.
    given_i_open(page, f"/dashboard/?organisation={data.icb_a.pk}")
    then_the_page_is_accessible(page, "dashboard-one-organisation-again")
    page.get_by_role("link", name=re.compile("Set the target for North ICB")).click()
    then_i_see_the_heading(page, "Target for personal budgets")
    then_the_page_is_accessible(page, "dashboard-target")
    when_i_fill_in(page, "Relevant spend for the year, in pounds", "25 million")
    when_i_fill_in(page, "Target share through personal budgets, as a percentage", "120")
    when_i_press(page, "Save the target")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(
        page,
        "Enter the relevant spend in pounds, like 25,000,000 or 25000000.00",
        "The target must be 100% or less",
    )
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "dashboard-target-errors")
    when_i_fill_in(page, "Relevant spend for the year, in pounds", "2,000,000")
    when_i_fill_in(page, "Target share through personal budgets, as a percentage", "12.5")
    when_i_press(page, "Save the target")
    then_i_see_the_text(page, "The target for North ICB in 2026/27 is saved.")
    then_i_see_the_text(page, "Target: 12.5%")
    page.locator("#target").scroll_into_view_if_needed()
    then_the_page_is_accessible(page, "dashboard-target-saved")

    # A figure opens the records behind it: the budgets of the people it counts.
    page.get_by_role("link", name=re.compile(r"at the end: open their budgets$")).click()
    then_i_see_the_text(page, "By in place")
    expect(page.locator("#result_list tbody tr").first).to_be_visible()
    then_the_page_is_accessible(page, "dashboard-figure-in-the-admin")


def test_a_finance_officer_reads_the_dashboard_on_a_phone(page: Page) -> None:
    data = given_the_figures_are_worked_out()
    page.set_viewport_size({"width": 320, "height": 800})
    given_i_am_signed_in_as(page, with_mfa(data.users["finance_c"]))
    given_i_open(page, "/dashboard/")
    then_i_see_the_heading(page, "Dashboard: Leeds City Council")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "dashboard-phone")
    page.screenshot(path=SCREENSHOTS / "dashboard-phone-top.png")


def test_before_the_first_snapshot_the_dashboard_says_so(page: Page, world) -> None:
    given_i_am_signed_in_as(page, world.commissioner)
    given_i_open(page, "/dashboard/")
    then_i_see_the_text(page, "The dashboard's figures have not been worked out yet.")
    then_the_page_is_accessible(page, "dashboard-no-figures")
