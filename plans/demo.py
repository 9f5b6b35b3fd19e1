"""Demo support plans, built through the plan services as people would build them:
Alex Morgan's plan is in force (outcomes, support paid from both funders, a family carer
with her own support and a back-up person); Bernadette Quinn's waits for a clinician;
Chidi Eze's is a draft. Idempotent: a budget that has any plan is left as it is."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from budgets.models import BudgetHolder, FundingStream
from plans import services
from plans.models import CircleMember, LifeArea, SupportItem, SupportPlan


def load_plan_demo(*, clinician: Any, commissioner: Any) -> None:
    for name, build in (
        ("Alex Morgan", _active),
        ("Bernadette Quinn", _submitted),
        ("Chidi Eze", _draft),
    ):
        holder = BudgetHolder.objects.filter(name=name).select_related("user").first()
        budget = holder.budgets.order_by("-period_start").first() if holder else None
        if holder is None or budget is None or budget.plans.exists():
            continue
        with transaction.atomic():
            plan = services.plan_start(budget=budget, started_by=holder.user)
            build(plan, holder.user, clinician=clinician, commissioner=commissioner)


def _basics(plan: SupportPlan, by: Any, what_matters: str) -> None:
    services.plan_update(
        plan=plan,
        updated_by=by,
        what_matters=what_matters,
        if_support_fails="I ring the agency's out-of-hours line; my back-up person comes "
        "round until cover arrives.",
        first_review_on=timezone.localdate() + datetime.timedelta(days=60),
        review_every_months=6,
    )


def _stream_yearly(plan: SupportPlan) -> dict[str, int]:
    return services.budget_pence_by_stream(plan.budget)


def _active(plan: SupportPlan, by: Any, *, clinician: Any, commissioner: Any) -> None:
    _basics(
        plan,
        by,
        "Living in my own flat, swimming every week, and seeing my nephew play football.",
    )
    services.plan_update(
        plan=plan,
        updated_by=by,
        carer_emergency="Jordan rings Pat, who stays with me, and then the agency for cover.",
    )
    swim = services.outcome_save(
        plan=plan,
        saved_by=by,
        goal="Swim on my own once a week",
        how_we_know="I go to the pool every Tuesday without my PA in the water",
        by_when=timezone.localdate() + datetime.timedelta(days=180),
        life_areas=[LifeArea.HEALTH, LifeArea.INDEPENDENCE],
    )
    home = services.outcome_save(
        plan=plan,
        saved_by=by,
        goal="Stay living in my own flat",
        how_we_know="No stays in hospital or respite because support broke down",
        life_areas=[LifeArea.INDEPENDENCE, LifeArea.QUALITY_OF_LIFE, LifeArea.CHOICE_CONTROL],
    )
    jordan = services.circle_save(
        plan=plan,
        saved_by=by,
        name="Jordan Morgan",
        relationship=CircleMember.Relationship.CARER,
        role="My sister: helps every evening and at weekends",
        phone="07700 900201",
    )
    services.circle_save(
        plan=plan,
        saved_by=by,
        name="Pat Lee",
        relationship=CircleMember.Relationship.FRIEND,
        role="Neighbour: steps in if Jordan cannot",
        is_backup=True,
        phone="07700 900202",
    )
    services.circle_save(
        plan=plan,
        saved_by=by,
        name="Dr Helen Marsh",
        relationship=CircleMember.Relationship.PROFESSIONAL,
        role="Clinician",
    )
    funded = _stream_yearly(plan)
    nhs = funded.get(FundingStream.NHS_CHC, 0)
    weekly = nhs // 52
    services.item_save(
        plan=plan,
        saved_by=by,
        description="Personal assistant: mornings, and swimming on Tuesdays",
        provider_kind=SupportItem.ProviderKind.PERSONAL_ASSISTANT,
        provider_name="Sam",
        times=1,
        per=SupportItem.Per.WEEK,
        unit_cost_pence=weekly,
        stream=FundingStream.NHS_CHC,
        outcome_ids=[swim.pk, home.pk],
    )
    if nhs - 52 * weekly:
        services.item_save(
            plan=plan,
            saved_by=by,
            description="Pool membership",
            provider_kind=SupportItem.ProviderKind.OTHER,
            provider_name="Leisure centre",
            times=1,
            per=SupportItem.Per.YEAR,
            unit_cost_pence=nhs - 52 * weekly,
            stream=FundingStream.NHS_CHC,
            outcome_ids=[swim.pk],
        )
    services.money_save(
        plan=plan,
        saved_by=by,
        stream=FundingStream.NHS_CHC,
        management_option="direct_payment",
        managed_by="Alex Morgan",
    )
    council = funded.get(FundingStream.COUNCIL_SOCIAL_CARE, 0)
    if council:
        services.item_save(
            plan=plan,
            saved_by=by,
            description="A short break for Jordan each week",
            provider_kind=SupportItem.ProviderKind.MARKETPLACE,
            provider_name="Riverside Shared Lives",
            times=1,
            per=SupportItem.Per.YEAR,
            unit_cost_pence=council,
            stream=FundingStream.COUNCIL_SOCIAL_CARE,
            outcome_ids=[home.pk],
            carer=jordan,
            carer_support=SupportItem.CarerSupport.BREAK,
        )
        services.money_save(
            plan=plan,
            saved_by=by,
            stream=FundingStream.COUNCIL_SOCIAL_CARE,
            management_option="third_party",
            managed_by="Independent Living Budget Support",
        )
    services.risk_save(
        plan=plan,
        saved_by=by,
        description="I could get into difficulty in the pool",
        how_managed="A lifeguard is always on duty; Sam waits at the side",
        agreed_by="Me, Sam and Dr Marsh",
        positive_risk=True,
    )
    plan = services.plan_submit(plan=plan, submitted_by=by, agree=True)
    plan = services.plan_approve(plan=plan, approved_by=clinician, step="clinician")
    if plan.state == SupportPlan.State.SUBMITTED:  # over the commissioner's threshold
        services.plan_approve(plan=plan, approved_by=commissioner, step="commissioner")


def _filled_simply(plan: SupportPlan, by: Any, what_matters: str, goal: str) -> None:
    _basics(plan, by, what_matters)
    outcome = services.outcome_save(
        plan=plan,
        saved_by=by,
        goal=goal,
        life_areas=[LifeArea.MENTAL_WELLBEING, LifeArea.COMMUNITY],
    )
    stream, yearly = next(iter(sorted(_stream_yearly(plan).items())))
    services.item_save(
        plan=plan,
        saved_by=by,
        description="Support worker, two afternoons a week",
        provider_kind=SupportItem.ProviderKind.MARKETPLACE,
        provider_name="Bright Days Personal Assistants Co-operative",
        times=1,
        per=SupportItem.Per.YEAR,
        unit_cost_pence=yearly,
        stream=stream,
        outcome_ids=[outcome.pk],
    )
    services.money_save(plan=plan, saved_by=by, stream=stream, management_option="notional")


def _submitted(plan: SupportPlan, by: Any, **_: Any) -> None:
    _filled_simply(
        plan,
        by,
        "Getting out of the house, and being part of the allotment group again.",
        "Go to the allotment group every week",
    )
    services.plan_submit(plan=plan, submitted_by=by, agree=True)


def _draft(plan: SupportPlan, by: Any, **_: Any) -> None:
    services.plan_update(
        plan=plan, updated_by=by, what_matters="Getting around town in my own chair."
    )
    services.outcome_save(
        plan=plan,
        saved_by=by,
        goal="Get to college on my own",
        life_areas=[LifeArea.INDEPENDENCE, LifeArea.WORK_VOLUNTEERING],
    )
