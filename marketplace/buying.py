"""Buying support from the marketplace: enquiry, booking, the provider's invoices, and
the holder's approval that pays each invoice with a spend from their budget.

Money moves only through ``budgets.services.spend_record``, with an idempotency key
made from the invoice's UUID: approving twice, a double click or a retry pays once.
An accepted booking is *committed* spend on its budget until its invoices are paid.

Errors as in every service: ``ValidationError`` for bad input (nothing changes),
``PermissionDenied`` for a caller without the right, ``Conflict`` for a wrong state."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, Sum
from django.urls import reverse
from django.utils import timezone

from budgets import services as budget_services
from budgets.ledger import format_pence
from budgets.models import Budget, BudgetHolder, FundingContribution, Spend, SpendCategory
from budgets.permissions import can_manage_money, represents_with, roles_for_holder
from core.exceptions import Conflict
from core.services import audit_record, notification_send
from marketplace.models import Booking, CostOption, Enquiry, Invoice, Service
from marketplace.permissions import is_provider_staff, provider_staff
from plans.models import SupportItem, SupportPlan
from users.models import Representation, Role

MESSAGE_MAX = 2000
QUANTITY_MAX = 1000

# What a spend on a service counts as, from its category (or the category's parent).
SPEND_CATEGORY_BY_CODE: dict[str, str] = {
    "personal-assistance": SpendCategory.PERSONAL_ASSISTANT,
    "care-at-home": SpendCategory.CARE_AGENCY,
    "short-breaks": SpendCategory.RESPITE,
    "shared-lives": SpendCategory.RESPITE,
    "carers-support": SpendCategory.RESPITE,
    "therapies": SpendCategory.THERAPY,
    "mental-wellbeing": SpendCategory.THERAPY,
    "equipment": SpendCategory.EQUIPMENT,
    "transport": SpendCategory.TRANSPORT,
    "day-activities": SpendCategory.ACTIVITIES,
    "community-groups": SpendCategory.ACTIVITIES,
    "sport-fitness": SpendCategory.ACTIVITIES,
    "arts-creativity": SpendCategory.ACTIVITIES,
    "learning": SpendCategory.TRAINING,
    "work-volunteering": SpendCategory.TRAINING,
    "money-management": SpendCategory.EMPLOYMENT_COSTS,
}


def spend_category_for(service: Service) -> str:
    """The spend category a purchase of ``service`` is recorded under."""
    category: Any = service.category
    while category is not None:
        if category.code in SPEND_CATEGORY_BY_CODE:
            return SPEND_CATEGORY_BY_CODE[category.code]
        category = category.parent
    return SpendCategory.OTHER


# Who is who ---------------------------------------------------------------------------


def speaks_for(user: Any, holder: BudgetHolder) -> bool:
    """The holder, or a current representative (any scope): may ask a provider."""
    if not getattr(user, "is_authenticated", False):
        return False
    if holder.user_id is not None and holder.user_id == user.pk:
        return True
    return any(
        represents_with(user, holder, scope)
        for scope in (Representation.Scope.MANAGE_PLAN, Representation.Scope.MANAGE_MONEY)
    )


def may_enquire(user: Any, holder: BudgetHolder) -> bool:
    """The holder's side, or a planner or coordinator who serves them."""
    return speaks_for(user, holder) or bool(
        roles_for_holder(user, holder) & {Role.SUPPORT_PLANNER, Role.CARE_COORDINATOR}
    )


def buyable_holders(user: Any) -> list[BudgetHolder]:
    """Holders the user may buy for: their own record and those they represent with
    the money scope (the budget pages then narrow to the funding they manage)."""
    if not getattr(user, "is_authenticated", False):
        return []
    represented = Representation.objects.current().filter(
        representative=user, scopes__contains=[Representation.Scope.MANAGE_MONEY]
    )
    return list(
        BudgetHolder.objects.filter(Q(user=user) | Q(pk__in=represented.values("holder_id")))
        .select_related("organisation")
        .order_by("name")
    )


