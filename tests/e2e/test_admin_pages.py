"""The admin in the browser, as a commissioner uses it: the index in the NHS look, the
providers in their market verified in bulk, the monitoring flags acknowledged in bulk,
and the way back to the service. Every page ends with the axe check."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from budgets.models import MonitoringFlag
from marketplace.models import Provider
from plans.models import SupportPlan
from tests.e2e.browser import record_of
from tests.e2e.steps import (
    given_i_am_signed_in_as,
    given_i_open,
    then_i_see_the_heading,
    then_i_see_the_text,
    then_the_page_is_accessible,
    when_i_follow_the_link,
    when_i_press,
)
from tests.marketplace.factories import ProviderFactory

pytestmark = pytest.mark.e2e


def then_the_only_failed_request_was_axes_own_for_the_forms_import(page: Page) -> None:
    """axe-core (4.11) preloads a page's stylesheets and fetches an @import by its href
    as written, so Django's admin/css/forms.css's ``@import url('widgets.css')`` is
    asked for relative to the page (…/change/widgets.css, refused) instead of to the
    stylesheet. That request is axe's, not the page's: the browser itself loaded the
    import from /static/, which this checks before setting axe's request aside."""
    loaded = page.evaluate(
        """() => [...document.styleSheets].some((sheet) => [...sheet.cssRules].some(
            (rule) => rule.href === "widgets.css" && rule.styleSheet
                && rule.styleSheet.cssRules.length > 0))"""
    )
    assert loaded, "the page did not load admin/css/widgets.css"
    record = record_of(page)
    record.broken_assets[:] = [
        asset for asset in record.broken_assets if not asset.endswith("/change/widgets.css")
    ]


def given_a_market_and_flags(world) -> None:
    ProviderFactory(name="Able Assistants", areas=[world.org_x], verification="pending")
    ProviderFactory(
        name="Bright Walks CIC", areas=[world.org_x], verification="unverified", user_led=True
    )
    ProviderFactory(name="Southern Care", areas=[world.org_y], verification="pending")
    for budget, kind in (
        (world.budget_a, MonitoringFlag.Kind.SURPLUS),
        (world.budget_a, MonitoringFlag.Kind.NO_SPENDING),
        (world.budget_b, MonitoringFlag.Kind.SURPLUS),
    ):
        MonitoringFlag.objects.create(budget=budget, kind=kind, details={"weeks": 9})


def test_a_commissioner_finds_their_lists_verifies_providers_and_acknowledges_flags(
    page: Page, world
) -> None:
    given_a_market_and_flags(world)
    given_i_am_signed_in_as(page, world.commissioner)

    given_i_open(page, "/admin/")
    expect(page.locator("#site-name")).to_have_text("Personal health budgets administration")
    then_i_see_the_heading(page, "Records")
    header = page.locator("#header")
    expect(header).to_have_css("background-color", "rgb(0, 94, 184)")  # NHS blue
    expect(page.get_by_role("link", name="Back to the service")).to_have_attribute("href", "/")
    expect(page.get_by_role("link", name="Dashboard")).to_be_visible()
    # The lists a commissioner uses come first, in plain words.
    captions = page.locator("#content-main .module caption").all_inner_texts()
    assert [c.strip() for c in captions] == [
        "Budgets and money",
        "Support plans",
        "Marketplace",
        "Audit log and reporting",
    ]
    then_the_page_is_accessible(page, "admin-index-commissioner")

    # Keyboard focus shows the NHS yellow.
    page.get_by_role("link", name="Back to the service").focus()
    expect(page.get_by_role("link", name="Back to the service")).to_have_css(
        "background-color", "rgb(255, 235, 59)"
    )

    # Providers in their market, filtered to those waiting for a check.
    page.locator("#content-main").get_by_role("link", name="Providers", exact=True).click()
    then_i_see_the_heading(page, "Select provider to view")
    expect(page.locator("#result_list")).to_contain_text("Able Assistants")
    expect(page.locator("#result_list")).not_to_contain_text("Southern Care")
    then_the_page_is_accessible(page, "admin-providers-commissioner")

    page.get_by_role("checkbox", name="Select this object for an action - Able Assistants").check()
    page.get_by_role("checkbox", name="Select this object for an action - Bright Walks CIC").check()
    page.get_by_label("Action:").select_option(label="Verify selected providers")
    when_i_press(page, "Go")
    then_i_see_the_heading(page, "Verify the selected providers")
    until = timezone.localdate() + datetime.timedelta(days=200)
    page.get_by_label("Date the verification runs out").fill(until.isoformat())
    then_the_page_is_accessible(page, "admin-verify-providers")
    when_i_press(page, "Verify 2 providers")
    then_i_see_the_text(page, "Able Assistants, Bright Walks CIC")
    then_the_page_is_accessible(page, "admin-providers-verified")
    assert set(Provider.objects.filter(verification="verified").values_list("name", flat=True)) == {
        "Able Assistants",
        "Bright Walks CIC",
    }

    # Monitoring flags: their organisation's only, with holder and ICB columns.
    given_i_open(page, "/admin/budgets/monitoringflag/")
    then_i_see_the_heading(page, "Select monitoring flag to view")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#result_list")).to_contain_text("North ICB")
    expect(page.locator("#result_list")).not_to_contain_text("Bea Holder")
    then_the_page_is_accessible(page, "admin-flags-commissioner")
    page.locator("#action-toggle").check()
    page.get_by_label("Action:").select_option(label="Acknowledge selected flags")
    when_i_press(page, "Go")
    then_i_see_the_text(page, "Acknowledged 2 flag(s).")
    then_the_page_is_accessible(page, "admin-flags-acknowledged")
    assert set(
        MonitoringFlag.objects.filter(budget=world.budget_a).values_list("state", flat=True)
    ) == {"acknowledged"}
    assert MonitoringFlag.objects.get(budget=world.budget_b).state == "open"

    when_i_follow_the_link(page, "Back to the service")
    assert "/admin/" not in page.url
    then_the_page_is_accessible(page, "admin-back-to-service")


