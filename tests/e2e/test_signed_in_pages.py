"""Pages for each kind of signed-in user (signed in by session cookie)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.steps import (
    given_i_am_signed_in_as,
    given_i_open,
    then_each_error_link_moves_focus_to_its_field,
    then_i_am_on,
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
from tests.factories import NotificationFactory

pytestmark = pytest.mark.e2e


def test_a_commissioner_searches_the_audit_log(page, world):
    given_i_am_signed_in_as(page, world.commissioner)
    given_i_open(page, "/")
    then_i_see_the_heading(page, f"Hello, {world.commissioner.get_short_name()}")
    then_the_page_is_accessible(page, "home-commissioner")

    # The header's menu keeps what does not fit under "More"; the home page links it.
    when_i_follow_the_link(page, "Search the audit log")
    then_i_see_the_heading(page, "Audit log")
    then_the_page_is_accessible(page, "audit-log")

    when_i_fill_in(page, "From date", "2026-03-27")
    when_i_fill_in(page, "To date", "2026-03-01")
    when_i_press(page, "Search")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(page, "The to date must be the same as or after the from date")
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "audit-log-with-errors")


def test_a_representative_opens_the_record_of_the_person_they_act_for(page, world):
    given_i_am_signed_in_as(page, world.representative)
    given_i_open(page, "/")
    then_i_see_the_heading(page, f"Hello, {world.representative.get_short_name()}")
    then_the_page_is_accessible(page, "home-representative")

    when_i_follow_the_link(page, "Alex Holder")
    then_i_see_the_heading(page, "Alex Holder")
    then_i_see_the_text(page, "£13,000.00")
    then_i_see_the_text(page, "See the budget and its spending")
    then_the_page_is_accessible(page, "record-represented")


def test_a_care_coordinator_finds_a_person_and_opens_their_record(page, world):
    given_i_am_signed_in_as(page, world.staff_x)
    given_i_open(page, "/people/")
    then_i_see_the_heading(page, "Find a person")
    expect(page.get_by_role("link", name="Bea Holder")).to_have_count(0)
    then_the_page_is_accessible(page, "people")

    when_i_follow_the_link(page, "Alex Holder")
    then_i_see_the_heading(page, "Alex Holder")
    then_the_page_is_accessible(page, "record-staff-view")


def test_a_budget_holder_reads_an_unread_notification(page, world):
    NotificationFactory(user=world.holder_a.user, subject="Your plan has been approved")
    given_i_am_signed_in_as(page, world.holder_a.user)
    given_i_open(page, "/")
    then_i_see_the_text(page, "Your plan has been approved")
    then_the_page_is_accessible(page, "home-budget-holder-unread")

    when_i_follow_the_link(page, "See all notifications")
    then_i_see_the_heading(page, "Notifications")
    expect(page.get_by_role("main").get_by_role("heading", level=2)).to_have_text(
        "Unread: Your plan has been approved"
    )
    then_the_page_is_accessible(page, "notifications-unread")

    when_i_press(page, "Mark “Your plan has been approved” as read")
    then_i_am_on(page, "/notifications/")
    expect(page.get_by_role("main").get_by_role("heading", level=2)).to_have_text(
        "Your plan has been approved"
    )
    then_the_page_is_accessible(page, "notifications-read")


def test_an_organisation_admin_changes_a_role_and_cannot_remove_the_last_admin(page, world):
    admin = world.org_admin_x
    given_i_am_signed_in_as(page, admin)
    given_i_open(page, f"/organisations/{world.org_x.pk}/members/")
    then_i_see_the_heading(page, "Team at North ICB")
    then_the_page_is_accessible(page, "team")

    when_i_follow_the_link(page, f"Change role for {world.staff_x.name}")
    then_i_see_the_heading(page, f"Change {world.staff_x.name}'s role")
    then_the_page_is_accessible(page, "member-change-role")

    when_i_choose(page, "Commissioner")
    when_i_press(page, "Save role")
    then_i_see_the_heading(page, "Team at North ICB")
    then_i_see_the_text(page, f"{world.staff_x.name}'s role has been changed.")
    then_the_page_is_accessible(page, "team-after-role-change")

    when_i_follow_the_link(page, f"Remove {admin.name}")
    then_i_see_the_heading(page, f"Remove {admin.name} from North ICB?")
    then_the_page_is_accessible(page, "member-remove")

    when_i_press(page, "Remove")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(
        page, "The organisation must keep at least one organisation admin."
    )
    then_the_page_is_accessible(page, "member-remove-last-admin")


def test_names_with_html_in_them_are_shown_as_text(page, world):
    # People choose their own names at sign-up, and the header shows the name on every page.
    world.org_admin_x.name = '<b id="injected-name">Mallory</b> Jones'
    world.org_admin_x.save(update_fields=["name"])
    world.org_x.name = '<i id="injected-organisation">North</i> ICB'
    world.org_x.save(update_fields=["name"])
    given_i_am_signed_in_as(page, world.org_admin_x)
    given_i_open(page, "/")
    expect(page.locator("#injected-name, #injected-organisation")).to_have_count(0)
    expect(page.get_by_role("banner")).to_contain_text('<b id="injected-name">Mallory</b> Jones')
    expect(page.get_by_role("main")).to_contain_text(
        'People <i id="injected-organisation">North</i> ICB supports'
    )
    then_the_page_is_accessible(page, "home-names-as-text")