def buyable_funding(user: Any, holders: list[BudgetHolder] | None = None) -> list[Any]:
    """(budget, contribution) pairs of active budgets whose money the user manages."""
    holders = buyable_holders(user) if holders is None else holders
    budgets = (
        Budget.objects.filter(holder__in=holders, state=Budget.State.ACTIVE)
        .select_related("holder")
        .prefetch_related("contributions__funder")
        .order_by("holder__name", "period_start")
    )
    return [
        (budget, contribution)
        for budget in budgets
        for contribution in budget.contributions.all()
        if can_manage_money(user, budget, contribution)
    ]


def _notify_provider(service: Service, *, subject: str, body: str, link: str) -> None:
    for person in provider_staff(service.provider):
        notification_send(user=person, subject=subject, body=body, link=link)


def _text(value: Any, field: str, what: str, *, required: bool = True) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if required and not text:
        raise ValidationError({field: f"Enter {what}."})
    if len(text) > MESSAGE_MAX:
        raise ValidationError({field: f"Keep {what} to {MESSAGE_MAX} characters or fewer."})
    return text


def _listed(service: Service) -> Service:
    fresh = Service.objects.listed().select_related("provider", "category").filter(pk=service.pk)
    found = fresh.first()
    if found is None:
        raise Conflict("This service is not taking bookings or enquiries now.")
    return found


def _audit(actor: Any, action: str, obj: Any, holder: BudgetHolder, **changes: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=obj,
        organisation=holder.organisation,
        person=holder,
        changes=changes,
    )


# Enquiries ----------------------------------------------------------------------------


@transaction.atomic
def enquiry_send(*, service: Service, holder: BudgetHolder, message: str, asked_by: Any) -> Enquiry:
    """Ask a provider a question about a service, for a holder."""
    if not may_enquire(asked_by, holder):
        raise PermissionDenied
    service = _listed(service)
    text = _text(message, "message", "your question")
    enquiry = Enquiry.objects.create(
        service=service, holder=holder, asked_by=asked_by, message=text
    )
    _audit(asked_by, "enquiry.sent", enquiry, holder, service=service.pk)
    link = reverse("marketplace:enquiry_detail", args=[enquiry.pk])
    _notify_provider(
        service,
        subject=f"A question about {service.title}",
        body=f"{asked_by} asked: {text[:300]}",
        link=link,
    )
    return enquiry


@transaction.atomic
def enquiry_answer(*, enquiry: Enquiry, answer: str, answered_by: Any) -> Enquiry:
    enquiry = (
        Enquiry.objects.select_for_update().select_related("service__provider").get(pk=enquiry.pk)
    )
    if not is_provider_staff(answered_by, enquiry.service.provider):
        raise PermissionDenied
    if enquiry.answered_at is not None:
        raise Conflict("This question has already been answered.")
    enquiry.answer = _text(answer, "answer", "your answer")
    enquiry.answered_by = answered_by
    enquiry.answered_at = timezone.now()
    enquiry.save(update_fields=["answer", "answered_by", "answered_at"])
    holder = enquiry.holder
    _audit(answered_by, "enquiry.answered", enquiry, holder)
    budget_services.holder_notify(
        holder,
        subject=f"{enquiry.service.provider.name} answered your question",
        body=enquiry.answer[:300],
        link=reverse("marketplace:enquiry_detail", args=[enquiry.pk]),
    )
    if enquiry.asked_by_id not in {holder.user_id}:
        notification_send(
            user=enquiry.asked_by,
            subject=f"{enquiry.service.provider.name} answered your question",
            body=enquiry.answer[:300],
            link=reverse("marketplace:enquiry_detail", args=[enquiry.pk]),
        )
    return enquiry


# Bookings -----------------------------------------------------------------------------


def committed_pence(*, contribution: FundingContribution, exclude: Booking | None = None) -> int:
    """Money promised to bookings from this funding and not yet paid."""
    rows = Booking.objects.committed().filter(contribution=contribution)
    if exclude is not None:
        rows = rows.exclude(pk=exclude.pk)
    return int(rows.aggregate(total=Sum(F("amount_pence") - F("paid_pence"), default=0))["total"])


def uncommitted_pence(contribution: FundingContribution, *, exclude: Booking | None = None) -> int:
    """The year's funding less what is spent (net of refunds) and what is promised."""
    spent = Spend.objects.filter(contribution=contribution).aggregate(
        total=Sum(F("amount_pence") - F("refunded_pence"), default=0)
    )["total"]
    return int(
        contribution.yearly_pence
        - spent
        - committed_pence(contribution=contribution, exclude=exclude)
    )


