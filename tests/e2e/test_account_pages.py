"""The rest of the account pages a person can reach: accepting an invitation, resetting
a password, a closed sign-up, a lockout and an expired form, each with the axe check."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.e2e.steps import (
    given_i_am_signed_in_as,
    given_i_open,
    then_i_see_the_heading,
    then_the_page_is_accessible,
    when_i_fill_in,
    when_i_press,
    when_i_sign_in_with,
)
from tests.factories import PASSWORD, InvitationFactory, UserFactory
from users.models import Membership, Role

pytestmark = pytest.mark.e2e


def test_someone_signed_in_accepts_an_invitation_and_is_asked_to_set_up_mfa(page, world):
    joiner = UserFactory(name="Jo Joiner")
    invitation = InvitationFactory(
        organisation=world.org_x, email=joiner.email, role=Role.CLINICIAN
    )
    given_i_am_signed_in_as(page, joiner)
    given_i_open(page, f"/invitations/{invitation.token}/")
    then_i_see_the_heading(page, "Join North ICB")
    then_the_page_is_accessible(page, "invitation-accept")

    when_i_press(page, "Accept and join")
    # allauth asks for the password again before an authenticator is added.
    then_i_see_the_heading(page, "Confirm it is you")
    then_the_page_is_accessible(page, "reauthenticate-after-joining")
    when_i_fill_in(page, "Password", PASSWORD)
    when_i_press(page, "Confirm")
    then_i_see_the_heading(page, "Set up two-factor authentication")
    then_the_page_is_accessible(page, "mfa-setup-after-joining")
    assert Membership.objects.get(user=joiner).role == Role.CLINICIAN


def test_a_used_invitation_link_says_so(page, world):
    given_i_open(page, "/invitations/not-a-real-token/")
    then_i_see_the_heading(page, "This invitation cannot be used")
    then_the_page_is_accessible(page, "invitation-invalid")


def test_a_person_resets_their_password_from_the_emailed_link(page, world):
    given_i_open(page, "/accounts/password/reset/")
    then_the_page_is_accessible(page, "password-reset")
    when_i_fill_in(page, "Email", world.holder_a.user.email)
    when_i_press(page, "Send reset link")
    then_i_see_the_heading(page, "Check your email")
    then_the_page_is_accessible(page, "password-reset-sent")

    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[-1].body)
    assert link is not None
    given_i_open(page, link.group(1))
    then_i_see_the_heading(page, "Choose a new password")
    then_the_page_is_accessible(page, "password-reset-choose")

    new_password = PASSWORD + "-new"
    when_i_fill_in(page, "New password", new_password)
    when_i_fill_in(page, "Confirm new password", new_password)
    when_i_press(page, "Change password")
    then_i_see_the_heading(page, "Your password has been changed")
    then_the_page_is_accessible(page, "password-reset-done")


def test_an_old_password_reset_link_says_it_has_expired(page, world):
    given_i_open(page, "/accounts/password/reset/key/zz-not-a-key/")
    then_i_see_the_heading(page, "This link has expired")
    then_the_page_is_accessible(page, "password-reset-expired")


def test_sign_up_without_an_invitation_explains_that_accounts_are_by_invitation(page, world):
    given_i_open(page, "/accounts/signup/")
    then_i_see_the_heading(page, "Accounts are by invitation")
    then_the_page_is_accessible(page, "sign-up-closed")


def test_too_many_wrong_passwords_pause_signing_in(page, world):
    given_i_open(page, "/accounts/login/")
    then_the_page_is_accessible(page, "login")
    # The test settings lock after 5 failures (production: 10).
    for _ in range(4):
        when_i_sign_in_with(page, email=world.holder_a.user.email, password="wrong-password")
        then_the_page_is_accessible(page, "login-wrong-password")
    when_i_sign_in_with(page, email=world.holder_a.user.email, password="wrong-password")
    then_i_see_the_heading(page, "Too many attempts to sign in")
    then_the_page_is_accessible(page, "locked-out")


def test_a_form_sent_without_its_security_token_explains_the_session_expired(page, world):
    given_i_open(page, "/accounts/login/")
    then_the_page_is_accessible(page, "login")
    page.context.clear_cookies()
    when_i_sign_in_with(page, email=world.holder_a.user.email, password=PASSWORD)
    then_i_see_the_heading(page, "Your session has expired")
    then_the_page_is_accessible(page, "csrf-failure")


def test_the_confirm_your_email_page_says_what_to_do(page, world):
    given_i_open(page, "/accounts/confirm-email/")
    then_i_see_the_heading(page, "Confirm your email address")
    then_the_page_is_accessible(page, "verification-sent")
