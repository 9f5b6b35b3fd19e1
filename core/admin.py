from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from core.authz import request_principals
from core.models import AuditEvent, Notification
from core.services import audit_record

# The admin is the platform administrators'. An app may open its own screens to members
# of organisations in some roles (budgets: commissioners and finance officers); those
# members reach that app's screens and the site's index, and nothing else: every other
# app's admin stays platform admins' own whatever Django permissions someone holds.
_MEMBER_APPS: dict[str, frozenset[str]] = {}
_SITE_PAGES_FOR_MEMBERS = frozenset({"index", "logout", "jsi18n", "password_change"})


def open_admin_app_to(app_label: str, roles: Iterable[str]) -> None:
    """Let members holding any of ``roles`` use ``app_label``'s admin screens. Each
    ModelAdmin of that app still decides what they see and may change."""
    _MEMBER_APPS[app_label] = frozenset(str(role) for role in roles)


def member_admin_apps(request: HttpRequest) -> frozenset[str]:
    """The apps whose admin screens the signed-in member may use (none for most)."""
    held = {str(p.value) for p in request_principals(request)}
    return frozenset(label for label, roles in _MEMBER_APPS.items() if roles & held)


def _opens_for_member(request: HttpRequest, apps: frozenset[str]) -> bool:
    match = request.resolver_match
    if match is None:
        return False
    model_admin = getattr(match.func, "model_admin", None)
    if model_admin is not None:
        return model_admin.opts.app_label in apps
    if match.url_name == "app_list":
        return match.kwargs.get("app_label") in apps
    if match.url_name == "autocomplete":
        return request.GET.get("app_label") in apps
    return match.url_name in _SITE_PAGES_FOR_MEMBERS


def admin_site_has_permission(request: HttpRequest) -> bool:
    """Platform admins use the whole admin. Members whose roles open an app (and who
    have MFA) use that app's screens; any other admin page refuses them with a 403
    rather than sending a signed-in person round the sign-in page."""
    from core.middleware import user_has_mfa

    user = request.user
    if not user.is_active:
        return False
    if user.is_platform_admin:  # type: ignore[union-attr]
        return True
    apps = member_admin_apps(request)
    if not apps:
        return False
    if not hasattr(request, "_phb_admin_mfa"):
        request._phb_admin_mfa = user_has_mfa(user)  # type: ignore[attr-defined]
    if not request._phb_admin_mfa:  # type: ignore[attr-defined]
        return False
    if _opens_for_member(request, apps):
        return True
    raise PermissionDenied


def admin_password_change(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """The admin header's "Change password" goes to the account page everyone uses,
    which reauthenticates and tells the person by email."""
    return redirect("account_change_password")


admin.site.has_permission = admin_site_has_permission  # type: ignore[method-assign]
admin.site.password_change = admin_password_change  # type: ignore[method-assign]


class AuditedViewsAdmin(admin.ModelAdmin):
    """An admin whose records hold personal data: opening one is an audit event."""

    def audit_view(self, request: HttpRequest, obj: models.Model) -> None:
        audit_record(actor=request.user, action="record.viewed", obj=obj, changes={"page": "admin"})

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        if obj is not None and request.method == "GET":
            self.audit_view(request, obj)
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the database refuses changes to audit events anyway."""

    list_display = ["created_at", "actor_label", "action", "object_type", "object_id", "person"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_label", "action", "object_id", "person__name", "request_id"]
    date_hierarchy = "created_at"
    list_select_related = ["person"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "subject", "read_at", "emailed_at"]
    search_fields = ["user__email", "subject"]
    readonly_fields = ["created_at", "read_at", "emailed_at"]
