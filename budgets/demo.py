"""Demo money: holders' details, budgets (one integrated), a year of payments so far,
some spending, a published RAS questionnaire and an assessment. Built through the same
services people use, so the demo shows what the platform really does. Idempotent: it
only adds what is missing. NHS numbers are from the 999 range, never issued to anyone."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from budgets import services
from budgets.allocation import allocation_run
from budgets.models import (
    Budget,
    BudgetHolder,
    EligibilityRoute,
    FundingStream,
    ManagementOption,
    RasBand,
    RasDomain,
    RasOption,
    RasQuestion,
    RasQuestionnaire,
    Spend,
    SpendCategory,
)
from budgets.monitoring import monitoring_sweep, reconciliation_run
from budgets.ras import ras_assess_questionnaire, ras_questionnaire_publish
from users.models import Organisation

# name -> (NHS number, date of birth, postcode, route, integrated with the council)
HOLDER_DETAILS = {
    "Alex Morgan": (
        "9990001014",
        datetime.date(1979, 3, 14),
        "LS6 2AB",
        EligibilityRoute.CHC,
        True,
    ),
    "Bernadette Quinn": (
        "9990002010",
        datetime.date(1958, 11, 2),
        "LS8 1QT",
        EligibilityRoute.MENTAL_HEALTH,
        False,
    ),
    "Chidi Eze": (
        "9990003017",
        datetime.date(1991, 6, 30),
        "LS11 5HR",
        EligibilityRoute.WHEELCHAIR,
        False,
    ),
    "Riley Carter": (
        "9990004013",
        datetime.date(2015, 9, 8),
        "LS7 3JD",
        EligibilityRoute.CHILDRENS_CONTINUING_CARE,
        False,
    ),
}

RAS_DOMAINS = [
    (
        "Daily living",
        [
            (
                "How much help do you need with washing and dressing?",
                [("None", 0), ("Some", 4), ("A lot", 9)],
            ),
            (
                "How much help do you need with eating and drinking?",
                [("None", 0), ("Some", 3), ("A lot", 7)],
            ),
        ],
    ),
    (
        "Health",
        [
            (
                "How often do you need help with medication or treatment?",
                [("Never", 0), ("Weekly", 3), ("Daily", 8)],
            ),
        ],
    ),
    (
        "Family and community",
        [
            ("How much support do family carers give?", [("A lot", 0), ("Some", 4), ("None", 8)]),
            (
                "Do you need support to take part in your community?",
                [("No", 0), ("Sometimes", 2), ("Always", 5)],
            ),
        ],
    ),
]


def _questionnaire(icb: Organisation, commissioner: Any) -> RasQuestionnaire:
    existing = RasQuestionnaire.objects.filter(
        organisation=icb, stream=FundingStream.NHS_CHC
    ).first()
    if existing is not None:
        return existing
    questionnaire = RasQuestionnaire.objects.create(
        organisation=icb,
        stream=FundingStream.NHS_CHC,
        name="Continuing healthcare resource allocation",
        price_per_point_pence=1_150_00,
        cap_pence=60_000_00,
    )
    RasBand.objects.create(
        questionnaire=questionnaire, min_points=0, max_points=5, amount_pence=4_000_00
    )
    for d, (title, questions) in enumerate(RAS_DOMAINS):
        domain = RasDomain.objects.create(questionnaire=questionnaire, title=title, order=d)
        for q, (text, options) in enumerate(questions):
            question = RasQuestion.objects.create(domain=domain, text=text, order=q)
            for o, (label, points) in enumerate(options):
                RasOption.objects.create(question=question, label=label, points=points, order=o)
    return ras_questionnaire_publish(questionnaire=questionnaire, published_by=commissioner)


def load_budget_demo(
    *, icb: Organisation, council: Organisation, manager_org: Organisation, users: dict[str, Any]
) -> None:
    commissioner, finance = users["commissioner"], users["finance"]
    council_commissioner = users["council_commissioner"]
    questionnaire = _questionnaire(icb, commissioner)
    today = timezone.localdate()
    start = (today - datetime.timedelta(days=150)).replace(day=1)
    end = start.replace(year=start.year + 1) - datetime.timedelta(days=1)

    for name, (number, _born, _postcode, route, integrated) in HOLDER_DETAILS.items():
        holder = BudgetHolder.objects.get(nhs_number=number)
        if holder.budgets.exists():
            continue
        assessment = None
        if name == "Alex Morgan":
            first_option = {
                q.pk: q.options.order_by("-points").first().pk
                for q in RasQuestion.objects.filter(domain__questionnaire=questionnaire)
            }
            assessment = ras_assess_questionnaire(
                holder=holder,
                questionnaire=questionnaire,
                answers=first_option,
                completed_by=commissioner,
            )
        budget = services.budget_create(
            holder=holder,
            period_start=start,
            period_end=end,
            created_by=commissioner,
            indicative_assessment=assessment,
        )
        yearly = assessment.indicative_pence if assessment else 18_200_00
        services.contribution_add(
            budget=budget,
            funder=icb,
            stream=FundingStream.NHS_CHC
            if route != EligibilityRoute.MENTAL_HEALTH
            else FundingStream.NHS_MENTAL_HEALTH,
            yearly_pence=yearly,
            added_by=commissioner,
            management_option=ManagementOption.DIRECT_PAYMENT
            if integrated
            else ManagementOption.NOTIONAL,
        )
        if integrated:
            services.contribution_add(
                budget=budget,
                funder=council,
                stream=FundingStream.COUNCIL_SOCIAL_CARE,
                yearly_pence=9_100_00,
                added_by=council_commissioner,
                management_option=ManagementOption.THIRD_PARTY,
                managed_by=manager_org,
            )
        for state in (Budget.State.AGREED, Budget.State.ACTIVE):
            services.budget_transition(budget=budget, to_state=state, changed_by=commissioner)

    allocation_run(as_of=today)

    alex = BudgetHolder.objects.get(name="Alex Morgan")
    budget = alex.budgets.get()
    nhs = budget.contributions.get(funder=icb)
    if not Spend.objects.filter(budget=budget).exists():
        for weeks_ago, payee, pence, category in [
            (16, "Personal assistant wages (Sam)", 640_00, SpendCategory.PERSONAL_ASSISTANT),
            (12, "Personal assistant wages (Sam)", 640_00, SpendCategory.PERSONAL_ASSISTANT),
            (9, "Hydrotherapy sessions", 180_00, SpendCategory.THERAPY),
            (6, "Personal assistant wages (Sam)", 640_00, SpendCategory.PERSONAL_ASSISTANT),
            (3, "Riser recliner chair", 489_99, SpendCategory.EQUIPMENT),
            (1, "Personal assistant wages (Sam)", 640_00, SpendCategory.PERSONAL_ASSISTANT),
        ]:
            spent_on = max(today - datetime.timedelta(weeks=weeks_ago), budget.period_start)
            spend = services.spend_record(
                budget=budget,
                contribution=nhs,
                payee=payee,
                spent_on=spent_on,
                amount_pence=pence,
                category=category,
                recorded_by=alex.user,
                idempotency_key=f"demo-{budget.pk}-{weeks_ago}",
            )
        services.spend_query_raise(
            spend=spend,
            question="Is this the timesheet for the week of the bank holiday? Please attach it.",
            asked_by=finance,
        )
    monitoring_sweep(today=today)
    reconciliation_run()
