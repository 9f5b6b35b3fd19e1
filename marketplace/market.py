"""The commissioner's view of the market: what is listed in their organisations' areas,
by provider kind, category and postcode district; the shares that are user-led,
not-for-profit or micro-enterprises; services nobody has booked; the gaps; and the
verification queue.

The market is the *listed* providers in the areas of the ICBs and councils where the user
is a commissioner (``Provider.objects.commissioned_by``) and their *active* services.
A district is "in the area" when a service in that market covers it (lists it, or has a
location there) or a person with a budget from those organisations lives there. A gap is
a national category with no service covering the district; online services cover every
district. A service of a category added by a commissioner under a national one counts
for the national one too."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, F, Func, OuterRef, Q, QuerySet
from django.utils import timezone

from budgets.models import BudgetHolder
from core.models import AuditEvent
from marketplace.models import (
    Booking,
    Category,
    Provider,
    ProviderKind,
    Service,
    ServiceAtLocation,
)
from marketplace.permissions import commissioner_organisation_ids
from users.models import Organisation

EXPIRING_WITHIN_DAYS = 30
# The shares a commissioner is asked about; each key is a filter of market_provider_list.
SHARES = (
    ("user_led", "User-led"),
    ("not_for_profit", "Not-for-profit"),
    ("micro_enterprise", "Community micro-enterprises"),
)


def outward_code(postcode: str) -> str:
    """The district of a full postcode ("LS1 4AP" -> "LS1")."""
    parts = (postcode or "").split()
    return parts[0].upper() if parts else ""


def market_providers(user: Any) -> QuerySet[Provider]:
    return Provider.objects.commissioned_by(user).filter(listed=True)


def market_services(user: Any) -> QuerySet[Service]:
    return Service.objects.filter(provider__in=market_providers(user), status=Service.Status.ACTIVE)


def _unbooked(services: QuerySet[Service]) -> QuerySet[Service]:
    return services.filter(~Exists(Booking.objects.filter(service=OuterRef("pk"))))


def _service_districts(services: QuerySet[Service]) -> dict[str, set[int]]:
    """District -> the ids of services that cover it (listed, or a location there)."""
    covered: dict[str, set[int]] = defaultdict(set)
    listed = services.annotate(
        district=Func(F("postcode_districts"), function="unnest")
    ).values_list("pk", "district")
    for pk, district in listed:
        covered[district].add(pk)
    located = ServiceAtLocation.objects.filter(service__in=services).values_list(
        "service_id", "location__postcode"
    )
    for pk, postcode in located:
        if district := outward_code(postcode):
            covered[district].add(pk)
    return covered


def _holder_districts(organisation_ids: set[int]) -> dict[str, int]:
    holders = BudgetHolder.objects.filter(
        Q(organisation_id__in=organisation_ids) | Q(council_id__in=organisation_ids)
    ).values_list("postcode", flat=True)
    counts: dict[str, int] = defaultdict(int)
    for postcode in holders:
        if district := outward_code(postcode):
            counts[district] += 1
    return counts


@dataclass
class KindRow:
    kind: str
    label: str
    providers: int
    services: int


@dataclass
class CategoryRow:
    category: Category
    providers: int
    services: int


@dataclass
class DistrictRow:
    district: str
    services: int
    providers: int
    holders: int
    missing: list[Category] = field(default_factory=list)


@dataclass
class Share:
    key: str
    label: str
    count: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.count / self.total) if self.total else 0


@dataclass
class MarketOverview:
    organisations: list[Organisation]
    providers: int
    services: int
    by_kind: list[KindRow]
    by_category: list[CategoryRow]
    by_district: list[DistrictRow]
    online: int
    shares: list[Share]
    unbooked: int
    gaps: int


def market_overview(*, user: Any) -> MarketOverview:
    """Every figure of the market page, for the commissioner's organisations."""
    org_ids = commissioner_organisation_ids(user)
    providers = market_providers(user)
    services = market_services(user)
    provider_rows = list(providers.values_list("pk", "kind", "user_led", "not_for_profit"))
    service_rows = list(
        services.values_list("pk", "provider_id", "provider__kind", "category_id", "online")
    )
    provider_of = {pk: provider_id for pk, provider_id, *_ in service_rows}

    by_kind = []
    for kind, label in ProviderKind.choices:
        by_kind.append(
            KindRow(
                kind=kind,
                label=str(label),
                providers=sum(1 for p in provider_rows if p[1] == kind),
                services=sum(1 for s in service_rows if s[2] == kind),
            )
        )

    categories = list(Category.objects.for_area(org_ids).select_related("parent", "organisation"))
    by_category = []
    for category in categories:
        offering = [s for s in service_rows if s[3] == category.pk]
        by_category.append(
            CategoryRow(
                category=category,
                providers=len({s[1] for s in offering}),
                services=len(offering),
            )
        )

    # Gaps: which national category each service counts for (itself or its parent).
    national = [c for c in categories if c.organisation_id is None]
    national_of = {c.pk: (c.pk if c.organisation_id is None else c.parent_id) for c in categories}
    covered = _service_districts(services)
    holders = _holder_districts(org_ids)
    online_ids = {s[0] for s in service_rows if s[4]}
    category_of = {s[0]: national_of.get(s[3]) for s in service_rows}
    everywhere = {category_of[pk] for pk in online_ids}
    by_district = []
    for district in sorted(set(covered) | set(holders)):
        here = covered.get(district, set())
        present = {category_of[pk] for pk in here} | everywhere
        by_district.append(
            DistrictRow(
                district=district,
                services=len(here),
                providers=len({provider_of[pk] for pk in here}),
                holders=holders.get(district, 0),
                missing=[c for c in national if c.pk not in present],
            )
        )

    total = len(provider_rows)
    counts = {
        "user_led": sum(1 for p in provider_rows if p[2]),
        "not_for_profit": sum(1 for p in provider_rows if p[3]),
        "micro_enterprise": sum(1 for p in provider_rows if p[1] == ProviderKind.MICRO_ENTERPRISE),
    }
    return MarketOverview(
        organisations=list(Organisation.objects.filter(pk__in=org_ids)),
        providers=total,
        services=len(service_rows),
        by_kind=by_kind,
        by_category=by_category,
        by_district=by_district,
        online=len(online_ids),
        shares=[Share(key, label, counts[key], total) for key, label in SHARES],
        unbooked=_unbooked(services).count(),
        gaps=sum(len(row.missing) for row in by_district),
    )


