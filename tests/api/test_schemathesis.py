"""Property-based tests generated from the OpenAPI schema: every operation, called with a
real partner token, must never fail with a server error and must answer only what the
schema documents (status codes, content types and bodies)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    missing_required_header,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from plans.services import outcome_save, plan_start
from tests.api.partners import ALL_SCOPES
from tests.factories import MembershipFactory, PartnerApplicationFactory

# ``ignored_auth`` is left out: it probes only apiKey and HTTP schemes, not OAuth2, so it
# would pass without sending a request; test_schema.py walks every operation without a token.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    missing_required_header,
    unsupported_method,
]


@pytest.fixture
def api_schema(world: Any) -> Any:
    loaded = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())
    # Holder A's draft plan with one outcome, so plan and FHIR reads can succeed.
    plan = plan_start(budget=world.budget_a, started_by=world.holder_a.user)
    outcome = outcome_save(plan=plan, saved_by=world.holder_a.user, goal="Walk to the park")

    @loaded.hook
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
        """Generated ids rarely name a real record; often name the partner's own
        organisation, holder, budget, plan or outcome (so reads, invitations and spends
        succeed) or another organisation's (so they are not found)."""
        if not path_parameters or "id" not in path_parameters:
            return st.just(path_parameters)
        ids = [
            world.org_x.pk,
            world.org_y.pk,
            world.holder_a.pk,
            world.holder_b.pk,
            world.budget_a.pk,
            world.budget_b.pk,
            plan.pk,
            outcome.pk,
        ]
        return st.sampled_from([path_parameters] + [{**path_parameters, "id": pk} for pk in ids])

    return loaded


@pytest.fixture
def partner_token(world: Any, token_for: Callable[..., str]) -> str:
    """A token for every scope, of an application of org X, with members to list."""
    for role in ("clinician", "support_planner", "provider_staff"):
        MembershipFactory(organisation=world.org_x, role=role)
    app = PartnerApplicationFactory(organisation=world.org_x, scopes=ALL_SCOPES)
    return token_for(app)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.schemathesis
@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_api_keeps_to_its_schema(case: Any, partner_token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {partner_token}"}, checks=CHECKS)
