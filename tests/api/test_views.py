"""Who may call which API view, and what each one shows them (``users/api/views.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.api.partners import ALL_SCOPES, assert_problem, bearer_client, new_key
from tests.factories import MembershipFactory, PartnerApplicationFactory, UserFactory, with_mfa
from users.models import Invitation, Role

pytestmark = pytest.mark.django_db


NEWCOMER = {"email": "n@example.test", "role": "clinician"}


def _members_url(org: Any) -> str:
    return f"/api/v1/organisations/{org.pk}/members/"


def _invite(client: Any, org: Any, body: dict[str, Any], key: str | None = None) -> Any:
    return client.post(
        _members_url(org),
        body,
        content_type="application/json",
        headers={"Idempotency-Key": key or new_key()},
    )


# /me/ -------------------------------------------------------------------------------------


def test_me_describes_a_partner_application_its_organisation_and_scopes(
    world: Any, partner_app: Any, app_client: Any
) -> None:
    response = app_client.get("/api/v1/me/")

    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "application"
    assert body["id"] == partner_app.pk
    assert body["name"] == partner_app.name
    assert body["organisation"]["id"] == world.org_x.pk
    assert body["organisation"]["name"] == "North ICB"
    assert body["scopes"] == sorted(ALL_SCOPES.split())
    assert "email" not in body


def test_me_shows_only_the_scopes_the_token_was_granted(
    partner_app: Any, token_for: Callable[..., str]
) -> None:
    client = bearer_client(token_for(partner_app, "organisation:read"))

    assert client.get("/api/v1/me/").json()["scopes"] == ["organisation:read"]


def test_me_describes_a_signed_in_staff_member_and_their_memberships(
    world: Any, client_for: Callable[..., Any]
) -> None:
    response = client_for(world.staff_x).get("/api/v1/me/")

    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "user"
    assert body["email"] == world.staff_x.email
    assert body["is_budget_holder"] is False
    assert body["memberships"] == [
        {
            "organisation": {
                "id": world.org_x.pk,
                "name": "North ICB",
                "kind": "icb",
                "ods_code": "",
            },
            "role": "care_coordinator",
        }
    ]


def test_me_answers_a_budget_holder(world: Any, client_for: Callable[..., Any]) -> None:
    response = client_for(world.holder_a.user).get("/api/v1/me/")

    assert response.status_code == 200
    assert response.json()["is_budget_holder"] is True
    assert response.json()["memberships"] == []


def test_me_without_credentials_is_401_with_a_bearer_challenge(client_for: Any) -> None:
    response = client_for(None).get("/api/v1/me/")

    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_bad_token_is_401_with_a_bearer_challenge_naming_the_error(db: Any) -> None:
    response = bearer_client("not-a-real-token").get("/api/v1/me/")

    body = assert_problem(response, 401)
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert "invalid" in body["detail"].lower()


def test_a_revoked_applications_token_stops_working(
    partner_app: Any, token_for: Callable[..., str]
) -> None:
    client = bearer_client(token_for(partner_app))
    partner_app.delete()

    assert_problem(client.get("/api/v1/me/"), 401)


# /organisations/ ---------------------------------------------------------------------------


def test_an_application_lists_only_its_own_organisation(world: Any, app_client: Any) -> None:
    response = app_client.get("/api/v1/organisations/")

    assert response.status_code == 200
    assert [org["id"] for org in response.json()["results"]] == [world.org_x.pk]


def test_an_application_reads_its_own_organisation(world: Any, app_client: Any) -> None:
    response = app_client.get(f"/api/v1/organisations/{world.org_x.pk}/")

    assert response.status_code == 200
    assert response.json() == {
        "id": world.org_x.pk,
        "name": "North ICB",
        "kind": "icb",
        "ods_code": "",
    }


@pytest.mark.parametrize("org_name", ["org_y", "provider_org"])
def test_another_organisation_is_not_found_for_an_application(
    world: Any, app_client: Any, org_name: str
) -> None:
    other = getattr(world, org_name)

    assert_problem(app_client.get(f"/api/v1/organisations/{other.pk}/"), 404)
    assert_problem(app_client.get(_members_url(other)), 404)


def test_a_staff_member_sees_only_their_own_organisations(
    world: Any, client_for: Callable[..., Any]
) -> None:
    MembershipFactory(user=world.staff_x, organisation=world.provider_org, role=Role.CLINICIAN)
    client = client_for(world.staff_x)

    listed = client.get("/api/v1/organisations/").json()["results"]

    assert {org["id"] for org in listed} == {world.org_x.pk, world.provider_org.pk}
    assert client.get(f"/api/v1/organisations/{world.org_x.pk}/").status_code == 200
    assert_problem(client.get(f"/api/v1/organisations/{world.org_y.pk}/"), 404)


def test_organisations_filter_by_kind(world: Any, client_for: Callable[..., Any]) -> None:
    MembershipFactory(user=world.staff_x, organisation=world.provider_org, role=Role.CLINICIAN)

    response = client_for(world.staff_x).get("/api/v1/organisations/", {"kind": "provider"})

    assert [org["id"] for org in response.json()["results"]] == [world.provider_org.pk]


@pytest.mark.parametrize("who", ["holder_a", "representative", "platform_admin"])
def test_people_who_are_not_staff_are_forbidden_the_organisations(
    world: Any, client_for: Callable[..., Any], who: str
) -> None:
    user = world.users()[who]
    client = client_for(user)

    assert_problem(client.get("/api/v1/organisations/"), 403)
    assert_problem(client.get(f"/api/v1/organisations/{world.org_x.pk}/"), 403)
    assert_problem(client.get(_members_url(world.org_x)), 403)
    assert client.get("/api/v1/me/").status_code == 200


def test_staff_without_two_factor_authentication_are_refused_by_the_api(
    world: Any, client_for: Callable[..., Any]
) -> None:
    user = MembershipFactory(organisation=world.org_x).user  # no TOTP set up

    body = assert_problem(client_for(user).get("/api/v1/organisations/"), 403)
    assert "two-factor" in body["title"].lower()


# /organisations/<pk>/members/ GET -----------------------------------------------------------


def test_an_application_lists_the_members_of_its_organisation(world: Any, app_client: Any) -> None:
    response = app_client.get(_members_url(world.org_x))

    assert response.status_code == 200
    emails = {member["email"] for member in response.json()["results"]}
    assert emails == {
        world.staff_x.email,
        world.commissioner.email,
        world.finance_officer.email,
        world.org_admin_x.email,
    }


def test_a_token_without_members_read_is_forbidden_the_members(
    world: Any, partner_app: Any, token_for: Callable[..., str]
) -> None:
    client = bearer_client(token_for(partner_app, "organisation:read members:write"))

    assert_problem(client.get(_members_url(world.org_x)), 403)


def test_a_token_without_organisation_read_is_forbidden_the_organisations(
    world: Any, partner_app: Any, token_for: Callable[..., str]
) -> None:
    client = bearer_client(token_for(partner_app, "members:read"))

    assert_problem(client.get("/api/v1/organisations/"), 403)
    assert_problem(client.get(f"/api/v1/organisations/{world.org_x.pk}/"), 403)
    assert client.get(_members_url(world.org_x)).status_code == 200


def test_any_staff_member_lists_their_colleagues_but_not_another_organisations(
    world: Any, client_for: Callable[..., Any]
) -> None:
    client = client_for(world.staff_x)

    assert client.get(_members_url(world.org_x)).status_code == 200
    assert_problem(client.get(_members_url(world.org_y)), 404)


def test_members_filter_by_role(world: Any, app_client: Any) -> None:
    clinician = MembershipFactory(organisation=world.org_x, role=Role.CLINICIAN)
    MembershipFactory(organisation=world.org_y, role=Role.CLINICIAN)

    response = app_client.get(_members_url(world.org_x), {"role": "clinician"})

    assert response.status_code == 200
    assert [member["id"] for member in response.json()["results"]] == [clinician.pk]


def test_an_unknown_role_filter_is_a_validation_problem(world: Any, app_client: Any) -> None:
    body = assert_problem(app_client.get(_members_url(world.org_x), {"role": "wizard"}), 400)

    assert "role" in body["errors"]


# /organisations/<pk>/members/ POST (invite) --------------------------------------------------


def test_an_organisation_admin_invites_someone(world: Any, client_for: Callable[..., Any]) -> None:
    response = _invite(
        client_for(world.org_admin_x),
        world.org_x,
        {"email": "New@Example.test", "role": "clinician"},
    )

    assert response.status_code == 201
    invitation = Invitation.objects.get()
    assert response.json() == {
        "id": invitation.pk,
        "email": "new@example.test",
        "role": "clinician",
        "expires_at": response.json()["expires_at"],
    }
    assert invitation.organisation == world.org_x
    assert invitation.invited_by == world.org_admin_x


@pytest.mark.parametrize("who", ["staff_x", "commissioner", "finance_officer", "staff_y"])
def test_staff_who_are_not_organisation_admins_cannot_invite(
    world: Any, client_for: Callable[..., Any], who: str
) -> None:
    client = client_for(world.users()[who])

    assert_problem(_invite(client, world.org_x, NEWCOMER), 403)
    assert not Invitation.objects.exists()


def test_an_admin_of_another_organisation_cannot_invite_here(
    world: Any, client_for: Callable[..., Any]
) -> None:
    admin_y = with_mfa(
        MembershipFactory(organisation=world.org_y, role=Role.ORGANISATION_ADMIN).user
    )

    response = _invite(client_for(admin_y), world.org_x, NEWCOMER)

    assert_problem(response, 404)
    assert not Invitation.objects.exists()


def test_an_admin_of_two_organisations_invites_only_where_they_are_admin(
    world: Any, client_for: Callable[..., Any]
) -> None:
    MembershipFactory(user=world.org_admin_x, organisation=world.org_y, role=Role.CLINICIAN)
    client = client_for(world.org_admin_x)

    assert_problem(_invite(client, world.org_y, NEWCOMER), 403)
    assert _invite(client, world.org_x, NEWCOMER).status_code == 201


def test_an_application_with_members_write_invites_in_its_users_name(
    world: Any, partner_app: Any, app_client: Any
) -> None:
    response = _invite(app_client, world.org_x, {"email": "n@example.test", "role": "commissioner"})

    assert response.status_code == 201
    invitation = Invitation.objects.get()
    assert invitation.invited_by == partner_app.user
    assert invitation.role == Role.COMMISSIONER


def test_an_application_without_members_write_cannot_invite(
    world: Any, partner_app: Any, token_for: Callable[..., str]
) -> None:
    client = bearer_client(token_for(partner_app, "organisation:read members:read"))

    assert_problem(_invite(client, world.org_x, NEWCOMER), 403)
    assert not Invitation.objects.exists()


def test_an_application_cannot_invite_to_another_organisation(world: Any, app_client: Any) -> None:
    assert_problem(_invite(app_client, world.org_y, NEWCOMER), 404)
    assert not Invitation.objects.exists()


def test_an_application_with_no_responsible_user_cannot_invite(
    world: Any, token_for: Callable[..., str]
) -> None:
    app = PartnerApplicationFactory(organisation=world.org_x, user=None, scopes=ALL_SCOPES)
    client = bearer_client(token_for(app))

    assert_problem(_invite(client, world.org_x, NEWCOMER), 403)
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "role": "clinician"}, "email"),
        ({"email": "n@example.test", "role": "wizard"}, "role"),
        ({"role": "clinician"}, "email"),
        ({"email": "n@example.test"}, "role"),
    ],
)
def test_an_invalid_invitation_is_a_validation_problem_naming_the_field(
    world: Any, app_client: Any, body: dict[str, Any], field: str
) -> None:
    problem = assert_problem(_invite(app_client, world.org_x, body), 400)

    assert problem["title"] == "Validation failed"
    assert field in problem["errors"]
    assert not Invitation.objects.exists()


def test_inviting_an_existing_member_is_a_validation_problem(world: Any, app_client: Any) -> None:
    body = {"email": world.staff_x.email.upper(), "role": "clinician"}

    problem = assert_problem(_invite(app_client, world.org_x, body), 400)

    assert "email" in problem["errors"]


def test_a_second_pending_invitation_for_the_same_person_is_a_validation_problem(
    world: Any, app_client: Any
) -> None:
    first = _invite(app_client, world.org_x, NEWCOMER)
    assert first.status_code == 201

    problem = assert_problem(
        _invite(app_client, world.org_x, {"email": "n@example.test", "role": "commissioner"}), 400
    )

    assert list(problem["errors"]) == ["email"]
    assert Invitation.objects.count() == 1


def test_a_body_that_is_not_json_is_a_problem(world: Any, app_client: Any) -> None:
    response = app_client.post(
        _members_url(world.org_x),
        "{not json",
        content_type="application/json",
        headers={"Idempotency-Key": new_key()},
    )

    assert_problem(response, 400)


def test_a_form_encoded_body_is_unsupported(world: Any, app_client: Any) -> None:
    response = app_client.post(
        _members_url(world.org_x),
        NEWCOMER,
        headers={"Idempotency-Key": new_key()},
    )

    assert_problem(response, 415)


def test_a_signed_in_browser_must_send_the_csrf_token_to_invite(world: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.org_admin_x, backend="django.contrib.auth.backends.ModelBackend")

    response = _invite(client, world.org_x, NEWCOMER)

    assert_problem(response, 403)
    assert not Invitation.objects.exists()


def test_applications_need_no_csrf_token(world: Any, partner_app: Any, token_for: Any) -> None:
    client = Client(
        enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token_for(partner_app)}"}
    )

    response = _invite(client, world.org_x, NEWCOMER)

    assert response.status_code == 201


def test_inviting_someone_with_an_account_does_not_make_them_a_member_yet(
    world: Any, app_client: Any
) -> None:
    UserFactory(email="existing@example.test")

    response = _invite(
        app_client, world.org_x, {"email": "existing@example.test", "role": "clinician"}
    )

    assert response.status_code == 201
    assert not world.org_x.memberships.filter(user__email="existing@example.test").exists()
