"""Partner systems get tokens by OAuth2 client credentials, limited to their own scopes
(``users/oauth.py``)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken

from tests.api.partners import ALL_SCOPES, assert_problem, basic_auth, bearer_client, request_token
from tests.factories import PartnerApplicationFactory

pytestmark = pytest.mark.django_db


def test_a_partner_gets_a_bearer_token_with_its_client_credentials(partner_app: Any) -> None:
    response = request_token(partner_app.client_id)

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["access_token"]
    assert set(body["scope"].split()) == set(ALL_SCOPES.split())


def test_the_token_is_limited_to_the_scope_asked_for(partner_app: Any) -> None:
    response = request_token(partner_app.client_id, scope="organisation:read")

    assert response.status_code == 200
    assert response.json()["scope"] == "organisation:read"


def test_a_scope_outside_the_applications_own_list_is_refused(world: Any) -> None:
    app = PartnerApplicationFactory(organisation=world.org_x, scopes="organisation:read")

    response = request_token(app.client_id, scope="organisation:read members:write")

    assert response.status_code in {400, 401}
    assert response.json()["error"] == "invalid_scope"


def test_an_application_with_no_scopes_gets_no_token(world: Any) -> None:
    app = PartnerApplicationFactory(organisation=world.org_x, scopes="")

    response = request_token(app.client_id)

    assert response.status_code == 400
    assert "access_token" not in response.json()


def test_a_wrong_secret_gets_no_token(partner_app: Any) -> None:
    response = request_token(partner_app.client_id, secret="not-the-secret")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_token_for_fewer_scopes_does_not_reach_further(world: Any, partner_app: Any) -> None:
    token = request_token(partner_app.client_id, scope="organisation:read").json()["access_token"]
    client = bearer_client(token)

    assert client.get("/api/v1/organisations/").status_code == 200
    assert_problem(client.get(f"/api/v1/organisations/{world.org_x.pk}/members/"), 403)


def test_an_expired_token_is_refused_with_a_401_problem(
    partner_app: Any, token_for: Callable[..., str]
) -> None:
    token = token_for(partner_app)
    AccessToken.objects.filter(application=partner_app).update(
        expires=timezone.now() - datetime.timedelta(seconds=1)
    )

    response = bearer_client(token).get("/api/v1/me/")

    body = assert_problem(response, 401)
    assert "expired" in body["detail"].lower()
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_a_token_revoked_by_its_application_is_refused(
    partner_app: Any, token_for: Callable[..., str]
) -> None:
    token = token_for(partner_app)

    revoked = Client().post(
        "/o/revoke_token/",
        {"token": token},
        headers={"Authorization": basic_auth(partner_app.client_id)},
    )

    assert revoked.status_code == 200
    assert_problem(bearer_client(token).get("/api/v1/me/"), 401)


def test_a_token_in_the_query_string_is_not_accepted(
    partner_app: Any, token_for: Callable[..., str]
) -> None:
    """Tokens in URLs end up in logs; only the Authorization header carries them."""
    token = token_for(partner_app)

    assert_problem(Client().get("/api/v1/me/", {"access_token": token}), 401)


def test_a_scope_taken_from_the_application_stops_working_on_its_existing_tokens(
    world: Any, partner_app: Any, token_for: Callable[..., str]
) -> None:
    client = bearer_client(token_for(partner_app))
    assert client.get(f"/api/v1/organisations/{world.org_x.pk}/members/").status_code == 200

    partner_app.scopes = "organisation:read"
    partner_app.save(update_fields=["scopes"])

    assert_problem(client.get(f"/api/v1/organisations/{world.org_x.pk}/members/"), 403)
    assert client.get("/api/v1/me/").json()["scopes"] == ["organisation:read"]
