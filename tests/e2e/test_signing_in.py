"""Signing in through the real pages: password, and the 6-digit code for staff."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.steps import (
    given_i_open,
    then_each_error_link_moves_focus_to_its_field,
    then_i_am_on,
    then_i_see_the_heading,
    then_i_see_the_text,
    then_the_error_summary_links_to,
    then_the_page_is_accessible,
    then_the_title_starts_with,
    when_i_choose,
    when_i_enter_the_code_for,
    when_i_fill_in,
    when_i_follow_the_link,
    when_i_press,
    when_i_sign_in_with,
)
from tests.factories import PASSWORD, TOTP_SECRET, MembershipFactory
from users.models import Role

pytestmark = pytest.mark.e2e


def test_a_budget_holder_signs_in_and_reaches_their_record_notifications_and_security(page, world):
    holder = world.holder_a
    given_i_open(page, "/accounts/login/")
    then_i_see_the_heading(page, "Sign in")
    then_the_page_is_accessible(page, "login")

    when_i_sign_in_with(page, email=holder.user.email, password=PASSWORD)
    then_i_am_on(page, "/")
    then_i_see_the_heading(page, f"Hello, {holder.user.get_short_name()}")
    then_the_page_is_accessible(page, "home-budget-holder")

    when_i_follow_the_link(page, "Your record")
    then_i_see_the_heading(page, "Your record")
    then_i_see_the_text(page, world.representative.name)
    then_the_page_is_accessible(page, "record-own")

    when_i_follow_the_link(page, "Notifications")
    then_i_see_the_heading(page, "Notifications")
    then_i_see_the_text(page, "You have no notifications.")
    then_the_page_is_accessible(page, "notifications-none")

    when_i_follow_the_link(page, "Security")
    then_i_see_the_heading(page, "Security and two-factor authentication")
    then_i_see_the_text(page, "It is optional for you.")
    then_the_page_is_accessible(page, "security-budget-holder")

    when_i_follow_the_link(page, "Sign out")
    then_i_see_the_heading(page, "Sign out")
    then_the_page_is_accessible(page, "sign-out")

    when_i_press(page, "Sign out")
    then_i_see_the_heading(page, "Your personal health budget")
    then_the_page_is_accessible(page, "home-public")


def test_an_organisation_admin_signs_in_with_a_code_and_invites_a_colleague(page, world):
    admin = world.org_admin_x
    given_i_open(page, "/accounts/login/")
    then_the_page_is_accessible(page, "login")
    when_i_sign_in_with(page, email=admin.email, password=PASSWORD)
    then_i_am_on(page, "/accounts/2fa/authenticate/")
    then_i_see_the_heading(page, "Enter your security code")
    then_the_page_is_accessible(page, "mfa-authenticate")

    when_i_enter_the_code_for(page, TOTP_SECRET, label="Code", button="Continue")
    then_i_am_on(page, "/")
    then_i_see_the_heading(page, f"Hello, {admin.get_short_name()}")
    then_the_page_is_accessible(page, "home-organisation-admin")

    when_i_follow_the_link(page, "Team: North ICB")
    then_i_see_the_heading(page, "Team at North ICB")
    then_i_see_the_text(page, "There are no invitations waiting.")
    then_the_page_is_accessible(page, "team")

    when_i_press(page, "Invite someone")
    then_i_see_the_heading(page, "Invite someone to North ICB")
    then_the_page_is_accessible(page, "invite")

    when_i_press(page, "Send invitation")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_links_to(page, "id_email", "id_role")
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "invite-with-errors")

    when_i_fill_in(page, "Email address", "new.colleague@example.test")
    when_i_choose(page, "Clinician")
    when_i_press(page, "Send invitation")
    then_i_see_the_heading(page, "Team at North ICB")
    then_i_see_the_text(page, "Invitation sent to new.colleague@example.test.")
    invitations = page.get_by_role("table", name="Invitations waiting to be accepted")
    expect(invitations.get_by_role("row").nth(1)).to_contain_text("new.colleague@example.test")
    expect(invitations.get_by_role("row").nth(1)).to_contain_text("Clinician")
    then_the_page_is_accessible(page, "team-with-invitation")


def test_a_staff_member_without_two_factor_authentication_sets_it_up_before_staff_pages(
    page, world
):
    staff = MembershipFactory(organisation=world.org_x, role=Role.CARE_COORDINATOR).user
    given_i_open(page, "/accounts/login/")
    then_the_page_is_accessible(page, "login")
    when_i_sign_in_with(page, email=staff.email, password=PASSWORD)
    # Straight to setting up the authenticator; allauth first asks for the password again.
    then_i_see_the_heading(page, "Confirm it is you")
    then_i_am_on(page, "/accounts/reauthenticate/")
    then_i_see_the_text(page, "Before you set up two-factor authentication")
    then_the_page_is_accessible(page, "reauthenticate")

    when_i_fill_in(page, "Password", PASSWORD)
    when_i_press(page, "Confirm")
    then_i_am_on(page, "/accounts/2fa/totp/activate/")
    then_i_see_the_heading(page, "Set up two-factor authentication")
    then_i_see_the_text(page, "needs two-factor authentication before using staff pages")
    then_the_page_is_accessible(page, "mfa-setup")

    secret = page.locator("#authenticator-secret").inner_text().strip()
    when_i_enter_the_code_for(
        page, secret, label="Authenticator code", button="Turn on two-factor authentication"
    )
    then_i_see_the_heading(page, "Your recovery codes")
    then_the_page_is_accessible(page, "mfa-recovery-codes")

    when_i_follow_the_link(page, "People we support")
    then_i_am_on(page, "/people/")
    then_i_see_the_heading(page, "Find a person")
    then_i_see_the_text(page, world.holder_a.name)
    then_the_page_is_accessible(page, "people")
