"""What every page's header needs: the signed-in person, their role and their menu."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from core.authz import Access, request_principals


def _navigation(request: HttpRequest, principals: frozenset[Access]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [{"text": "Home", "href": reverse("home")}]
    user = request.user
    if Access.HOLDER in principals:
        holder_id = user.budget_holder.pk
        items.append(
            {"text": "Your record", "href": reverse("budgets:holder_detail", args=[holder_id])}
        )
    if Access.STAFF in principals:
        items.append({"text": "People we support", "href": reverse("budgets:holder_list")})
    elif Access.REPRESENTATIVE in principals:
        items.append({"text": "People you act for", "href": reverse("budgets:holder_list")})
    admin_orgs = (
        user.memberships.filter(role="organisation_admin").select_related("organisation")
        if Access.ORGANISATION_ADMIN in principals
        else []
    )
    for membership in admin_orgs:
        items.append(
            {
                "text": f"Team: {membership.organisation.name}",
                "href": reverse("users:member_list", args=[membership.organisation_id]),
            }
        )
    if principals & {Access.COMMISSIONER, Access.ORGANISATION_ADMIN, Access.PLATFORM_ADMIN}:
        items.append({"text": "Audit log", "href": reverse("core:audit_search")})
    if Access.PLATFORM_ADMIN in principals:
        items.append({"text": "Admin", "href": reverse("admin:index")})
    if Access.SIGNED_IN in principals:
        items.append({"text": "Notifications", "href": reverse("core:notification_list")})
    for item in items:
        item["current"] = item["href"] == request.path
    return items


def role_label(request: HttpRequest) -> str:
    user = request.user
    if not user.is_authenticated:
        return ""
    roles = [m.get_role_display() for m in user.memberships.all()]
    if user.is_platform_admin:
        roles.insert(0, "Platform admin")
    principals = request_principals(request)
    if Access.HOLDER in principals:
        roles.append("Budget holder")
    if Access.REPRESENTATIVE in principals:
        roles.append("Representative")
    return ", ".join(dict.fromkeys(roles)) or "No role yet"


def layout(request: HttpRequest) -> dict[str, Any]:
    if not hasattr(request, "user"):  # e.g. an error raised before authentication
        return {"navigation": [], "role_label": "", "unread_count": 0}
    principals = request_principals(request)
    unread = 0
    if request.user.is_authenticated:
        unread = request.user.notifications.filter(read_at__isnull=True).count()
    return {
        "navigation": _navigation(request, principals),
        "role_label": role_label(request),
        "unread_count": unread,
        "principals": principals,
        "Access": Access,
    }
