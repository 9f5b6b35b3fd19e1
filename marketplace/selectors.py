"""Reads of the marketplace: finding support (full-text search with filters), a service's
page and a provider's profile.

Search runs Postgres full-text search on ``Service.search_vector`` (a generated,
GIN-indexed tsvector: title A, keywords B, description C). Every result carries
``rank``, ``lowest_price_pence``, ``rating`` and ``review_count``, and the page of
results is read in a fixed number of queries however many services it shows."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Replace, Upper
from django.shortcuts import get_object_or_404
from django.utils import timezone

from marketplace.models import (
    Category,
    CostOption,
    Provider,
    Review,
    Schedule,
    Service,
    ServiceAtLocation,
)
from marketplace.models.listings import DISTRICT_RE, normalise_district

SEARCH_CONFIG = "english"
# Words of a query that are websearch syntax, not words to look for.
_OPERATORS = {"or", "and", "not"}
_WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
# A full postcode: its outward code (the district) and the inward code (digit, 2 letters).
_POSTCODE_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
MAX_QUERY_WORDS = 12


class Sort:
    RELEVANCE = "relevance"
    PRICE = "price"
    TITLE = "title"


def district_from(value: str) -> str | None:
    """The postcode district in what someone typed: a district ("LS1") or a whole
    postcode ("LS1 4AP", its first half). ``None`` when it is neither."""
    text = normalise_district(value)
    full = _POSTCODE_RE.match(text)
    if full and DISTRICT_RE.match(full.group(1)):
        return full.group(1)
    return text if DISTRICT_RE.match(text) else None


def category_and_descendants(category: Category) -> set[int]:
    """The category's id and those of its children, their children, and so on."""
    ids = {category.pk}
    frontier = {category.pk}
    # Commissioners' taxonomies are shallow; the guard stops a cycle made by hand.
    for _ in range(10):
        frontier = set(
            Category.objects.filter(parent_id__in=frontier)
            .exclude(pk__in=ids)
            .values_list("pk", flat=True)
        )
        if not frontier:
            break
        ids |= frontier
    return ids


def _loose_query(text: str) -> SearchQuery | None:
    """Any of the query's words (less those excluded with a minus): so that a service
    matching some of the words is found too, ranked after those matching all."""
    included: list[str] = []
    excluded: list[str] = []
    for token in text.split():
        target = excluded if token.startswith("-") else included
        target.extend(word for word in _WORD_RE.findall(token) if word.lower() not in _OPERATORS)
    included = included[:MAX_QUERY_WORDS]
    if not included:
        return None
    query = SearchQuery(included[0], search_type="plain", config=SEARCH_CONFIG)
    for word in included[1:]:
        query = query | SearchQuery(word, search_type="plain", config=SEARCH_CONFIG)
    for word in excluded[:MAX_QUERY_WORDS]:
        query = query & ~SearchQuery(word, search_type="plain", config=SEARCH_CONFIG)
    return query


def _annotated(services: Any) -> Any:
    """Lowest price, published rating and review count, as subqueries so that neither
    join multiplies the other's rows."""
    cheapest = CostOption.objects.filter(service=OuterRef("pk")).order_by("amount_pence")
    published = (
        Review.objects.published().filter(service=OuterRef("pk")).order_by().values("service")
    )
    return services.annotate(
        lowest_price_pence=Subquery(cheapest.values("amount_pence")[:1]),
        rating=Subquery(
            published.annotate(average=Avg("rating")).values("average"), output_field=FloatField()
        ),
        review_count=Subquery(
            published.annotate(count=Count("pk")).values("count"), output_field=IntegerField()
        ),
    )


def _for_listing(services: Any) -> Any:
    """What a results page shows of each service, loaded in a fixed number of queries."""
    return services.select_related("provider", "category").prefetch_related(
        Prefetch("cost_options", queryset=CostOption.objects.order_by("amount_pence")),
        Prefetch(
            "at_locations",
            queryset=ServiceAtLocation.objects.select_related("location").order_by(
                "location__name"
            ),
        ),
    )


def _verified_q(prefix: str = "provider__") -> Q:
    today = timezone.localdate()
    return Q(**{f"{prefix}verification": Provider.Verification.VERIFIED}) & (
        Q(**{f"{prefix}verification_expires_on__isnull": True})
        | Q(**{f"{prefix}verification_expires_on__gte": today})
    )


