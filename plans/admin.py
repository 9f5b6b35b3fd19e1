"""Support plans for commissioners (and platform admins), read-only.

Commissioners are not Django staff: ``core.admin`` opens this app's screens to them
(with MFA). A commissioner sees the plans of holders whose ICB or council is one where
they are a commissioner; platform admins see all. A plan changes only on the plan
pages (drafting, sign-off, reviews: audited services), never here, for anyone. Opening
a plan is an audit event: it holds what matters to the person, in their words.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.contrib import admin
from django.db.models import Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncDate
from django.http import HttpRequest
from django.utils import timezone

from budgets.admin import DaysFilter, PostcodeAreaFilter
from budgets.ledger import format_pence
from budgets.models import BudgetHolder
from core.admin import AuditedViewsAdmin, open_admin_app_to, opened_to_member
from core.services import personal_record_viewed
from plans.models import MoneyArrangement, PlanOutcome, SupportItem, SupportPlan
from users.models import Membership, Role

open_admin_app_to("plans", [Role.COMMISSIONER])


def is_platform_admin(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_platform_admin", False))


def commissioned_holders(request: HttpRequest) -> QuerySet[BudgetHolder]:
    """Holders of the ICBs and councils where the user is a commissioner (not those of
    an organisation where they hold another role)."""
    organisations = Membership.objects.filter(user=request.user, role=Role.COMMISSIONER).values(
        "organisation_id"
    )
    return BudgetHolder.objects.filter(
        Q(organisation_id__in=organisations) | Q(council_id__in=organisations)
    )


class ReviewDueFilter(admin.SimpleListFilter):
    title = "next review"
    parameter_name = "review"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("overdue", "Overdue"),
            ("30", "Due within 30 days"),
            ("90", "Due within 90 days"),
            ("none", "No review date"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.filter(next_review_on__lt=today)
        if self.value() in ("30", "90"):
            until = today + datetime.timedelta(days=int(self.value() or 0))
            return queryset.filter(next_review_on__gte=today, next_review_on__lte=until)
        if self.value() == "none":
            return queryset.filter(next_review_on__isnull=True)
        return queryset


class FirstApprovedFilter(DaysFilter):
    """Each holder's first approved plan, approved (local date) in the days: the plans
    behind the dashboard's time from referral to an approved plan."""

    title = "holder's first plan approved"
    parameter_name = "first_approved"

    def narrow(self, queryset: QuerySet[Any], start: datetime.date, end: datetime.date) -> Any:
        first = (
            SupportPlan.objects.filter(holder_id=OuterRef("holder_id"), approved_at__isnull=False)
            .values("holder_id")
            .annotate(first=Min("approved_at"))
            .values("first")
        )
        return queryset.alias(
            approved_on=TruncDate("approved_at", tzinfo=timezone.get_current_timezone())
        ).filter(approved_at=Subquery(first), approved_on__gte=start, approved_on__lte=end)


class ReadOnlyPlanInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if is_platform_admin(request):
            return super().has_view_permission(request, obj)
        return opened_to_member(request, SupportPlan)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PlanOutcomeInline(ReadOnlyPlanInline):
    model = PlanOutcome
    fields = ["goal", "how_we_know", "by_when"]
    verbose_name = "outcome"
    verbose_name_plural = "Outcomes the person wants"


class SupportItemInline(ReadOnlyPlanInline):
    model = SupportItem
    fields = ["description", "provider_kind", "provider_name", "times", "per", "yearly", "stream"]
    verbose_name = "support item"
    verbose_name_plural = "How the person will be supported"

    @admin.display(description="For the year")
    def yearly(self, obj: SupportItem) -> str:
        return format_pence(obj.yearly_cost_pence)


class MoneyArrangementInline(ReadOnlyPlanInline):
    model = MoneyArrangement
    fields = ["stream", "management_option", "managed_by"]
    verbose_name = "money arrangement"
    verbose_name_plural = "How the money is managed"


@admin.register(SupportPlan)
class SupportPlanAdmin(AuditedViewsAdmin):
    list_display = [
        "holder",
        "version",
        "state",
        "needs_commissioner",
        "submitted_at",
        "approved_at",
        "next_review_on",
        "yearly_cost",
    ]
    list_filter = [
        "state",
        "needs_commissioner",
        ReviewDueFilter,
        "holder__eligibility_route",
        ("holder__organisation", admin.RelatedOnlyFieldListFilter),
        ("holder__council", admin.RelatedOnlyFieldListFilter),
        # Set by the dashboard's links (shown only when in use).
        FirstApprovedFilter,
        PostcodeAreaFilter,
    ]
    search_fields = ["holder__name", "holder__nhs_number"]
    list_select_related = ["holder"]
    date_hierarchy = "submitted_at"
    list_per_page = 50
    fields = [
        "holder",
        "budget",
        "version",
        "revises",
        "state",
        "yearly_cost",
        "what_matters",
        "if_support_fails",
        "carer_emergency",
        "needs_commissioner",
        "submitted_at",
        "agreed_by",
        "agreed_at",
        "clinician_approved_by",
        "clinician_approved_at",
        "commissioner_approved_by",
        "commissioner_approved_at",
        "changes_requested",
        "approved_at",
        "active_from",
        "ended_at",
        "first_review_on",
        "review_every_months",
        "next_review_on",
        "created_by",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [PlanOutcomeInline, SupportItemInline, MoneyArrangementInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SupportPlan]:
        queryset = super().get_queryset(request)
        if is_platform_admin(request):
            return queryset
        return queryset.filter(holder__in=commissioned_holders(request))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        # An NHS number is found however it is typed: 943 476 5919, 943-476-5919.
        digits = re.sub(r"[\s-]", "", search_term)
        if re.fullmatch(r"\d{10}", digits):
            return queryset.filter(holder__nhs_number=digits), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="Yearly cost", ordering="yearly_cost_pence")
    def yearly_cost(self, obj: SupportPlan) -> str:
        return format_pence(obj.yearly_cost_pence)

    def audit_view(self, request: HttpRequest, obj: Any) -> None:
        personal_record_viewed(viewer=request.user, person=obj.holder, what="admin: support plan")

    def has_module_permission(self, request: HttpRequest) -> bool:
        if is_platform_admin(request):
            return super().has_module_permission(request)
        return opened_to_member(request, SupportPlan)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if is_platform_admin(request):
            return super().has_view_permission(request, obj)
        return opened_to_member(request, SupportPlan)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
