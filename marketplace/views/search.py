"""Pages: finding support (search, a service's page, a provider's profile), writing a
review of a booking, and the commissioner's moderation of reviews.

Search, service and provider pages are public: anyone can look, signed in or not, and
they show only listed providers, their active services and published reviews. A review
is written on a booking reached through ``Booking.objects.for_user`` (someone else's
is a 404) by the holder's side only (403 otherwise); reviews to moderate are those of
providers in the markets the commissioner serves (others are a 404)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone

from budgets.ledger import format_pence
from budgets.views.holders import add_service_errors
from core.exceptions import Conflict
from marketplace import reviews as review_services
from marketplace import selectors
from marketplace.forms_search import ModerateForm, ReviewForm, SearchForm
from marketplace.models import Booking, CostOption, Provider, Review, Service

RESULTS_PER_PAGE = 20

# ISO 639 codes services list, as people say them; others are shown as the code.
LANGUAGES = {
    "en": "English",
    "cy": "Welsh",
    "gd": "Scottish Gaelic",
    "ga": "Irish",
    "sgn": "British Sign Language",
    "bfi": "British Sign Language",
    "ur": "Urdu",
    "pa": "Punjabi",
    "pan": "Punjabi",
    "bn": "Bengali",
    "gu": "Gujarati",
    "hi": "Hindi",
    "ta": "Tamil",
    "ar": "Arabic",
    "so": "Somali",
    "pl": "Polish",
    "ro": "Romanian",
    "lt": "Lithuanian",
    "pt": "Portuguese",
    "es": "Spanish",
    "fr": "French",
    "it": "Italian",
    "de": "German",
    "tr": "Turkish",
    "ku": "Kurdish",
    "fa": "Persian (Farsi)",
    "ps": "Pashto",
    "zh": "Chinese",
    "yue": "Cantonese",
    "cmn": "Mandarin",
    "uk": "Ukrainian",
    "ru": "Russian",
    "ti": "Tigrinya",
    "am": "Amharic",
}


# What the pages show of a service ----------------------------------------------------


def price_text(service: Service) -> str:
    """ "Free", "£18.00 an hour", or "From £12.00 a session" when there are several."""
    if service.is_free:
        return "Free"
    options = list(service.cost_options.all())
    if not options:
        return "Ask the provider"
    cheapest = min(options, key=lambda option: option.amount_pence)
    text = f"{format_pence(cheapest.amount_pence)} {cheapest.get_per_display()}"
    return f"From {text}" if len(options) > 1 else text


def cost_text(option: CostOption) -> str:
    return f"{format_pence(option.amount_pence)} {option.get_per_display()}"


def where_text(service: Service) -> str:
    """Where it is: the districts it comes to, its places, online."""
    parts = []
    if service.postcode_districts:
        parts.append("Comes to you in " + ", ".join(service.postcode_districts))
    for link in service.at_locations.all():
        parts.append(f"{link.location.name}, {link.location.city}")
    if service.online:
        parts.append("Online")
    return "; ".join(parts) or "Ask the provider"


def ages_text(service: Service) -> str:
    low, high = service.minimum_age, service.maximum_age
    if low is not None and high is not None:
        return f"{low} to {high} years old"
    if low is not None:
        return f"{low} and over"
    if high is not None:
        return f"Up to {high} years old"
    return "All ages"


def rating_text(rating: float | None, count: int | None) -> str:
    if not count or rating is None:
        return "No reviews yet"
    reviews = "1 review" if count == 1 else f"{count} reviews"
    return f"{rating:.1f} out of 5 ({reviews})"


def language_names(codes: list[str]) -> list[str]:
    return [LANGUAGES.get(code.lower(), code) for code in codes]


def badges(provider: Provider) -> list[dict[str, str]]:
    """NHS.UK tags for what a buyer looks for first."""
    tags = []
    if provider.is_verified:
        tags.append({"text": "Verified", "classes": "nhsuk-tag--green"})
    if provider.user_led:
        tags.append({"text": "User-led", "classes": "nhsuk-tag--blue"})
    if provider.not_for_profit:
        tags.append({"text": "Not for profit", "classes": "nhsuk-tag--purple"})
    return tags


HELPERS = {
    "price_text": price_text,
    "cost_text": cost_text,
    "where_text": where_text,
    "ages_text": ages_text,
    "rating_text": rating_text,
    "language_names": language_names,
    "badges": badges,
    "money": format_pence,
}


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(
        request,
        f"marketplace/search/{template}",
        {**HELPERS, "today": timezone.localdate(), **context},
        status=status,
    )


# Search -------------------------------------------------------------------------------


def search(request: HttpRequest) -> HttpResponse:
    """Listed services, searched and filtered by a GET form; all of them, by name, before
    anything is asked. An invalid filter shows its error and no results."""
    params = request.GET.copy()
    params.pop("page", None)
    form = SearchForm(params or None)
    page = None
    if form.is_bound and not form.is_valid():
        results = None
    else:
        kwargs = form.selector_kwargs() if form.is_bound else {}
        results = selectors.service_search(**kwargs)
        page = Paginator(results, RESULTS_PER_PAGE).get_page(request.GET.get("page"))
    return _render(
        request,
        "search.html",
        {
            "form": form,
            "page": page,
            "searched": form.is_bound,
            "query": form.cleaned_data.get("q", "") if form.is_bound else "",
            "filtered": form.is_bound and form.has_filters(),
        },
    )


def service_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render(request, "service_detail.html", {"detail": selectors.service_detail(pk)})


def provider_profile(request: HttpRequest, pk: int) -> HttpResponse:
    return _render(request, "provider_profile.html", {"profile": selectors.provider_profile(pk)})


# Reviews ------------------------------------------------------------------------------


def _after_review(booking: Booking) -> str:
    if Service.objects.listed().filter(pk=booking.service_id).exists():
        return reverse("marketplace:service_detail", args=[booking.service_id])
    return reverse("home")


def review_create(request: HttpRequest, booking_pk: int) -> HttpResponse:
    booking = get_object_or_404(
        Booking.objects.for_user(request.user).select_related("service__provider", "holder"),
        pk=booking_pk,
    )
    if not review_services.is_holder_side(request.user, booking):
        raise PermissionDenied
    refusal = review_services.review_refusal(booking)
    form = ReviewForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and refusal is None and form.is_valid():
        try:
            review_services.review_write(
                booking=booking,
                rating=form.cleaned_data["rating"],
                text=form.cleaned_data["text"],
                written_by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except Conflict as error:
            refusal = error.message
        else:
            messages.success(
                request,
                "Thank you for your review. It will be published once a commissioner has "
                "checked it.",
            )
            return redirect(_after_review(booking))
    return _render(
        request,
        "review_form.html",
        {"booking": booking, "service": booking.service, "form": form, "refusal": refusal},
        status=409 if refusal and request.method == "POST" else 200,
    )


def review_queue(request: HttpRequest) -> HttpResponse:
    """Reviews waiting for the commissioner, of providers in their markets."""
    pending = selectors.pending_reviews_for(request.user)
    page = Paginator(pending, RESULTS_PER_PAGE).get_page(request.GET.get("page"))
    return _render(request, "review_queue.html", {"page": page})


def review_moderate(request: HttpRequest, pk: int) -> HttpResponse:
    review: Review = get_object_or_404(selectors.reviews_moderated_by_area(request.user), pk=pk)
    form = ModerateForm(request.POST if request.method == "POST" else None)
    pending = review.state == Review.State.PENDING
    if request.method == "POST" and pending and form.is_valid():
        try:
            review_services.review_moderate(
                review=review,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
                moderated_by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except Conflict as error:
            messages.error(request, f"Nothing was changed. {error.message}")
            return redirect("marketplace:review_moderate", pk=review.pk)
        else:
            done = "published" if form.cleaned_data["decision"] == "publish" else "not published"
            messages.success(request, f"The review of {review.service.title} is {done}.")
            return redirect("marketplace:review_queue")
    return _render(
        request,
        "review_moderate.html",
        {"review": review, "form": form if pending else None, "pending": pending},
    )


urlpatterns = [
    path("support/", search, name="search"),
    path("support/services/<int:pk>/", service_detail, name="service_detail"),
    path("support/providers/<int:pk>/", provider_profile, name="provider_profile"),
    path("bookings/<int:booking_pk>/review/", review_create, name="review_create"),
    path("market/reviews/", review_queue, name="review_queue"),
    path("market/reviews/<int:pk>/", review_moderate, name="review_moderate"),
]
