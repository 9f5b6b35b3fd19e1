"""What every page's header needs: the signed-in person, their role and their menu."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from core.authz import Access, request_principals
from core.models import Notification
from users.models import Role


def _navigation(
    request: HttpRequest, principals: frozenset[Access], memberships: list[Any]
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [{"text": "Home", "href": reverse("home")}]
    user = request.user
    if principals & {Access.COMMISSIONER, Access.FINANCE_OFFICER}:
        items.append({"text": "Dashboard", "href": reverse("reporting:dashboard")})
        items.append({"text": "Reports", "href": reverse("reporting:report_list")})
    if Access.HOLDER in principals:
        holder = user.budget_holder
        budget_id = (
            holder.budgets.exclude(state="closed")
            .order_by("-period_start")
            .values_list("pk", flat=True)
            .first()
        )
        if budget_id:
            items.append(
                {"text": "Your budget", "href": reverse("budgets:budget_detail", args=[budget_id])}
            )
            items.append(
                {"text": "Your spending", "href": reverse("budgets:spend_list", args=[budget_id])}
            )
        items.append(
            {"text": "Your record", "href": reverse("budgets:holder_detail", args=[holder.pk])}
        )
    # Provider staff serve people through bookings, not through their records.
    if principals & {
        Access.CARE_COORDINATOR,
        Access.SUPPORT_PLANNER,
        Access.CLINICIAN,
        Access.COMMISSIONER,
        Access.FINANCE_OFFICER,
        Access.ORGANISATION_ADMIN,
    }:
        items.append({"text": "People we support", "href": reverse("budgets:holder_list")})
    elif Access.REPRESENTATIVE in principals:
        items.append({"text": "People you act for", "href": reverse("budgets:holder_list")})
    # The marketplace: finding and buying support, listings, the market.
    if principals & {
        Access.HOLDER,
        Access.REPRESENTATIVE,
        Access.SUPPORT_PLANNER,
        Access.CARE_COORDINATOR,
    }:
        items.append({"text": "Find support", "href": reverse("marketplace:search")})
    if principals & {Access.HOLDER, Access.REPRESENTATIVE, Access.PROVIDER_STAFF}:
        items.append({"text": "Bookings", "href": reverse("marketplace:booking_list")})
    if Access.PROVIDER_STAFF in principals:
        items.append({"text": "Your listings", "href": reverse("marketplace:provider_home")})
    if Access.COMMISSIONER in principals:
        items.append({"text": "Market", "href": reverse("marketplace:market_overview")})
    # Outcome surveys: people answer theirs; staff who serve people read the results.
    if principals & {
        Access.HOLDER,
        Access.REPRESENTATIVE,
        Access.CARE_COORDINATOR,
        Access.SUPPORT_PLANNER,
        Access.CLINICIAN,
    }:
        items.append({"text": "Surveys", "href": reverse("outcomes:survey_list")})
    if principals & {
        Access.CARE_COORDINATOR,
        Access.SUPPORT_PLANNER,
        Access.CLINICIAN,
        Access.COMMISSIONER,
        Access.FINANCE_OFFICER,
    }:
        items.append({"text": "Outcomes", "href": reverse("outcomes:report")})
    if principals & {
        Access.CARE_COORDINATOR,
        Access.SUPPORT_PLANNER,
        Access.CLINICIAN,
        Access.COMMISSIONER,
        Access.FINANCE_OFFICER,
    }:
        items.append({"text": "Flags", "href": reverse("budgets:flag_list")})
    if principals & {Access.SUPPORT_PLANNER, Access.CLINICIAN, Access.COMMISSIONER}:
        items.append({"text": "Plans waiting", "href": reverse("plans:queue")})
    if principals & {Access.COMMISSIONER, Access.FINANCE_OFFICER}:
        items.append({"text": "Payments in", "href": reverse("budgets:allocation_run_list")})
        items.append({"text": "Recoveries", "href": reverse("budgets:recovery_list")})
    for membership in memberships:
        if membership.role != Role.ORGANISATION_ADMIN:
            continue
        items.append(
            {
                "text": f"Team: {membership.organisation.name}",
                "href": reverse("users:member_list", args=[membership.organisation_id]),
            }
        )
    if principals & {Access.COMMISSIONER, Access.ORGANISATION_ADMIN, Access.PLATFORM_ADMIN}:
        items.append({"text": "Audit log", "href": reverse("core:audit_search")})
    if principals & {Access.PLATFORM_ADMIN, Access.COMMISSIONER, Access.FINANCE_OFFICER}:
        items.append({"text": "Admin", "href": reverse("admin:index")})
    if Access.SIGNED_IN in principals:
        items.append({"text": "Notifications", "href": reverse("core:notification_list")})
    for item in items:
        item["current"] = item["href"] == request.path
    return items


def _role_label(principals: frozenset[Access], memberships: list[Any]) -> str:
    roles = [m.get_role_display() for m in memberships]
    if Access.PLATFORM_ADMIN in principals:
        roles.insert(0, "Platform admin")
    if Access.HOLDER in principals:
        roles.append("Budget holder")
    if Access.REPRESENTATIVE in principals:
        roles.append("Representative")
    return ", ".join(dict.fromkeys(roles)) or "No role yet"


def layout(request: HttpRequest) -> dict[str, Any]:
    if not hasattr(request, "user"):  # e.g. an error raised before authentication
        return {"navigation": [], "role_label": "", "unread_count": 0}
    principals = request_principals(request)
    user = request.user
    if not user.is_authenticated:
        return {
            "navigation": _navigation(request, principals, []),
            "role_label": "",
            "unread_count": 0,
        }
    # One query for the memberships both the menu and the role label need.
    memberships = list(user.memberships.select_related("organisation"))
    return {
        "navigation": _navigation(request, principals, memberships),
        "role_label": _role_label(principals, memberships),
        "unread_count": Notification.objects.for_user(user).unread().count(),
    }
