"""Support plans as FHIR R4 resources: the holder as a ``Patient``, a plan version as a
``CarePlan`` with its outcomes as contained ``Goal`` resources, and one outcome as a
``Goal`` on its own. Pure functions from records to JSON-ready dicts; the views in
``plans/api/fhir_views.py`` scope and serve them.

FHIR forbids empty strings and empty lists, so a blank field is left out, not sent empty.
Money is FHIR ``Money`` (a decimal in pounds, built from integer pence without floats).

CarePlan.status from the plan's state:

- draft, submitted, changes requested, approved → ``draft``: not yet in force. (Not
  ``on-hold``, which FHIR defines as a plan in force that is paused.) The exact state is
  kept in the ``plan-state`` extension.
- active → ``active``; superseded → ``revoked`` (a newer version replaced it);
  ended → ``completed``.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from budgets.models import BudgetHolder, FundingStream
from plans.models import LifeArea, OutcomeProgress, PlanOutcome, SupportItem, SupportPlan

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"

# The project's own canonical namespace for what FHIR and UK Core do not define.
# A canonical URL names the definition; it is not fetched.
NAMESPACE = "https://phb-platform.example/fhir"
LIFE_AREA_SYSTEM = f"{NAMESPACE}/CodeSystem/life-area"
PLAN_STATE_SYSTEM = f"{NAMESPACE}/CodeSystem/support-plan-state"
FUNDING_STREAM_SYSTEM = f"{NAMESPACE}/CodeSystem/funding-stream"
PLAN_STATE_EXTENSION = f"{NAMESPACE}/StructureDefinition/support-plan-state"
UNIT_COST_EXTENSION = f"{NAMESPACE}/StructureDefinition/support-item-unit-cost"
YEARLY_COST_EXTENSION = f"{NAMESPACE}/StructureDefinition/support-item-yearly-cost"
FUNDING_STREAM_EXTENSION = f"{NAMESPACE}/StructureDefinition/support-item-funding-stream"
PLAN_IDENTIFIER_SYSTEM = f"{NAMESPACE}/Id/support-plan"
GOAL_ACHIEVEMENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/goal-achievement"

State = SupportPlan.State

CAREPLAN_STATUS: dict[str, str] = {
    State.DRAFT: "draft",
    State.SUBMITTED: "draft",
    State.CHANGES_REQUESTED: "draft",
    State.APPROVED: "draft",
    State.ACTIVE: "active",
    State.SUPERSEDED: "revoked",
    State.ENDED: "completed",
}

# CarePlan.activity.detail.status (required): the support as the plan stands.
ACTIVITY_STATUS: dict[str, str] = {
    State.DRAFT: "not-started",
    State.SUBMITTED: "not-started",
    State.CHANGES_REQUESTED: "not-started",
    State.APPROVED: "not-started",
    State.ACTIVE: "in-progress",
    State.SUPERSEDED: "stopped",
    State.ENDED: "completed",
}

# Goal.lifecycleStatus from the plan the outcome belongs to. Outcomes of a superseded
# version carry on in the newer one (as that version's goals), so here they are
# cancelled, as are those of an ended plan.
GOAL_LIFECYCLE: dict[str, str] = {
    State.DRAFT: "proposed",
    State.SUBMITTED: "proposed",
    State.CHANGES_REQUESTED: "proposed",
    State.APPROVED: "accepted",
    State.ACTIVE: "active",
    State.SUPERSEDED: "cancelled",
    State.ENDED: "cancelled",
}

Progress = OutcomeProgress.Progress

# The last review's progress on an outcome as Goal.achievementStatus.
ACHIEVEMENT: dict[str, tuple[str, str]] = {
    Progress.ACHIEVED: ("achieved", "Achieved"),
    Progress.PROGRESSING: ("improving", "Improving"),
    Progress.NO_CHANGE: ("no-change", "No Change"),
    Progress.WORSE: ("worsening", "Worsening"),
}

PER_TEXT = {
    SupportItem.Per.WEEK: "week",
    SupportItem.Per.MONTH: "month",
    SupportItem.Per.YEAR: "year",
}


def _instant(value: datetime.datetime) -> str:
    return value.isoformat()


def _money(pence: int) -> dict[str, Any]:
    return {"value": Decimal(pence).scaleb(-2), "currency": "GBP"}


def _compact(resource: dict[str, Any]) -> dict[str, Any]:
    """Without the keys whose values are empty (FHIR allows no empty strings or lists)."""
    return {key: value for key, value in resource.items() if value not in ("", None, [], {})}


def patient(holder: BudgetHolder) -> dict[str, Any]:
    """The holder as a Patient: NHS number, name, date of birth and postcode only."""
    return _compact(
        {
            "resourceType": "Patient",
            "id": str(holder.pk),
            "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": holder.nhs_number}],
            "name": [{"use": "usual", "text": holder.name}] if holder.name else [],
            "birthDate": holder.date_of_birth.isoformat(),
            "address": [{"postalCode": holder.postcode}] if holder.postcode else [],
        }
    )


def patient_reference(holder: BudgetHolder) -> dict[str, str]:
    return {"reference": f"Patient/{holder.pk}", "display": holder.name}


def goal(
    outcome: PlanOutcome,
    plan: SupportPlan,
    *,
    progress: str | None = None,
    contained: bool = False,
) -> dict[str, Any]:
    """One outcome as a Goal. ``progress`` is the latest review's progress on it, if
    any; ``contained`` gives it the local id a CarePlan refers to it by."""
    lifecycle = GOAL_LIFECYCLE[plan.state]
    achievement = None
    if progress == Progress.NO_LONGER_WANTED:
        lifecycle = "cancelled"
    elif progress == Progress.ACHIEVED and plan.state == State.ACTIVE:
        lifecycle = "completed"
    if progress in ACHIEVEMENT:
        code, display = ACHIEVEMENT[progress]
        achievement = {
            "coding": [{"system": GOAL_ACHIEVEMENT_SYSTEM, "code": code, "display": display}]
        }
    description: dict[str, Any] = {"text": outcome.goal}
    return _compact(
        {
            "resourceType": "Goal",
            "id": f"goal-{outcome.pk}" if contained else str(outcome.pk),
            "identifier": [{"system": f"{NAMESPACE}/Id/plan-outcome", "value": str(outcome.key)}],
            "lifecycleStatus": lifecycle,
            "achievementStatus": achievement,
            "category": [
                {
                    "coding": [
                        {"system": LIFE_AREA_SYSTEM, "code": area, "display": LifeArea(area).label}
                    ],
                    "text": LifeArea(area).label,
                }
                for area in outcome.life_areas
            ],
            "description": description,
            "subject": patient_reference(plan.holder),
            "target": [{"dueDate": outcome.by_when.isoformat()}] if outcome.by_when else [],
            "note": [{"text": f"How we will know: {outcome.how_we_know}"}]
            if outcome.how_we_know
            else [],
        }
    )


def _schedule(item: SupportItem) -> str:
    times = "once" if item.times == 1 else f"{item.times} times"
    return f"{times} a {PER_TEXT[SupportItem.Per(item.per)]}"


def _activity(item: SupportItem, plan: SupportPlan) -> dict[str, Any]:
    extensions: list[dict[str, Any]] = [
        {"url": UNIT_COST_EXTENSION, "valueMoney": _money(item.unit_cost_pence)},
        {"url": YEARLY_COST_EXTENSION, "valueMoney": _money(item.yearly_cost_pence)},
    ]
    if item.stream:
        extensions.append(
            {
                "url": FUNDING_STREAM_EXTENSION,
                "valueCoding": {
                    "system": FUNDING_STREAM_SYSTEM,
                    "code": item.stream,
                    "display": FundingStream(item.stream).label,
                },
            }
        )
    provider = item.provider_name or SupportItem.ProviderKind(item.provider_kind).label
    detail = _compact(
        {
            "extension": extensions,
            "status": ACTIVITY_STATUS[plan.state],
            "description": item.description,
            "scheduledString": _schedule(item),
            "performer": [{"display": provider}],
            "goal": [{"reference": f"#goal-{o.pk}"} for o in item.outcomes.all()],
        }
    )
    return {"detail": detail}


def care_plan(plan: SupportPlan, *, progress: dict[int, str] | None = None) -> dict[str, Any]:
    """A plan version as a CarePlan. Expects the outcomes, the items with their
    outcomes, and the holder loaded; ``progress`` maps outcome id → the latest review's
    progress on it."""
    progress = progress or {}
    outcomes = list(plan.outcomes.all())
    end = plan.ended_at if plan.state in (State.SUPERSEDED, State.ENDED) else None
    start = plan.active_from
    period = _compact(
        {
            "start": _instant(start) if start else None,
            "end": _instant(end) if end else None,
        }
    )
    notes = [
        f"If my support fails: {plan.if_support_fails}" if plan.if_support_fails else "",
        f"If my family carer has an emergency: {plan.carer_emergency}"
        if plan.carer_emergency
        else "",
        f"Changes requested: {plan.changes_requested}"
        if plan.changes_requested and plan.state == State.CHANGES_REQUESTED
        else "",
    ]
    return _compact(
        {
            "resourceType": "CarePlan",
            "id": str(plan.pk),
            "extension": [
                {
                    "url": PLAN_STATE_EXTENSION,
                    "valueCoding": {
                        "system": PLAN_STATE_SYSTEM,
                        "code": plan.state,
                        "display": plan.get_state_display(),
                    },
                }
            ],
            "identifier": [
                {
                    "system": PLAN_IDENTIFIER_SYSTEM,
                    "value": f"budget-{plan.budget_id}-version-{plan.version}",
                }
            ],
            "contained": [
                goal(o, plan, progress=progress.get(o.pk), contained=True) for o in outcomes
            ],
            "replaces": [{"reference": f"CarePlan/{plan.revises_id}"}] if plan.revises_id else [],
            "status": CAREPLAN_STATUS[plan.state],
            "intent": "plan",
            "title": f"Personal health budget support plan, version {plan.version}",
            "description": plan.what_matters,
            "subject": patient_reference(plan.holder),
            "period": period,
            "created": _instant(plan.created_at),
            "goal": [{"reference": f"#goal-{o.pk}"} for o in outcomes],
            "activity": [_activity(item, plan) for item in plan.items.all()],
            "note": [{"text": text} for text in notes if text],
        }
    )
