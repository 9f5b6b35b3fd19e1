"""Finding support in the browser: a visitor (not signed in) searches with a filter, sees
the results, opens a service and its provider; a search with no results; the results
on a phone; a holder reviews a delivered booking and a commissioner publishes it. Every
page ends with the axe check."""

from __future__ import annotations

import datetime
import importlib
import re
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.utils import timezone
from playwright.sync_api import Page, expect

from marketplace.models import Category, CostOption, Provider, ProviderKind, Review
from tests.conftest import World
from tests.e2e.steps import (
    given_i_am_signed_in_as,
    given_i_open,
    then_i_see_the_heading,
    then_i_see_the_text,
    then_nothing_scrolls_sideways,
    then_the_error_summary_lists,
    then_the_page_is_accessible,
    when_i_choose,
    when_i_fill_in,
    when_i_follow_the_link,
    when_i_press,
)
from tests.factories import UserFactory
from tests.marketplace.factories import (
    LocationFactory,
    ProviderFactory,
    ScheduleFactory,
    ServiceAtLocationFactory,
    ServiceFactory,
    category,
)
from tests.matrix_samples.marketplace_search import delivered_booking

pytestmark = pytest.mark.e2e


def given_the_national_categories() -> None:
    """Browser tests run on a database emptied after each test, seeded rows included:
    seed the categories again as their migration does."""
    if not Category.objects.exists():
        seeding = importlib.import_module("marketplace.migrations.0002_national_categories")
        seeding.seed(django_apps, None)


def given_a_market(world: World) -> dict[str, Any]:
    """A free user-led swimming group, a verified personal assistant who swims, and more."""
    given_the_national_categories()
    group = ProviderFactory(
        name="Leeds Swim Together",
        kind=ProviderKind.COMMUNITY_GROUP,
        user_led=True,
        not_for_profit=True,
        description="A group run by and for disabled swimmers.",
        phone="0113 496 0001",
        areas=[world.org_x],
    )
    swim = ServiceFactory(
        provider=group,
        title="Swimming for everyone",
        description="Relaxed swimming sessions with changing places and hoists.",
        keywords="Leeds Swim Together community group pool",
        category=category("sport-fitness"),
        is_free=True,
        postcode_districts=[],
        minimum_age=16,
        languages=["en", "sgn"],
    )
    hall = LocationFactory(
        provider=group,
        name="Fearnville Leisure Centre",
        address_1="Oakwood Lane",
        postcode="LS8 3LF",
    )
    ServiceAtLocationFactory(service=swim, location=hall)
    ScheduleFactory(service=swim, weekday=5, opens_at=datetime.time(9), closes_at=datetime.time(11))
    pa = ProviderFactory(
        name="Priya Shah",
        kind=ProviderKind.PERSONAL_ASSISTANT,
        verification=Provider.Verification.VERIFIED,
        verified_by=UserFactory(),
        verified_at=timezone.now(),
        verification_expires_on=timezone.localdate() + datetime.timedelta(days=300),
        insurer="Community Mutual",
        insurance_expires_on=timezone.localdate() + datetime.timedelta(days=200),
        areas=[world.org_x],
    )
    ServiceFactory(
        provider=pa,
        title="Personal assistant: swimming and days out",
        description="I can support you to go swimming, shopping and to see friends.",
        keywords="Priya Shah personal assistance",
        price=(18_00, CostOption.Per.HOUR),
        postcode_districts=["LS8", "LS7"],
    )
    ServiceFactory(
        title="Art club",
        description="Painting on Tuesday afternoons.",
        category=category("arts-creativity"),
        price=(5_00, CostOption.Per.SESSION),
    )
    return {"swim": swim, "group": group}


def test_a_visitor_searches_with_a_filter_and_opens_a_service(page: Page, world: World) -> None:
    given_a_market(world)

    given_i_open(page, "/support/")
    then_i_see_the_heading(page, "Find support")
    then_i_see_the_text(page, "3 services found")
    then_the_page_is_accessible(page, "market-search")

    when_i_fill_in(page, "What are you looking for?", "swimming")
    page.get_by_role("checkbox", name="Free", exact=True).check()
    when_i_press(page, "Search")
    then_i_see_the_text(page, "1 service found")
    results = page.locator(".nhsuk-card")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Swimming for everyone")
    expect(results.first).to_contain_text("Leeds Swim Together")
    expect(results.first).to_contain_text("User-led")
    expect(results.first).to_contain_text("Not for profit")
    expect(results.first).to_contain_text("Free")
    expect(results.first).to_contain_text("Fearnville Leisure Centre, Leeds")
    then_the_page_is_accessible(page, "market-results")

    # Without the filter both swimming services show, the title match first.
    page.get_by_role("checkbox", name="Free", exact=True).uncheck()
    when_i_press(page, "Apply filters")
    then_i_see_the_text(page, "2 services found")
    expect(page.locator(".nhsuk-card__heading").first).to_have_text("Swimming for everyone")
    expect(page.locator(".nhsuk-card").nth(1)).to_contain_text("£18.00 an hour")
    expect(page.locator(".nhsuk-card").nth(1)).to_contain_text("Verified")
    then_the_page_is_accessible(page, "market-results-unfiltered")

    when_i_follow_the_link(page, "Swimming for everyone")
    then_i_see_the_heading(page, "Swimming for everyone")
    for text in [
        "Free to use.",
        "Oakwood Lane",
        "LS8 3LF",
        "Saturday",
        "09:00 to 11:00",
        "16 and over",
        "English, British Sign Language",
        "Community or neighbourhood group",
        "No insurance recorded",
        "0113 496 0001",
        "No reviews yet",
    ]:
        then_i_see_the_text(page, text)
    then_the_page_is_accessible(page, "market-service")

    when_i_follow_the_link(page, "More about Leeds Swim Together and their other services")
    then_i_see_the_heading(page, "Leeds Swim Together")
    then_i_see_the_text(page, "A group run by and for disabled swimmers.")
    then_the_page_is_accessible(page, "market-provider")


