"""The OpenAPI 3 schema at /api/v1/schema/ and the docs page (``core/api/schema.py``)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.api.partners import PROBLEM_JSON

pytestmark = pytest.mark.django_db

MEMBERS = "/api/v1/organisations/{id}/members/"
SPENDS = "/api/v1/budgets/{id}/spends/"
TRANSACTIONS = "/api/v1/budgets/{id}/transactions/"
PLAN_SUBMIT = "/api/v1/plans/{id}/submit/"
PLAN_APPROVE = "/api/v1/plans/{id}/approve/"
OUTCOME_RESPONSES = "/api/v1/outcomes/responses/"
PLAN_REQUEST_CHANGES = "/api/v1/plans/{id}/request-changes/"
FHIR_CAREPLAN = "/api/v1/fhir/CarePlan/{id}"


@pytest.fixture
def schema(client_for: Any) -> dict[str, Any]:
    response = client_for(None).get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return dict(response.json())


def _validate(schema: dict[str, Any]) -> None:
    try:
        from openapi_spec_validator import validate
    except ImportError:  # not installed here: the OpenAPI 3.0 JSON Schema drf-spectacular ships
        from drf_spectacular.validation import validate_schema as validate
    validate(schema)


def test_the_schema_is_valid_openapi_3(schema: dict[str, Any]) -> None:
    assert schema["openapi"].startswith("3.")
    _validate(schema)


def test_the_schema_is_public_and_served_as_yaml_by_default(client_for: Any) -> None:
    response = client_for(None).get("/api/v1/schema/")

    assert response.status_code == 200
    assert "openapi" in response["Content-Type"]
    assert response.content.startswith(b"openapi: 3.")


def test_the_schema_documents_every_api_operation(schema: dict[str, Any]) -> None:
    operations = {(path, method) for path, item in schema["paths"].items() for method in item}

    assert operations == {
        ("/api/v1/me/", "get"),
        ("/api/v1/organisations/", "get"),
        ("/api/v1/organisations/{id}/", "get"),
        (MEMBERS, "get"),
        (MEMBERS, "post"),
        ("/api/v1/holders/", "get"),
        ("/api/v1/holders/{id}/", "get"),
        ("/api/v1/budgets/", "get"),
        ("/api/v1/budgets/{id}/", "get"),
        (TRANSACTIONS, "get"),
        (SPENDS, "post"),
        ("/api/v1/allocation-runs/", "get"),
        ("/api/v1/allocation-runs/{id}/", "get"),
        ("/api/v1/plans/", "get"),
        ("/api/v1/plans/{id}/", "get"),
        ("/api/v1/plans/{id}/versions/", "get"),
        (PLAN_SUBMIT, "post"),
        (PLAN_APPROVE, "post"),
        (PLAN_REQUEST_CHANGES, "post"),
        ("/api/v1/fhir/Patient/{id}", "get"),
        ("/api/v1/fhir/CarePlan/{id}", "get"),
        ("/api/v1/fhir/Goal/{id}", "get"),
        ("/api/v1/categories/", "get"),
        ("/api/v1/providers/", "get"),
        ("/api/v1/providers/", "post"),
        ("/api/v1/providers/{id}/", "get"),
        ("/api/v1/providers/{id}/", "patch"),
        ("/api/v1/services/", "get"),
        ("/api/v1/services/", "post"),
        ("/api/v1/services/{id}/", "get"),
        ("/api/v1/services/{id}/", "patch"),
        ("/api/v1/bookings/", "get"),
        ("/api/v1/bookings/{id}/", "get"),
        ("/api/v1/pools/", "get"),
        ("/api/v1/pools/{id}/", "get"),
        ("/api/v1/outcomes/instruments/", "get"),
        ("/api/v1/outcomes/instruments/{id}/", "get"),
        ("/api/v1/outcomes/rounds/", "get"),
        ("/api/v1/outcomes/results/", "get"),
        ("/api/v1/outcomes/responses/", "post"),
        ("/api/v1/fhir/Questionnaire/{id}", "get"),
        ("/api/v1/fhir/QuestionnaireResponse/{id}", "get"),
        ("/api/v1/quarterly-returns/", "get"),
        ("/api/v1/quarterly-returns/{id}/", "get"),
        ("/api/v1/quarterly-returns/{id}/csv", "get"),
        ("/api/v1/dashboard/", "get"),
    }


@pytest.mark.parametrize(
    "path",
    [MEMBERS, SPENDS, PLAN_SUBMIT, PLAN_APPROVE, PLAN_REQUEST_CHANGES, OUTCOME_RESPONSES],
)
def test_each_money_or_member_write_requires_an_idempotency_key_header(
    schema: dict[str, Any], path: str
) -> None:
    parameters = schema["paths"][path]["post"]["parameters"]

    (header,) = [p for p in parameters if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key"
    assert header["required"] is True


def test_the_invite_documents_a_required_idempotency_key_header(schema: dict[str, Any]) -> None:
    parameters = schema["paths"][MEMBERS]["post"]["parameters"]

    (header,) = [p for p in parameters if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key"
    assert header["required"] is True
    assert header["schema"]["maxLength"] == 200


def test_reads_take_no_idempotency_key(schema: dict[str, Any]) -> None:
    for path, item in schema["paths"].items():
        for parameter in item.get("get", {}).get("parameters", []):
            assert parameter["name"] != "Idempotency-Key", path


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/api/v1/me/", "get", {"401", "403", "429"}),
        ("/api/v1/organisations/", "get", {"400", "401", "403", "404", "429"}),
        ("/api/v1/organisations/{id}/", "get", {"401", "403", "404", "429"}),
        (MEMBERS, "get", {"400", "401", "403", "404", "429"}),
        (MEMBERS, "post", {"400", "401", "403", "404", "415", "422", "429"}),
        ("/api/v1/holders/", "get", {"400", "401", "403", "404", "429"}),
        ("/api/v1/budgets/{id}/", "get", {"401", "403", "404", "429"}),
        (TRANSACTIONS, "get", {"400", "401", "403", "404", "429"}),
        (SPENDS, "post", {"400", "401", "403", "404", "409", "415", "422", "429"}),
        ("/api/v1/plans/", "get", {"400", "401", "403", "404", "429"}),
        ("/api/v1/plans/{id}/versions/", "get", {"401", "403", "404", "429"}),
        (PLAN_APPROVE, "post", {"400", "401", "403", "404", "409", "415", "422", "429"}),
        (FHIR_CAREPLAN, "get", {"401", "403", "404", "406", "429"}),
    ],
)
def test_each_operation_documents_its_problem_responses(
    schema: dict[str, Any], path: str, method: str, statuses: set[str]
) -> None:
    responses = schema["paths"][path][method]["responses"]

    problems = {code for code in responses if code.startswith("4")}
    assert problems == statuses
    for code in problems:
        (media_type,) = responses[code]["content"]
        assert media_type == PROBLEM_JSON
        assert responses[code]["content"][PROBLEM_JSON]["schema"] == {
            "$ref": "#/components/schemas/Problem"
        }


def test_fhir_resources_are_documented_as_fhir_json(schema: dict[str, Any]) -> None:
    for resource in ("Patient", "CarePlan", "Goal"):
        ok = schema["paths"][f"/api/v1/fhir/{resource}/{{id}}"]["get"]["responses"]["200"]
        (media_type,) = ok["content"]
        assert media_type == "application/fhir+json"
        assert ok["content"][media_type]["schema"]["properties"]["resourceType"]["enum"] == [
            resource
        ]


def test_the_problem_body_is_described(schema: dict[str, Any]) -> None:
    problem = schema["components"]["schemas"]["Problem"]

    assert set(problem["required"]) == {"type", "title", "status"}
    assert set(problem["properties"]) == {"type", "title", "status", "detail", "errors"}


def test_lists_document_cursor_pagination_and_their_filters(schema: dict[str, Any]) -> None:
    members = {p["name"] for p in schema["paths"][MEMBERS]["get"]["parameters"]}
    organisations = {
        p["name"] for p in schema["paths"]["/api/v1/organisations/"]["get"]["parameters"]
    }

    assert {"cursor", "page_size", "role"} <= members
    assert {"cursor", "page_size", "kind"} <= organisations
    page = schema["components"]["schemas"]["PaginatedMemberList"]
    assert {"next", "previous", "results"} <= set(page["properties"])


def test_each_operation_names_the_oauth2_scopes_it_needs(schema: dict[str, Any]) -> None:
    def oauth2_scopes(path: str, method: str) -> list[list[str]]:
        security = schema["paths"][path][method]["security"]
        return [requirement["oauth2"] for requirement in security if "oauth2" in requirement]

    assert oauth2_scopes("/api/v1/me/", "get") == [[]]
    assert oauth2_scopes("/api/v1/organisations/", "get") == [["organisation:read"]]
    assert oauth2_scopes("/api/v1/organisations/{id}/", "get") == [["organisation:read"]]
    assert oauth2_scopes(MEMBERS, "get") == [["members:read"]]
    assert oauth2_scopes(MEMBERS, "post") == [["members:write"]]
    assert oauth2_scopes("/api/v1/holders/", "get") == [["holders:read"]]
    assert oauth2_scopes("/api/v1/budgets/", "get") == [["budgets:read"]]
    assert oauth2_scopes(TRANSACTIONS, "get") == [["budgets:read"]]
    assert oauth2_scopes(SPENDS, "post") == [["spending:write"]]
    assert oauth2_scopes("/api/v1/allocation-runs/", "get") == [["allocation:read"]]
    assert oauth2_scopes("/api/v1/plans/", "get") == [["plans:read"]]
    assert oauth2_scopes("/api/v1/plans/{id}/versions/", "get") == [["plans:read"]]
    for action in (PLAN_SUBMIT, PLAN_APPROVE, PLAN_REQUEST_CHANGES):
        assert oauth2_scopes(action, "post") == [["plans:write"]]
    assert oauth2_scopes("/api/v1/fhir/Patient/{id}", "get") == [["holders:read"]]
    assert oauth2_scopes(FHIR_CAREPLAN, "get") == [["plans:read"]]
    assert oauth2_scopes("/api/v1/fhir/Goal/{id}", "get") == [["plans:read"]]
    assert oauth2_scopes("/api/v1/quarterly-returns/{id}/csv", "get") == [["reports:read"]]


def test_the_oauth2_scheme_is_client_credentials_at_the_token_endpoint(
    schema: dict[str, Any],
) -> None:
    flows = schema["components"]["securitySchemes"]["oauth2"]["flows"]

    assert list(flows) == ["clientCredentials"]
    assert flows["clientCredentials"]["tokenUrl"] == "/o/token/"
    assert set(flows["clientCredentials"]["scopes"]) == {
        "organisation:read",
        "members:read",
        "members:write",
        "holders:read",
        "budgets:read",
        "spending:write",
        "allocation:read",
        "plans:read",
        "plans:write",
        "marketplace:read",
        "listings:write",
        "outcomes:read",
        "outcomes:write",
        "responses:read",
        "reports:read",
    }


def test_the_docs_page_documents_every_operation_in_the_schema(
    client_for: Any, schema: dict[str, Any]
) -> None:
    response = client_for(None).get("/api/v1/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    for path, item in schema["paths"].items():
        for method in item:
            assert f"{method.upper()} {path}" in html, (method, path)
    assert "members:write" in html


def test_every_operation_in_the_schema_refuses_a_caller_without_credentials(
    world: Any, schema: dict[str, Any], client_for: Any
) -> None:
    client = client_for(None)
    for path, item in schema["paths"].items():
        for method in item:
            response = getattr(client, method)(
                path.format(id=world.org_x.pk),
                {"email": "n@example.test", "role": "clinician"}
                if method == "post"
                else ({} if method == "patch" else None),
                content_type="application/json",
                headers={"Idempotency-Key": "anonymous"},
            )

            assert response.status_code == 401, (method, path)
            assert response["Content-Type"] == PROBLEM_JSON
            assert response["WWW-Authenticate"].startswith("Bearer")


@override_settings(ALLOWED_HOSTS=["phb.example.nhs.uk"])
def test_the_schema_generates_without_warnings_outside_a_request() -> None:
    """``check --deploy`` generates the schema too, with no caller and production hosts:
    a view that reaches for its caller while being described fails the deploy check."""
    output = io.StringIO()

    call_command(
        "spectacular", "--fail-on-warn", "--validate", "--format", "openapi-json", stdout=output
    )

    assert json.loads(output.getvalue())["paths"]
