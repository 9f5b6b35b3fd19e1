"""Samples for finding support and reviews (marketplace/views/search.py): a listed service
of the world's provider organisation, in org X's market; a delivered booking of holder
A's; a pending review of it, for org X's commissioner to moderate.

The review page answers 403 to a representative who may only view (the world's
representative); tests/marketplace/test_reviews.py pins who gets which."""

from __future__ import annotations

import datetime
from typing import Any

from marketplace.models import Booking, CostOption, Provider, Review, Service
from tests.marketplace.factories import ProviderFactory, ServiceFactory
from tests.matrix_samples import Sample


def _provider(w: Any) -> Provider:
    existing = Provider.objects.filter(organisation=w.provider_org, listed=True).first()
    return existing or ProviderFactory(organisation=w.provider_org, areas=[w.org_x])


def _service(w: Any) -> Service:
    existing = Service.objects.listed().filter(provider=_provider(w)).first()
    return existing or ServiceFactory(provider=_provider(w), price=(20_00, CostOption.Per.HOUR))


def delivered_booking(w: Any, service: Service | None = None) -> Booking:
    """A booking of holder A's, delivered (made directly: the buying services are tested
    with the buying pages)."""
    service = service or _service(w)
    option = service.cost_options.first()
    price = option.amount_pence if option else 0
    return Booking.objects.create(
        service=service,
        cost_option=option,
        holder=w.holder_a,
        budget=w.budget_a,
        contribution=w.budget_a.contributions.first(),
        state=Booking.State.DELIVERED,
        quantity=2,
        unit_price_pence=price,
        amount_pence=2 * price,
        starts_on=w.budget_a.period_start,
        requested_by=w.holder_a.user,
        delivered_at=datetime.datetime.now(tz=datetime.UTC),
    )


def _review(w: Any) -> Review:
    booking = delivered_booking(w)
    return Review.objects.create(
        booking=booking,
        service=booking.service,
        rating=4,
        text="Kind and on time.",
        written_by=w.holder_a.user,
    )


SAMPLES: dict[str, Sample] = {
    "marketplace:service_detail": Sample(kwargs=lambda w: {"pk": _service(w).pk}),
    "marketplace:provider_profile": Sample(kwargs=lambda w: {"pk": _provider(w).pk}),
    "marketplace:review_create": Sample(
        kwargs=lambda w: {"booking_pk": delivered_booking(w).pk},
        owners=lambda w: {"holder_a", "representative"},
        ok={200, 403},
    ),
    "marketplace:review_moderate": Sample(
        kwargs=lambda w: {"pk": _review(w).pk}, owners=lambda w: {"commissioner"}
    ),
}