def _funding(budget: Budget, contribution: FundingContribution | None) -> FundingContribution:
    contributions = list(budget.contributions.all())
    if contribution is None:
        if len(contributions) != 1:
            raise ValidationError({"contribution": "Choose which funding pays for it."})
        return contributions[0]
    found = next((c for c in contributions if c.pk == getattr(contribution, "pk", None)), None)
    if found is None:
        raise ValidationError({"contribution": "That funding is not part of this budget."})
    return found


def _plan_item(budget: Budget, contribution: FundingContribution, plan_item: Any) -> Any:
    item_id = budget_services.plan_item_id(plan_item)
    if item_id is None:
        return None
    item = (
        SupportItem.objects.filter(
            pk=item_id, plan__budget=budget, plan__state=SupportPlan.State.ACTIVE
        )
        .values_list("pk", "stream")
        .first()
    )
    budget_services.plan_item_checked(item, contribution)
    return item_id


def _booked_before(key: uuid.UUID | None, budget: Budget, service: Service) -> Booking | None:
    earlier = Booking.objects.filter(uuid=key).first() if key is not None else None
    if earlier is not None and (earlier.budget_id != budget.pk or earlier.service_id != service.pk):
        raise ValidationError({"key": "This booking form was for something else."})
    return earlier


@transaction.atomic
def booking_request(
    *,
    service: Service,
    budget: Budget,
    requested_by: Any,
    starts_on: datetime.date,
    quantity: int = 1,
    cost_option: CostOption | None = None,
    ends_on: datetime.date | None = None,
    details: str = "",
    contribution: FundingContribution | None = None,
    plan_item: Any = None,
    enquiry: Enquiry | None = None,
    key: uuid.UUID | None = None,
) -> Booking:
    """Ask to book a paid service, to be paid from one funding stream of an active
    budget. The agreed amount (quantity x the cost option's price) must fit in what is
    left of that funding's year after spending and other bookings.

    ``key`` (optional) becomes the booking's UUID: asking again with the same key (a
    form sent twice, a retry) returns the first booking and books nothing more."""
    earlier = _booked_before(key, budget, service)
    if earlier is not None:
        return earlier
    budget = Budget.objects.select_related("holder__organisation").get(pk=budget.pk)
    contribution = _funding(budget, contribution)
    if not can_manage_money(requested_by, budget, contribution):
        raise PermissionDenied
    service = _listed(service)
    if budget.state != Budget.State.ACTIVE:
        raise Conflict(
            "Support can only be booked from an active budget; this one is "
            f"{budget.get_state_display().lower()}."
        )
    if service.is_free:
        raise ValidationError(
            {"service": "This service is free: contact the provider to join, no booking needed."}
        )
    options = {o.pk: o for o in service.cost_options.all()}
    if cost_option is None and len(options) == 1:
        cost_option = next(iter(options.values()))
    if cost_option is None or getattr(cost_option, "pk", None) not in options:
        raise ValidationError({"cost_option": "Choose one of the service's prices."})
    cost_option = options[cost_option.pk]
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not quantity > 0:
        raise ValidationError({"quantity": "Enter how many, as a whole number of 1 or more."})
    if quantity > QUANTITY_MAX:
        raise ValidationError({"quantity": f"Enter {QUANTITY_MAX} or fewer."})
    amount = budget_services.money_checked(
        quantity * cost_option.amount_pence, "quantity", allow_zero=False
    )
    today = timezone.localdate()
    if not isinstance(starts_on, datetime.date):
        raise ValidationError({"starts_on": "Enter a real start date."})
    if starts_on < today:
        raise ValidationError({"starts_on": "The start date must be today or in the future."})
    if not budget.period_start <= starts_on <= budget.period_end:
        raise ValidationError(
            {
                "starts_on": "The start date must be within the budget year, "
                f"{budget.period_start:%-d %B %Y} to {budget.period_end:%-d %B %Y}."
            }
        )
    if ends_on is not None and not starts_on <= ends_on <= budget.period_end:
        raise ValidationError(
            {
                "ends_on": "The end date must be on or after the start date and within the "
                f"budget year (by {budget.period_end:%-d %B %Y})."
            }
        )
    item_id = _plan_item(budget, contribution, plan_item)
    if enquiry is not None and (
        enquiry.holder_id != budget.holder_id or enquiry.service_id != service.pk
    ):
        raise ValidationError({"enquiry": "That question was about another service or person."})
    # Serialise bookings on this funding, so two at once cannot both fit in the last
    # of the money.
    FundingContribution.objects.select_for_update().filter(pk=contribution.pk).first()
    earlier = _booked_before(key, budget, service)  # sent twice at once: the other won
    if earlier is not None:
        return earlier
    left = uncommitted_pence(contribution)
    if amount > left:
        raise Conflict(
            f"This booking costs {format_pence(amount)}, but only {format_pence(max(left, 0))} "
            f"of the {contribution.get_stream_display()} funding is left for the year after "
            "spending and other bookings."
        )
    booking = Booking.objects.create(
        **({"uuid": key} if key is not None else {}),
        service=service,
        cost_option=cost_option,
        holder=budget.holder,
        budget=budget,
        contribution=contribution,
        plan_item_id=item_id,
        enquiry=enquiry,
        quantity=quantity,
        unit_price_pence=cost_option.amount_pence,
        amount_pence=amount,
        starts_on=starts_on,
        ends_on=ends_on,
        details=_text(details, "details", "the details", required=False),
        requested_by=requested_by,
    )
    _audit(
        requested_by,
        "booking.requested",
        booking,
        budget.holder,
        service=service.pk,
        amount_pence=amount,
        contribution=contribution.pk,
        plan_item=item_id,
    )
    _notify_provider(
        service,
        subject=f"A booking request for {service.title}",
        body=f"{quantity} x {format_pence(cost_option.amount_pence)} "
        f"{cost_option.get_per_display()}, from {starts_on:%-d %B %Y}.",
        link=reverse("marketplace:booking_detail", args=[booking.pk]),
    )
    return booking


