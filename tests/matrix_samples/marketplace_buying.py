"""Samples for the buying pages (marketplace/views/buying.py): a booking of holder A's
(org X) with the world's provider organisation, which its provider staff manage.

Pages that act answer 403 to people who may see the booking but not act on it (staff
who serve the holder, a representative without the money scope) and 302 after acting;
tests/marketplace/test_buying_views.py pins who gets which."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from marketplace import buying
from marketplace.models import Booking, CostOption, Invoice, Service
from tests.marketplace.factories import ProviderFactory, ServiceFactory
from tests.matrix_samples import ORG_X_STAFF, Sample


def _service(w: Any) -> Service:
    existing = Service.objects.filter(provider__organisation=w.provider_org).first()
    if existing is not None:
        return existing
    provider = ProviderFactory(organisation=w.provider_org, areas=[w.org_x])
    return ServiceFactory(provider=provider, price=(20_00, CostOption.Per.HOUR))


def _booking(w: Any, *, accepted: bool = False) -> Booking:
    booking = buying.booking_request(
        service=_service(w),
        budget=w.budget_a,
        requested_by=w.holder_a.user,
        quantity=2,
        starts_on=timezone.localdate(),
    )
    if accepted:
        booking = buying.booking_decide(booking=booking, accept=True, decided_by=w.provider_staff)
    return booking


def _invoice(w: Any) -> Invoice:
    today = timezone.localdate()
    return buying.invoice_submit(
        booking=_booking(w, accepted=True),
        reference="S-1",
        amount_pence=20_00,
        period_start=today,
        period_end=today,
        issued_by=w.provider_staff,
    )


def _enquiry(w: Any) -> Any:
    return buying.enquiry_send(
        service=_service(w), holder=w.holder_a, message="When?", asked_by=w.holder_a.user
    )


def _owners(w: Any) -> set[str]:
    return {"holder_a", "representative", "provider_staff", *ORG_X_STAFF}


def _act(kwargs: Any, method: str = "post") -> Sample:
    return Sample(kwargs=kwargs, owners=_owners, ok={200, 302, 403}, method=method)


SAMPLES: dict[str, Sample] = {
    "marketplace:enquiry_create": Sample(kwargs=lambda w: {"pk": _service(w).pk}, ok={200, 403}),
    "marketplace:booking_create": Sample(kwargs=lambda w: {"pk": _service(w).pk}, ok={200, 403}),
    "marketplace:enquiry_detail": Sample(kwargs=lambda w: {"pk": _enquiry(w).pk}, owners=_owners),
    "marketplace:booking_detail": Sample(kwargs=lambda w: {"pk": _booking(w).pk}, owners=_owners),
    "marketplace:booking_accept": _act(lambda w: {"pk": _booking(w).pk}),
    "marketplace:booking_decline": _act(lambda w: {"pk": _booking(w).pk}, method="get"),
    "marketplace:booking_cancel": _act(lambda w: {"pk": _booking(w).pk}, method="get"),
    "marketplace:booking_deliver": _act(lambda w: {"pk": _booking(w, accepted=True).pk}),
    "marketplace:invoice_create": _act(
        lambda w: {"pk": _booking(w, accepted=True).pk}, method="get"
    ),
    "marketplace:invoice_approve": _act(lambda w: {"pk": _invoice(w).pk}),
    "marketplace:invoice_dispute": _act(lambda w: {"pk": _invoice(w).pk}, method="get"),
}
