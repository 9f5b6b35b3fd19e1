"""Who may use which URL: the principals a caller holds, checked against the one declared
matrix in ``config/authorization.py``. Object-level scoping is separate: views reach
records only through ``.for_user(user)`` querysets, so other people's records are 404."""

from __future__ import annotations

import enum
from typing import Any

from django.http import HttpRequest


class Access(enum.StrEnum):
    PUBLIC = "public"  # anyone, signed in or not
    SIGNED_IN = "signed_in"  # any signed-in person
    HOLDER = "holder"  # has a budget holder record of their own
    REPRESENTATIVE = "representative"  # currently represents someone
    STAFF = "staff"  # member of any organisation, in any role
    CARE_COORDINATOR = "care_coordinator"
    SUPPORT_PLANNER = "support_planner"
    CLINICIAN = "clinician"
    COMMISSIONER = "commissioner"
    FINANCE_OFFICER = "finance_officer"
    PROVIDER_STAFF = "provider_staff"
    ORGANISATION_ADMIN = "organisation_admin"
    PLATFORM_ADMIN = "platform_admin"
    APPLICATION = "application"  # a partner system's OAuth2 client (API only)


def principals_for_user(user: Any) -> frozenset[Access]:
    """Every principal a user holds, worked out in three small queries."""
    granted = {Access.PUBLIC}
    if not getattr(user, "is_authenticated", False):
        return frozenset(granted)
    from budgets.models import BudgetHolder
    from users.models import Representation

    granted.add(Access.SIGNED_IN)
    if user.is_platform_admin:
        granted.add(Access.PLATFORM_ADMIN)
    roles = set(user.memberships.values_list("role", flat=True))
    if roles:
        granted.add(Access.STAFF)
        granted.update(Access(role) for role in roles)
    if BudgetHolder.objects.filter(user=user).exists():
        granted.add(Access.HOLDER)
    if Representation.objects.current().filter(representative=user).exists():
        granted.add(Access.REPRESENTATIVE)
    return frozenset(granted)


def request_principals(request: HttpRequest) -> frozenset[Access]:
    cached: frozenset[Access] | None = getattr(request, "_phb_principals", None)
    if cached is None:
        cached = principals_for_user(getattr(request, "user", None))
        request._phb_principals = cached  # type: ignore[attr-defined]
    return cached


def rule_for(view_name: str) -> frozenset[Access] | None:
    """The matrix entry for a URL name; ``None`` when the URL is not declared."""
    from config.authorization import MATRIX

    if view_name in MATRIX:
        return MATRIX[view_name]
    namespace = view_name.rpartition(":")[0]
    return MATRIX.get(f"{namespace}:*") if namespace else None


def allows(rule: frozenset[Access], principals: frozenset[Access]) -> bool:
    return bool(rule & principals)
