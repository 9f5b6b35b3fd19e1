"""The FHIR R4 views (``plans/fhir.py``, ``plans/api/fhir_views.py``): Patient, CarePlan
and Goal as ``application/fhir+json``, each checked against the R4B models of the
``fhir.resources`` package, and scoped as the rest of the API is."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.goal import Goal
from fhir.resources.R4B.patient import Patient

from core.models import AuditEvent
from plans import fhir, services
from plans.models import LifeArea, SupportPlan
from tests.api.partners import ALL_SCOPES, assert_problem, bearer_client, request_token
from tests.conftest import staff_user
from tests.factories import PartnerApplicationFactory
from tests.plans.conftest import PlanWorld, fill_plan
from users.models import Role

pytestmark = pytest.mark.django_db

FHIR_JSON = "application/fhir+json"


def _api(organisation: Any, scopes: str = ALL_SCOPES) -> Client:
    app: Any = PartnerApplicationFactory(organisation=organisation, scopes=scopes)
    response = request_token(app.client_id)
    assert response.status_code == 200, response.content
    return bearer_client(response.json()["access_token"])


def _fhir(client: Client, path: str, **headers: str) -> dict[str, Any]:
    response = client.get(path, headers=headers or None)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == FHIR_JSON
    return dict(response.json())


def _plan(pw: PlanWorld) -> SupportPlan:
    plan = services.plan_start(budget=pw.world.budget_a, started_by=pw.world.holder_a.user)
    plan = fill_plan(plan, pw.world.holder_a.user, weekly_pence=250_00)
    outcome = plan.outcomes.get()
    services.outcome_save(
        plan=plan,
        saved_by=pw.planner,
        outcome=outcome,
        goal=outcome.goal,
        how_we_know=outcome.how_we_know,
        life_areas=outcome.life_areas,
        by_when=timezone.localdate() + datetime.timedelta(days=90),
    )
    return plan


def _active(pw: PlanWorld) -> SupportPlan:
    plan = services.plan_submit(plan=_plan(pw), submitted_by=pw.world.holder_a.user, agree=True)
    return services.plan_approve(plan=plan, approved_by=pw.clinician, step="clinician")


# Patient ----------------------------------------------------------------------------------


def test_a_holder_is_a_patient_with_their_nhs_number(pw: PlanWorld) -> None:
    holder = pw.world.holder_a

    body = _fhir(_api(pw.world.org_x), f"/api/v1/fhir/Patient/{holder.pk}")

    Patient.model_validate(body)
    assert body["resourceType"] == "Patient"
    assert body["id"] == str(holder.pk)
    assert body["identifier"] == [
        {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": holder.nhs_number}
    ]
    assert body["name"] == [{"use": "usual", "text": "Alex Holder"}]
    assert body["birthDate"] == "1980-05-17"
    assert body["address"] == [{"postalCode": "LS1 4AP"}]  # the postcode and nothing more
    assert set(body) == {"resourceType", "id", "identifier", "name", "birthDate", "address"}


def test_a_patient_view_is_audited(pw: PlanWorld) -> None:
    _fhir(_api(pw.world.org_x), f"/api/v1/fhir/Patient/{pw.world.holder_a.pk}")

    event = AuditEvent.objects.get(action="personal_record.viewed", person=pw.world.holder_a)
    assert event.changes == {"page": "api:fhir_patient"}


def test_a_patient_needs_the_holders_scope(pw: PlanWorld) -> None:
    api = _api(pw.world.org_x, scopes="plans:read")

    assert_problem(api.get(f"/api/v1/fhir/Patient/{pw.world.holder_a.pk}"), 403)


# CarePlan and Goal --------------------------------------------------------------------------


def test_a_draft_plan_is_a_valid_care_plan_with_its_goals_and_activities(pw: PlanWorld) -> None:
    plan = _plan(pw)
    outcome = plan.outcomes.get()
    item = plan.items.get()

    body = _fhir(_api(pw.world.org_x), f"/api/v1/fhir/CarePlan/{plan.pk}")

    CarePlan.model_validate(body)
    assert body["resourceType"] == "CarePlan"
    assert body["id"] == str(plan.pk)
    assert body["status"] == "draft"
    assert body["intent"] == "plan"
    assert body["subject"]["reference"] == f"Patient/{pw.world.holder_a.pk}"
    assert body["description"] == plan.what_matters
    assert datetime.datetime.fromisoformat(body["created"]) == plan.created_at
    assert "period" not in body  # not in force yet
    (state,) = body["extension"]
    assert state["url"] == fhir.PLAN_STATE_EXTENSION
    assert state["valueCoding"]["code"] == "draft"

    (goal,) = body["contained"]
    Goal.model_validate(goal)
    assert body["goal"] == [{"reference": f"#{goal['id']}"}]
    assert goal["lifecycleStatus"] == "proposed"
    assert goal["description"] == {"text": "Walk to the park on my own"}
    assert goal["target"] == [{"dueDate": outcome.by_when.isoformat()}]  # type: ignore[union-attr]
    assert goal["subject"]["reference"] == f"Patient/{pw.world.holder_a.pk}"
    codings = [c["coding"][0] for c in goal["category"]]
    assert [(c["system"], c["code"]) for c in codings] == [
        (fhir.LIFE_AREA_SYSTEM, LifeArea.INDEPENDENCE),
        (fhir.LIFE_AREA_SYSTEM, LifeArea.HEALTH),
    ]
    assert codings[0]["display"] == "Independence"

    (activity,) = body["activity"]
    detail = activity["detail"]
    assert detail["status"] == "not-started"
    assert detail["description"] == item.description
    assert detail["scheduledString"] == "once a week"
    assert detail["performer"] == [{"display": "Sam"}]
    assert detail["goal"] == [{"reference": f"#{goal['id']}"}]
    costs = {e["url"]: e.get("valueMoney") for e in detail["extension"]}
    assert costs[fhir.UNIT_COST_EXTENSION] == {"value": 250.0, "currency": "GBP"}
    assert costs[fhir.YEARLY_COST_EXTENSION] == {"value": 13000.0, "currency": "GBP"}
    notes = [n["text"] for n in body["note"]]
    assert any(n.startswith("If my support fails: My sister Jo") for n in notes)


def test_money_is_exact_decimal_pounds() -> None:
    assert fhir._money(1_234_567_89) == {"value": Decimal("1234567.89"), "currency": "GBP"}
    assert fhir._money(5) == {"value": Decimal("0.05"), "currency": "GBP"}


@pytest.mark.parametrize(
    ("state", "status", "lifecycle"),
    [
        (SupportPlan.State.DRAFT, "draft", "proposed"),
        (SupportPlan.State.SUBMITTED, "draft", "proposed"),
        (SupportPlan.State.CHANGES_REQUESTED, "draft", "proposed"),
        (SupportPlan.State.APPROVED, "draft", "accepted"),
        (SupportPlan.State.ACTIVE, "active", "active"),
        (SupportPlan.State.SUPERSEDED, "revoked", "cancelled"),
        (SupportPlan.State.ENDED, "completed", "cancelled"),
    ],
)
def test_each_plan_state_maps_to_a_care_plan_status(
    pw: PlanWorld, state: str, status: str, lifecycle: str
) -> None:
    plan = _plan(pw)
    now = timezone.now()
    in_force = state in (SupportPlan.State.ACTIVE, SupportPlan.State.SUPERSEDED, "ended")
    SupportPlan.objects.filter(pk=plan.pk).update(
        state=state,
        changes_requested="Say more about the walks" if state == "changes_requested" else "",
        active_from=now - datetime.timedelta(days=30) if in_force else None,
        ended_at=now if state in (SupportPlan.State.SUPERSEDED, SupportPlan.State.ENDED) else None,
    )

    body = _fhir(_api(pw.world.org_x), f"/api/v1/fhir/CarePlan/{plan.pk}")

    CarePlan.model_validate(body)
    assert body["status"] == status
    assert body["extension"][0]["valueCoding"]["code"] == state
    assert body["contained"][0]["lifecycleStatus"] == lifecycle
    if in_force:
        assert "start" in body["period"]
    assert ("end" in body.get("period", {})) == (state in ("superseded", "ended"))


def test_an_active_plan_and_its_next_version(pw: PlanWorld) -> None:
    first = _active(pw)
    second = services.plan_start(budget=pw.world.budget_a, started_by=pw.planner)
    api = _api(pw.world.org_x)

    active = _fhir(api, f"/api/v1/fhir/CarePlan/{first.pk}")
    draft = _fhir(api, f"/api/v1/fhir/CarePlan/{second.pk}")

    CarePlan.model_validate(active)
    CarePlan.model_validate(draft)
    assert active["status"] == "active"
    assert datetime.datetime.fromisoformat(active["period"]["start"]) == first.active_from
    assert active["activity"][0]["detail"]["status"] == "in-progress"
    assert draft["replaces"] == [{"reference": f"CarePlan/{first.pk}"}]
    assert draft["status"] == "draft"


def test_a_goal_shows_the_latest_reviews_progress(pw: PlanWorld) -> None:
    plan = _active(pw)
    outcome = plan.outcomes.get()
    services.review_record(
        plan=plan,
        recorded_by=pw.planner,
        held_on=timezone.localdate(),
        progress={outcome.pk: ("progressing", "Twice to the park with Sam")},
    )

    body = _fhir(_api(pw.world.org_x), f"/api/v1/fhir/Goal/{outcome.pk}")

    Goal.model_validate(body)
    assert body["resourceType"] == "Goal"
    assert body["id"] == str(outcome.pk)
    assert body["lifecycleStatus"] == "active"
    assert body["achievementStatus"]["coding"][0]["code"] == "improving"
    assert body["identifier"][0]["value"] == str(outcome.key)
    contained = _fhir(_api(pw.world.org_x), f"/api/v1/fhir/CarePlan/{plan.pk}")["contained"]
    assert contained[0]["achievementStatus"] == body["achievementStatus"]


def test_a_goal_without_a_date_or_life_areas_is_still_valid(pw: PlanWorld) -> None:
    plan = services.plan_start(budget=pw.world.budget_a, started_by=pw.planner)
    outcome = services.outcome_save(plan=plan, saved_by=pw.planner, goal="Sleep better")

    body = _fhir(_api(pw.world.org_x), f"/api/v1/fhir/Goal/{outcome.pk}")

    Goal.model_validate(body)
    assert "target" not in body
    assert "category" not in body
    care_plan = _fhir(_api(pw.world.org_x), f"/api/v1/fhir/CarePlan/{plan.pk}")
    CarePlan.model_validate(care_plan)
    assert "activity" not in care_plan
    assert "description" not in care_plan  # nothing written yet: left out, not ""


def test_care_plans_and_goals_need_the_plans_scope(pw: PlanWorld) -> None:
    plan = _plan(pw)
    api = _api(pw.world.org_x, scopes="holders:read plans:write")

    assert_problem(api.get(f"/api/v1/fhir/CarePlan/{plan.pk}"), 403)
    assert_problem(api.get(f"/api/v1/fhir/Goal/{plan.outcomes.get().pk}"), 403)


# Scoping and formats ------------------------------------------------------------------------


def test_another_organisations_application_finds_none_of_them(pw: PlanWorld) -> None:
    plan = _plan(pw)
    api = _api(pw.world.org_y)

    for path in (
        f"/api/v1/fhir/Patient/{pw.world.holder_a.pk}",
        f"/api/v1/fhir/CarePlan/{plan.pk}",
        f"/api/v1/fhir/Goal/{plan.outcomes.get().pk}",
    ):
        assert_problem(api.get(path), 404)
    assert not AuditEvent.objects.filter(
        action="personal_record.viewed", person=pw.world.holder_a
    ).exists()


def test_signed_in_staff_see_their_organisations_care_plans_only(
    pw: PlanWorld, client_for: Any
) -> None:
    plan = _plan(pw)
    path = f"/api/v1/fhir/CarePlan/{plan.pk}"

    CarePlan.model_validate(_fhir(client_for(pw.clinician), path))
    assert_problem(client_for(pw.clinician_y).get(path), 404)
    assert_problem(client_for(staff_user(pw.world.org_y, Role.COMMISSIONER)).get(path), 404)


def test_the_holder_is_refused_the_partner_api(pw: PlanWorld, client_for: Any) -> None:
    plan = _plan(pw)

    assert_problem(client_for(pw.world.holder_a.user).get(f"/api/v1/fhir/CarePlan/{plan.pk}"), 403)


@pytest.mark.parametrize(
    "accept",
    ["application/fhir+json", "application/json", "*/*", "application/fhir+json; fhirVersion=4.0"],
)
def test_json_in_any_spelling_is_served_as_fhir_json(pw: PlanWorld, accept: str) -> None:
    body = _fhir(
        _api(pw.world.org_x), f"/api/v1/fhir/Patient/{pw.world.holder_a.pk}", Accept=accept
    )

    assert body["resourceType"] == "Patient"


def test_another_format_is_not_acceptable(pw: PlanWorld) -> None:
    api = _api(pw.world.org_x)
    path = f"/api/v1/fhir/Patient/{pw.world.holder_a.pk}"

    assert_problem(api.get(path, headers={"Accept": "application/fhir+xml"}), 406)
    assert_problem(api.get(path, {"_format": "xml"}), 406)
    assert _fhir(api, f"{path}?_format=json")["resourceType"] == "Patient"


def test_every_code_sent_is_in_its_fhir_value_set() -> None:
    """fhir.resources checks structure, not required bindings: the codes are checked
    here against the R4 value sets they must come from."""
    request_status = {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error"}
    activity_status = {
        "not-started",
        "scheduled",
        "in-progress",
        "on-hold",
        "completed",
        "cancelled",
        "stopped",
        "unknown",
        "entered-in-error",
    }
    goal_lifecycle = {
        "proposed",
        "planned",
        "accepted",
        "active",
        "on-hold",
        "completed",
        "cancelled",
        "entered-in-error",
        "rejected",
    }
    goal_achievement = {
        "in-progress",
        "improving",
        "worsening",
        "no-change",
        "achieved",
        "sustaining",
        "not-achieved",
        "no-progress",
        "not-attainable",
    }
    states = set(SupportPlan.State.values)

    assert set(fhir.CAREPLAN_STATUS) == set(fhir.ACTIVITY_STATUS) == set(fhir.GOAL_LIFECYCLE)
    assert set(fhir.CAREPLAN_STATUS) == states
    assert set(fhir.CAREPLAN_STATUS.values()) <= request_status
    assert set(fhir.ACTIVITY_STATUS.values()) <= activity_status
    assert set(fhir.GOAL_LIFECYCLE.values()) | {"completed", "cancelled"} <= goal_lifecycle
    assert {code for code, _ in fhir.ACHIEVEMENT.values()} <= goal_achievement
