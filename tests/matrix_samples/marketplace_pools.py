"""Samples for the pool pages (marketplace/views/pools.py): a pool for org X's holders,
organised by org X's care coordinator, buying a service of the world's provider, which
holder A has joined.

Those who may see the pool are org X's staff, holder A and their representative (as
members' people) and the provider's staff. The action POSTs answer 403 to those who may
see the pool but not take that action, redirect (302) after an action or a refusal of
the pool's state, or show the page again (200) for a form with errors; so their samples
accept all three. tests/marketplace/test_pools.py pins who gets which."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from marketplace import pooling
from marketplace.models import Pool, Service
from tests.marketplace.factories import ProviderFactory, ServiceFactory
from tests.matrix_samples import ORG_X_STAFF, Sample


def _service(w: Any) -> Service:
    service: Service = ServiceFactory(
        provider=ProviderFactory(organisation=w.provider_org, name="Bright Days Cookery"),
        title="Cookery class",
        price=(30_00, "session"),
    )
    return service


def _pool(w: Any) -> Pool:
    pool = pooling.pool_create(
        organiser=w.staff_x,
        service=_service(w),
        organisation=w.org_x,
        purpose="Learn to cook together",
        cost_pence=100_00,
        minimum_members=2,
        deadline=timezone.localdate() + datetime.timedelta(days=14),
    )
    pooling.pool_join(pool=pool, budget=w.budget_a, joined_by=w.holder_a.user)
    return pool


def _owners(w: Any) -> set[str]:
    return {"holder_a", "representative", "provider_staff", *ORG_X_STAFF}


def _action() -> Sample:
    return Sample(
        kwargs=lambda w: {"pk": _pool(w).pk}, owners=_owners, ok={200, 302, 403}, method="post"
    )


SAMPLES: dict[str, Sample] = {
    # Opening a pool: only staff who organise (and holders' side with the money scope).
    "marketplace:pool_create": Sample(kwargs=lambda w: {"pk": _service(w).pk}, ok={200, 403}),
    "marketplace:pool_detail": Sample(kwargs=lambda w: {"pk": _pool(w).pk}, owners=_owners),
    "marketplace:pool_join": _action(),
    "marketplace:pool_leave": _action(),
    "marketplace:pool_fund": _action(),
    "marketplace:pool_cancel": _action(),
    "marketplace:pool_complete": _action(),
    "marketplace:pool_fail": _action(),
}
