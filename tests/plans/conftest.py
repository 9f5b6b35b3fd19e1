"""Plan fixtures: the world's holder A with a planner, a clinician and a commissioner
at North ICB, and a helper that fills in a plan ready to submit."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from budgets.models import FundingStream, ManagementOption
from plans import services
from plans.models import CircleMember, LifeArea, SupportItem, SupportPlan
from tests.conftest import World, staff_user
from users.models import Role


@dataclass
class PlanWorld:
    world: World
    planner: Any
    clinician: Any
    commissioner: Any
    clinician_y: Any  # a clinician at South ICB, who does not serve holder A


@pytest.fixture
def pw(world: World) -> PlanWorld:
    return PlanWorld(
        world=world,
        planner=staff_user(world.org_x, Role.SUPPORT_PLANNER),
        clinician=staff_user(world.org_x, Role.CLINICIAN),
        commissioner=world.commissioner,
        clinician_y=staff_user(world.org_y, Role.CLINICIAN),
    )


def fill_plan(plan: SupportPlan, by: Any, *, weekly_pence: int = 100_00) -> SupportPlan:
    """A complete plan: what matters, an outcome, a paid item, money, a risk, a family
    carer and a back-up person for her, contingency. Costs ``weekly_pence`` x 52 a year."""
    services.plan_update(
        plan=plan,
        updated_by=by,
        what_matters="Being at home with my dog and seeing my grandchildren.",
        if_support_fails="My sister Jo comes round; the agency sends cover within 4 hours.",
        carer_emergency="Jo calls the agency's out-of-hours line and stays until cover comes.",
        first_review_on=timezone.localdate() + datetime.timedelta(days=60),
    )
    outcome = services.outcome_save(
        plan=plan,
        saved_by=by,
        goal="Walk to the park on my own",
        how_we_know="I go twice a week without help",
        life_areas=[LifeArea.INDEPENDENCE, LifeArea.HEALTH],
    )
    services.item_save(
        plan=plan,
        saved_by=by,
        description="Personal assistant for walks",
        provider_kind=SupportItem.ProviderKind.PERSONAL_ASSISTANT,
        provider_name="Sam",
        times=1,
        per=SupportItem.Per.WEEK,
        unit_cost_pence=weekly_pence,
        stream=FundingStream.NHS_CHC,
        outcome_ids=[outcome.pk],
    )
    services.money_save(
        plan=plan,
        saved_by=by,
        stream=FundingStream.NHS_CHC,
        management_option=ManagementOption.NOTIONAL,
    )
    services.risk_save(
        plan=plan,
        saved_by=by,
        description="I might fall on the way to the park",
        how_managed="I carry a phone; Sam walks with me at first",
        agreed_by="Me, Sam and my physio",
        positive_risk=True,
    )
    services.circle_save(
        plan=plan,
        saved_by=by,
        name="Jo Sister",
        relationship=CircleMember.Relationship.CARER,
        role="Visits every day",
        is_backup=True,
        phone="07700 900123",
    )
    # Jo is the family carer: someone else must be able to step in when she cannot.
    services.circle_save(
        plan=plan,
        saved_by=by,
        name="Chris Neighbour",
        relationship=CircleMember.Relationship.FRIEND,
        role="Lives next door; steps in if Jo cannot",
        is_backup=True,
        phone="07700 900456",
    )
    plan.refresh_from_db()
    return plan


def make_active(plan: SupportPlan, pw: PlanWorld) -> SupportPlan:
    """Send a filled plan (drafted by holder A) and have the clinician approve it."""
    services.plan_submit(plan=plan, submitted_by=pw.world.holder_a.user, agree=True)
    return services.plan_approve(plan=plan, approved_by=pw.clinician, step="clinician")


@pytest.fixture
def active_plan(pw: PlanWorld) -> SupportPlan:
    """Holder A's plan in force: the fill_plan plan costing the whole £13,000 budget."""
    holder = pw.world.holder_a.user
    plan = services.plan_start(budget=pw.world.budget_a, started_by=holder)
    plan = fill_plan(plan, holder, weekly_pence=250_00)
    return make_active(plan, pw)
