"""How a partner system talks to the API in these tests: client credentials at the token
endpoint, then a bearer token on every call."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from django.test import Client

PARTNER_SECRET = "partner-secret"
ALL_SCOPES = (
    "organisation:read members:read members:write "
    "holders:read budgets:read spending:write allocation:read plans:read plans:write "
    "marketplace:read listings:write outcomes:read outcomes:write responses:read reports:read"
)
PROBLEM_JSON = "application/problem+json"


def basic_auth(client_id: str, secret: str = PARTNER_SECRET) -> str:
    raw = f"{client_id}:{secret}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def request_token(client_id: str, *, scope: str | None = None, secret: str = PARTNER_SECRET) -> Any:
    """POST to the token endpoint as a partner system does (client credentials grant)."""
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    return Client().post(
        "/o/token/", data, headers={"Authorization": basic_auth(client_id, secret)}
    )


def bearer_client(token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {token}"})


def new_key() -> str:
    """A fresh Idempotency-Key."""
    return str(uuid.uuid4())


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with ``status``; returns its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert "type" in body
    return body
