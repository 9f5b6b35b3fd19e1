"""Fixtures for the REST API: partner applications, their tokens, and clients using them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.api.partners import ALL_SCOPES, bearer_client, request_token
from tests.factories import PartnerApplicationFactory


@pytest.fixture
def partner_app(world: Any) -> Any:
    """A partner system of organisation X that may be granted every scope."""
    return PartnerApplicationFactory(organisation=world.org_x, scopes=ALL_SCOPES)


@pytest.fixture
def token_for(db: Any) -> Callable[..., str]:
    """An access token for ``app`` (with ``scope``, or every scope the app may have)."""

    def make(app: Any, scope: str | None = None) -> str:
        response = request_token(app.client_id, scope=scope)
        assert response.status_code == 200, response.content
        return str(response.json()["access_token"])

    return make


@pytest.fixture
def app_client(partner_app: Any, token_for: Callable[..., str]) -> Client:
    """A client calling the API as ``partner_app`` with all its scopes."""
    return bearer_client(token_for(partner_app))
