from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from core.authz import request_principals
from core.models import AuditEvent, Notification
from core.reporting.models import QuarterlyReturn, QuarterlyReturnDownload, ReportJob, SnapshotRun
from core.services import audit_record
from users.models import Role

# The admin is the platform administrators'. An app may open its own screens to members
# of organisations in some roles (budgets: commissioners and finance officers), and one
# model of an app may be opened on its own (the audit log, to commissioners, without the
# rest of ``core``). Those members reach what was opened to them and the site's index,
# and nothing else: every other screen stays platform admins' own whatever Django
# permissions someone holds.
_MEMBER_APPS: dict[str, frozenset[str]] = {}
_MEMBER_MODELS: dict[str, frozenset[str]] = {}  # "app_label.modelname" -> roles
_SITE_PAGES_FOR_MEMBERS = frozenset({"index", "logout", "jsi18n", "password_change"})


def open_admin_app_to(app_label: str, roles: Iterable[str]) -> None:
    """Let members holding any of ``roles`` use ``app_label``'s admin screens. Each
    ModelAdmin of that app still decides what they see and may change."""
    _MEMBER_APPS[app_label] = frozenset(str(role) for role in roles)


def open_admin_model_to(model: type[models.Model], roles: Iterable[str]) -> None:
    """Let members holding any of ``roles`` use one model's admin screens, and no other
    screen of its app. Its ModelAdmin still decides what they see and may change."""
    _MEMBER_MODELS[model._meta.label_lower] = frozenset(str(role) for role in roles)


def _held_roles(request: HttpRequest) -> set[str]:
    return {str(p.value) for p in request_principals(request)}


def member_admin_apps(request: HttpRequest) -> frozenset[str]:
    """The apps whose admin screens the signed-in member may use (none for most)."""
    held = _held_roles(request)
    return frozenset(label for label, roles in _MEMBER_APPS.items() if roles & held)


def member_admin_models(request: HttpRequest) -> frozenset[str]:
    """The models ("app_label.modelname") opened on their own to the signed-in member."""
    held = _held_roles(request)
    return frozenset(label for label, roles in _MEMBER_MODELS.items() if roles & held)


def opened_to_member(request: HttpRequest, model: type[models.Model]) -> bool:
    """Whether a member (not a platform admin) may use this model's screens."""
    opts = model._meta
    return opts.app_label in member_admin_apps(request) or (
        opts.label_lower in member_admin_models(request)
    )


def _opens_for_member(
    request: HttpRequest, apps: frozenset[str], models_opened: frozenset[str]
) -> bool:
    match = request.resolver_match
    if match is None:
        return False
    model_admin = getattr(match.func, "model_admin", None)
    if model_admin is not None:
        opts = model_admin.opts
        return opts.app_label in apps or opts.label_lower in models_opened
    opened_labels = apps | {label.partition(".")[0] for label in models_opened}
    if match.url_name == "app_list":
        return match.kwargs.get("app_label") in opened_labels
    if match.url_name == "autocomplete":
        app_label = request.GET.get("app_label")
        model_name = request.GET.get("model_name", "")
        return app_label in apps or f"{app_label}.{model_name}".lower() in models_opened
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
    models_opened = member_admin_models(request)
    if not apps and not models_opened:
        return False
    if not hasattr(request, "_phb_admin_mfa"):
        request._phb_admin_mfa = user_has_mfa(user)  # type: ignore[attr-defined]
    if not request._phb_admin_mfa:  # type: ignore[attr-defined]
        return False
    if _opens_for_member(request, apps, models_opened):
        return True
    raise PermissionDenied


