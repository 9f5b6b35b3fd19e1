"""Provider pages: the listings a provider's staff manage, their services (prices and
opening times included) and locations.

Listings come only through ``Provider.objects.managed_by(request.user)``, so someone
else's listing, service or location is a 404; the services in ``marketplace.listings``
check again. A change that sends a verified listing back for verification is said
plainly on the next page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse

from budgets.views.holders import add_service_errors
from marketplace import listings
from marketplace.forms_provider import (
    CostOptionFormSet,
    LocationForm,
    ProviderForm,
    ScheduleFormSet,
    ServiceForm,
    ServicePage,
    quiet,
)
from marketplace.models import Category, Location, Provider, Service
from marketplace.permissions import PROVIDER_ROLES
from users.models import Membership, Organisation

ROWS = 3  # empty rows of prices and times a new service starts with


def _provider(request: HttpRequest, pk: int) -> Provider:
    return get_object_or_404(
        Provider.objects.managed_by(request.user).select_related("organisation"), pk=pk
    )


def _service(request: HttpRequest, pk: int) -> Service:
    return get_object_or_404(
        Service.objects.filter(
            provider__in=Provider.objects.managed_by(request.user)
        ).select_related("provider__organisation", "category"),
        pk=pk,
    )


def _location(request: HttpRequest, pk: int) -> Location:
    return get_object_or_404(
        Location.objects.filter(
            provider__in=Provider.objects.managed_by(request.user)
        ).select_related("provider"),
        pk=pk,
    )


def _render(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, f"marketplace/provider/{template}", context)


def _bookings_url() -> str | None:
    try:
        return reverse("marketplace:booking_list")
    except NoReverseMatch:  # the bookings pages are not installed
        return None


def _provider_organisations(user: Any) -> list[Organisation]:
    ids = Membership.objects.filter(
        user=user, role__in=PROVIDER_ROLES, organisation__kind=Organisation.Kind.PROVIDER
    ).values("organisation_id")
    return list(Organisation.objects.filter(pk__in=ids).order_by("name"))


# Listings --------------------------------------------------------------------------------


def provider_home(request: HttpRequest) -> HttpResponse:
    """The listings the user manages, each with its services and locations."""
    providers = (
        Provider.objects.managed_by(request.user)
        .select_related("organisation")
        .prefetch_related("areas", "locations", "services__category", "services__cost_options")
        .order_by("name", "pk")
    )
    return _render(
        request,
        "home.html",
        {
            "providers": providers,
            "may_create": bool(_provider_organisations(request.user)),
            "bookings_url": _bookings_url(),
        },
    )


def _sent_back_message(request: HttpRequest, provider: Provider, was: str) -> None:
    if was in (Provider.Verification.VERIFIED, Provider.Verification.REFUSED) and (
        provider.verification == Provider.Verification.PENDING
    ):
        messages.warning(
            request,
            f"Your changes to {provider.name} are saved. Because you changed facts a "
            "commissioner checks, the listing has gone back for verification: it shows as "
            "not verified until a commissioner checks it again.",
        )
    else:
        messages.success(request, f"Your changes to {provider.name} are saved.")


def provider_create(request: HttpRequest) -> HttpResponse:
    organisations = _provider_organisations(request.user)
    if not organisations:
        raise PermissionDenied
    form = ProviderForm(
        request.POST if request.method == "POST" else None, organisations=organisations
    )
    if request.method == "POST" and form.is_valid():
        organisation = next(o for o in organisations if o.pk == form.cleaned_data["organisation"])
        try:
            provider = listings.provider_save(
                saved_by=request.user,
                organisation=organisation,
                areas=form.cleaned_data["areas"],
                **form.fields_for_service(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"{provider.name} is listed. A commissioner of its areas will check it and "
                "verify it. Now add the services it offers.",
            )
            return redirect("marketplace:provider_edit", provider.pk)
    return _render(request, "provider_form.html", {"form": form, "provider": None})


def provider_edit(request: HttpRequest, pk: int) -> HttpResponse:
    provider = _provider(request, pk)
    if request.method == "POST":
        form = ProviderForm(request.POST)
        if form.is_valid():
            was = provider.verification
            try:
                provider = listings.provider_save(
                    saved_by=request.user,
                    provider=provider,
                    areas=form.cleaned_data["areas"],
                    **form.fields_for_service(),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                _sent_back_message(request, provider, was)
                return redirect("marketplace:provider_home")
    else:
        form = ProviderForm(initial=ProviderForm.initial_for(provider))
    return _render(
        request,
        "provider_form.html",
        {
            "form": form,
            "provider": provider,
            "services": provider.services.select_related("category").order_by("title"),
            "locations": provider.locations.all(),
            "regulated": Provider.REGULATED_FACTS,
        },
    )


# Services --------------------------------------------------------------------------------


def _categories(provider: Provider) -> list[Category]:
    return list(
        Category.objects.for_area(provider.areas.values("pk"))
        .select_related("parent")
        .order_by("name")
    )


def _rows(data: Any, prefix: str, existing: int) -> int:
    """How many rows to show: what was posted (plus one after "add another"), or the
    service's own rows and one empty one, at least ``ROWS``."""
    if data is not None:
        try:
            count = int(data.get(f"{prefix}-TOTAL_FORMS", ROWS))
        except ValueError:
            count = ROWS
        return max(1, min(count, 20))
    return max(ROWS, existing + 1)


