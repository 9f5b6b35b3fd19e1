"""Reads for the staff pages on holders, budgets and indicative budgets."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from budgets.models import (
    Budget,
    BudgetHolder,
    FundingContribution,
    LedgerAccount,
    MonitoringFlag,
    RasAssessment,
    RasQuestionnaire,
)
from budgets.permissions import can_manage_budget, is_commissioner_for
from users.models import Membership, Organisation, Role

# Roles that may work out an indicative budget (the matrix's holder staff).
ASSESSING_ROLES = {
    Role.CARE_COORDINATOR,
    Role.SUPPORT_PLANNER,
    Role.CLINICIAN,
    Role.COMMISSIONER,
    Role.FINANCE_OFFICER,
}
CREATING_ROLES = {Role.CARE_COORDINATOR, Role.COMMISSIONER, Role.FINANCE_OFFICER}


def is_staff(user: Any) -> bool:
    return Membership.objects.filter(user=user).exists()


def holder_search(
    *,
    user: Any,
    nhs_number: str = "",
    name: str = "",
    date_of_birth: datetime.date | None = None,
    eligibility_route: str = "",
    organisation_id: int | None = None,
) -> QuerySet[BudgetHolder]:
    """Holders of the user's own organisations matching every filter given. Someone
    in another ICB is never found, not even by their exact NHS number. ``organisation_id``
    narrows to one of them (as ICB or council); any other organisation finds no one."""
    holders = BudgetHolder.objects.for_staff(user)
    if eligibility_route:
        holders = holders.filter(eligibility_route=eligibility_route)
    if organisation_id is not None:
        holders = holders.filter(Q(organisation_id=organisation_id) | Q(council_id=organisation_id))
    if nhs_number:
        holders = holders.filter(nhs_number=nhs_number)
    if name:
        holders = holders.filter(name__icontains=name)
    if date_of_birth:
        holders = holders.filter(date_of_birth=date_of_birth)
    return holders.select_related("organisation", "council").order_by("name", "pk")


def holder_creatable_icbs(*, user: Any) -> QuerySet[Organisation]:
    """The ICBs in which the user may open records."""
    return Organisation.objects.filter(
        kind=Organisation.Kind.ICB,
        memberships__user=user,
        memberships__role__in=CREATING_ROLES,
    ).distinct()


def holder_budgets(*, holder: BudgetHolder) -> QuerySet[Budget]:
    """The holder's budgets with their yearly amount and balance (sums of each
    contribution and of each contribution's budget account; subqueries, so the two
    sums do not multiply each other)."""
    yearly = (
        FundingContribution.objects.filter(budget=OuterRef("pk"))
        .values("budget")
        .annotate(total=Sum("yearly_pence"))
        .values("total")
    )
    balance = (
        LedgerAccount.objects.filter(budget=OuterRef("pk"), kind=LedgerAccount.Kind.BUDGET)
        .values("budget")
        .annotate(total=Sum("balance_pence"))
        .values("total")
    )
    return (
        holder.budgets.annotate(
            yearly_pence=Coalesce(Subquery(yearly), 0),
            balance_pence=Coalesce(Subquery(balance), 0),
        )
        .prefetch_related("contributions__funder", "contributions__managed_by")
        .order_by("-period_start", "-pk")
    )


def holder_open_flags(*, holder: BudgetHolder) -> QuerySet[MonitoringFlag]:
    return (
        MonitoringFlag.objects.filter(budget__holder=holder)
        .unresolved()
        .select_related("budget")
        .order_by("-raised_at")
    )


def holder_assessments(*, holder: BudgetHolder) -> QuerySet[RasAssessment]:
    return holder.ras_assessments.select_related("questionnaire", "completed_by").order_by(
        "-completed_at", "-pk"
    )


def holder_actions(*, user: Any, holder: BudgetHolder) -> dict[str, bool]:
    """Which staff actions the page offers this user for this holder."""
    roles = set(
        Membership.objects.filter(
            user=user, organisation_id__in=[holder.organisation_id, holder.council_id]
        ).values_list("role", flat=True)
    )
    return {
        "is_staff": bool(roles),
        "manage_budget": can_manage_budget(user, holder),
        "assess": bool(roles & ASSESSING_ROLES),
        "override": is_commissioner_for(user, holder),
    }


def questionnaires_for(*, holder: BudgetHolder) -> QuerySet[RasQuestionnaire]:
    """The published RAS questionnaires of the holder's ICB and council."""
    organisations = [pk for pk in (holder.organisation_id, holder.council_id) if pk]
    return (
        RasQuestionnaire.objects.filter(
            organisation_id__in=organisations, status=RasQuestionnaire.Status.PUBLISHED
        )
        .select_related("organisation")
        .order_by("organisation__name", "stream")
    )


def questionnaire_structure(*, questionnaire: RasQuestionnaire) -> list[Any]:
    """Domains with their questions and options, in order, for the assessment form."""
    return list(
        questionnaire.domains.prefetch_related("questions__options").order_by("order", "pk")
    )


def budgets_for_staff(*, user: Any) -> QuerySet[Budget]:
    """Budgets of holders of the user's organisations (what setup pages may open)."""
    return Budget.objects.filter(holder__in=BudgetHolder.objects.for_staff(user)).select_related(
        "holder", "holder__organisation", "holder__council"
    )


def contributions_for_staff(*, user: Any) -> QuerySet[FundingContribution]:
    return FundingContribution.objects.filter(
        budget__holder__in=BudgetHolder.objects.for_staff(user)
    ).select_related("budget", "budget__holder", "funder", "managed_by")
