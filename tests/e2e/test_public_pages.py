"""Pages anyone can open without signing in."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.steps import (
    given_i_open,
    then_each_error_link_moves_focus_to_its_field,
    then_i_am_on,
    then_i_see_the_heading,
    then_i_see_the_text,
    then_the_error_summary_lists,
    then_the_page_is_accessible,
    then_the_title_starts_with,
    when_i_follow_the_link,
    when_i_press,
    when_i_sign_in_with,
)
from tests.factories import InvitationFactory

pytestmark = pytest.mark.e2e


def test_someone_signed_out_finds_sign_in_password_reset_and_the_accessibility_statement(page):
    given_i_open(page, "/")
    then_i_see_the_heading(page, "Your personal health budget")
    then_the_page_is_accessible(page, "home-public")

    when_i_follow_the_link(page, "Sign in")
    then_i_am_on(page, "/accounts/login/")
    then_i_see_the_heading(page, "Sign in")
    then_the_page_is_accessible(page, "login")

    when_i_follow_the_link(page, "Forgotten your password?")
    then_i_see_the_heading(page, "Reset your password")
    then_the_page_is_accessible(page, "password-reset")

    when_i_follow_the_link(page, "Accessibility statement")
    then_i_see_the_heading(page, "Accessibility statement")
    then_the_page_is_accessible(page, "accessibility-statement")


def test_a_page_that_does_not_exist_says_so(page):
    given_i_open(page, "/no-such-page/")
    then_i_see_the_heading(page, "Page not found")
    then_the_title_starts_with(page, "Page not found")
    then_the_page_is_accessible(page, "not-found")


def test_a_wrong_password_shows_an_error_summary_linked_to_the_form(page, world):
    given_i_open(page, "/accounts/login/")
    then_the_page_is_accessible(page, "login")
    when_i_sign_in_with(page, email=world.holder_a.user.email, password="not-the-password")
    then_i_am_on(page, "/accounts/login/")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(
        page, "The email address and/or password you specified are not correct."
    )
    then_each_error_link_moves_focus_to_its_field(page)
    expect(page.get_by_label("Email address", exact=True)).to_have_value(world.holder_a.user.email)
    then_the_page_is_accessible(page, "login-with-errors")


def test_someone_invited_opens_their_link_and_is_offered_an_account(page, world):
    invitation = InvitationFactory(
        organisation=world.org_x, email="new.colleague@example.test", invited_by=world.org_admin_x
    )
    given_i_open(page, f"/invitations/{invitation.token}/")
    then_i_see_the_heading(page, "Join North ICB")
    then_i_see_the_text(page, "using the email address new.colleague@example.test")
    then_the_page_is_accessible(page, "invitation-signed-out")

    when_i_press(page, "Create your account")
    then_i_see_the_heading(page, "Create your account")
    then_the_page_is_accessible(page, "sign-up")

    when_i_press(page, "Create account")
    then_the_title_starts_with(page, "Error: ")
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "sign-up-with-errors")