def _locked(booking: Booking) -> Booking:
    return (
        Booking.objects.select_for_update(of=("self",))
        .select_related("service__provider", "service__category", "holder__organisation", "budget")
        .get(pk=booking.pk)
    )


def _move(booking: Booking, to_state: str) -> None:
    if to_state not in Booking.TRANSITIONS[booking.state]:
        raise Conflict(
            f"This booking is {booking.get_state_display().lower()}, so it cannot be "
            f"{Booking.State(to_state).label.lower()}."
        )
    booking.state = to_state


def _tell_holder(booking: Booking, subject: str, body: str) -> None:
    link = reverse("marketplace:booking_detail", args=[booking.pk])
    budget_services.holder_notify(booking.holder, subject=subject, body=body, link=link)
    if booking.requested_by_id != booking.holder.user_id:
        notification_send(user=booking.requested_by, subject=subject, body=body, link=link)


@transaction.atomic
def booking_decide(*, booking: Booking, accept: bool, decided_by: Any, reason: str = "") -> Booking:
    """The provider accepts or declines a requested booking (a reason to decline)."""
    booking = _locked(booking)
    if not is_provider_staff(decided_by, booking.service.provider):
        raise PermissionDenied
    to_state = Booking.State.ACCEPTED if accept else Booking.State.DECLINED
    _move(booking, to_state)
    if not accept:
        booking.reason = _text(reason, "reason", "why you cannot take the booking")
    booking.decided_by = decided_by
    booking.decided_at = timezone.now()
    booking.save(update_fields=["state", "reason", "decided_by", "decided_at"])
    _audit(decided_by, f"booking.{to_state}", booking, booking.holder, reason=booking.reason)
    name = booking.service.provider.name
    if accept:
        _tell_holder(
            booking,
            f"{name} accepted your booking",
            f"{booking.service.title} from {booking.starts_on:%-d %B %Y}: "
            f"{format_pence(booking.amount_pence)} is now set aside in your budget for it.",
        )
    else:
        _tell_holder(booking, f"{name} cannot take your booking", booking.reason[:300])
    return booking


