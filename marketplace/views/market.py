"""The commissioner's view of the market: the overview of what is listed in their
organisations' areas (each figure links to the records behind it), the verification
queue and the verify page, and the categories they add to the taxonomy.

Providers come only through ``Provider.objects.commissioned_by(request.user)``, so a
listing outside the user's market is a 404; ``marketplace.listings`` checks again."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone

from budgets.views.holders import add_service_errors
from marketplace import listings, market
from marketplace.forms_provider import CategoryForm, VerifyForm
from marketplace.listings import FACT_LABELS
from marketplace.models import Category, Provider, ProviderKind
from marketplace.permissions import commissioner_organisation_ids
from users.models import Organisation


def _render(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, f"marketplace/market/{template}", context)


def _organisations(request: HttpRequest) -> list[Organisation]:
    ids = commissioner_organisation_ids(request.user)
    if not ids:
        raise PermissionDenied
    return list(Organisation.objects.filter(pk__in=ids).order_by("name"))


def market_overview(request: HttpRequest) -> HttpResponse:
    _organisations(request)
    return _render(
        request,
        "overview.html",
        {"market": market.market_overview(user=request.user), "kinds": dict(ProviderKind.choices)},
    )


def market_provider_list(request: HttpRequest) -> HttpResponse:
    _organisations(request)
    kind = request.GET.get("kind", "")
    share = request.GET.get("share", "")
    verification = request.GET.get("verification", "")
    kinds = dict(ProviderKind.choices)
    shares = dict(market.SHARES)
    states = dict(Provider.Verification.choices)
    kind = kind if kind in kinds else ""
    share = share if share in shares else ""
    verification = verification if verification in states else ""
    providers = market.market_provider_list(
        user=request.user, kind=kind, share=share, verification=verification
    ).prefetch_related("areas")
    described = [
        str(d) for d in (kinds.get(kind), shares.get(share), states.get(verification)) if d
    ]
    page = Paginator(providers, 50).get_page(request.GET.get("page"))
    return _render(
        request,
        "provider_list.html",
        {"page": page, "described": described, "today": timezone.localdate()},
    )


def market_service_list(request: HttpRequest) -> HttpResponse:
    _organisations(request)
    kinds = dict(ProviderKind.choices)
    kind = request.GET.get("kind", "")
    kind = kind if kind in kinds else ""
    district = request.GET.get("district", "").strip().upper()[:4]
    category_id = request.GET.get("category", "")
    category = (
        Category.objects.for_area(commissioner_organisation_ids(request.user))
        .filter(pk=int(category_id))
        .first()
        if category_id.isdigit()
        else None
    )
    unbooked = request.GET.get("unbooked") == "1"
    online = request.GET.get("online") == "1"
    services = market.market_service_list(
        user=request.user,
        kind=kind,
        category=category.pk if category else None,
        district=district,
        unbooked=unbooked,
        online=online,
    )
    described = [
        d
        for d in (
            str(kinds[kind]) if kind else "",
            category.name if category else "",
            f"in {district}" if district else "",
            "with no bookings" if unbooked else "",
            "online" if online else "",
        )
        if d
    ]
    page = Paginator(services, 50).get_page(request.GET.get("page"))
    return _render(request, "service_list.html", {"page": page, "described": described})


# Verification ------------------------------------------------------------------------------


def verification_queue(request: HttpRequest) -> HttpResponse:
    _organisations(request)
    return _render(
        request,
        "verification_queue.html",
        {"queue": market.verification_queue(user=request.user), "today": timezone.localdate()},
    )


def _fact(provider: Provider, name: str) -> str:
    value = getattr(provider, name)
    if name == "kind":
        return provider.get_kind_display()
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None or value == "":
        return "Not given"
    if hasattr(value, "strftime"):
        return f"{value:%-d %B %Y}"
    return str(value)


def _audit_value(name: str, value: Any) -> str:
    if name == "kind" and value:
        return str(dict(ProviderKind.choices).get(value, value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value in (None, ""):
        return "Not given"
    if name in ("dbs_checked_on", "insurance_expires_on"):
        try:
            return f"{datetime.date.fromisoformat(value):%-d %B %Y}"
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def provider_verify(request: HttpRequest, pk: int) -> HttpResponse:
    provider = get_object_or_404(
        Provider.objects.commissioned_by(request.user).select_related(
            "organisation", "verified_by"
        ),
        pk=pk,
    )
    _organisations(request)
    form = VerifyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            provider = listings.provider_verify(
                provider=provider,
                verified_by=request.user,
                decision=data["decision"],
                expires_on=data.get("expires_on"),
                note=data.get("note", ""),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if provider.verification == Provider.Verification.VERIFIED:
                messages.success(
                    request,
                    f"{provider.name} is verified until "
                    f"{provider.verification_expires_on:%-d %B %Y}. Its staff have been told.",
                )
            else:
                messages.success(
                    request, f"{provider.name} is not verified. Its staff have been told why."
                )
            return redirect("marketplace:verification_queue")
    changes = market.verification_changes(provider=provider)
    return _render(
        request,
        "verify.html",
        {
            "provider": provider,
            "form": form,
            "facts": [(FACT_LABELS[n], _fact(provider, n)) for n in Provider.REGULATED_FACTS],
            "changes": [
                (FACT_LABELS[n], _audit_value(n, was), _audit_value(n, now))
                for n, (was, now) in changes.facts.items()
            ],
            "since": changes.since,
            "areas": list(provider.areas.order_by("name")),
            "services": provider.services.select_related("category").order_by("title"),
        },
    )


# Categories ------------------------------------------------------------------------------


def category_list(request: HttpRequest) -> HttpResponse:
    organisations = _organisations(request)
    categories = (
        Category.objects.for_area([o.pk for o in organisations])
        .select_related("parent", "organisation")
        .order_by("organisation_id", "name")
    )
    return _render(
        request,
        "category_list.html",
        {
            "national": [c for c in categories if c.organisation_id is None],
            "added": [c for c in categories if c.organisation_id is not None],
        },
    )


def category_create(request: HttpRequest) -> HttpResponse:
    organisations = _organisations(request)
    parents = list(
        Category.objects.for_area([o.pk for o in organisations])
        .filter(parent__isnull=True)
        .order_by("name")
    )
    form = CategoryForm(
        request.POST if request.method == "POST" else None,
        parents=parents,
        organisations=organisations,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        organisation = next(o for o in organisations if o.pk == data["organisation"])
        parent = next((c for c in parents if c.pk == data.get("parent")), None)
        try:
            category = listings.category_add(
                organisation=organisation,
                added_by=request.user,
                name=data["name"],
                description=data["description"],
                parent=parent,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"“{category.name}” is added. Providers in {organisation.name}'s area can "
                "now list services in it.",
            )
            return redirect("marketplace:category_list")
    return _render(request, "category_form.html", {"form": form})


urlpatterns = [
    path("market/", market_overview, name="market_overview"),
    path("market/providers/", market_provider_list, name="market_provider_list"),
    path("market/services/", market_service_list, name="market_service_list"),
    path("market/verification/", verification_queue, name="verification_queue"),
    path("market/providers/<int:pk>/verify/", provider_verify, name="provider_verify"),
    path("market/categories/", category_list, name="category_list"),
    path("market/categories/new/", category_create, name="category_create"),
]
