"""Property-based tests of the Open Referral UK feed from the standard's own OpenAPI
description (``openapi.local.json`` in tests/standards/oruk-3.0): every operation it
describes, called through the WSGI app with generated parameters and ids, answers
nothing but what the standard documents.

The feed implements every operation of that description (it has no organizations
operations), so none is excluded. Two things differ from a plain run, each on purpose:

- The description's ``/service_at_locations/{id}`` declares ``compiled/service.json``
  as its answer, a slip in the standard (the operation says it returns the "fully
  nested service_at_location"; a service_at_location has no ``name`` or ``status``).
  The test mends that one answer to ``compiled/service_at_location.json``, as
  ``openapi.local.json`` itself mends the standard's ``start_time`` type.
- The description documents only the 200 answers, so ``status_code_conformance`` would
  fail every 404 for an unknown id and every 400 for a bad parameter, both of which the
  feed must give. It is replaced by ``answers_as_a_feed_should``: 200, or 400/404 as
  problem details, always open to any origin; 200s are checked against the schema by
  ``response_schema_conformance``."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    unsupported_method,
)
from schemathesis.core.failures import Failure

from marketplace.models import Category, Taxonomy
from tests.marketplace.oruk_data import STANDARD, build_market, standard_file

IMPLEMENTED = {
    "GET /",
    "GET /services",
    "GET /services/{id}",
    "GET /service_at_locations",
    "GET /service_at_locations/{id}",
    "GET /taxonomies",
    "GET /taxonomies/{id}",
    "GET /taxonomy_terms",
    "GET /taxonomy_terms/{id}",
}


def answers_as_a_feed_should(ctx: Any, response: Any, case: Any) -> bool | None:
    """200, or a 400/404 problem; JSON; open to any origin, whatever the answer."""
    if response.headers.get("access-control-allow-origin") != ["*"]:
        raise Failure(
            operation=case.operation.label,
            title="No Access-Control-Allow-Origin: *",
            message=f"{response.status_code} without the CORS header the standard requires",
        )
    if case.method.upper() != "GET":
        return None
    if response.status_code not in (200, 400, 404):
        raise Failure(
            operation=case.operation.label,
            title="Unexpected status",
            message=f"GET answered {response.status_code}",
        )
    body = json.loads(response.content)
    if response.status_code != 200 and body.get("status") != response.status_code:
        raise Failure(
            operation=case.operation.label,
            title="Error without problem details",
            message=str(body),
        )
    return True


CHECKS = [
    not_a_server_error,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    unsupported_method,
    answers_as_a_feed_should,
]


def mended_description() -> dict[str, Any]:
    raw = copy.deepcopy(standard_file("openapi.local.json"))
    answer = raw["paths"]["/service_at_locations/{id}"]["get"]["responses"]["200"]
    schema = answer["content"]["application/json"]["schema"]
    assert schema == {"$ref": "./compiled/service.json"}, "the standard changed: recheck"
    answer["content"]["application/json"]["schema"] = {
        "$ref": "./compiled/service_at_location.json"
    }
    # The feed's base path: the standard's "/" is /oruk/, "/services" is /oruk/services.
    raw["servers"] = [{"url": "/oruk"}]
    return raw


def test_the_feed_implements_every_operation_the_standard_describes() -> None:
    described = {
        f"{method.upper()} {path}"
        for path, operations in standard_file("openapi.local.json")["paths"].items()
        for method in operations
        if method != "parameters"
    }
    assert described == IMPLEMENTED


@pytest.fixture
def same_connection() -> Iterator[None]:
    """Keep the test's database connection (and its transaction) across the WSGI
    app's requests, as Django's own test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def feed_schema(db: Any, same_connection: None) -> Any:
    market = build_market()
    loaded = schemathesis.openapi.from_dict(mended_description())
    loaded.location = (STANDARD / "openapi.local.json").as_uri()  # for the relative $refs
    loaded.app = get_wsgi_application()
    ids = [
        *(s.uuid for s in market.services.values()),
        *(at.uuid for at in market.at_locations.values()),
        *(s.uuid for s in market.hidden_services),
        *Taxonomy.objects.values_list("uuid", flat=True),
        *Category.objects.values_list("uuid", flat=True)[:5],
        market.walking_football.uuid,  # type: ignore[union-attr]
    ]

    @loaded.hook
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
        """Generated ids almost never name a record: often use the market's (of every
        kind, so some are the wrong kind for the path, and some are unlisted)."""
        if not path_parameters or "id" not in path_parameters:
            return st.just(path_parameters)
        return st.sampled_from([path_parameters] + [{"id": str(i)} for i in ids])

    return loaded


schema = schemathesis.pytest.from_fixture("feed_schema")


@pytest.mark.schemathesis
@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_feed_keeps_to_the_standards_openapi_description(case: Any) -> None:
    assert f"{case.operation.method.upper()} {case.operation.path}" in IMPLEMENTED
    case.call_and_validate(checks=CHECKS)