def _service_page(
    request: HttpRequest, provider: Provider, service: Service | None
) -> HttpResponse:
    data: Any = request.POST if request.method == "POST" else None
    adding = data.get("add") if data is not None else None
    if data is not None and adding in ("price", "time"):
        # One more row of the kind asked for; nothing is saved or checked yet.
        data = data.copy()
        data[f"{adding}-TOTAL_FORMS"] = str(_rows(data, adding, 0) + 1)
    prices_initial: list[dict[str, Any]] = []
    times_initial: list[dict[str, Any]] = []
    initial: dict[str, Any] = {}
    if service is not None:
        initial = ServiceForm.initial_for(service)
        prices_initial = [
            {
                "amount": f"{o.amount_pence // 100}.{o.amount_pence % 100:02d}",
                "per": o.per,
                "description": o.description,
            }
            for o in service.cost_options.all()
        ]
        times_initial = [
            {
                "weekday": s.weekday,
                "opens_at": s.opens_at.strftime("%H:%M") if s.opens_at else "",
                "closes_at": s.closes_at.strftime("%H:%M") if s.closes_at else "",
                "note": s.note,
            }
            for s in service.schedules.all()
        ]
    form = ServiceForm(
        data,
        initial=initial,
        categories=_categories(provider),
        locations=list(provider.locations.all()),
    )
    prices: Any = CostOptionFormSet(
        data,
        prefix="price",
        initial=None if data is not None else prices_initial,
    )
    times: Any = ScheduleFormSet(
        data,
        prefix="time",
        initial=None if data is not None else times_initial,
    )
    if data is None:
        prices.extra = _rows(None, "price", len(prices_initial)) - len(prices_initial)
        times.extra = _rows(None, "time", len(times_initial)) - len(times_initial)
    page = ServicePage(form, prices, times)
    if data is not None and adding:
        for each in (form, *prices.forms, *times.forms):
            quiet(each)
    elif data is not None and page.is_valid():
        try:
            saved = listings.service_save(
                saved_by=request.user,
                provider=provider,
                service=service,
                cost_options=[row.option() for row in prices.filled()],
                schedules=[row.schedule() for row in times.filled()],
                location_ids=form.location_ids(),
                **form.service_fields(),
            )
        except ValidationError as error:
            page.add_service_errors(error)
        else:
            messages.success(
                request,
                f"“{saved.title}” is saved."
                + (
                    " People can find it in search."
                    if saved.status == Service.Status.ACTIVE and provider.listed
                    else ""
                ),
            )
            return redirect("marketplace:provider_edit", provider.pk)
    return _render(
        request,
        "service_form.html",
        {
            "form": page,
            "service_form": form,
            "prices": prices,
            "times": times,
            "provider": provider,
            "service": service,
        },
    )


def service_create(request: HttpRequest, pk: int) -> HttpResponse:
    return _service_page(request, _provider(request, pk), None)


def service_edit(request: HttpRequest, pk: int) -> HttpResponse:
    service = _service(request, pk)
    return _service_page(request, service.provider, service)


def service_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    service = _service(request, pk)
    if request.method == "POST":
        listings.service_withdraw(service=service, withdrawn_by=request.user)
        messages.success(request, f"“{service.title}” is withdrawn: it no longer shows in search.")
        return redirect("marketplace:provider_edit", service.provider_id)
    return _render(
        request, "service_withdraw.html", {"service": service, "provider": service.provider}
    )


# Locations -------------------------------------------------------------------------------


def _location_page(
    request: HttpRequest, provider: Provider, location: Location | None
) -> HttpResponse:
    if request.method == "POST":
        form = LocationForm(request.POST)
        if form.is_valid():
            try:
                saved = listings.location_save(
                    saved_by=request.user, provider=provider, location=location, **form.cleaned_data
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{saved.name} is saved.")
                return redirect("marketplace:provider_edit", provider.pk)
    else:
        form = LocationForm(initial=LocationForm.initial_for(location) if location else None)
    return _render(
        request, "location_form.html", {"form": form, "provider": provider, "location": location}
    )


def location_create(request: HttpRequest, pk: int) -> HttpResponse:
    return _location_page(request, _provider(request, pk), None)


def location_edit(request: HttpRequest, pk: int) -> HttpResponse:
    location = _location(request, pk)
    return _location_page(request, location.provider, location)


urlpatterns = [
    path("provider/", provider_home, name="provider_home"),
    path("provider/new/", provider_create, name="provider_create"),
    path("provider/<int:pk>/", provider_edit, name="provider_edit"),
    path("provider/<int:pk>/services/new/", service_create, name="service_create"),
    path("provider/services/<int:pk>/", service_edit, name="service_edit"),
    path("provider/services/<int:pk>/withdraw/", service_withdraw, name="service_withdraw"),
    path("provider/<int:pk>/locations/new/", location_create, name="location_create"),
    path("provider/locations/<int:pk>/", location_edit, name="location_edit"),
]