def admin_password_change(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """The admin header's "Change password" goes to the account page everyone uses,
    which reauthenticates and tells the person by email."""
    return redirect("account_change_password")


# The index, in the order and words of the people who use it most: commissioners and
# finance officers first want flags, recoveries and spending, then plans and the
# market; the platform's own machinery comes last.
SITE_NAME = "Personal health budgets administration"
APP_ORDER = ["budgets", "plans", "marketplace", "core", "outcomes", "users"]
APP_NAMES = {
    "budgets": "Budgets and money",
    "plans": "Support plans",
    "marketplace": "Marketplace",
    "core": "Audit log and reporting",
    "outcomes": "Outcome surveys",
    "users": "People and organisations",
}
MODEL_NAMES = {
    "budgets.monitoringflag": "Monitoring flags",
    "budgets.surplusrecovery": "Surplus recoveries",
    "budgets.spend": "Spending",
    "budgets.spendquery": "Questions about spending",
    "budgets.budget": "Budgets",
    "budgets.budgetholder": "Budget holders",
    "budgets.budgetnotice": "Notices sent to holders",
    "budgets.ledgertransaction": "Ledger transactions",
    "budgets.ledgeraccount": "Ledger accounts",
    "budgets.allocationrun": "Payment runs",
    "budgets.reconciliationrun": "Reconciliation runs",
    "budgets.budgetsettings": "Monitoring thresholds",
    "budgets.rasquestionnaire": "Resource allocation questionnaires",
    "budgets.rasdomain": "Resource allocation sections",
    "budgets.rasquestion": "Resource allocation questions",
    "budgets.rasassessment": "Resource allocation assessments",
    "plans.supportplan": "Support plans",
    "marketplace.provider": "Providers",
    "marketplace.service": "Services",
    "core.auditevent": "Audit log",
    "core.quarterlyreturn": "Quarterly PHB returns",
    "core.quarterlyreturndownload": "Quarterly return downloads",
    "core.reportjob": "Report jobs",
    "core.snapshotrun": "Dashboard snapshot runs",
    "core.notification": "Notifications",
}
_MODEL_ORDER = {label: position for position, label in enumerate(MODEL_NAMES)}


def _model_rank(model: dict[str, Any]) -> tuple[int, str]:
    return _MODEL_ORDER.get(model["model"]._meta.label_lower, len(_MODEL_ORDER)), model["name"]


def admin_get_app_list(request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
    """Django's app list, in our order and words. A member sees only what was opened to
    them (Django permissions they might hold elsewhere open nothing here)."""
    app_list = admin.AdminSite.get_app_list(admin.site, request, app_label)
    member = not getattr(request.user, "is_platform_admin", False)
    apps, models_opened = (
        (member_admin_apps(request), member_admin_models(request)) if member else ((), ())
    )
    ordered = []
    for app in app_list:
        label = app["app_label"]
        if member:
            app["models"] = [
                m
                for m in app["models"]
                if label in apps or m["model"]._meta.label_lower in models_opened
            ]
            if not app["models"]:
                continue
        app["name"] = APP_NAMES.get(label, app["name"])
        for model in app["models"]:
            model["name"] = MODEL_NAMES.get(model["model"]._meta.label_lower, model["name"])
        app["models"].sort(key=_model_rank)
        ordered.append(app)
    rank = {label: position for position, label in enumerate(APP_ORDER)}
    ordered.sort(key=lambda app: (rank.get(app["app_label"], len(rank)), app["name"].lower()))
    return ordered


admin.site.has_permission = admin_site_has_permission  # type: ignore[method-assign]
admin.site.password_change = admin_password_change  # type: ignore[method-assign]
admin.site.get_app_list = admin_get_app_list  # type: ignore[method-assign]
admin.site.site_header = SITE_NAME
admin.site.site_title = SITE_NAME
admin.site.index_title = "Records"
admin.site.site_url = "/"
# The index and the breadcrumbs lead to every list; without the sidebar a list has the
# page's width (the sidebar left the columns cramped on a laptop and a phone).
admin.site.enable_nav_sidebar = False


class NotFoundAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A record outside the user's scope answers 404, as everywhere on the site (and as
    a record that does not exist): not Django's redirect with "doesn't exist"."""

    def _get_obj_does_not_exist_redirect(
        self, request: HttpRequest, opts: Any, object_id: str
    ) -> HttpResponse:
        raise Http404


class AuditedViewsAdmin(NotFoundAdmin):
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


def is_platform_admin(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_platform_admin", False))


class ReadOnlyAdmin(NotFoundAdmin):
    """Nobody adds, changes or deletes here, platform admins included."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the database refuses changes to audit events anyway. Commissioners
    read their organisations' events (``AuditEvent.objects.for_user``); the rest of the
    ``core`` app stays platform admins' own."""

    list_display = ["created_at", "who", "action", "record", "person", "organisation"]
    empty_value_display = "Not set"
    list_filter = [
        "action",
        "object_type",
        ("organisation", admin.RelatedOnlyFieldListFilter),
        "created_at",
    ]
    search_fields = ["actor_label", "action", "object_id", "person__name", "request_id"]
    date_hierarchy = "created_at"
    list_select_related = ["person", "organisation"]
    show_full_result_count = False  # counting the whole log on every page is slow

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        queryset = super().get_queryset(request)
        if is_platform_admin(request):
            return queryset
        return queryset & AuditEvent.objects.for_user(request.user)

    @admin.display(description="Who", ordering="actor_label")
    def who(self, obj: AuditEvent) -> str:
        return obj.actor_label or "The system"

    @admin.display(description="Record", ordering="object_type")
    def record(self, obj: AuditEvent) -> str:
        return f"{obj.object_type} {obj.object_id}".strip()

    def has_module_permission(self, request: HttpRequest) -> bool:
        if is_platform_admin(request):
            return super().has_module_permission(request)
        return opened_to_member(request, AuditEvent)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        if is_platform_admin(request):
            return super().has_view_permission(request, obj)
        return opened_to_member(request, AuditEvent)


open_admin_model_to(AuditEvent, [Role.COMMISSIONER])


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "subject", "read_at", "emailed_at"]
    search_fields = ["user__email", "subject"]
    readonly_fields = ["created_at", "read_at", "emailed_at"]


# Reporting: platform admins only, read-only (the jobs and pages write these) --------------


@admin.register(SnapshotRun)
class SnapshotRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "trigger", "status", "as_of", "today", "rows", "finished_at"]
    list_filter = ["status", "trigger"]
    date_hierarchy = "started_at"
    fields = [
        "status",
        "trigger",
        "requested_by",
        "as_of",
        "today",
        "started_at",
        "finished_at",
        "rows",
        "error",
    ]


