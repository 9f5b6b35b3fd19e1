"""Rates per kind of caller, answered with a 429 problem (``core/api/throttling.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings

from tests.api.partners import ALL_SCOPES, assert_problem, bearer_client
from tests.factories import PartnerApplicationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    """Throttle histories live in Redis and would otherwise carry over between tests."""
    cache.clear()


def rates(**overrides: str) -> Any:
    """Settings with low throttle rates; the rest of REST_FRAMEWORK as it is."""
    current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    return override_settings(
        REST_FRAMEWORK={
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**current, **overrides},
        }
    )


def test_an_application_over_its_rate_gets_a_429_problem(app_client: Any) -> None:
    with rates(application="3/min"):
        statuses = [app_client.get("/api/v1/me/").status_code for _ in range(3)]
        response = app_client.get("/api/v1/me/")

    assert statuses == [200, 200, 200]
    body = assert_problem(response, 429)
    assert body["title"] == "Too many requests"
    assert int(response["Retry-After"]) > 0
    assert response["X-Request-ID"]


def test_each_application_has_its_own_allowance(
    world: Any, app_client: Any, token_for: Callable[..., str]
) -> None:
    other = bearer_client(
        token_for(PartnerApplicationFactory(organisation=world.org_y, scopes=ALL_SCOPES))
    )
    with rates(application="2/min"):
        for _ in range(2):
            app_client.get("/api/v1/me/")
        assert app_client.get("/api/v1/me/").status_code == 429

        assert other.get("/api/v1/me/").status_code == 200


def test_applications_are_not_held_to_the_anonymous_rate(app_client: Any) -> None:
    """Client credentials tokens have no user: DRF's own throttles took them for anonymous."""
    with rates(anon="1/min", user="1/min", application="100/min"):
        statuses = {app_client.get("/api/v1/me/").status_code for _ in range(5)}

    assert statuses == {200}


def test_a_signed_in_person_over_the_user_rate_gets_a_429_problem(
    world: Any, client_for: Callable[..., Any]
) -> None:
    client = client_for(world.staff_x)
    with rates(user="2/min", anon="1/min"):
        assert [client.get("/api/v1/me/").status_code for _ in range(2)] == [200, 200]
        response = client.get("/api/v1/organisations/")

    assert_problem(response, 429)


def test_people_are_throttled_one_by_one(world: Any, client_for: Callable[..., Any]) -> None:
    with rates(user="1/min"):
        assert client_for(world.staff_x).get("/api/v1/me/").status_code == 200
        assert client_for(world.staff_x).get("/api/v1/me/").status_code == 429
        assert client_for(world.staff_y).get("/api/v1/me/").status_code == 200


def test_a_throttled_write_is_not_carried_out(world: Any, app_client: Any) -> None:
    with rates(application="1/min"):
        app_client.get("/api/v1/me/")
        response = app_client.post(
            f"/api/v1/organisations/{world.org_x.pk}/members/",
            {"email": "n@example.test", "role": "clinician"},
            content_type="application/json",
            headers={"Idempotency-Key": "throttled"},
        )

    assert_problem(response, 429)
    assert not world.org_x.invitations.exists()
