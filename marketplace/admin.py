"""Marketplace screens for commissioners (and platform admins): the providers and
services in their market, with a bulk action to verify providers.

Commissioners are not Django staff: ``core.admin`` opens this app's screens to them
(with MFA). A commissioner sees the providers whose areas include one of the ICBs or
councils where they are a commissioner (``Provider.objects.commissioned_by``) and those
providers' services; platform admins see all. Provider staff never reach the admin:
they manage their listings on the provider pages.

Nothing is edited here: a listing changes only through ``marketplace.listings`` (the
provider pages), which checks, re-queues changed regulated facts for verification and
audits. Verifying is the one action, and it goes through ``listings.provider_verify``
for each provider, so its rules, notifications and audit events apply.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from core.admin import AuditedViewsAdmin, NotFoundAdmin, open_admin_app_to, opened_to_member
from core.authz import request_principals
from marketplace import listings
from marketplace.models import Provider, Service
from users.models import Role

open_admin_app_to("marketplace", [Role.COMMISSIONER])


def is_platform_admin(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_platform_admin", False))


def is_commissioner(request: HttpRequest) -> bool:
    return str(Role.COMMISSIONER) in {str(p.value) for p in request_principals(request)}


class MarketAdmin(NotFoundAdmin):
    """Scoped to the commissioner's market, and read-only for everyone."""

    def market(self, request: HttpRequest) -> QuerySet[Provider]:
        return Provider.objects.commissioned_by(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        if is_platform_admin(request):
            return super().has_module_permission(request)
        return opened_to_member(request, self.model)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if is_platform_admin(request):
            return super().has_view_permission(request, obj)
        return opened_to_member(request, self.model)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class VerifySelectedForm(forms.Form):
    expires_on = forms.DateField(
        label="Date the verification runs out",
        help_text="At most 3 years from today, for example 31/03/2027.",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": "Enter the date the verification runs out",
            "invalid": "Enter the date the verification runs out as a real date",
        },
    )

    def clean_expires_on(self) -> datetime.date:
        expires_on: datetime.date = self.cleaned_data["expires_on"]
        today = timezone.localdate()
        if expires_on <= today:
            raise ValidationError("The date the verification runs out must be in the future")
        latest = listings.latest_expiry(today)
        if expires_on > latest:
            raise ValidationError(
                "The verification can last at most 3 years: choose a date on or before "
                f"{latest:%-d %B %Y}"
            )
        return expires_on


def one_year_from(today: datetime.date) -> datetime.date:
    try:
        return today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year + 1, day=28)


@admin.register(Provider)
class ProviderAdmin(MarketAdmin, AuditedViewsAdmin):
    """Opening a provider is audited: many are one person (a personal assistant)."""

    list_display = [
        "name",
        "kind",
        "verification",
        "user_led",
        "listed",
        "area_names",
        "verified_until",
    ]
    empty_value_display = "Not set"
    list_filter = [
        "verification",
        "kind",
        "user_led",
        "listed",
        ("areas", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["name", "postcode", "cqc_number"]
    list_select_related = ["organisation"]
    list_per_page = 50
    fields = [
        "name",
        "kind",
        "organisation",
        "area_names",
        "description",
        "email",
        "phone",
        "website",
        "postcode",
        "cqc_number",
        "dbs_checked_on",
        "insurer",
        "insurance_expires_on",
        "user_led",
        "not_for_profit",
        "listed",
        "verification",
        "verified_by",
        "verified_at",
        "verification_expires_on",
        "verification_note",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    actions = ["verify_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Provider]:
        queryset = super().get_queryset(request).prefetch_related("areas")
        if is_platform_admin(request):
            return queryset
        return queryset.filter(pk__in=self.market(request).values("pk"))

    @admin.display(description="Verified until", ordering="verification_expires_on")
    def verified_until(self, obj: Provider) -> str:
        if obj.verification_expires_on is None:
            return "Not set"
        return f"{obj.verification_expires_on:%-d %b %Y}"

    @admin.display(description="Areas")
    def area_names(self, obj: Provider) -> str:
        return ", ".join(sorted(area.name for area in obj.areas.all()))

    # Only commissioners verify (the service checks each provider's areas again).
    def has_verify_permission(self, request: HttpRequest) -> bool:
        return is_commissioner(request)

    @admin.action(description="Verify selected providers", permissions=["verify"])
    def verify_selected(
        self, request: HttpRequest, queryset: QuerySet[Provider]
    ) -> HttpResponse | None:
        """Asks until when, then verifies each provider through the marketplace's
        service. One that cannot be verified is named in a message and skipped; one
        already verified past the chosen date is left as it is."""
        providers = list(queryset.order_by("name"))
        form = VerifySelectedForm(
            request.POST if "apply" in request.POST else None,
            initial={"expires_on": one_year_from(timezone.localdate())},
        )
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/marketplace/verify_selected.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Verify the selected providers",
                    "opts": self.model._meta,
                    "providers": providers,
                    "form": form,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    "action": "verify_selected",
                },
                using="django",
            )
        expires_on = form.cleaned_data["expires_on"]
        verified, already, refused = [], [], []
        for provider in providers:
            if (
                provider.verification == Provider.Verification.VERIFIED
                and provider.verification_expires_on is not None
                and provider.verification_expires_on >= expires_on
            ):
                already.append(provider.name)
                continue
            try:
                listings.provider_verify(
                    provider=provider,
                    verified_by=request.user,
                    decision=Provider.Verification.VERIFIED,
                    expires_on=expires_on,
                )
            except PermissionDenied:
                refused.append(
                    f"{provider.name} was not verified: only a commissioner of one of its "
                    "areas can verify it."
                )
            except ValidationError as error:
                refused.append(f"{provider.name} was not verified: {' '.join(error.messages)}")
            else:
                verified.append(provider.name)
        if verified:
            self.message_user(
                request,
                f"Verified until {expires_on:%-d %B %Y}: {', '.join(verified)}. "
                "Their staff have been told.",
                messages.SUCCESS,
            )
        if already:
            self.message_user(
                request,
                f"Already verified until that date or later, left as they are: "
                f"{', '.join(already)}.",
                messages.INFO,
            )
        for problem in refused:
            self.message_user(request, problem, messages.ERROR)
        return None


@admin.register(Service)
class ServiceAdmin(MarketAdmin):
    list_display = ["title", "provider", "category", "status", "is_free", "online", "updated_at"]
    list_filter = [
        "status",
        ("category", admin.RelatedOnlyFieldListFilter),
        "provider__kind",
        "is_free",
        "online",
    ]
    search_fields = ["title", "provider__name", "keywords"]
    list_select_related = ["provider", "category"]
    list_per_page = 50
    fields = [
        "title",
        "provider",
        "category",
        "status",
        "description",
        "is_free",
        "postcode_districts",
        "online",
        "minimum_age",
        "maximum_age",
        "eligibility",
        "languages",
        "contact_name",
        "email",
        "phone",
        "url",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Service]:
        queryset = super().get_queryset(request)
        if is_platform_admin(request):
            return queryset
        return queryset.filter(provider__in=self.market(request).values("pk"))