class QuarterlyReturnDownloadInline(admin.TabularInline):  # type: ignore[type-arg]
    model = QuarterlyReturnDownload
    fields = ["downloaded_at", "user", "application"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(QuarterlyReturn)
class QuarterlyReturnAdmin(ReadOnlyAdmin):
    list_display = [
        "icb",
        "financial_year",
        "quarter",
        "version",
        "layout",
        "people_in_quarter",
        "people_year_to_date",
        "built_at",
        "built_by",
    ]
    list_filter = ["financial_year", "quarter", ("icb", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["icb__name", "icb__ods_code"]
    list_select_related = ["icb", "built_by"]
    fields = [
        "icb",
        "financial_year",
        "quarter",
        "version",
        "layout",
        "built_at",
        "built_by",
        "people_in_quarter",
        "people_year_to_date",
        "csv",
    ]
    inlines = [QuarterlyReturnDownloadInline]


@admin.register(QuarterlyReturnDownload)
class QuarterlyReturnDownloadAdmin(ReadOnlyAdmin):
    list_display = ["downloaded_at", "quarterly_return", "user", "application"]
    list_filter = ["downloaded_at"]
    search_fields = ["quarterly_return__icb__name", "user__email", "application"]
    list_select_related = ["quarterly_return__icb", "user"]
    date_hierarchy = "downloaded_at"


@admin.register(ReportJob)
class ReportJobAdmin(ReadOnlyAdmin):
    list_display = [
        "requested_at",
        "kind",
        "format",
        "organisation",
        "requested_by",
        "state",
        "progress",
        "finished_at",
    ]
    list_filter = ["state", "kind", "format"]
    search_fields = ["organisation__name", "requested_by__email", "filename"]
    list_select_related = ["organisation", "requested_by"]
    date_hierarchy = "requested_at"
    # The file itself is not shown here: it is offered on the reports page to the
    # people who asked for it.
    fields = [
        "public_id",
        "kind",
        "format",
        "organisation",
        "params",
        "requested_by",
        "requested_at",
        "state",
        "progress",
        "progress_note",
        "started_at",
        "finished_at",
        "filename",
        "content_type",
        "error",
    ]
