"""The marketplace API (``marketplace/api/``): a listed provider of the world's provider
organisation and its active service (anyone signed in reads them), a booking of that
service for holder A, and a pool of org X that holder A is in."""

from __future__ import annotations

import datetime
from typing import Any

from marketplace.models import Booking, Pool, PoolMember, Provider, Service
from tests.marketplace.factories import ProviderFactory, ServiceFactory
from tests.matrix_samples import ORG_X_STAFF, Sample

# Holder A's side, org X's staff (holder A's ICB) and the provider's staff.
BUYING_OWNERS = {"holder_a", "representative", *ORG_X_STAFF, "provider_staff"}


def _service(w: Any) -> Service:
    found = Service.objects.filter(provider__organisation=w.provider_org).first()
    if found is not None:
        return found
    provider = ProviderFactory(organisation=w.provider_org, areas=[w.org_x])
    return ServiceFactory(provider=provider, price=(18_00, "hour"))  # type: ignore[no-any-return]


def _provider(w: Any) -> Provider:
    return _service(w).provider


def _booking(w: Any) -> Booking:
    service = _service(w)
    return Booking.objects.create(
        service=service,
        cost_option=service.cost_options.first(),
        holder=w.holder_a,
        budget=w.budget_a,
        contribution=w.budget_a.contributions.get(),
        quantity=4,
        unit_price_pence=18_00,
        amount_pence=72_00,
        starts_on=datetime.date(2026, 6, 1),
        requested_by=w.holder_a.user,
    )


def _pool(w: Any) -> Pool:
    pool = Pool.objects.create(
        purpose="Art classes together",
        service=_service(w),
        organisation=w.org_x,
        organiser=w.staff_x,
        cost_pence=300_00,
        deadline=datetime.date(2026, 12, 1),
    )
    PoolMember.objects.create(
        pool=pool,
        holder=w.holder_a,
        budget=w.budget_a,
        contribution=w.budget_a.contributions.get(),
        joined_by=w.holder_a.user,
    )
    return pool


SAMPLES: dict[str, Sample] = {
    # Listings are public to every signed-in person (the walk reads, never writes).
    "api:provider_detail": Sample(kwargs=lambda w: {"pk": _provider(w).pk}),
    "api:service_detail": Sample(kwargs=lambda w: {"pk": _service(w).pk}),
    "api:booking_detail": Sample(
        kwargs=lambda w: {"pk": _booking(w).pk}, owners=lambda w: BUYING_OWNERS
    ),
    "api:pool_detail": Sample(kwargs=lambda w: {"pk": _pool(w).pk}, owners=lambda w: BUYING_OWNERS),
}