# The records behind the figures -----------------------------------------------------------


def market_provider_list(
    *, user: Any, kind: str = "", share: str = "", verification: str = ""
) -> QuerySet[Provider]:
    """The market's providers, narrowed the way a figure on the overview counts them."""
    providers = market_providers(user)
    if kind:
        providers = providers.filter(kind=kind)
    if share == "user_led":
        providers = providers.filter(user_led=True)
    elif share == "not_for_profit":
        providers = providers.filter(not_for_profit=True)
    elif share == "micro_enterprise":
        providers = providers.filter(kind=ProviderKind.MICRO_ENTERPRISE)
    if verification:
        providers = providers.filter(verification=verification)
    return providers.order_by("name", "pk")


def market_service_list(
    *,
    user: Any,
    kind: str = "",
    category: int | None = None,
    district: str = "",
    unbooked: bool = False,
    online: bool = False,
) -> QuerySet[Service]:
    """The market's active services, narrowed the way a figure on the overview counts
    them (a district: the services listing it or with a location there)."""
    services = market_services(user)
    if kind:
        services = services.filter(provider__kind=kind)
    if category:
        services = services.filter(category_id=category)
    if district:
        ids = _service_districts(services).get(district.upper(), set())
        services = services.filter(pk__in=ids)
    if unbooked:
        services = _unbooked(services)
    if online:
        services = services.filter(online=True)
    return services.select_related("provider", "category").order_by("title", "pk")


# Verification -----------------------------------------------------------------------------


@dataclass
class VerificationQueue:
    pending: list[Provider]
    expiring: list[Provider]
    within_days: int = EXPIRING_WITHIN_DAYS


def verification_queue(*, user: Any, today: datetime.date | None = None) -> VerificationQueue:
    """Listings in the user's market waiting for a check (longest waiting first), and
    verified ones running out within 30 days (soonest first)."""
    today = today or timezone.localdate()
    providers = Provider.objects.commissioned_by(user).select_related("organisation")
    pending = providers.filter(
        verification__in=[Provider.Verification.PENDING, Provider.Verification.UNVERIFIED]
    ).order_by("updated_at", "pk")
    expiring = providers.filter(
        verification=Provider.Verification.VERIFIED,
        verification_expires_on__lte=today + datetime.timedelta(days=EXPIRING_WITHIN_DAYS),
    ).order_by("verification_expires_on", "pk")
    return VerificationQueue(pending=list(pending), expiring=list(expiring))


@dataclass
class VerificationChanges:
    since: AuditEvent | None  # the last verification or refusal, if any
    facts: dict[str, list[Any]]  # regulated fact -> [value then, value now]


def verification_changes(*, provider: Provider) -> VerificationChanges:
    """What changed in the regulated facts since the listing was last verified or
    refused, from the audit trail (values as the audit recorded them)."""
    events = AuditEvent.objects.filter(
        object_type=Provider._meta.label_lower, object_id=str(provider.pk)
    ).order_by("created_at", "pk")
    decided = [
        f"provider.{Provider.Verification.VERIFIED}",
        f"provider.{Provider.Verification.REFUSED}",
    ]
    last = events.filter(action__in=decided).last()
    later = events.filter(action="provider.updated")
    if last is not None:
        later = later.filter(
            Q(created_at__gt=last.created_at) | Q(created_at=last.created_at, pk__gt=last.pk)
        )
    facts: dict[str, list[Any]] = {}
    for event in later:
        for name, pair in (event.changes.get("fields") or {}).items():
            if name not in Provider.REGULATED_FACTS:
                continue
            if name in facts:
                facts[name][1] = pair[1]
            else:
                facts[name] = [pair[0], pair[1]]
    return VerificationChanges(
        since=last, facts={name: pair for name, pair in facts.items() if pair[0] != pair[1]}
    )
