"""Every API error is an RFC 9457 problem (``core/api/errors.py`` and the 404 handler)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions

from core.api.errors import PROBLEM_JSON, validation_error
from tests.api.partners import assert_problem, bearer_client, new_key

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/api/v1/nowhere/", "/api/v2/me/", "/api/", "/api/v1/organisations/abc/"]
)
def test_an_unknown_api_url_is_a_404_problem(app_client: Any, path: str) -> None:
    body = assert_problem(app_client.get(path), 404)

    assert body["title"] == "Not found"


def test_an_unknown_api_url_is_a_problem_for_anonymous_callers_too(client_for: Any) -> None:
    assert_problem(client_for(None).get("/api/v1/nowhere/"), 404)


def test_an_unknown_page_is_still_an_html_page(client_for: Any) -> None:
    response = client_for(None).get("/nowhere-at-all/")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith(PROBLEM_JSON)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/api/v1/me/"),
        ("post", "/api/v1/me/"),
        ("put", "/api/v1/organisations/"),
        ("patch", "/api/v1/organisations/{org}/"),
        ("delete", "/api/v1/organisations/{org}/members/"),
    ],
)
def test_a_method_the_url_does_not_allow_is_a_405_problem(
    world: Any, app_client: Any, method: str, path: str
) -> None:
    response = getattr(app_client, method)(
        path.format(org=world.org_x.pk), {}, content_type="application/json"
    )

    body = assert_problem(response, 405)
    assert body["title"] == "Method not allowed"
    assert "GET" in response["Allow"]


def test_unauthenticated_is_a_401_problem_with_a_detail(client_for: Any) -> None:
    body = assert_problem(client_for(None).get("/api/v1/organisations/"), 401)

    assert body["title"] == "Not authenticated"
    assert body["detail"]


def test_a_refused_token_says_why_rather_than_that_none_was_sent(db: Any) -> None:
    body = assert_problem(bearer_client("expired-or-made-up").get("/api/v1/me/"), 401)

    assert "not provided" not in body["detail"]


def test_forbidden_is_a_403_problem(world: Any, client_for: Callable[..., Any]) -> None:
    body = assert_problem(client_for(world.holder_a.user).get("/api/v1/organisations/"), 403)

    assert body["title"] == "Forbidden"


def test_a_validation_problem_lists_the_errors_by_field(world: Any, app_client: Any) -> None:
    response = app_client.post(
        f"/api/v1/organisations/{world.org_x.pk}/members/",
        {"email": "nope", "role": "clinician"},
        content_type="application/json",
        headers={"Idempotency-Key": new_key()},
    )

    body = assert_problem(response, 400)
    assert body["title"] == "Validation failed"
    assert body["type"] == "about:blank"
    assert list(body["errors"]) == ["email"]
    assert isinstance(body["errors"]["email"], list)


def test_a_body_that_is_a_list_is_a_validation_problem_about_the_whole_request(
    world: Any, app_client: Any
) -> None:
    response = app_client.post(
        f"/api/v1/organisations/{world.org_x.pk}/members/",
        [1, 2],
        content_type="application/json",
        headers={"Idempotency-Key": new_key()},
    )

    body = assert_problem(response, 400)
    assert "non_field_errors" in body["errors"]


def test_a_services_field_errors_keep_their_fields() -> None:
    error = validation_error(DjangoValidationError({"email": "Taken.", "__all__": "Clash."}))

    assert isinstance(error, exceptions.ValidationError)
    assert error.detail == {"email": ["Taken."], "non_field_errors": ["Clash."]}


def test_a_services_error_about_nothing_in_particular_is_a_non_field_error() -> None:
    error = validation_error(DjangoValidationError("Not now."))

    assert error.detail == {"non_field_errors": ["Not now."]}


def test_an_unexpected_failure_is_a_500_problem_that_gives_nothing_away(
    app_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr("users.api.views.MeView.get", fail)
    app_client.raise_request_exception = False

    response = app_client.get("/api/v1/me/", headers={"X-Request-ID": "trace-500"})

    body = assert_problem(response, 500)
    assert "hunter2" not in response.content.decode()
    assert body["title"]
    assert response["X-Request-ID"] == "trace-500"
