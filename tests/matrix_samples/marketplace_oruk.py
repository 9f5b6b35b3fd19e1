"""Samples for the Open Referral UK feed (marketplace/oruk/): public, so every caller,
signed in or not, gets the same answer; ids are the records' UUIDs."""

from __future__ import annotations

from typing import Any

from marketplace.models import Category, Taxonomy
from tests.marketplace.factories import ProviderFactory, ServiceAtLocationFactory
from tests.matrix_samples import Sample


def _service_at_location(w: Any) -> Any:
    provider = ProviderFactory(organisation=w.provider_org)
    return ServiceAtLocationFactory(service__provider=provider)


def _term() -> Category:
    return Category.objects.filter(organisation__isnull=True).order_by("code").first()  # type: ignore[return-value]


SAMPLES: dict[str, Sample] = {
    "oruk:service_detail": Sample(kwargs=lambda w: {"id": _service_at_location(w).service.uuid}),
    "oruk:service_at_location_detail": Sample(
        kwargs=lambda w: {"id": _service_at_location(w).uuid}
    ),
    "oruk:taxonomy_detail": Sample(
        kwargs=lambda w: {"id": Taxonomy.objects.get(terms=_term()).uuid}
    ),
    "oruk:taxonomy_term_detail": Sample(kwargs=lambda w: {"id": _term().uuid}),
    "oruk:not_found": Sample(kwargs=lambda w: {"rest": "organizations"}, ok={404}),
}
