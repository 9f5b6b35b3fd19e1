"""Who may do what to a budget holder's money. Records are first narrowed by
``.for_user``; these answer the finer question of which actions a person may take."""

from __future__ import annotations

from typing import Any

from budgets.models import Budget, BudgetHolder, FundingContribution
from users.models import Membership, Representation, Role


def _organisation_ids(holder: BudgetHolder) -> set[int]:
    return {pk for pk in (holder.organisation_id, holder.council_id) if pk}


def roles_for_holder(user: Any, holder: BudgetHolder) -> set[str]:
    """The user's roles at the ICB or council responsible for the holder."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(
        Membership.objects.filter(
            user=user, organisation_id__in=_organisation_ids(holder)
        ).values_list("role", flat=True)
    )


def is_staff_for(user: Any, holder: BudgetHolder) -> bool:
    """A member, in any role, of the ICB or council responsible for the holder."""
    return bool(roles_for_holder(user, holder))


def is_finance_for(user: Any, holder: BudgetHolder) -> bool:
    return Role.FINANCE_OFFICER in roles_for_holder(user, holder)


def is_commissioner_for(user: Any, holder: BudgetHolder) -> bool:
    return Role.COMMISSIONER in roles_for_holder(user, holder)


def can_manage_budget(user: Any, holder: BudgetHolder) -> bool:
    """Set up budgets and funding, move their state: commissioners and finance."""
    return bool(roles_for_holder(user, holder) & {Role.COMMISSIONER, Role.FINANCE_OFFICER})


def can_create_holder(user: Any, organisation: Any) -> bool:
    """Staff of an ICB or council who open records: coordinators, commissioners, finance."""
    return Membership.objects.filter(
        user=user,
        organisation=organisation,
        organisation__kind__in=["icb", "local_authority"],
        role__in=[Role.CARE_COORDINATOR, Role.COMMISSIONER, Role.FINANCE_OFFICER],
    ).exists()


def represents_with(user: Any, holder: BudgetHolder, scope: str) -> bool:
    return (
        Representation.objects.current()
        .filter(representative_id=getattr(user, "pk", None), holder=holder)
        .filter(scopes__contains=[scope])
        .exists()
    )


def can_manage_money(
    user: Any, budget: Budget, contribution: FundingContribution | None = None
) -> bool:
    """Record spending, answer finance's queries, ask for reconsideration: the holder,
    a representative with the money scope, or the third-party manager of that part."""
    if not getattr(user, "is_authenticated", False):
        return False
    holder = budget.holder
    if holder.user_id == user.pk:
        return True
    if represents_with(user, holder, Representation.Scope.MANAGE_MONEY):
        return True
    manager_ids = (
        {contribution.managed_by_id}
        if contribution is not None
        else set(budget.contributions.values_list("managed_by_id", flat=True))
    )
    manager_ids.discard(None)
    return Membership.objects.filter(user=user, organisation_id__in=manager_ids).exists()
