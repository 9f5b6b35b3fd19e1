"""The facts a response carries into reports, read from the person's record at the
moment the answers are sent: their ICB and council, eligibility route, how their budget
is managed and its yearly size band. Fixing them then keeps last year's report the
same after a person moves or their budget changes."""

from __future__ import annotations

from typing import Any

from django.db.models import Sum

from budgets.models import Budget, BudgetHolder
from outcomes.models import MIXED_MANAGEMENT, budget_band_for


def response_dimensions(*, holder: BudgetHolder) -> dict[str, Any]:
    """Fields for SurveyResponse: organisation, council, eligibility_route,
    management_option ('' with no budget, 'mixed' for several ways) and budget_band."""
    budget = (
        Budget.objects.filter(holder=holder)
        .exclude(state=Budget.State.CLOSED)
        .order_by("-period_start", "-pk")
        .first()
    ) or Budget.objects.filter(holder=holder).order_by("-period_start", "-pk").first()
    management_option = ""
    yearly: int | None = None
    if budget is not None:
        contributions = budget.contributions.all()
        options = set(contributions.values_list("management_option", flat=True))
        if len(options) == 1:
            management_option = options.pop()
        elif options:
            management_option = MIXED_MANAGEMENT
        yearly = contributions.aggregate(total=Sum("yearly_pence"))["total"]
    return {
        "organisation": holder.organisation,
        "council": holder.council,
        "eligibility_route": holder.eligibility_route,
        "management_option": management_option,
        "budget_band": budget_band_for(yearly),
    }
