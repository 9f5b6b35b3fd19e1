"""Reads for the staff plan pages and the budget pages: the queues of plans waiting for a
planner, a clinician or a commissioner (oldest first, with days waiting), reviews falling
due, and a plan's cost against its budget.

Queues are scoped by role *and* organisation: a clinician at one ICB who is a planner at
another sees only the first ICB's plans in the clinician's queue."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from budgets.models import Budget, BudgetHolder, FundingStream
from plans.models import PlanApproval, SupportPlan
from plans.permissions import roles_for
from plans.services import budget_pence_by_stream, budget_total_pence, plan_pence_by_stream
from users.models import Membership, Role

QUEUE_ROLES = frozenset({Role.SUPPORT_PLANNER, Role.CLINICIAN, Role.COMMISSIONER})
REVIEW_WINDOW_DAYS = 28


def queue_roles(*, user: Any) -> set[str]:
    """Which of the planner, clinician and commissioner roles the user holds anywhere."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(
        Membership.objects.filter(user=user, role__in=QUEUE_ROLES).values_list("role", flat=True)
    )


def _holders_served(user: Any, role: str) -> QuerySet[BudgetHolder]:
    """Holders of the ICBs and councils where the user has ``role``."""
    organisations = Membership.objects.filter(user=user, role=role).values("organisation_id")
    return BudgetHolder.objects.filter(
        Q(organisation_id__in=organisations) | Q(council_id__in=organisations)
    )


def _plans_for_role(user: Any, role: str) -> QuerySet[SupportPlan]:
    return SupportPlan.objects.filter(holder__in=_holders_served(user, role)).select_related(
        "holder", "budget"
    )


def _days_since(moment: datetime.datetime | None, today: datetime.date) -> int:
    if moment is None:
        return 0
    return max((today - timezone.localdate(moment)).days, 0)


@dataclass(frozen=True)
class Waiting:
    """A plan in a queue: since when it has waited, and for how many days."""

    plan: SupportPlan
    since: datetime.datetime
    days_waiting: int


@dataclass(frozen=True)
class ReviewDue:
    plan: SupportPlan
    due_on: datetime.date
    days: int  # until the review is due; negative when overdue

    @property
    def overdue(self) -> bool:
        return self.days < 0


def planner_queue(*, user: Any, today: datetime.date | None = None) -> list[Waiting]:
    """Drafts and versions sent back with changes requested, for holders the user's
    planner organisations serve. A draft waits from when it was started; a version
    sent back waits from the latest request for changes. Oldest first."""
    today = today or timezone.localdate()
    requested = (
        PlanApproval.objects.filter(plan=OuterRef("pk"), step=PlanApproval.Step.CHANGES)
        .values("plan")
        .annotate(latest=Max("at"))
        .values("latest")
    )
    plans = _plans_for_role(user, Role.SUPPORT_PLANNER).filter(
        state__in=[SupportPlan.State.DRAFT, SupportPlan.State.CHANGES_REQUESTED]
    )
    rows = []
    for plan in plans.annotate(changes_requested_at=Subquery(requested)):
        since = plan.created_at
        if plan.state == SupportPlan.State.CHANGES_REQUESTED and plan.changes_requested_at:
            since = plan.changes_requested_at
        rows.append(Waiting(plan=plan, since=since, days_waiting=_days_since(since, today)))
    return sorted(rows, key=lambda row: (row.since, row.plan.pk))


def _submitted_queue(plans: QuerySet[SupportPlan], today: datetime.date) -> list[Waiting]:
    plans = plans.filter(state=SupportPlan.State.SUBMITTED).order_by("submitted_at", "pk")
    return [
        Waiting(
            plan=plan,
            since=plan.submitted_at or plan.updated_at,
            days_waiting=_days_since(plan.submitted_at or plan.updated_at, today),
        )
        for plan in plans
    ]


def clinician_queue(*, user: Any, today: datetime.date | None = None) -> list[Waiting]:
    """Submitted plans without a clinician's approval, oldest submission first."""
    plans = _plans_for_role(user, Role.CLINICIAN).filter(clinician_approved_at__isnull=True)
    return _submitted_queue(plans, today or timezone.localdate())