@transaction.atomic
def booking_cancel(*, booking: Booking, cancelled_by: Any, reason: str) -> Booking:
    """The holder's side or the provider cancels a requested or accepted booking. An
    invoice waiting for approval must be approved or disputed first."""
    booking = _locked(booking)
    provider_side = is_provider_staff(cancelled_by, booking.service.provider)
    if not (provider_side or can_manage_money(cancelled_by, booking.budget, booking.contribution)):
        raise PermissionDenied
    _move(booking, Booking.State.CANCELLED)
    if booking.invoices.filter(state=Invoice.State.SUBMITTED).exists():
        raise Conflict("An invoice for this booking is waiting: approve or dispute it first.")
    booking.reason = _text(reason, "reason", "why the booking is cancelled")
    booking.cancelled_by = cancelled_by
    booking.save(update_fields=["state", "reason", "cancelled_by"])
    _audit(cancelled_by, "booking.cancelled", booking, booking.holder, reason=booking.reason)
    subject = f"Booking of {booking.service.title} cancelled"
    if provider_side:
        _tell_holder(booking, subject, booking.reason[:300])
    else:
        _notify_provider(
            booking.service,
            subject=subject,
            body=booking.reason[:300],
            link=reverse("marketplace:booking_detail", args=[booking.pk]),
        )
    return booking


@transaction.atomic
def booking_deliver(*, booking: Booking, delivered_by: Any) -> Booking:
    """The provider records that an accepted booking has been delivered in full."""
    booking = _locked(booking)
    if not is_provider_staff(delivered_by, booking.service.provider):
        raise PermissionDenied
    _move(booking, Booking.State.DELIVERED)
    booking.delivered_at = timezone.now()
    booking.save(update_fields=["state", "delivered_at"])
    _audit(delivered_by, "booking.delivered", booking, booking.holder)
    return booking


# Invoices -----------------------------------------------------------------------------


def invoiceable_pence(booking: Booking) -> int:
    """What may still be invoiced: the agreed amount less paid and waiting invoices."""
    waiting = booking.invoices.filter(state=Invoice.State.SUBMITTED).aggregate(
        total=Sum("amount_pence", default=0)
    )["total"]
    return int(booking.amount_pence - booking.paid_pence - waiting)


@transaction.atomic
def invoice_submit(
    *,
    booking: Booking,
    reference: str,
    amount_pence: int,
    period_start: datetime.date,
    period_end: datetime.date,
    issued_by: Any,
    details: str = "",
) -> Invoice:
    """The provider bills an accepted or delivered booking, up to its agreed amount."""
    booking = _locked(booking)
    if not is_provider_staff(issued_by, booking.service.provider):
        raise PermissionDenied
    if booking.state not in (Booking.State.ACCEPTED, Booking.State.DELIVERED):
        raise Conflict(
            f"This booking is {booking.get_state_display().lower()}: only an accepted or "
            "delivered booking can be invoiced."
        )
    reference = " ".join((reference or "").split())
    if not reference:
        raise ValidationError({"reference": "Enter your invoice number."})
    if len(reference) > 60:
        raise ValidationError({"reference": "Enter the invoice number in 60 characters or fewer."})
    if booking.invoices.filter(reference=reference).exists():
        raise ValidationError({"reference": "You have already sent an invoice with this number."})
    amount = budget_services.money_checked(amount_pence, "amount_pence")
    if not isinstance(period_start, datetime.date) or not isinstance(period_end, datetime.date):
        raise ValidationError({"period_start": "Enter the dates the invoice covers."})
    if period_end < period_start:
        raise ValidationError(
            {"period_end": "The end of the period must be on or after its start."}
        )
    if period_start < booking.starts_on or period_end > timezone.localdate():
        raise ValidationError(
            {
                "period_start": "The invoice must cover support given from "
                f"{booking.starts_on:%-d %B %Y} up to today."
            }
        )
    left = invoiceable_pence(booking)
    if amount > left:
        raise ValidationError(
            {
                "amount_pence": f"The invoice is for more than the booking has left to bill: "
                f"at most {format_pence(max(left, 0))}."
            }
        )
    invoice = Invoice.objects.create(
        booking=booking,
        reference=reference,
        amount_pence=amount,
        period_start=period_start,
        period_end=period_end,
        details=_text(details, "details", "the details", required=False),
        issued_by=issued_by,
    )
    _audit(issued_by, "invoice.submitted", invoice, booking.holder, amount_pence=amount)
    _tell_holder(
        booking,
        f"An invoice from {booking.service.provider.name} to approve",
        f"{format_pence(amount)} for {booking.service.title}, "
        f"{period_start:%-d %B} to {period_end:%-d %B %Y}.",
    )
    return invoice


