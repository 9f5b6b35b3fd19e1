"""Samples for the provider pages and the commissioner's market pages
(marketplace/views/provider.py and market.py): a listing of ``world.provider_org``
(managed by ``provider_staff``) in org X's area (so org X's commissioner verifies it).

An organisation admin of org X may use the provider pages by the matrix but runs no
provider: creating a listing answers 403 to them (tests/e2e and
tests/marketplace/test_market_view.py pin who gets which)."""

from __future__ import annotations

from typing import Any

from marketplace.models import Location, Provider, Service
from tests.marketplace.factories import LocationFactory, ProviderFactory, ServiceFactory
from tests.matrix_samples import Sample


def _provider(w: Any) -> Provider:
    provider = Provider.objects.filter(organisation=w.provider_org, name="Bright Days PA").first()
    return provider or ProviderFactory(
        organisation=w.provider_org, name="Bright Days PA", areas=[w.org_x]
    )


def _service(w: Any) -> Service:
    provider = _provider(w)
    return provider.services.first() or ServiceFactory(provider=provider, price=(18_00, "hour"))


def _location(w: Any) -> Location:
    provider = _provider(w)
    return provider.locations.first() or LocationFactory(provider=provider)


def _staff(w: Any) -> set[str]:
    return {"provider_staff"}


def _commissioner(w: Any) -> set[str]:
    return {"commissioner"}


SAMPLES: dict[str, Sample] = {
    "marketplace:provider_create": Sample(ok={200, 403}),
    "marketplace:provider_edit": Sample(kwargs=lambda w: {"pk": _provider(w).pk}, owners=_staff),
    "marketplace:service_create": Sample(kwargs=lambda w: {"pk": _provider(w).pk}, owners=_staff),
    "marketplace:service_edit": Sample(kwargs=lambda w: {"pk": _service(w).pk}, owners=_staff),
    "marketplace:service_withdraw": Sample(kwargs=lambda w: {"pk": _service(w).pk}, owners=_staff),
    "marketplace:location_create": Sample(kwargs=lambda w: {"pk": _provider(w).pk}, owners=_staff),
    "marketplace:location_edit": Sample(kwargs=lambda w: {"pk": _location(w).pk}, owners=_staff),
    "marketplace:provider_verify": Sample(
        kwargs=lambda w: {"pk": _provider(w).pk}, owners=_commissioner
    ),
}
