from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, InvitationFactory, MembershipFactory, UserFactory
from users.models import Invitation, Membership, Role

pytestmark = pytest.mark.django_db


def test_an_org_admin_invites_someone_from_the_team_page(world: Any, client_for: Any) -> None:
    client = client_for(world.org_admin_x)
    url = reverse("users:member_invite", args=[world.org_x.pk])
    response = client.post(url, {"email": "new@example.test", "role": Role.CLINICIAN})
    assert response.status_code == 302
    assert Invitation.objects.filter(organisation=world.org_x, email="new@example.test").exists()


def test_an_invalid_invitation_shows_errors_and_creates_nothing(
    world: Any, client_for: Any
) -> None:
    client = client_for(world.org_admin_x)
    url = reverse("users:member_invite", args=[world.org_x.pk])
    response = client.post(url, {"email": "not-an-email", "role": "wizard"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: " in html
    assert 'href="#id_email"' in html
    assert not Invitation.objects.exists()


def test_an_admin_cannot_manage_another_organisations_members(world: Any, client_for: Any) -> None:
    other = MembershipFactory(organisation=world.org_y)
    client = client_for(world.org_admin_x)
    assert client.get(reverse("users:member_list", args=[world.org_y.pk])).status_code == 404
    response = client.post(
        reverse("users:member_remove", args=[world.org_y.pk, other.pk]),
    )
    assert response.status_code == 404
    # Nor reach Y's member through X's address.
    response = client.post(
        reverse("users:member_change", args=[world.org_x.pk, other.pk]), {"role": "clinician"}
    )
    assert response.status_code == 404
    assert Membership.objects.get(pk=other.pk).role == Role.CARE_COORDINATOR


def test_removing_the_last_admin_is_refused_with_a_message(world: Any, client_for: Any) -> None:
    admin = world.org_admin_x.memberships.get()
    response = client_for(world.org_admin_x).post(
        reverse("users:member_remove", args=[world.org_x.pk, admin.pk])
    )
    assert response.status_code == 409
    assert "at least one organisation admin" in response.content.decode()
    assert Membership.objects.filter(pk=admin.pk).exists()


def test_sign_up_is_closed_without_an_invitation(client: Client) -> None:
    response = client.post(
        reverse("account_signup"),
        {"email": "walk-in@example.test", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert "Accounts are by invitation" in response.content.decode()
    from users.models import User

    assert not User.objects.filter(email="walk-in@example.test").exists()


def test_an_invited_person_creates_an_account_joins_and_must_set_up_mfa(
    world: Any, client: Client
) -> None:
    invitation = InvitationFactory(
        organisation=world.org_x, email="invited@example.test", role=Role.CLINICIAN
    )
    accept_url = reverse("users:invitation_accept", args=[invitation.token])
    assert "Create your account" in client.get(accept_url).content.decode()
    signup = client.post(
        f"{reverse('account_signup')}?next={accept_url}",
        {
            "email": "invited@example.test",
            "name": "Ivy Invited",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert signup.status_code == 302, signup.content.decode()[:2000]
    assert signup["Location"] == accept_url
    joined = client.post(accept_url)
    assert joined.status_code == 302
    membership = Membership.objects.get(user__email="invited@example.test")
    assert membership.role == Role.CLINICIAN
    assert membership.user.name == "Ivy Invited"
    # Staff without MFA are taken to set it up before any other page.
    for page in (reverse("home"), reverse("budgets:holder_list")):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_activate_totp")
    api = client.get(reverse("api:organisation_list"))
    assert api.status_code == 403
    assert api.headers["Content-Type"] == "application/problem+json"


def test_a_budget_holder_without_mfa_is_not_forced_to_set_it_up(
    world: Any, client_for: Any
) -> None:
    response = client_for(world.holder_a.user).get(
        reverse("budgets:holder_detail", args=[world.holder_a.pk])
    )
    assert response.status_code == 200


def test_signing_in_with_mfa_asks_for_the_code(world: Any, client: Client) -> None:
    import pyotp

    from tests.factories import TOTP_SECRET

    response = client.post(
        reverse("account_login"), {"login": world.staff_x.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session
    right = client.post(reverse("mfa_authenticate"), {"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(world.staff_x.pk)


def test_repeated_wrong_passwords_lock_the_account_for_a_while(client: Client) -> None:
    user = UserFactory()
    for _ in range(5):
        client.post(reverse("account_login"), {"login": user.email, "password": "wrong"})
    locked = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert locked.status_code in {403, 429}
    assert "Too many attempts to sign in" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def _turn_off_mfa(client: Any) -> None:
    """Ask to turn MFA off, confirm the password when asked (allauth then resumes the
    request), and submit again in case it did not."""
    first = client.post(reverse("mfa_deactivate_totp"))
    if first.status_code == 302 and "reauthenticate" in first["Location"]:
        client.post(first["Location"], {"password": PASSWORD})
    client.post(reverse("mfa_deactivate_totp"))


def test_staff_cannot_turn_off_two_factor_authentication(world: Any, client_for: Any) -> None:
    from allauth.mfa.models import Authenticator

    _turn_off_mfa(client_for(world.staff_x))
    assert Authenticator.objects.filter(user=world.staff_x, type=Authenticator.Type.TOTP).exists()


def test_a_budget_holder_may_turn_two_factor_authentication_off(
    world: Any, client_for: Any
) -> None:
    from allauth.mfa.models import Authenticator

    from tests.factories import with_mfa

    user = with_mfa(world.holder_a.user)
    _turn_off_mfa(client_for(user))
    assert not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def test_people_are_greeted_by_their_first_name_not_their_title() -> None:
    from users.models import User

    assert User(name="Dr Helen Marsh").get_short_name() == "Helen"
    assert User(name="Ms. Shannon Griffiths").get_short_name() == "Shannon"
    assert User(name="", email="a@b.test").get_short_name() == "a@b.test"


def test_the_invite_form_says_what_is_missing_in_plain_words(world: Any, client_for: Any) -> None:
    response = client_for(world.org_admin_x).post(
        reverse("users:member_invite", args=[world.org_x.pk]), {}
    )
    html = response.content.decode()
    assert "Enter their email address" in html
    assert "Choose a role" in html