def test_the_admin_on_a_phone(page: Page, world) -> None:
    given_a_market_and_flags(world)
    page.set_viewport_size({"width": 320, "height": 720})
    given_i_am_signed_in_as(page, world.finance_officer)
    given_i_open(page, "/admin/budgets/monitoringflag/")
    then_i_see_the_heading(page, "Select monitoring flag to view")
    then_the_page_is_accessible(page, "admin-flags-phone")


def test_a_commissioner_reads_a_support_plan_and_sees_the_view_in_the_audit_log(
    page: Page, world
) -> None:
    SupportPlan.objects.create(
        holder=world.holder_a,
        budget=world.budget_a,
        created_by=world.staff_x,
        state=SupportPlan.State.SUBMITTED,
        submitted_at=timezone.now(),
        needs_commissioner=True,
        what_matters="Being at home with my dog and seeing my grandchildren.",
        next_review_on=timezone.localdate() + datetime.timedelta(days=20),
    )
    given_i_am_signed_in_as(page, world.commissioner)
    given_i_open(page, "/admin/plans/supportplan/")
    then_i_see_the_heading(page, "Select support plan to view")
    then_the_page_is_accessible(page, "admin-plans-commissioner")
    page.locator("#result_list").get_by_role("link", name="Alex Holder").click()
    then_i_see_the_text(page, "Being at home with my dog")
    then_the_page_is_accessible(page, "admin-plan-record-commissioner")
    then_the_only_failed_request_was_axes_own_for_the_forms_import(page)

    given_i_open(page, "/admin/core/auditevent/")
    then_i_see_the_heading(page, "Select audit event to view")
    expect(page.locator("#result_list")).to_contain_text("personal_record.viewed")
    then_the_page_is_accessible(page, "admin-audit-log-commissioner")


def test_the_admin_works_under_the_content_security_policy(strict_page: Page, world) -> None:
    """The admin's own scripts and our stylesheet load under the site's real policy
    (the other tests bypass it to inject axe)."""
    given_a_market_and_flags(world)
    page = strict_page
    given_i_am_signed_in_as(page, world.commissioner)
    given_i_open(page, "/admin/marketplace/provider/")
    then_i_see_the_heading(page, "Select provider to view")
    expect(page.locator("#header")).to_have_css("background-color", "rgb(0, 94, 184)")
    page.get_by_role("checkbox", name="Select this object for an action - Able Assistants").check()
    # actions.js counts the selection: the admin's scripts ran.
    expect(page.locator(".action-counter")).to_have_text("1 of 2 selected")
    assert record_of(page).csp_violations == []
    then_the_page_is_accessible(page, "admin-providers-strict-policy")