def _locked_invoice(invoice: Invoice) -> Invoice:
    return (
        Invoice.objects.select_for_update(of=("self",)).select_related("booking").get(pk=invoice.pk)
    )


@transaction.atomic
def invoice_approve(*, invoice: Invoice, approved_by: Any) -> Invoice:
    """The holder (or whoever manages that money) approves an invoice: a spend from the
    booking's funding to the provider is posted, once, and the invoice is paid.

    The spend's idempotency key is the invoice's UUID, and the invoice row is locked,
    so approving twice (a double click, two people at once, a retry) pays once: the
    second sees it paid and returns it. Too little money is InsufficientFunds (409)
    and nothing changes."""
    invoice = _locked_invoice(invoice)
    booking = _locked(invoice.booking)
    if not can_manage_money(approved_by, booking.budget, booking.contribution):
        raise PermissionDenied
    if invoice.state == Invoice.State.PAID:
        return invoice
    if invoice.state != Invoice.State.SUBMITTED:
        raise Conflict("This invoice was disputed: the provider can send a new one.")
    today = timezone.localdate()
    spend = budget_services.spend_record(
        budget=booking.budget,
        contribution=booking.contribution,
        payee=booking.service.provider.name,
        spent_on=min(today, booking.budget.period_end),
        amount_pence=invoice.amount_pence,
        category=spend_category_for(booking.service),
        note=f"Invoice {invoice.reference}: {booking.service.title}",
        recorded_by=approved_by,
        idempotency_key=f"invoice:{invoice.uuid}",
        plan_item=booking.plan_item_id,
    )
    invoice.state = Invoice.State.PAID
    invoice.spend = spend
    invoice.decided_by = approved_by
    invoice.decided_at = timezone.now()
    invoice.save(update_fields=["state", "spend", "decided_by", "decided_at"])
    Booking.objects.filter(pk=booking.pk).update(paid_pence=F("paid_pence") + invoice.amount_pence)
    _audit(
        approved_by,
        "invoice.approved",
        invoice,
        booking.holder,
        amount_pence=invoice.amount_pence,
        spend=spend.pk,
    )
    _notify_provider(
        booking.service,
        subject=f"Invoice {invoice.reference} approved",
        body=f"{format_pence(invoice.amount_pence)} has been paid from the budget.",
        link=reverse("marketplace:booking_detail", args=[booking.pk]),
    )
    return invoice


@transaction.atomic
def invoice_dispute(*, invoice: Invoice, reason: str, disputed_by: Any) -> Invoice:
    """The holder's side questions an invoice; the provider may send a corrected one."""
    invoice = _locked_invoice(invoice)
    booking = _locked(invoice.booking)
    if not can_manage_money(disputed_by, booking.budget, booking.contribution):
        raise PermissionDenied
    if invoice.state != Invoice.State.SUBMITTED:
        raise Conflict(
            f"This invoice is {invoice.get_state_display().lower()}: only one waiting for "
            "approval can be disputed."
        )
    invoice.dispute_reason = _text(reason, "reason", "what is wrong with the invoice")
    invoice.state = Invoice.State.DISPUTED
    invoice.decided_by = disputed_by
    invoice.decided_at = timezone.now()
    invoice.save(update_fields=["state", "dispute_reason", "decided_by", "decided_at"])
    _audit(disputed_by, "invoice.disputed", invoice, booking.holder, reason=invoice.dispute_reason)
    _notify_provider(
        booking.service,
        subject=f"Invoice {invoice.reference} disputed",
        body=invoice.dispute_reason[:300],
        link=reverse("marketplace:booking_detail", args=[booking.pk]),
    )
    return invoice


# Reading ------------------------------------------------------------------------------


def budget_commitments(budget: Budget) -> list[Booking]:
    """The budget's accepted and delivered bookings with money still promised."""
    return [
        b
        for b in Booking.objects.committed()
        .filter(budget=budget)
        .select_related("service__provider", "contribution")
        .order_by("starts_on", "pk")
        if b.committed_pence > 0
    ]
