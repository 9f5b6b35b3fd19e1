"""The reads behind the staff plan pages (plans/selectors.py): the queues (oldest first,
days waiting, scoped by role and organisation), reviews due, and cost against budget."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from budgets.models import Budget, FundingStream
from plans import selectors, services
from plans.models import PlanApproval, SupportPlan
from tests.conftest import staff_user
from tests.factories import BudgetHolderFactory, MembershipFactory, add_contribution, make_budget
from tests.plans.conftest import PlanWorld, fill_plan
from users.models import Role

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 20)


def _at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _plan(pw: PlanWorld, org: Any = None, **fields: Any) -> SupportPlan:
    """A plan row for a new holder of ``org`` (North ICB unless said), with its own
    budget. ``created_at`` may be given: it is set after the row is made."""
    holder = BudgetHolderFactory(organisation=org or pw.world.org_x)
    budget = make_budget(holder)
    created_at = fields.pop("created_at", None)
    plan = SupportPlan.objects.create(holder=holder, budget=budget, created_by=pw.planner, **fields)
    if created_at is not None:
        SupportPlan.objects.filter(pk=plan.pk).update(created_at=created_at)
        plan.refresh_from_db()
    return plan


def _submitted(pw: PlanWorld, day: datetime.date, org: Any = None, **fields: Any) -> SupportPlan:
    return _plan(pw, org, state=SupportPlan.State.SUBMITTED, submitted_at=_at(day), **fields)


def test_the_clinicians_queue_is_oldest_first_with_days_waiting(pw):
    middle = _submitted(pw, TODAY - datetime.timedelta(days=5))
    newest = _submitted(pw, TODAY)
    oldest = _submitted(pw, TODAY - datetime.timedelta(days=12))
    rows = selectors.clinician_queue(user=pw.clinician, today=TODAY)
    assert [row.plan for row in rows] == [oldest, middle, newest]
    assert [row.days_waiting for row in rows] == [12, 5, 0]


def test_days_waiting_count_in_uk_time(pw):
    """Sent at 00:30 on 19 July, UK summer time (23:30 on the 18th in UTC): on the
    20th it has waited 1 day, not 2."""
    summer = datetime.date(2026, 7, 20)
    sent = datetime.datetime(2026, 7, 18, 23, 30, tzinfo=datetime.UTC)  # 19 July, 00:30 BST
    _plan(pw, state=SupportPlan.State.SUBMITTED, submitted_at=sent)
    (row,) = selectors.clinician_queue(user=pw.clinician, today=summer)
    assert row.days_waiting == 1


def test_the_clinicians_queue_leaves_out_plans_a_clinician_has_approved(pw):
    _submitted(pw, TODAY, clinician_approved_at=_at(TODAY), clinician_approved_by=pw.clinician)
    waiting = _submitted(pw, TODAY)
    _plan(pw, state=SupportPlan.State.ACTIVE)
    _plan(pw, state=SupportPlan.State.DRAFT)
    assert [row.plan for row in selectors.clinician_queue(user=pw.clinician, today=TODAY)] == [
        waiting
    ]


def test_the_commissioners_queue_has_only_plans_needing_a_commissioner(pw):
    needs = _submitted(pw, TODAY - datetime.timedelta(days=2), needs_commissioner=True)
    # Clinician already approved: still waiting for the commissioner.
    needs_too = _submitted(
        pw,
        TODAY - datetime.timedelta(days=1),
        needs_commissioner=True,
        clinician_approved_at=_at(TODAY),
        clinician_approved_by=pw.clinician,
    )
    _submitted(pw, TODAY)  # does not need a commissioner
    _submitted(
        pw,
        TODAY,
        needs_commissioner=True,
        commissioner_approved_at=_at(TODAY),
        commissioner_approved_by=pw.commissioner,
    )
    rows = selectors.commissioner_queue(user=pw.commissioner, today=TODAY)
    assert [row.plan for row in rows] == [needs, needs_too]
    assert [row.days_waiting for row in rows] == [2, 1]


def test_queues_are_scoped_to_the_organisations_where_the_user_has_the_role(pw):
    """A clinician at North who is a planner at South sees North's submitted plans in
    the clinician's queue, and South's drafts (not North's) in the planner's."""
    user = pw.clinician
    MembershipFactory(user=user, organisation=pw.world.org_y, role=Role.SUPPORT_PLANNER)
    north_submitted = _submitted(pw, TODAY)
    _submitted(pw, TODAY, org=pw.world.org_y)
    _plan(pw, state=SupportPlan.State.DRAFT)
    south_draft = _plan(pw, org=pw.world.org_y, state=SupportPlan.State.DRAFT)
    assert [r.plan for r in selectors.clinician_queue(user=user, today=TODAY)] == [north_submitted]
    assert [r.plan for r in selectors.planner_queue(user=user, today=TODAY)] == [south_draft]
    south = selectors.clinician_queue(user=pw.clinician_y, today=TODAY)
    assert [r.plan.holder.organisation for r in south] == [pw.world.org_y]


def test_the_planners_queue_counts_a_sent_back_plan_from_the_request(pw):
    old_draft = _plan(
        pw, state=SupportPlan.State.DRAFT, created_at=_at(TODAY - datetime.timedelta(days=9))
    )
    sent_back = _plan(
        pw,
        state=SupportPlan.State.CHANGES_REQUESTED,
        created_at=_at(TODAY - datetime.timedelta(days=30)),
    )
    for days in (20, 4):  # asked twice: the latest request counts
        approval = PlanApproval.objects.create(
            plan=sent_back, step=PlanApproval.Step.CHANGES, by=pw.clinician, note="More"
        )
        PlanApproval.objects.filter(pk=approval.pk).update(
            at=_at(TODAY - datetime.timedelta(days=days))
        )
    new_draft = _plan(
        pw, state=SupportPlan.State.DRAFT, created_at=_at(TODAY - datetime.timedelta(days=1))
    )
    _submitted(pw, TODAY)  # not the planner's to act on
    rows = selectors.planner_queue(user=pw.planner, today=TODAY)
    assert [row.plan for row in rows] == [old_draft, sent_back, new_draft]
    assert [row.days_waiting for row in rows] == [9, 4, 1]


def test_reviews_due_within_four_weeks_or_overdue_soonest_first(pw):
    def active(days: int) -> SupportPlan:
        return _plan(
            pw,
            state=SupportPlan.State.ACTIVE,
            next_review_on=TODAY + datetime.timedelta(days=days),
        )

    soon = active(10)
    overdue = active(-3)
    edge = active(28)
    active(29)  # not yet
    _plan(pw, org=pw.world.org_y, state=SupportPlan.State.ACTIVE, next_review_on=TODAY)
    rows = selectors.reviews_due(user=pw.planner, today=TODAY)
    assert [row.plan for row in rows] == [overdue, soon, edge]
    assert [row.days for row in rows] == [-3, 10, 28]
    assert rows[0].overdue
    assert not rows[1].overdue


def test_queues_for_gives_each_role_its_queue_and_nobody_else_any(pw):
    assert [q.key for q in selectors.queues_for(user=pw.planner)] == ["planner"]
    assert [q.key for q in selectors.queues_for(user=pw.clinician)] == ["clinician"]
    assert [q.key for q in selectors.queues_for(user=pw.commissioner)] == ["commissioner"]
    assert selectors.queues_for(user=pw.world.staff_x) == []
    assert selectors.queues_for(user=pw.world.finance_officer) == []
    assert selectors.queues_for(user=pw.world.holder_a.user) == []
    both = staff_user(pw.world.org_x, Role.CLINICIAN)
    MembershipFactory(user=both, organisation=pw.world.org_y, role=Role.COMMISSIONER)
    assert [q.key for q in selectors.queues_for(user=both)] == ["clinician", "commissioner"]


# Cost against budget -------------------------------------------------------------------


def _filled(pw: PlanWorld, weekly_pence: int) -> SupportPlan:
    plan = services.plan_start(budget=pw.world.budget_a, started_by=pw.planner)
    return fill_plan(plan, pw.planner, weekly_pence=weekly_pence)


def test_cost_against_budget_by_stream(pw):
    add_contribution(
        pw.world.budget_a,
        funder=pw.world.org_x,
        stream=FundingStream.COUNCIL_SOCIAL_CARE,
        yearly_pence=2_000_00,
    )
    plan = _filled(pw, 100_00)  # £5,200 a year from NHS CHC
    cost = selectors.cost_against_budget(plan=plan)
    assert cost.plan_pence == 5_200_00
    assert cost.budget_pence == 15_000_00
    assert cost.difference_pence == 9_800_00
    assert not cost.over_budget
    by_stream = {s.stream: (s.budget_pence, s.plan_pence) for s in cost.streams}
    assert by_stream == {
        FundingStream.NHS_CHC: (13_000_00, 5_200_00),
        FundingStream.COUNCIL_SOCIAL_CARE: (2_000_00, 0),
    }
    # Only the stream the plan pays from is reduced on approval.
    reductions = selectors.budget_reductions(plan=plan)
    assert [(r.stream, r.difference_pence) for r in reductions] == [
        (FundingStream.NHS_CHC, 7_800_00)
    ]


def test_an_indicative_budget_has_no_reductions(pw):
    Budget.objects.filter(pk=pw.world.budget_a.pk).update(state=Budget.State.INDICATIVE)
    plan = _filled(pw, 100_00)
    plan.budget.refresh_from_db()
    assert selectors.budget_reductions(plan=plan) == []


def test_a_plan_over_its_budget_is_flagged(pw):
    plan = _filled(pw, 300_00)  # £15,600 against £13,000
    cost = selectors.cost_against_budget(plan=plan)
    assert cost.over_budget
    assert cost.difference_pence == -2_600_00


def test_approval_completes_only_with_every_sign_off_needed(pw):
    plan = _submitted(pw, TODAY)
    assert selectors.approval_completes(plan=plan, step="clinician")
    plan.needs_commissioner = True
    assert not selectors.approval_completes(plan=plan, step="clinician")
    assert not selectors.approval_completes(plan=plan, step="commissioner")
    plan.clinician_approved_at = _at(TODAY)
    assert selectors.approval_completes(plan=plan, step="commissioner")
    assert selectors.pending_steps(plan=plan) == ["commissioner"]


def test_plans_by_budget_finds_the_active_plan_and_the_version_in_the_making(pw):
    active = _plan(pw, state=SupportPlan.State.ACTIVE, next_review_on=TODAY)
    in_making = SupportPlan.objects.create(
        holder=active.holder,
        budget=active.budget,
        version=2,
        revises=active,
        state=SupportPlan.State.SUBMITTED,
        created_by=pw.planner,
    )
    empty = make_budget(active.holder)
    found = selectors.plans_by_budget(budgets=[active.budget, empty])
    assert found[active.budget.pk].active == active
    assert found[active.budget.pk].in_making == in_making
    assert found[empty.pk].active is None
    assert found[empty.pk].in_making is None
    page = selectors.budget_plans(budget=active.budget)
    assert page.active == active
    assert page.in_making == in_making
    assert page.cost is not None
    assert page.cost.budget_pence == 13_000_00
