"""Listings in the browser: a provider's staff list their organisation, add a location
and a paid service with two prices (one added with "Add another price", no JavaScript
needed) and an opening time; a commissioner of the area finds it in the verification
queue, makes a mistake, then verifies it; the provider sees it verified, changes a fact
the commissioner checks and is told plainly it went back; the commissioner looks at the
market, the records behind a figure and the categories, and adds one. Every page ends
with the axe check."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from marketplace.models import Provider, Service
from tests.e2e.steps import (
    given_i_am_signed_in_as,
    given_i_open,
    then_each_error_link_moves_focus_to_its_field,
    then_i_see_the_heading,
    then_i_see_the_text,
    then_the_error_summary_lists,
    then_the_page_is_accessible,
    then_the_title_starts_with,
    when_i_choose,
    when_i_fill_in,
    when_i_follow_the_link,
    when_i_press,
)

pytestmark = pytest.mark.e2e


def when_i_tick(page: Page, label: str) -> None:
    page.get_by_role("checkbox", name=label, exact=True).check()


def when_i_switch_to(page: Page, user: object) -> None:
    page.context.clear_cookies()
    given_i_am_signed_in_as(page, user)


def when_i_enter_the_date(page: Page, legend: str, day: datetime.date) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def test_a_listing_is_made_verified_and_seen_in_the_market(page, world):
    today = timezone.localdate()

    # The provider lists their organisation -----------------------------------------------
    given_i_am_signed_in_as(page, world.provider_staff)
    given_i_open(page, "/provider/")
    then_i_see_the_heading(page, "Your listings")
    then_i_see_the_text(page, "You do not manage any listings yet.")
    then_the_page_is_accessible(page, "provider-home-empty")
    when_i_press(page, "List a provider")
    then_i_see_the_heading(page, "List a provider")
    then_the_page_is_accessible(page, "provider-create")

    when_i_fill_in(page, "Name", "Bright Days Support")
    when_i_choose(page, "Registered care provider")
    when_i_press(page, "List the provider")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(
        page,
        "Enter the CQC registration number: registered care providers must have one",
        "Choose at least one area you work in",
    )
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "provider-create-errors")

    when_i_choose(page, "Community micro-enterprise")
    when_i_fill_in(page, "Postcode", "ls6 2ab")
    when_i_fill_in(page, "Insurance provider", "Mutual Insurance")
    when_i_tick(page, "It is user-led")
    when_i_tick(page, "North ICB")
    when_i_press(page, "List the provider")
    then_i_see_the_heading(page, "Bright Days Support")
    then_i_see_the_text(page, "A commissioner of its areas will check it")
    then_i_see_the_text(page, "Waiting for a commissioner's check")
    then_the_page_is_accessible(page, "provider-edit-new")
    provider = Provider.objects.get(name="Bright Days Support")
    assert provider.verification == Provider.Verification.PENDING

    # A location, then a paid service --------------------------------------------------------
    when_i_follow_the_link(page, "Add a location")
    then_i_see_the_heading(page, "Add a location")
    then_the_page_is_accessible(page, "location-create")
    when_i_fill_in(page, "Name of the place", "St Mark's hall")
    when_i_fill_in(page, "Address line 1", "1 Woodhouse Lane")
    when_i_fill_in(page, "Town or city", "Leeds")
    when_i_fill_in(page, "Postcode", "LS2 9JT")
    when_i_press(page, "Save the location")
    then_i_see_the_text(page, "St Mark's hall is saved.")
    then_the_page_is_accessible(page, "provider-edit-with-location")

    when_i_follow_the_link(page, "Add a service")
    then_i_see_the_heading(page, "Add a service")
    then_the_page_is_accessible(page, "service-create")
    when_i_fill_in(page, "Name of the service", "Gardening together")
    when_i_fill_in(page, "What it is", "A weekly gardening session with support.")
    page.get_by_label("Category", exact=True).select_option(label="Day opportunities")
    page.locator("#id_price-0-amount").fill("18.50")
    page.locator("#id_price-0-per").select_option("hour")
    page.locator("#id_price-1-amount").fill("60")
    page.locator("#id_price-1-per").select_option("session")
    when_i_press(page, "Add another price")
    expect(page.get_by_role("group", name="Price 4")).to_be_visible()
    expect(page.locator("#id_price-1-amount")).to_have_value("60")
    then_the_page_is_accessible(page, "service-create-another-price")
    page.locator("#id_price-3-amount").fill("150")
    page.locator("#id_price-3-per").select_option("week")
    page.locator("#id_price-3-description").fill("Five sessions")
    page.locator("#id_time-0-weekday").select_option(label="Tuesday")
    page.locator("#id_time-0-opens_at").fill("10:00")
    page.locator("#id_time-0-closes_at").fill("09:00")
    when_i_fill_in(page, "Postcode districts it covers", "LS6, ls7")
    when_i_tick(page, "St Mark's hall, LS2 9JT")
    when_i_press(page, "Save the service")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(page, "Time 1: the closing time must be after the opening time")
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "service-create-error")
    page.locator("#id_time-0-closes_at").fill("12:30")
    when_i_press(page, "Save the service")
    then_i_see_the_text(page, "“Gardening together” is saved.")
    then_the_page_is_accessible(page, "provider-edit-with-service")
    service = Service.objects.get(title="Gardening together")
    assert [(o.amount_pence, o.per) for o in service.cost_options.all()] == [
        (18_50, "hour"),
        (60_00, "session"),
        (150_00, "week"),
    ]
    assert [(s.weekday, s.opens_at, s.closes_at) for s in service.schedules.all()] == [
        (1, datetime.time(10), datetime.time(12, 30))
    ]
    assert service.postcode_districts == ["LS6", "LS7"]
    assert service.at_locations.get().location.name == "St Mark's hall"

    when_i_follow_the_link(page, "Back to your listings")
    then_i_see_the_heading(page, "Your listings")
    then_i_see_the_text(page, "£18.50 an hour")
    then_the_page_is_accessible(page, "provider-home")

    # The commissioner verifies it from the queue -------------------------------------------
    when_i_switch_to(page, world.commissioner)
    given_i_open(page, "/market/verification/")
    then_i_see_the_heading(page, "Listings to verify")
    then_the_page_is_accessible(page, "verification-queue")
    when_i_follow_the_link(page, "Check and verify Bright Days Support")
    then_i_see_the_heading(page, "Verify Bright Days Support")
    then_i_see_the_text(page, "It has never been checked")
    then_the_page_is_accessible(page, "provider-verify")
    when_i_choose(page, "Verify the listing")
    when_i_press(page, "Record the decision")
    then_the_error_summary_lists(page, "Enter the date the verification runs out")
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "provider-verify-error")
    when_i_choose(page, "Verify the listing")
    expires = today + datetime.timedelta(days=365)
    when_i_enter_the_date(page, "If you verify it: date the verification runs out", expires)
    when_i_press(page, "Record the decision")
    then_i_see_the_heading(page, "Listings to verify")
    then_i_see_the_text(page, "Bright Days Support is verified until")
    then_the_page_is_accessible(page, "verification-queue-after")
    provider.refresh_from_db()
    assert provider.verification == Provider.Verification.VERIFIED
    assert provider.verification_expires_on == expires

    # The market ------------------------------------------------------------------------------
    given_i_open(page, "/market/")
    then_i_see_the_heading(page, "The market")
    expect(page.locator('[data-figure="providers"]')).to_have_text("1 providers")
    expect(page.locator('[data-district="LS6"]')).to_contain_text("1")
    then_the_page_is_accessible(page, "market-overview")
    page.locator('[data-district="LS2"]').get_by_role("link").first.click()
    then_i_see_the_heading(page, "Services in the market: in LS2")
    then_i_see_the_text(page, "Gardening together")
    then_the_page_is_accessible(page, "market-services-ls2")
    given_i_open(page, "/market/providers/?share=user_led")
    then_i_see_the_heading(page, "Providers in the market: user-led")
    then_i_see_the_text(page, "Bright Days Support")
    then_the_page_is_accessible(page, "market-providers-user-led")

    given_i_open(page, "/market/categories/")
    then_i_see_the_heading(page, "Categories of support")
    then_the_page_is_accessible(page, "category-list")
    when_i_press(page, "Add a category")
    then_i_see_the_heading(page, "Add a category")
    then_the_page_is_accessible(page, "category-create")
    when_i_fill_in(page, "Name of the category", "Allotments")
    when_i_fill_in(page, "What it covers", "Growing food on a shared plot")
    page.get_by_label("Part of a wider category (optional)").select_option(
        label="Day opportunities"
    )
    when_i_press(page, "Add the category")
    then_i_see_the_text(page, "“Allotments” is added.")
    then_the_page_is_accessible(page, "category-list-after")

    # The provider changes a checked fact and is told it went back ------------------------------
    when_i_switch_to(page, world.provider_staff)
    given_i_open(page, f"/provider/{provider.pk}/")
    then_i_see_the_text(page, "If you change any of these, the listing goes back for verification")
    then_the_page_is_accessible(page, "provider-edit-verified")
    when_i_fill_in(page, "Insurance provider", "Another Insurer")
    when_i_press(page, "Save the listing")
    then_i_see_the_heading(page, "Your listings")
    then_i_see_the_text(page, "the listing has gone back for verification")
    then_the_page_is_accessible(page, "provider-home-sent-back")
    provider.refresh_from_db()
    assert provider.verification == Provider.Verification.PENDING

    # And the commissioner sees what changed --------------------------------------------------
    when_i_switch_to(page, world.commissioner)
    given_i_open(page, f"/market/providers/{provider.pk}/verify/")
    changes = page.locator('[data-table="changes"]')
    expect(changes).to_contain_text("Mutual Insurance")
    expect(changes).to_contain_text("Another Insurer")
    then_the_page_is_accessible(page, "provider-verify-changed")

    # Withdrawing the service ------------------------------------------------------------------
    when_i_switch_to(page, world.provider_staff)
    given_i_open(page, f"/provider/services/{service.pk}/")
    then_i_see_the_heading(page, "Change Gardening together")
    then_the_page_is_accessible(page, "service-edit")
    when_i_follow_the_link(page, "Withdraw this service")
    then_i_see_the_heading(page, "Withdraw Gardening together?")
    then_the_page_is_accessible(page, "service-withdraw")
    when_i_press(page, "Withdraw the service")
    then_i_see_the_text(page, "is withdrawn")
    then_the_page_is_accessible(page, "provider-edit-withdrawn")
    service.refresh_from_db()
    assert service.status == Service.Status.WITHDRAWN