def commissioner_queue(*, user: Any, today: datetime.date | None = None) -> list[Waiting]:
    """Submitted plans that need a commissioner and do not have that approval yet."""
    plans = _plans_for_role(user, Role.COMMISSIONER).filter(
        needs_commissioner=True, commissioner_approved_at__isnull=True
    )
    return _submitted_queue(plans, today or timezone.localdate())


def reviews_due(
    *, user: Any, today: datetime.date | None = None, within_days: int = REVIEW_WINDOW_DAYS
) -> list[ReviewDue]:
    """Active plans of the planner's holders whose review is due within ``within_days``
    or already past, soonest (most overdue) first."""
    today = today or timezone.localdate()
    plans = (
        _plans_for_role(user, Role.SUPPORT_PLANNER)
        .filter(
            state=SupportPlan.State.ACTIVE,
            next_review_on__isnull=False,
            next_review_on__lte=today + datetime.timedelta(days=within_days),
        )
        .order_by("next_review_on", "pk")
    )
    return [
        ReviewDue(plan=plan, due_on=plan.next_review_on, days=(plan.next_review_on - today).days)
        for plan in plans
        if plan.next_review_on is not None
    ]


@dataclass(frozen=True)
class Queue:
    key: str
    title: str
    description: str
    rows: list[Waiting]
    reviews: list[ReviewDue] = field(default_factory=list)


def queues_for(*, user: Any, today: datetime.date | None = None) -> list[Queue]:
    """The queues the user's roles give, in the order work flows: planner, clinician,
    commissioner. Empty when the user has none of those roles."""
    roles = queue_roles(user=user)
    today = today or timezone.localdate()
    queues = []
    if Role.SUPPORT_PLANNER in roles:
        queues.append(
            Queue(
                key="planner",
                title="Plans being written",
                description="Drafts, and plans sent back with changes requested, for the "
                "people your organisations support.",
                rows=planner_queue(user=user, today=today),
                reviews=reviews_due(user=user, today=today),
            )
        )
    if Role.CLINICIAN in roles:
        queues.append(
            Queue(
                key="clinician",
                title="Waiting for a clinician",
                description="Plans sent for approval that no clinician has approved yet.",
                rows=clinician_queue(user=user, today=today),
            )
        )
    if Role.COMMISSIONER in roles:
        queues.append(
            Queue(
                key="commissioner",
                title="Waiting for a commissioner",
                description="Plans over the cost threshold, or the increase threshold, that "
                "need a commissioner's approval too.",
                rows=commissioner_queue(user=user, today=today),
            )
        )
    return queues


# Cost against budget -------------------------------------------------------------------


@dataclass(frozen=True)
class StreamCost:
    stream: str
    label: str
    budget_pence: int
    plan_pence: int

    @property
    def difference_pence(self) -> int:
        """What is left of the stream's money after the plan; negative when over."""
        return self.budget_pence - self.plan_pence


@dataclass(frozen=True)
class CostAgainstBudget:
    plan_pence: int
    budget_pence: int
    streams: list[StreamCost]

    @property
    def difference_pence(self) -> int:
        return self.budget_pence - self.plan_pence

    @property
    def over_budget(self) -> bool:
        return self.plan_pence > self.budget_pence or any(
            s.difference_pence < 0 for s in self.streams
        )


def cost_against_budget(*, plan: SupportPlan) -> CostAgainstBudget:
    """The plan's yearly cost against its budget's yearly amount, overall and by funding
    stream (every stream the budget is funded by or the plan pays from)."""
    budget_streams = budget_pence_by_stream(plan.budget)
    plan_streams = plan_pence_by_stream(plan)
    streams = [
        StreamCost(
            stream=stream,
            label=FundingStream(stream).label if stream in FundingStream.values else "Unfunded",
            budget_pence=budget_streams.get(stream, 0),
            plan_pence=plan_streams.get(stream, 0),
        )
        for stream in sorted(set(budget_streams) | set(plan_streams))
    ]
    return CostAgainstBudget(
        plan_pence=plan.yearly_cost_pence,
        budget_pence=budget_total_pence(plan.budget),
        streams=streams,
    )


