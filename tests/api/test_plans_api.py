"""The support plans API (``plans/api/views.py``): which plans a partner sees, their
parts and versions, and moving a plan on (submit, approve, request changes) through the
plan services, with an Idempotency-Key, in the name of the application's user."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from core.models import AuditEvent
from plans import services
from plans.models import PlanApproval, SupportPlan
from tests.api.partners import assert_problem, bearer_client, new_key
from tests.conftest import World, staff_user
from tests.factories import BudgetHolderFactory, PartnerApplicationFactory, make_budget
from tests.plans.conftest import fill_plan
from users.models import Role

pytestmark = pytest.mark.django_db

PLAN_SCOPES = "plans:read plans:write holders:read"


@dataclass
class Planning:
    """Holder A's plan (filled in, ready to submit, costing the whole budget), the
    staff of org X who write and sign off plans, and partner applications of org X
    acting in the name of each of them."""

    world: World
    plan: SupportPlan
    planner: Any
    clinician: Any
    commissioner: Any
    planner_api: Client
    clinician_api: Client
    commissioner_api: Client
    token_for: Callable[..., str]

    def api_as(self, user: Any, scopes: str = PLAN_SCOPES, organisation: Any = None) -> Client:
        app = PartnerApplicationFactory(
            organisation=organisation or self.world.org_x, user=user, scopes=scopes
        )
        client = bearer_client(self.token_for(app))
        client.app = app  # type: ignore[attr-defined]
        return client


@pytest.fixture
def planning(world: World, token_for: Callable[..., str]) -> Planning:
    planner = staff_user(world.org_x, Role.SUPPORT_PLANNER)
    clinician = staff_user(world.org_x, Role.CLINICIAN)
    plan = services.plan_start(budget=world.budget_a, started_by=world.holder_a.user)
    plan = fill_plan(plan, world.holder_a.user, weekly_pence=250_00)  # £13,000: the budget
    made = Planning(
        world=world,
        plan=plan,
        planner=planner,
        clinician=clinician,
        commissioner=world.commissioner,
        planner_api=Client(),
        clinician_api=Client(),
        commissioner_api=Client(),
        token_for=token_for,
    )
    made.planner_api = made.api_as(planner)
    made.clinician_api = made.api_as(clinician)
    made.commissioner_api = made.api_as(world.commissioner)
    return made


def _post(client: Client, plan: Any, action: str, body: Any, key: str | None = None) -> Any:
    return client.post(
        f"/api/v1/plans/{plan.pk}/{action}/",
        body,
        content_type="application/json",
        headers={"Idempotency-Key": key or new_key()},
    )


def _submitted(p: Planning) -> SupportPlan:
    return services.plan_submit(plan=p.plan, submitted_by=p.world.holder_a.user, agree=True)


def _active(p: Planning) -> SupportPlan:
    plan = _submitted(p)
    return services.plan_approve(plan=plan, approved_by=p.clinician, step="clinician")


def _state(plan: SupportPlan) -> str:
    plan.refresh_from_db()
    return plan.state


def _new_holder(world: World) -> Any:
    return BudgetHolderFactory(organisation=world.org_x)


def _other_plan(world: World) -> SupportPlan:
    """Holder B's plan: org Y's."""
    return services.plan_start(budget=world.budget_b, started_by=world.holder_b.user)


# Reading ----------------------------------------------------------------------------------


def test_an_application_lists_only_its_organisations_plans(planning: Planning) -> None:
    _other_plan(planning.world)

    response = planning.planner_api.get("/api/v1/plans/")

    assert response.status_code == 200, response.content
    (listed,) = response.json()["results"]
    plan = planning.plan
    assert listed["id"] == plan.pk
    assert listed["holder"] == planning.world.holder_a.pk
    assert listed["budget"] == planning.world.budget_a.pk
    assert listed["version"] == 1
    assert listed["state"] == "draft"
    assert listed["yearly_cost_pence"] == 13_000_00
    assert "outcomes" not in listed


def test_an_application_of_another_organisation_sees_none_of_them(planning: Planning) -> None:
    org_y = planning.world.org_y
    api = planning.api_as(staff_user(org_y, Role.CLINICIAN), organisation=org_y)
    plan = planning.plan

    assert api.get("/api/v1/plans/").json()["results"] == []
    for path in (f"/api/v1/plans/{plan.pk}/", f"/api/v1/plans/{plan.pk}/versions/"):
        assert_problem(api.get(path), 404)
    assert_problem(_post(api, plan, "request-changes", {"what_and_why": "No"}), 404)
    assert _state(plan) == "draft"


def test_a_plan_shows_every_part(planning: Planning) -> None:
    plan = _submitted(planning)

    response = planning.clinician_api.get(f"/api/v1/plans/{plan.pk}/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "submitted"
    assert body["what_matters"].startswith("Being at home with my dog")
    assert body["if_support_fails"].startswith("My sister Jo")
    (outcome,) = body["outcomes"]
    assert outcome["goal"] == "Walk to the park on my own"
    assert outcome["life_areas"] == [
        {"code": "independence", "display": "Independence"},
        {"code": "health", "display": "Health"},
    ]
    (item,) = body["items"]
    assert item["unit_cost_pence"] == 250_00
    assert item["yearly_cost_pence"] == 13_000_00
    assert item["times"] == 1
    assert item["per"] == "week"
    assert item["stream"] == "nhs_chc"
    assert item["outcomes"] == [outcome["id"]]
    assert body["money"] == [
        {"stream": "nhs_chc", "management_option": "notional", "managed_by": ""}
    ]
    (risk,) = body["risks"]
    assert risk["positive_risk"] is True
    member = next(m for m in body["circle"] if m["name"] == "Jo Sister")
    assert member["relationship"] == "carer"
    assert member["is_backup"] is True
    assert member["phone"] == "07700 900123"
    assert body["first_review_on"] == plan.first_review_on.isoformat()  # type: ignore[union-attr]
    assert body["review_every_months"] == 12
    assert [(s["step"], s["by_name"]) for s in body["sign_offs"]] == [
        ("agreed", planning.world.holder_a.user.name)
    ]
    assert body["reviews"] == []


def test_reading_a_plan_is_an_audited_view_naming_the_application(planning: Planning) -> None:
    planning.planner_api.get(f"/api/v1/plans/{planning.plan.pk}/")

    event = AuditEvent.objects.get(action="personal_record.viewed", person=planning.world.holder_a)
    assert event.changes == {"page": "api:plan_detail"}
    assert event.actor_label.startswith("Partner application ")


def test_a_plan_takes_the_same_few_queries_however_many_parts(
    planning: Planning, django_assert_max_num_queries: Any
) -> None:
    for n in range(4):
        outcome = services.outcome_save(
            plan=planning.plan, saved_by=planning.planner, goal=f"Goal {n}", life_areas=["safety"]
        )
        services.item_save(
            plan=planning.plan,
            saved_by=planning.planner,
            description=f"Support {n}",
            provider_kind="community",
            times=1,
            per="month",
            unit_cost_pence=0,
            outcome_ids=[outcome.pk],
        )

    # Token and application, the plan, each kind of part, the audit event.
    with django_assert_max_num_queries(11):
        response = planning.planner_api.get(f"/api/v1/plans/{planning.plan.pk}/")

    body = response.json()
    assert len(body["outcomes"]) == 5
    assert len(body["items"]) == 5
    assert all(len(item["outcomes"]) == 1 for item in body["items"])


def test_plans_are_filtered_by_state_holder_budget_and_review_date(planning: Planning) -> None:
    world = planning.world
    active = _active(planning)
    other_holder = _new_holder(world)
    draft = services.plan_start(budget=make_budget(other_holder), started_by=planning.planner)
    review_on = active.next_review_on
    assert review_on is not None

    def ids(**params: Any) -> set[int]:
        response = planning.planner_api.get("/api/v1/plans/", params)
        assert response.status_code == 200, response.content
        return {p["id"] for p in response.json()["results"]}

    assert ids() == {active.pk, draft.pk}
    assert ids(state="active") == {active.pk}
    assert ids(state="draft") == {draft.pk}
    assert ids(holder=other_holder.pk) == {draft.pk}
    assert ids(budget=world.budget_a.pk) == {active.pk}
    assert ids(next_review_before=review_on.isoformat()) == {active.pk}
    assert ids(next_review_after=review_on.isoformat()) == {active.pk}
    day_after = (review_on + datetime.timedelta(days=1)).isoformat()
    assert ids(next_review_after=day_after) == set()
    assert ids(holder=world.holder_b.pk) == set()


@pytest.mark.parametrize(
    "params",
    [
        {"state": "finished"},
        {"holder": "1.5"},
        {"budget": "0"},
        {"next_review_before": "soon"},
        {"next_review_after": "2025-13-01"},
    ],
)
def test_a_filter_value_that_cannot_be_right_is_a_problem(
    planning: Planning, params: dict[str, str]
) -> None:
    body = assert_problem(planning.planner_api.get("/api/v1/plans/", params), 400)

    assert set(body["errors"]) == set(params)


def test_plans_come_a_page_at_a_time_by_cursor(planning: Planning) -> None:
    more = [
        services.plan_start(
            budget=make_budget(_new_holder(planning.world)),
            started_by=planning.planner,
        )
        for _ in range(3)
    ]

    first = planning.planner_api.get("/api/v1/plans/", {"page_size": 2}).json()
    second = planning.planner_api.get(first["next"]).json()

    assert len(first["results"]) == 2
    assert "cursor=" in first["next"]
    ids = [p["id"] for p in first["results"] + second["results"]]
    assert ids == sorted([planning.plan.pk, *(p.pk for p in more)], reverse=True)


def test_versions_list_every_version_of_the_budgets_plan_newest_first(
    planning: Planning,
) -> None:
    first = _active(planning)
    second = services.plan_start(budget=planning.world.budget_a, started_by=planning.planner)
    _other_plan(planning.world)

    for plan in (first, second):
        response = planning.planner_api.get(f"/api/v1/plans/{plan.pk}/versions/")
        assert response.status_code == 200, response.content
        assert [(p["id"], p["version"], p["state"]) for p in response.json()["results"]] == [
            (second.pk, 2, "draft"),
            (first.pk, 1, "active"),
        ]
    assert planning.planner_api.get(f"/api/v1/plans/{second.pk}/").json()["revises"] == first.pk


def test_an_unknown_plan_is_not_found(planning: Planning) -> None:
    assert_problem(planning.planner_api.get("/api/v1/plans/987654321/"), 404)
    assert_problem(planning.planner_api.get("/api/v1/plans/987654321/versions/"), 404)


# Submitting ---------------------------------------------------------------------------------


def test_an_application_acting_as_a_planner_submits_saying_how_the_person_agreed(
    planning: Planning,
) -> None:
    response = _post(
        planning.planner_api,
        planning.plan,
        "submit",
        {"agreed_in_person": "At home on Tuesday, with Jo"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "submitted"
    assert body["submitted_at"] is not None
    approval = PlanApproval.objects.get(plan=planning.plan)
    assert approval.step == "agreed"
    assert approval.by == planning.planner
    assert approval.note == "Agreed in person: At home on Tuesday, with Jo"
    assert body["sign_offs"][0]["note"] == approval.note
    # The audit names the application as well as the user it acts as.
    app = planning.planner_api.app  # type: ignore[attr-defined]
    event = AuditEvent.objects.get(action="plan.submitted", object_id=str(planning.plan.pk))
    assert (event.actor, event.actor_label) == (
        planning.planner,
        f"Partner application {app.pk}: {app.name}",
    )


def test_a_planner_must_say_how_the_person_agreed(planning: Planning) -> None:
    body = assert_problem(_post(planning.planner_api, planning.plan, "submit", {}), 400)

    assert list(body["errors"]) == ["agreed_in_person"]
    assert _state(planning.plan) == "draft"


def test_a_plan_that_is_not_ready_answers_with_what_is_missing(planning: Planning) -> None:
    world = planning.world
    holder = _new_holder(world)
    empty = services.plan_start(budget=make_budget(holder), started_by=planning.planner)

    response = _post(planning.planner_api, empty, "submit", {"agreed_in_person": "Yes, today"})

    body = assert_problem(response, 400)
    assert {"what_matters", "outcomes", "contingency"} <= set(body["errors"])
    assert all(isinstance(m, str) and m for m in body["errors"]["outcomes"])
    assert _state(empty) == "draft"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"agree": "yes", "agreed_in_person": "Today"}, "agree"),
        ({"agree": 1, "agreed_in_person": "Today"}, "agree"),
        ({"agreed_in_person": "x" * 2001}, "agreed_in_person"),
        ({"agreed_in_person": ["Today"]}, "agreed_in_person"),
    ],
)
def test_bad_submit_input_is_a_clear_problem(
    planning: Planning, body: dict[str, Any], field: str
) -> None:
    problem = assert_problem(_post(planning.planner_api, planning.plan, "submit", body), 400)

    assert list(problem["errors"]) == [field]
    assert _state(planning.plan) == "draft"


def test_an_application_whose_user_does_not_write_plans_cannot_submit(
    planning: Planning,
) -> None:
    api = planning.api_as(planning.world.staff_x)  # a care coordinator

    response = _post(api, planning.plan, "submit", {"agreed_in_person": "Today"})

    assert "support planner" in assert_problem(response, 403)["detail"]
    assert _state(planning.plan) == "draft"


def test_an_application_without_a_responsible_user_cannot_act(planning: Planning) -> None:
    api = planning.api_as(None)

    response = _post(api, planning.plan, "submit", {"agreed_in_person": "Today"})

    assert "no responsible user" in assert_problem(response, 403)["detail"]
    assert _state(planning.plan) == "draft"


def test_submitting_a_submitted_plan_is_a_conflict(planning: Planning) -> None:
    _submitted(planning)

    response = _post(planning.planner_api, planning.plan, "submit", {"agreed_in_person": "Today"})

    assert "cannot become" in assert_problem(response, 409)["detail"]
    assert PlanApproval.objects.filter(plan=planning.plan).count() == 1


# Approving ----------------------------------------------------------------------------------


def test_an_application_acting_as_a_clinician_approves_and_the_plan_becomes_active(
    planning: Planning,
) -> None:
    plan = _submitted(planning)

    response = _post(planning.clinician_api, plan, "approve", {"step": "clinician"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "active"
    assert body["clinician_approved_at"] is not None
    assert body["next_review_on"] is not None
    assert [s["step"] for s in body["sign_offs"]] == ["agreed", "clinician"]
    assert _state(plan) == "active"


def test_a_plan_over_the_threshold_waits_for_the_commissioner(planning: Planning) -> None:
    plan = _submitted(planning)
    SupportPlan.objects.filter(pk=plan.pk).update(needs_commissioner=True)

    first = _post(planning.clinician_api, plan, "approve", {"step": "clinician"})
    assert first.json()["state"] == "submitted"
    second = _post(planning.commissioner_api, plan, "approve", {"step": "commissioner"})

    assert second.status_code == 200, second.content
    assert second.json()["state"] == "active"


def test_approving_a_draft_is_a_conflict(planning: Planning) -> None:
    response = _post(planning.clinician_api, planning.plan, "approve", {"step": "clinician"})

    assert_problem(response, 409)
    assert _state(planning.plan) == "draft"
    assert not PlanApproval.objects.filter(plan=planning.plan).exists()


def test_approving_twice_is_a_conflict(planning: Planning) -> None:
    plan = _active(planning)

    response = _post(planning.clinician_api, plan, "approve", {"step": "clinician"})

    assert_problem(response, 409)
    assert PlanApproval.objects.filter(plan=plan, step="clinician").count() == 1


def test_a_commissioner_step_a_plan_does_not_need_is_a_conflict(planning: Planning) -> None:
    plan = _submitted(planning)

    response = _post(planning.commissioner_api, plan, "approve", {"step": "commissioner"})

    assert "does not need" in assert_problem(response, 409)["detail"]
    assert _state(plan) == "submitted"


@pytest.mark.parametrize("body", [{}, {"step": "nurse"}, {"step": None}, {"step": ["clinician"]}])
def test_approving_needs_a_step_it_knows(planning: Planning, body: dict[str, Any]) -> None:
    plan = _submitted(planning)

    problem = assert_problem(_post(planning.clinician_api, plan, "approve", body), 400)

    assert list(problem["errors"]) == ["step"]
    assert _state(plan) == "submitted"


def test_approving_as_a_role_the_user_does_not_hold_is_forbidden(planning: Planning) -> None:
    plan = _submitted(planning)

    response = _post(planning.planner_api, plan, "approve", {"step": "clinician"})

    assert "clinician" in assert_problem(response, 403)["detail"]
    assert _state(plan) == "submitted"
    assert not PlanApproval.objects.filter(plan=plan, step="clinician").exists()


def test_a_clinician_signed_in_approves_through_the_api(
    planning: Planning, client_for: Callable[..., Any]
) -> None:
    plan = _submitted(planning)

    response = _post(client_for(planning.clinician), plan, "approve", {"step": "clinician"})

    assert response.status_code == 200, response.content
    assert PlanApproval.objects.get(plan=plan, step="clinician").by == planning.clinician


def test_the_holder_signed_in_cannot_use_the_plans_api(
    planning: Planning, client_for: Callable[..., Any]
) -> None:
    client = client_for(planning.world.holder_a.user)

    assert_problem(client.get("/api/v1/plans/"), 403)
    assert_problem(_post(client, planning.plan, "submit", {"agree": True}), 403)
    assert _state(planning.plan) == "draft"


# Requesting changes -----------------------------------------------------------------------


def test_a_clinician_application_sends_a_plan_back_saying_what_and_why(
    planning: Planning,
) -> None:
    plan = _submitted(planning)

    response = _post(
        planning.clinician_api,
        plan,
        "request-changes",
        {"what_and_why": "Add how the walks fit around physio."},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "changes_requested"
    assert body["changes_requested"] == "Add how the walks fit around physio."
    assert body["sign_offs"][-1]["step"] == "changes"


@pytest.mark.parametrize("body", [{}, {"what_and_why": ""}, {"what_and_why": "   "}])
def test_changes_need_saying_what_and_why(planning: Planning, body: dict[str, Any]) -> None:
    plan = _submitted(planning)

    problem = assert_problem(_post(planning.clinician_api, plan, "request-changes", body), 400)

    assert list(problem["errors"]) == ["what_and_why"]
    assert _state(plan) == "submitted"


def test_sending_back_a_draft_is_a_conflict(planning: Planning) -> None:
    response = _post(
        planning.clinician_api, planning.plan, "request-changes", {"what_and_why": "More"}
    )

    assert_problem(response, 409)
    assert _state(planning.plan) == "draft"


def test_a_planner_cannot_send_a_plan_back(planning: Planning) -> None:
    plan = _submitted(planning)

    response = _post(planning.planner_api, plan, "request-changes", {"what_and_why": "More"})

    assert_problem(response, 403)
    assert _state(plan) == "submitted"


# Idempotency-Key ----------------------------------------------------------------------------


def test_a_retry_with_the_same_key_approves_once_and_replays_the_answer(
    planning: Planning,
) -> None:
    plan = _submitted(planning)
    key = new_key()

    first = _post(planning.clinician_api, plan, "approve", {"step": "clinician"}, key)
    again = _post(planning.clinician_api, plan, "approve", {"step": "clinician"}, key)

    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert PlanApproval.objects.filter(plan=plan, step="clinician").count() == 1


def test_the_same_key_with_a_different_body_is_refused(planning: Planning) -> None:
    plan = _submitted(planning)
    key = new_key()
    _post(planning.clinician_api, plan, "request-changes", {"what_and_why": "More"}, key)

    response = _post(planning.clinician_api, plan, "request-changes", {"what_and_why": "Less"}, key)

    assert "different request" in assert_problem(response, 422)["detail"]
    plan.refresh_from_db()
    assert plan.changes_requested == "More"


def test_an_action_without_an_idempotency_key_is_refused(planning: Planning) -> None:
    response = planning.planner_api.post(
        f"/api/v1/plans/{planning.plan.pk}/submit/",
        {"agreed_in_person": "Today"},
        content_type="application/json",
    )

    assert "Idempotency-Key" in assert_problem(response, 400)["errors"]
    assert _state(planning.plan) == "draft"


def test_a_refused_action_does_not_use_its_key_up(planning: Planning) -> None:
    key = new_key()
    body = {"step": "clinician"}
    assert_problem(_post(planning.clinician_api, planning.plan, "approve", body, key), 409)
    _submitted(planning)

    response = _post(planning.clinician_api, planning.plan, "approve", body, key)

    assert response.status_code == 200, response.content
    assert "Idempotent-Replayed" not in response
    assert _state(planning.plan) == "active"


# Scopes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "method", "path"),
    [
        ("plans:write", "get", "/api/v1/plans/"),
        ("plans:write", "get", "/api/v1/plans/{plan}/"),
        ("plans:write", "get", "/api/v1/plans/{plan}/versions/"),
        ("holders:read", "get", "/api/v1/plans/"),
        ("plans:read", "post", "submit"),
        ("plans:read", "post", "approve"),
        ("plans:read", "post", "request-changes"),
        ("budgets:read", "post", "submit"),
    ],
)
def test_a_token_without_the_scope_is_forbidden(
    planning: Planning, scope: str, method: str, path: str
) -> None:
    api = planning.api_as(planning.planner, scopes=scope)
    plan = planning.plan

    if method == "post":
        response = _post(api, plan, path, {"agreed_in_person": "Today", "step": "clinician"})
    else:
        response = api.get(path.format(plan=plan.pk))

    assert_problem(response, 403)
    assert _state(plan) == "draft"


def test_the_write_scope_alone_is_enough_to_submit(planning: Planning) -> None:
    api = planning.api_as(planning.planner, scopes="plans:write")

    response = _post(api, planning.plan, "submit", {"agreed_in_person": "Today"})

    assert response.status_code == 200, response.content


def test_an_anonymous_caller_is_not_authenticated(planning: Planning) -> None:
    assert_problem(Client().get("/api/v1/plans/"), 401)
    assert_problem(_post(Client(), planning.plan, "submit", {}), 401)


def test_timestamps_are_in_the_answer_as_iso_8601(planning: Planning) -> None:
    body = planning.planner_api.get(f"/api/v1/plans/{planning.plan.pk}/").json()

    created = datetime.datetime.fromisoformat(body["created_at"])
    assert abs(created - timezone.now()) < datetime.timedelta(minutes=5)
