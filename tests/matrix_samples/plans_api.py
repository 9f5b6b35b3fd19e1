"""The plans API and its FHIR views (``plans/api/``): holder A's draft plan (org X's)."""

from __future__ import annotations

from typing import Any

from plans import services
from plans.models import SupportPlan
from tests.matrix_samples import ORG_X_STAFF, Sample


def _plan(w: Any) -> SupportPlan:
    # plan_start returns the version being written if there is one: one plan per walk.
    return services.plan_start(budget=w.budget_a, started_by=w.holder_a.user)


def _outcome_id(w: Any) -> int:
    plan = _plan(w)
    outcome = plan.outcomes.first() or services.outcome_save(
        plan=plan, saved_by=w.holder_a.user, goal="Walk to the park on my own"
    )
    return int(outcome.pk)


PLAN = Sample(kwargs=lambda w: {"pk": _plan(w).pk}, owners=lambda w: ORG_X_STAFF)

SAMPLES: dict[str, Sample] = {
    "api:plan_detail": PLAN,
    "api:plan_versions": PLAN,
    # POST only, so a permitted caller's GET is 405 (as for spends).
    "api:plan_submit": Sample(kwargs=lambda w: {"pk": _plan(w).pk}, ok={405}),
    "api:plan_approve": Sample(kwargs=lambda w: {"pk": _plan(w).pk}, ok={405}),
    "api:plan_request_changes": Sample(kwargs=lambda w: {"pk": _plan(w).pk}, ok={405}),
    "api:fhir_patient": Sample(
        kwargs=lambda w: {"pk": w.holder_a.pk}, owners=lambda w: ORG_X_STAFF
    ),
    "api:fhir_careplan": PLAN,
    "api:fhir_goal": Sample(kwargs=lambda w: {"pk": _outcome_id(w)}, owners=lambda w: ORG_X_STAFF),
}
