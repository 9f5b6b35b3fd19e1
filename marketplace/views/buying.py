"""Pages: asking a provider, booking, the provider's answer and invoices, and the
holder's approval that pays an invoice from the budget.

Bookings and enquiries come only through ``.for_user`` (the holder's side, staff who
serve them, the provider's staff), so someone else's is a 404. Who may act on one is
the service's question; the pages offer only the actions the person may take."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from budgets.ledger import format_pence
from budgets.permissions import can_manage_money
from core.exceptions import Conflict
from core.services import personal_record_viewed
from marketplace import buying
from marketplace.forms_buying import AnswerForm, BookingForm, DecisionForm, EnquiryForm, InvoiceForm
from marketplace.models import Booking, Enquiry, Invoice, Provider, Service
from marketplace.permissions import is_provider_staff
from plans.models import SupportItem, SupportPlan


def _service(pk: int) -> Service:
    return get_object_or_404(Service.objects.listed().select_related("provider", "category"), pk=pk)


def _booking(request: HttpRequest, pk: int) -> Booking:
    booking = get_object_or_404(
        Booking.objects.for_user(request.user).select_related(
            "service__provider",
            "service__category",
            "holder__organisation",
            "budget",
            "contribution__funder",
            "cost_option",
            "plan_item",
            "requested_by",
        ),
        pk=pk,
    )
    if not is_provider_staff(request.user, booking.service.provider):
        personal_record_viewed(viewer=request.user, person=booking.holder, what="booking")
    return booking


def _failed(request: HttpRequest, error: Exception) -> None:
    if isinstance(error, ValidationError):
        messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, str(getattr(error, "message", error)))


# Asking -------------------------------------------------------------------------------


def enquiry_create(request: HttpRequest, pk: int) -> HttpResponse:
    service = _service(pk)
    holders = [
        h for h in buying.buyable_holders(request.user) if buying.may_enquire(request.user, h)
    ]
    if not holders:
        raise PermissionDenied
    form = EnquiryForm(request.POST or None, holders=holders)
    if request.method == "POST" and form.is_valid():
        try:
            enquiry = buying.enquiry_send(
                service=service,
                holder=form.holders[form.cleaned_data["holder"]],
                message=form.cleaned_data["message"],
                asked_by=request.user,
            )
        except ValidationError as error:
            form.add_service_errors(error)
        except Conflict as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Your question has been sent to {service.provider.name}.")
            return redirect("marketplace:enquiry_detail", enquiry.pk)
    return render(
        request, "marketplace/buying/enquiry_form.html", {"service": service, "form": form}
    )


def enquiry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    enquiry = get_object_or_404(
        Enquiry.objects.for_user(request.user).select_related(
            "service__provider", "holder", "asked_by", "answered_by"
        ),
        pk=pk,
    )
    provider_side = is_provider_staff(request.user, enquiry.service.provider)
    if not provider_side:
        personal_record_viewed(viewer=request.user, person=enquiry.holder, what="enquiry")
    can_answer = provider_side and enquiry.answered_at is None
    form = AnswerForm(request.POST or None) if can_answer else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                buying.enquiry_answer(
                    enquiry=enquiry, answer=form.cleaned_data["answer"], answered_by=request.user
                )
            except ValidationError as error:
                form.add_error("answer", " ".join(error.messages))
            except Conflict as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, "Your answer has been sent.")
                return redirect("marketplace:enquiry_detail", enquiry.pk)
    can_book = not provider_side and bool(buying.buyable_funding(request.user, [enquiry.holder]))
    return render(
        request,
        "marketplace/buying/enquiry_detail.html",
        {"enquiry": enquiry, "form": form, "can_book": can_book, "provider_side": provider_side},
    )


# Booking ------------------------------------------------------------------------------


def booking_create(request: HttpRequest, pk: int) -> HttpResponse:
    service = _service(pk)
    funding = buying.buyable_funding(request.user)
    if not funding:
        raise PermissionDenied
    options = list(service.cost_options.all())
    if service.is_free or not options:
        messages.info(request, "This service is free: contact the provider to join.")
        return redirect("marketplace:service_detail", service.pk)
    plan_items = list(
        SupportItem.objects.filter(
            plan__budget__in={b.pk for b, _ in funding}, plan__state=SupportPlan.State.ACTIVE
        )
        .select_related("plan__holder")
        .order_by("plan__holder__name", "position", "pk")
    )
    form = BookingForm(
        request.POST or None,
        funding=funding,
        options=options,
        plan_items=plan_items,
        initial={"key": uuid.uuid4()},
    )
    enquiry = None
    if request.GET.get("enquiry", "").isdigit():
        enquiry = (
            Enquiry.objects.for_user(request.user)
            .filter(pk=int(request.GET["enquiry"]), service=service)
            .first()
        )
    if request.method == "POST" and form.is_valid():
        budget, contribution = form.chosen_funding()
        data = form.cleaned_data
        try:
            booking = buying.booking_request(
                service=service,
                budget=budget,
                contribution=contribution,
                cost_option=form.option_by_pk.get(data["cost_option"]),
                quantity=data["quantity"],
                starts_on=data["starts_on"],
                ends_on=data.get("ends_on"),
                details=data["details"],
                plan_item=data.get("plan_item"),
                enquiry=enquiry if enquiry and enquiry.holder_id == budget.holder_id else None,
                requested_by=request.user,
                key=data.get("key"),
            )
        except ValidationError as error:
            form.add_service_errors(error)
        except Conflict as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                f"Your booking request has been sent to {service.provider.name}. "
                "You will hear when they answer.",
            )
            return redirect("marketplace:booking_detail", booking.pk)
    return render(
        request,
        "marketplace/buying/booking_form.html",
        {
            "service": service,
            "form": form,
            "starts_parts": form.fields["starts_on"].parts(form["starts_on"].value()),
            "ends_parts": form.fields["ends_on"].parts(form["ends_on"].value()),
        },
    )


def booking_list(request: HttpRequest) -> HttpResponse:
    rows = (
        Booking.objects.for_user(request.user)
        .select_related("service__provider", "holder")
        .order_by("-requested_at", "-pk")
    )
    provided = [b for b in rows if is_provider_staff(request.user, b.service.provider)]
    provided_ids = {b.pk for b in provided}
    bought = [b for b in rows if b.pk not in provided_ids]
    enquiries = list(
        Enquiry.objects.for_user(request.user)
        .select_related("service__provider", "holder")
        .order_by("-created_at")[:50]
    )
    return render(
        request,
        "marketplace/buying/booking_list.html",
        {
            "bought": bought,
            "provided": provided,
            "enquiries": enquiries,
            "runs_listings": Provider.objects.managed_by(request.user).exists(),
        },
    )


def _booking_page(request: HttpRequest, booking: Booking, **extra: Any) -> HttpResponse:
    user = request.user
    provider_side = is_provider_staff(user, booking.service.provider)
    manages_money = can_manage_money(user, booking.budget, booking.contribution)
    invoices = list(booking.invoices.select_related("spend", "issued_by", "decided_by"))
    states = Booking.State
    open_states = (states.REQUESTED, states.ACCEPTED)
    context = {
        "booking": booking,
        "invoices": invoices,
        "provider_side": provider_side,
        "can_decide": provider_side and booking.state == states.REQUESTED,
        "can_deliver": provider_side and booking.state == states.ACCEPTED,
        "can_invoice": provider_side
        and booking.state in (states.ACCEPTED, states.DELIVERED)
        and buying.invoiceable_pence(booking) > 0,
        "can_cancel": (provider_side or manages_money) and booking.state in open_states,
        "can_approve": manages_money,
        "invoiceable_pence": buying.invoiceable_pence(booking),
        "can_review": not provider_side
        and buying.speaks_for(user, booking.holder)
        and booking.state == states.DELIVERED
        and not hasattr(booking, "review"),
        **extra,
    }
    return render(request, "marketplace/buying/booking_detail.html", context)


def booking_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _booking_page(request, _booking(request, pk))


@require_POST
def booking_accept(request: HttpRequest, pk: int) -> HttpResponse:
    booking = _booking(request, pk)
    try:
        buying.booking_decide(booking=booking, accept=True, decided_by=request.user)
    except Conflict as error:
        _failed(request, error)
    else:
        messages.success(request, "You accepted the booking. The person has been told.")
    return redirect("marketplace:booking_detail", booking.pk)


@require_POST
def booking_deliver(request: HttpRequest, pk: int) -> HttpResponse:
    booking = _booking(request, pk)
    try:
        buying.booking_deliver(booking=booking, delivered_by=request.user)
    except Conflict as error:
        _failed(request, error)
    else:
        messages.success(request, "The booking is marked as delivered.")
    return redirect("marketplace:booking_detail", booking.pk)


def _reason_page(request: HttpRequest, pk: int, *, action: str) -> HttpResponse:
    """Decline (provider) or cancel (either side): a reason is asked for."""
    booking = _booking(request, pk)
    provider_side = is_provider_staff(request.user, booking.service.provider)
    if action == "decline" and not provider_side:
        raise PermissionDenied
    if action == "cancel" and not (
        provider_side or can_manage_money(request.user, booking.budget, booking.contribution)
    ):
        raise PermissionDenied
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            if action == "decline":
                buying.booking_decide(
                    booking=booking, accept=False, reason=reason, decided_by=request.user
                )
            else:
                buying.booking_cancel(booking=booking, reason=reason, cancelled_by=request.user)
        except ValidationError as error:
            form.add_error("reason", " ".join(error.messages))
        except Conflict as error:
            form.add_error(None, error.message)
        else:
            done = "declined" if action == "decline" else "cancelled"
            messages.success(request, f"The booking is {done}.")
            return redirect("marketplace:booking_detail", booking.pk)
    return render(
        request,
        "marketplace/buying/booking_reason.html",
        {"booking": booking, "form": form, "action": action},
    )


def booking_decline(request: HttpRequest, pk: int) -> HttpResponse:
    return _reason_page(request, pk, action="decline")


def booking_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _reason_page(request, pk, action="cancel")


# Invoices -----------------------------------------------------------------------------


def invoice_create(request: HttpRequest, pk: int) -> HttpResponse:
    booking = _booking(request, pk)
    if not is_provider_staff(request.user, booking.service.provider):
        raise PermissionDenied
    form = InvoiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            buying.invoice_submit(
                booking=booking,
                reference=data["reference"],
                amount_pence=data["amount"],
                period_start=data["period_start"],
                period_end=data["period_end"],
                details=data["details"],
                issued_by=request.user,
            )
        except ValidationError as error:
            form.add_service_errors(error)
        except Conflict as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Your invoice has been sent for approval.")
            return redirect("marketplace:booking_detail", booking.pk)
    return render(
        request,
        "marketplace/buying/invoice_form.html",
        {
            "booking": booking,
            "form": form,
            "invoiceable_pence": buying.invoiceable_pence(booking),
            "start_parts": form.fields["period_start"].parts(form["period_start"].value()),
            "end_parts": form.fields["period_end"].parts(form["period_end"].value()),
        },
    )


def _invoice(request: HttpRequest, pk: int) -> Invoice:
    return get_object_or_404(
        Invoice.objects.filter(booking__in=Booking.objects.for_user(request.user)), pk=pk
    )


@require_POST
def invoice_approve(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    try:
        invoice = buying.invoice_approve(invoice=invoice, approved_by=request.user)
    except (Conflict, ValidationError) as error:
        _failed(request, error)
    else:
        messages.success(
            request,
            f"Invoice {invoice.reference} is approved: {format_pence(invoice.amount_pence)} "
            "has been paid from the budget.",
        )
    return redirect("marketplace:booking_detail", invoice.booking_id)


def invoice_dispute(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    booking = _booking(request, invoice.booking_id)
    if not can_manage_money(request.user, booking.budget, booking.contribution):
        raise PermissionDenied
    form = DecisionForm(request.POST or None)
    form.fields["reason"].label = "What is wrong with the invoice"
    if request.method == "POST" and form.is_valid():
        try:
            buying.invoice_dispute(
                invoice=invoice, reason=form.cleaned_data["reason"], disputed_by=request.user
            )
        except ValidationError as error:
            form.add_error("reason", " ".join(error.messages))
        except Conflict as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "The provider has been told why you disputed the invoice.")
            return redirect("marketplace:booking_detail", booking.pk)
    return render(
        request,
        "marketplace/buying/invoice_dispute.html",
        {"booking": booking, "invoice": invoice, "form": form},
    )


urlpatterns = [
    path("support/services/<int:pk>/ask/", enquiry_create, name="enquiry_create"),
    path("support/services/<int:pk>/book/", booking_create, name="booking_create"),
    path("enquiries/<int:pk>/", enquiry_detail, name="enquiry_detail"),
    path("bookings/", booking_list, name="booking_list"),
    path("bookings/<int:pk>/", booking_detail, name="booking_detail"),
    path("bookings/<int:pk>/accept/", booking_accept, name="booking_accept"),
    path("bookings/<int:pk>/decline/", booking_decline, name="booking_decline"),
    path("bookings/<int:pk>/cancel/", booking_cancel, name="booking_cancel"),
    path("bookings/<int:pk>/delivered/", booking_deliver, name="booking_deliver"),
    path("bookings/<int:pk>/invoice/", invoice_create, name="invoice_create"),
    path("invoices/<int:pk>/approve/", invoice_approve, name="invoice_approve"),
    path("invoices/<int:pk>/dispute/", invoice_dispute, name="invoice_dispute"),
]