def service_search(
    *,
    query: str = "",
    category: Category | None = None,
    kinds: Iterable[str] = (),
    price_max_pence: int | None = None,
    free_only: bool = False,
    user_led: bool = False,
    verified: bool = False,
    not_for_profit: bool = False,
    district: str = "",
    weekdays: Iterable[int] = (),
    sort: str = "",
) -> Any:
    """Listed services matching ``query`` (websearch syntax: words, "a phrase", -not,
    or) and the filters, best first.

    Services matching every word come first, ranked by ``SearchRank`` (a title match
    outweighs a keyword match, which outweighs a description match), then those matching
    only some of the words. ``sort``: ``relevance`` (the default with a query), ``price``
    (free first, then by the lowest cost option) or ``title`` (the default without one).

    Filters: ``category`` includes its child categories; ``kinds`` any of these provider
    kinds; ``price_max_pence`` a lowest cost option at or under it, or free;
    ``district`` a postcode district (or a whole postcode) served, at a location there,
    or online; ``weekdays`` a schedule on any of these days (0 is Monday);
    ``verified`` a commissioner's verification that has not run out."""
    services = Service.objects.listed()
    text = " ".join((query or "").split())[:200]
    if text:
        strict = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
        loose = _loose_query(text)
        matches = Q(search_vector=strict) | (Q(search_vector=loose) if loose else Q())
        services = services.filter(matches).annotate(
            matches_all=Case(
                When(search_vector=strict, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            rank=SearchRank(F("search_vector"), loose or strict)
            + SearchRank(F("search_vector"), strict),
        )
    else:
        services = services.annotate(
            matches_all=Value(True, output_field=BooleanField()),
            rank=Value(0.0, output_field=FloatField()),
        )
    if category is not None:
        services = services.filter(category_id__in=category_and_descendants(category))
    kinds = [kind for kind in kinds if kind]
    if kinds:
        services = services.filter(provider__kind__in=kinds)
    if free_only:
        services = services.filter(is_free=True)
    if user_led:
        services = services.filter(provider__user_led=True)
    if not_for_profit:
        services = services.filter(provider__not_for_profit=True)
    if verified:
        services = services.filter(_verified_q())
    if district:
        code = district_from(district)
        if code is None:
            return services.none()
        # A location's postcode is in the district when, without spaces, it is the
        # district followed by the inward code (a digit and two letters).
        at_location = ServiceAtLocation.objects.alias(
            postcode_compact=Upper(Replace(F("location__postcode"), Value(" "), Value("")))
        ).filter(service=OuterRef("pk"), postcode_compact__regex=rf"^{code}[0-9][A-Z]{{2}}$")
        services = services.filter(
            Q(postcode_districts__contains=[code]) | Q(online=True) | Exists(at_location)
        )
    days = sorted({int(day) for day in weekdays})
    if days:
        services = services.filter(
            Exists(Schedule.objects.filter(service=OuterRef("pk"), weekday__in=days))
        )
    services = _annotated(services)
    if price_max_pence is not None:
        services = services.filter(Q(is_free=True) | Q(lowest_price_pence__lte=price_max_pence))
    sort = sort or (Sort.RELEVANCE if text else Sort.TITLE)
    if sort == Sort.PRICE:
        ordering = [
            F("is_free").desc(),
            F("lowest_price_pence").asc(nulls_last=True),
            "-matches_all",
            "-rank",
            "title",
            "pk",
        ]
    elif sort == Sort.RELEVANCE and text:
        ordering = ["-matches_all", "-rank", "title", "pk"]
    else:
        ordering = ["title", "pk"]
    return _for_listing(services).order_by(*ordering)


# A service's page and a provider's profile ------------------------------------------


@dataclass
class ServicePage:
    service: Service
    provider: Provider
    cost_options: list[CostOption]
    locations: list[Any]
    schedules: list[Schedule]
    reviews: list[Review]
    rating: float | None
    review_count: int
    other_services: list[Service] = field(default_factory=list)


def service_detail(pk: int) -> ServicePage:
    """Everything a service's page shows, for a listed service (else 404): the provider
    and what makes it trustworthy, costs, where, when, and published reviews only."""
    service = get_object_or_404(
        Service.objects.listed()
        .select_related("provider", "category__parent")
        .prefetch_related(
            Prefetch("cost_options", queryset=CostOption.objects.order_by("amount_pence")),
            Prefetch(
                "at_locations",
                queryset=ServiceAtLocation.objects.select_related("location").order_by(
                    "location__name"
                ),
            ),
            Prefetch("schedules", queryset=Schedule.objects.order_by("weekday", "opens_at")),
        ),
        pk=pk,
    )
    reviews = list(Review.objects.published().filter(service=service).order_by("-written_at"))
    rating = (sum(r.rating for r in reviews) / len(reviews)) if reviews else None
    return ServicePage(
        service=service,
        provider=service.provider,
        cost_options=list(service.cost_options.all()),
        locations=[link.location for link in service.at_locations.all()],
        schedules=list(service.schedules.all()),
        reviews=reviews,
        rating=rating,
        review_count=len(reviews),
    )


@dataclass
class ProviderPage:
    provider: Provider
    services: list[Service]
    locations: list[Any]


def provider_profile(pk: int) -> ProviderPage:
    """A listed provider (else 404) and its listed services."""
    provider = get_object_or_404(Provider.objects.listed(), pk=pk)
    services = list(
        _for_listing(_annotated(Service.objects.listed().filter(provider=provider))).order_by(
            "title", "pk"
        )
    )
    return ProviderPage(
        provider=provider,
        services=services,
        locations=list(provider.locations.order_by("name")),
    )


def pending_reviews_for(user: Any) -> Any:
    """Reviews waiting for moderation, of providers in the markets the user commissions."""
    return (
        Review.objects.filter(
            state=Review.State.PENDING,
            service__provider__in=Provider.objects.commissioned_by(user),
        )
        .select_related("service__provider")
        .order_by("written_at", "pk")
    )


def reviews_moderated_by_area(user: Any) -> Any:
    """Every review (any state) of providers in the markets the user commissions."""
    return Review.objects.filter(
        service__provider__in=Provider.objects.commissioned_by(user)
    ).select_related("service__provider", "booking", "written_by")