def test_a_search_with_no_results_suggests_removing_filters(page: Page, world: World) -> None:
    given_a_market(world)

    given_i_open(page, "/support/?q=swimming&only=verified&only=free")
    then_i_see_the_text(page, "No services match your search")
    then_the_page_is_accessible(page, "market-no-results")

    when_i_follow_the_link(page, "remove the filters")
    then_i_see_the_text(page, "2 services found")
    then_the_page_is_accessible(page, "market-filters-removed")


def test_a_wrong_price_is_explained(page: Page, world: World) -> None:
    given_a_market(world)

    given_i_open(page, "/support/")
    then_the_page_is_accessible(page, "market-search-all")
    when_i_fill_in(page, "Price up to, in pounds", "cheap")
    when_i_press(page, "Apply filters")
    then_the_error_summary_lists(page, "Enter a price in pounds, like 20 or 12.50")
    then_the_page_is_accessible(page, "market-search-error")


def test_the_results_and_a_service_on_a_phone(page: Page, world: World) -> None:
    market = given_a_market(world)
    page.set_viewport_size({"width": 375, "height": 740})

    given_i_open(page, "/support/?q=swimming")
    then_i_see_the_text(page, "2 services found")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "market-results-phone")

    page.set_viewport_size({"width": 320, "height": 640})
    given_i_open(page, f"/support/services/{market['swim'].pk}/")
    then_i_see_the_heading(page, "Swimming for everyone")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "market-service-320")


def test_a_holder_reviews_and_a_commissioner_publishes(page: Page, world: World) -> None:
    market = given_a_market(world)
    booking = delivered_booking(world, market["swim"])

    given_i_am_signed_in_as(page, world.holder_a.user)
    given_i_open(page, f"/bookings/{booking.pk}/review/")
    then_i_see_the_heading(page, "Review Swimming for everyone")
    then_the_page_is_accessible(page, "market-review-form")

    when_i_fill_in(page, "Tell other people about it (optional)", "Warm water and kind people.")
    when_i_press(page, "Send review")
    then_the_error_summary_lists(page, "Choose a rating from 1 to 5")
    then_the_page_is_accessible(page, "market-review-form-error")

    when_i_choose(page, "5 out of 5: very good")
    when_i_press(page, "Send review")
    then_i_see_the_heading(page, "Swimming for everyone")
    then_i_see_the_text(page, "It will be published once a commissioner has checked it")
    then_i_see_the_text(page, "No reviews yet")
    then_the_page_is_accessible(page, "market-service-after-review")

    page.context.clear_cookies()
    given_i_am_signed_in_as(page, world.commissioner)
    given_i_open(page, "/market/reviews/")
    then_i_see_the_heading(page, "Reviews to check")
    then_i_see_the_text(page, "Waiting (1)")
    then_the_page_is_accessible(page, "market-review-queue")

    page.get_by_role(
        "link", name=re.compile(r"^Swimming for everyone +\(check the review\)$")
    ).click()
    then_i_see_the_heading(page, "Check a review of Swimming for everyone")
    then_i_see_the_text(page, "Warm water and kind people.")
    then_the_page_is_accessible(page, "market-review-moderate")

    when_i_choose(page, "Yes, publish it")
    when_i_press(page, "Save decision")
    then_i_see_the_text(page, "The review of Swimming for everyone is published.")
    then_i_see_the_text(page, "There are no reviews waiting.")
    then_the_page_is_accessible(page, "market-review-queue-empty")

    assert Review.objects.get().state == Review.State.PUBLISHED
    given_i_open(page, f"/support/services/{market['swim'].pk}/#reviews")
    then_i_see_the_text(page, "5.0 out of 5 (1 review)")
    then_i_see_the_text(page, "Warm water and kind people.")
    then_the_page_is_accessible(page, "market-service-with-review")