def budget_reductions(*, plan: SupportPlan) -> list[StreamCost]:
    """The funding streams that approving the plan would reduce to the plan's cost (as
    ``plans.services`` sets the budget): streams the plan pays from whose funding is more
    than the plan's cost. An indicative budget is set, not reduced, so it has none."""
    if plan.budget.state == Budget.State.INDICATIVE:
        return []
    return [
        s
        for s in cost_against_budget(plan=plan).streams
        if s.plan_pence > 0 and s.plan_pence < s.budget_pence
    ]


def approval_completes(*, plan: SupportPlan, step: str) -> bool:
    """Whether approving as ``step`` would be the last sign-off the plan needs (which is
    when the budget is set from the plan)."""
    clinician = step == "clinician" or plan.clinician_approved_at is not None
    commissioner = (
        not plan.needs_commissioner
        or step == "commissioner"
        or plan.commissioner_approved_at is not None
    )
    return clinician and commissioner


def pending_steps(*, plan: SupportPlan) -> list[str]:
    """The sign-offs the submitted plan still lacks."""
    if plan.state != SupportPlan.State.SUBMITTED:
        return []
    steps = []
    if plan.clinician_approved_at is None:
        steps.append("clinician")
    if plan.needs_commissioner and plan.commissioner_approved_at is None:
        steps.append("commissioner")
    return steps


def signoff_history(*, plan: SupportPlan) -> QuerySet[PlanApproval]:
    """Every sign-off step of this version, oldest first, with who took it."""
    return plan.approvals.select_related("by").order_by("at", "pk")


# Plans on the budget pages -------------------------------------------------------------


@dataclass(frozen=True)
class BudgetPlans:
    """A budget's plan in force and the version being made, if any."""

    active: SupportPlan | None
    in_making: SupportPlan | None
    cost: CostAgainstBudget | None  # of the active plan

    @property
    def current(self) -> SupportPlan | None:
        return self.in_making or self.active


IN_MAKING = (
    SupportPlan.State.DRAFT,
    SupportPlan.State.SUBMITTED,
    SupportPlan.State.CHANGES_REQUESTED,
    SupportPlan.State.APPROVED,
)


def budget_plans(*, budget: Budget) -> BudgetPlans:
    """For the budget page: the active plan's cost against the budget and the version
    in the making."""
    plans = list(
        budget.plans.filter(state__in=[SupportPlan.State.ACTIVE, *IN_MAKING]).select_related(
            "budget"
        )
    )
    active = next((p for p in plans if p.state == SupportPlan.State.ACTIVE), None)
    in_making = next((p for p in plans if p.state in IN_MAKING), None)
    return BudgetPlans(
        active=active,
        in_making=in_making,
        cost=cost_against_budget(plan=active) if active is not None else None,
    )


def plans_by_budget(*, budgets: Iterable[Budget]) -> dict[int, BudgetPlans]:
    """For the holder's record: each budget's active plan and version in the making, in
    one query (no costs)."""
    ids = [budget.pk for budget in budgets]
    found: dict[int, dict[str, SupportPlan]] = {pk: {} for pk in ids}
    for plan in SupportPlan.objects.filter(
        budget_id__in=ids, state__in=[SupportPlan.State.ACTIVE, *IN_MAKING]
    ):
        kind = "active" if plan.state == SupportPlan.State.ACTIVE else "in_making"
        found[plan.budget_id][kind] = plan
    return {
        pk: BudgetPlans(active=parts.get("active"), in_making=parts.get("in_making"), cost=None)
        for pk, parts in found.items()
    }


def holder_plan_actions(*, user: Any, holder: BudgetHolder) -> dict[str, bool]:
    """Which staff plan pages the holder's record offers this user: the same rules as
    ``plans.permissions`` (which the pages check again), from one query."""
    roles = roles_for(user, holder)
    return {
        "sign_off": bool(roles & {Role.CLINICIAN, Role.COMMISSIONER}),
        "review": bool(roles & {Role.SUPPORT_PLANNER, Role.CLINICIAN, Role.CARE_COORDINATOR}),
        # A version being written: its planner or those who sign plans off; an
        # approved or active plan: only those who sign plans off.
        "end_writing": bool(roles & QUEUE_ROLES),
        "end_agreed": bool(roles & {Role.CLINICIAN, Role.COMMISSIONER}),
    }
