"""Demo history for the dashboard: the outcome survey cohort of North Example (36
people with no budget yet) get budgets that started over the past year, through the
budgets services: funding from the ICB (and the council for some), each management
option, payments in from the allocation job, spending on the third-party managed
parts, and a few budgets closed. Then the snapshots are built, so the dashboard shows
figures at once, and the quarterly returns of quarters already over are built.

The demo is a picture of a year that has already happened, so after making each
budget active it dates the day it became active back to the start of its year (and a
closed budget's end to a day last month): the only direct writes here, and only to
those two dates.
"""

from __future__ import annotations

import datetime
import random
from typing import Any

from django.utils import timezone

from budgets import services
from budgets.allocation import allocation_run
from budgets.models import (
    Budget,
    BudgetHolder,
    FundingStream,
    ManagementOption,
    SpendCategory,
)
from core.reporting.models import SpendTarget
from core.reporting.periods import financial_year_of
from users.models import Organisation

_STREAM_BY_ROUTE = {
    "chc": FundingStream.NHS_CHC,
    "childrens_continuing_care": FundingStream.NHS_CHILDRENS_CONTINUING_CARE,
    "mental_health": FundingStream.NHS_MENTAL_HEALTH,
    "wheelchair": FundingStream.NHS_WHEELCHAIR,
}
_OPTIONS = [
    ManagementOption.THIRD_PARTY,
    ManagementOption.NOTIONAL,
    ManagementOption.DIRECT_PAYMENT,
    ManagementOption.THIRD_PARTY,
]
_SPENDS = [
    ("Personal assistant wages", SpendCategory.PERSONAL_ASSISTANT, (300_00, 700_00)),
    ("Physiotherapy sessions", SpendCategory.THERAPY, (60_00, 240_00)),
    ("Community allotment membership", SpendCategory.ACTIVITIES, (20_00, 90_00)),
    ("Taxi to day centre", SpendCategory.TRANSPORT, (15_00, 60_00)),
    ("Weekend short break", SpendCategory.RESPITE, (150_00, 400_00)),
    ("Payroll service", SpendCategory.EMPLOYMENT_COSTS, (25_00, 45_00)),
]


def _cohort_budget(
    holder: BudgetHolder,
    i: int,
    *,
    today: datetime.date,
    icb: Organisation,
    council: Organisation,
    manager_org: Organisation,
    commissioner: Any,
    council_commissioner: Any,
    rng: random.Random,
) -> Budget:
    start = (today - datetime.timedelta(days=30 * (1 + i % 11))).replace(day=1)
    end = start.replace(year=start.year + 1) - datetime.timedelta(days=1)
    budget = services.budget_create(
        holder=holder, period_start=start, period_end=end, created_by=commissioner
    )
    option = _OPTIONS[i % len(_OPTIONS)]
    services.contribution_add(
        budget=budget,
        funder=icb,
        stream=_STREAM_BY_ROUTE.get(holder.eligibility_route, FundingStream.NHS_OTHER),
        yearly_pence=rng.randrange(60, 400) * 100_00,
        added_by=commissioner,
        management_option=option,
        managed_by=manager_org if option == ManagementOption.THIRD_PARTY else None,
    )
    if i % 5 == 0:  # an integrated budget: the council pays for social care
        holder.council = council
        holder.save(update_fields=["council"])
        services.contribution_add(
            budget=budget,
            funder=council,
            stream=FundingStream.COUNCIL_SOCIAL_CARE,
            yearly_pence=rng.randrange(40, 120) * 100_00,
            added_by=council_commissioner,
            management_option=ManagementOption.THIRD_PARTY,
            managed_by=manager_org,
        )
    for state in (Budget.State.AGREED, Budget.State.ACTIVE):
        services.budget_transition(budget=budget, to_state=state, changed_by=commissioner)
    Budget.objects.filter(pk=budget.pk).update(active_from=start)
    return budget


def _spending(budget: Budget, *, today: datetime.date, manager: Any, rng: random.Random) -> None:
    for contribution in budget.contributions.filter(managed_by__isnull=False):
        balance = contribution.account.balance_pence
        day = budget.period_start + datetime.timedelta(days=10)
        n = 0
        while day < today:
            payee, category, (low, high) = _SPENDS[rng.randrange(len(_SPENDS))]
            amount = rng.randrange(low, high)
            if amount > balance:
                break
            services.spend_record(
                budget=budget,
                contribution=contribution,
                payee=payee,
                spent_on=day,
                amount_pence=amount,
                category=category,
                recorded_by=manager,
                idempotency_key=f"demo-reporting-{contribution.pk}-{n}",
            )
            balance -= amount
            n += 1
            day += datetime.timedelta(days=rng.randrange(12, 30))


def load_reporting_demo(
    *,
    icb: Organisation,
    council: Organisation,
    manager_org: Organisation,
    users: dict[str, Any],
) -> None:
    """Budgets with a year's history for the survey cohort, a spend target, the
    snapshots and the quarterly returns. Safe to run again: people who already have a
    budget are left alone."""
    from core.reporting.quarterly import quarterly_returns_build_due
    from core.reporting.snapshots import snapshot_refresh

    today = timezone.localdate()
    rng = random.Random(11)  # noqa: S311 - demo data, not security
    cohort = BudgetHolder.objects.filter(
        organisation=icb, nhs_number__startswith="999", budgets__isnull=True
    ).order_by("nhs_number")
    made = [
        _cohort_budget(
            holder,
            i,
            today=today,
            icb=icb,
            council=council,
            manager_org=manager_org,
            commissioner=users["commissioner"],
            council_commissioner=users["council_commissioner"],
            rng=rng,
        )
        for i, holder in enumerate(cohort)
    ]
    if made:
        allocation_run(as_of=today)
    for i, budget in enumerate(made):
        _spending(budget, today=today, manager=users["manager"], rng=rng)
        if i % 9 == 4:  # a few people no longer have a budget
            services.budget_transition(
                budget=budget,
                to_state=Budget.State.CLOSED,
                changed_by=users["commissioner"],
                reason="Moved out of the area",
            )
            last_month = today.replace(day=1) - datetime.timedelta(days=12)
            Budget.objects.filter(pk=budget.pk).update(
                ended_on=max(last_month, budget.period_start)
            )

    SpendTarget.objects.get_or_create(
        organisation=icb,
        financial_year=financial_year_of(today),
        defaults={
            "relevant_spend_pence": 9_500_000_00,
            "target_basis_points": 1000,
            "set_by": users["commissioner"],
        },
    )
    snapshot_refresh(trigger="scheduled", today=today)
    quarterly_returns_build_due(today=today)
