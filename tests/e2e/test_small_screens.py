"""Pages reflow on a 320 CSS pixel wide screen without scrolling sideways (WCAG 1.4.10)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.steps import (
    given_i_am_signed_in_as,
    given_i_open,
    then_i_see_the_heading,
    then_nothing_scrolls_sideways,
    then_the_page_is_accessible,
)
from tests.factories import InvitationFactory, NotificationFactory

pytestmark = pytest.mark.e2e


def given_a_small_screen(page: Page) -> None:
    page.set_viewport_size({"width": 320, "height": 640})


def test_staff_pages_fit_a_small_screen(page, world):
    InvitationFactory(
        organisation=world.org_x,
        email="a.rather.long.address.for.a.new.colleague@example.test",
        invited_by=world.org_admin_x,
    )
    given_a_small_screen(page)
    given_i_am_signed_in_as(page, world.org_admin_x)

    given_i_open(page, "/")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "narrow-home-organisation-admin")

    given_i_open(page, f"/organisations/{world.org_x.pk}/members/")
    then_i_see_the_heading(page, "Team at North ICB")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "narrow-team")

    given_i_open(page, f"/people/{world.holder_a.pk}/")
    then_i_see_the_heading(page, "Alex Holder")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "narrow-record")

    given_i_open(page, "/audit/")
    then_i_see_the_heading(page, "Audit log")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "narrow-audit-log")


def test_a_budget_holders_pages_fit_a_small_screen(page, world):
    NotificationFactory(user=world.holder_a.user)
    given_a_small_screen(page)
    given_i_am_signed_in_as(page, world.holder_a.user)

    given_i_open(page, f"/people/{world.holder_a.pk}/")
    then_i_see_the_heading(page, "Your record")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "narrow-record-own")

    given_i_open(page, "/notifications/")
    then_i_see_the_heading(page, "Notifications")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "narrow-notifications")
