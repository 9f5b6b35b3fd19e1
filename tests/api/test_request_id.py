"""``X-Request-ID`` on every API response, errors included (``core/middleware.py``)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.partners import request_token

pytestmark = pytest.mark.django_db

GENERATED = re.compile(r"^[0-9a-f]{32}$")


@pytest.mark.parametrize("request_id", ["abc-123", "req_1.2:3", "A" * 64])
def test_a_well_formed_request_id_is_echoed(app_client: Any, request_id: str) -> None:
    response = app_client.get("/api/v1/me/", headers={"X-Request-ID": request_id})

    assert response.status_code == 200
    assert response["X-Request-ID"] == request_id


@pytest.mark.parametrize(
    "request_id", ["", "has space", "A" * 65, "semi;colon", "new\\nline", "<script>"]
)
def test_a_malformed_request_id_is_replaced_by_a_generated_one(
    app_client: Any, request_id: str
) -> None:
    response = app_client.get("/api/v1/me/", headers={"X-Request-ID": request_id})

    assert response["X-Request-ID"] != request_id
    assert GENERATED.match(response["X-Request-ID"])


def test_a_request_id_is_generated_when_none_is_sent_and_differs_per_request(
    app_client: Any,
) -> None:
    first = app_client.get("/api/v1/me/")["X-Request-ID"]
    second = app_client.get("/api/v1/me/")["X-Request-ID"]

    assert GENERATED.match(first)
    assert GENERATED.match(second)
    assert first != second


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/nowhere/", 404),
        ("/api/v1/me/", 401),
        ("/api/v1/schema/", 200),
    ],
)
def test_every_response_carries_a_request_id_even_errors(
    client_for: Any, path: str, status: int
) -> None:
    response = client_for(None).get(path, headers={"X-Request-ID": "trace-me"})

    assert response.status_code == status
    assert response["X-Request-ID"] == "trace-me"


def test_errors_from_views_carry_the_request_id(world: Any, app_client: Any) -> None:
    not_found = app_client.get(
        f"/api/v1/organisations/{world.org_y.pk}/", headers={"X-Request-ID": "trace-404"}
    )
    not_allowed = app_client.delete("/api/v1/me/", headers={"X-Request-ID": "trace-405"})
    invalid = app_client.post(
        f"/api/v1/organisations/{world.org_x.pk}/members/",
        {},
        content_type="application/json",
        headers={"X-Request-ID": "trace-400"},
    )

    assert (not_found.status_code, not_found["X-Request-ID"]) == (404, "trace-404")
    assert (not_allowed.status_code, not_allowed["X-Request-ID"]) == (405, "trace-405")
    assert (invalid.status_code, invalid["X-Request-ID"]) == (400, "trace-400")


def test_the_token_endpoint_carries_a_request_id(partner_app: Any) -> None:
    assert GENERATED.match(request_token(partner_app.client_id)["X-Request-ID"])
