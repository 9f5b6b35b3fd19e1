"""The plan's life from draft to active, through the services."""

from __future__ import annotations

from budgets.models import BudgetNotice
from plans import services
from plans.models import SupportPlan
from tests.plans.conftest import PlanWorld, fill_plan


def test_a_holder_drafts_and_submits_and_a_clinician_approves(pw: PlanWorld) -> None:
    holder = pw.world.holder_a
    budget = pw.world.budget_a
    plan = services.plan_start(budget=budget, started_by=holder.user)
    plan = fill_plan(plan, holder.user, weekly_pence=250_00)  # £13,000 a year: the budget
    assert plan.yearly_cost_pence == 13_000_00
    plan = services.plan_submit(plan=plan, submitted_by=holder.user, agree=True)
    assert plan.state == SupportPlan.State.SUBMITTED
    assert plan.needs_commissioner is False
    plan = services.plan_approve(plan=plan, approved_by=pw.clinician, step="clinician")
    assert plan.state == SupportPlan.State.ACTIVE
    assert plan.next_review_on == plan.first_review_on
    assert not BudgetNotice.objects.filter(budget=budget).exists()
