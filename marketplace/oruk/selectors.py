"""What the feed publishes, and how its lists are filtered. Only listed records: active
services of listed providers (``Service.objects.listed()``), their locations, and the
category taxonomy. Each queryset loads what its mapping needs in a fixed number of
queries, whatever the page size."""

from __future__ import annotations

import math
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import Avg, Exists, F, FloatField, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import ASin, Cast, Cos, Power, Radians, Sin, Sqrt

from marketplace.models import (
    Category,
    Location,
    Schedule,
    Service,
    ServiceAtLocation,
    Taxonomy,
)
from marketplace.oruk.filters import BadParameter, Place, ServiceFilters

EARTH_RADIUS_METRES = 6_371_000


def listed_services() -> QuerySet[Service]:
    # Cost options give a list entry its ``fees``.
    return Service.objects.listed().select_related("provider").prefetch_related("cost_options")


def full_services() -> QuerySet[Service]:
    """Services with everything ``mapping.service_full`` nests."""
    return (
        listed_services()
        .select_related("category__taxonomy", "category__parent")
        .prefetch_related(
            "schedules",
            Prefetch(
                "at_locations",
                queryset=ServiceAtLocation.objects.select_related("location").order_by(
                    "location__name", "uuid"
                ),
            ),
        )
    )


def listed_service_at_locations() -> QuerySet[ServiceAtLocation]:
    return (
        ServiceAtLocation.objects.filter(service__in=Service.objects.listed().values("pk"))
        .select_related("service__provider", "location")
        .prefetch_related("service__cost_options")
    )


def full_service_at_locations() -> QuerySet[ServiceAtLocation]:
    return (
        listed_service_at_locations()
        .select_related("service__category__taxonomy", "service__category__parent")
        .prefetch_related("service__schedules", "service__at_locations")
    )


def taxonomies() -> QuerySet[Taxonomy]:
    return Taxonomy.objects.order_by("name", "uuid")


def taxonomy_with_terms() -> QuerySet[Taxonomy]:
    return taxonomies().prefetch_related(Prefetch("terms", queryset=taxonomy_terms()))


def taxonomy_terms() -> QuerySet[Category]:
    return Category.objects.select_related("taxonomy", "parent").order_by("name", "uuid")


def _schedule_matches(filters: ServiceFilters, service_ref: str) -> Exists | None:
    """One schedule meets every time filter given (day, start and end together)."""
    conditions = Q()
    if filters.day is not None:
        conditions &= Q(weekday=filters.day)
    if filters.start_time is not None:
        conditions &= Q(opens_at__gte=filters.start_time)
    if filters.end_time is not None:
        conditions &= Q(closes_at__lte=filters.end_time)
    if not conditions:
        return None
    return Exists(Schedule.objects.filter(conditions, service=OuterRef(service_ref)))


def _service_q(filters: ServiceFilters, prefix: str) -> Q:
    """The filters on a service, reached through ``prefix`` ("" or "service__")."""
    q = Q()
    if filters.taxonomy_term_id is not None:
        # A parent term finds the services filed under its children too.
        q &= Q(**{f"{prefix}category__uuid": filters.taxonomy_term_id}) | Q(
            **{f"{prefix}category__parent__uuid": filters.taxonomy_term_id}
        )
    if filters.taxonomy_id is not None:
        q &= Q(**{f"{prefix}category__taxonomy__uuid": filters.taxonomy_id})
    if filters.organization_id is not None:
        q &= Q(**{f"{prefix}provider__uuid": filters.organization_id})
    # As the standard words them: services whose minimum age is at least the value
    # (no minimum counts as 0), and whose maximum age is at most the value.
    if filters.minimum_age is not None and filters.minimum_age > 0:
        q &= Q(**{f"{prefix}minimum_age__gte": filters.minimum_age})
    if filters.maximum_age is not None:
        q &= Q(**{f"{prefix}maximum_age__lte": filters.maximum_age})
    return q


def _search(queryset: QuerySet[Any], text: str, prefix: str) -> QuerySet[Any]:
    query = SearchQuery(text, search_type="websearch", config="english")
    return queryset.filter(**{f"{prefix}search_vector": query}).annotate(
        rank=SearchRank(F(f"{prefix}search_vector"), query)
    )


def filter_services(queryset: QuerySet[Service], filters: ServiceFilters) -> QuerySet[Service]:
    queryset = queryset.filter(_service_q(filters, ""))
    schedules = _schedule_matches(filters, "pk")
    if schedules is not None:
        queryset = queryset.filter(schedules)
    if filters.search:
        return _search(queryset, filters.search, "").order_by("-rank", "title", "uuid")
    return queryset.order_by("title", "uuid")


def centroid(place: Place) -> tuple[float, float]:
    """Where a postcode is, as far as the feed knows: the mean position of its
    locations there (the full postcode's, or else the district's). The feed holds no
    postcode directory, so a postcode with no located place in it cannot be measured
    from."""
    located = Location.objects.filter(latitude__isnull=False, longitude__isnull=False)
    candidates = []
    if place.postcode:
        candidates.append(located.filter(postcode=place.postcode))
    candidates.append(located.filter(postcode__startswith=f"{place.district} "))
    for candidates_qs in candidates:
        mean = candidates_qs.aggregate(lat=Avg("latitude"), lon=Avg("longitude"))
        if mean["lat"] is not None and mean["lon"] is not None:
            return float(mean["lat"]), float(mean["lon"])
    where = place.postcode or place.district
    raise BadParameter(
        "proximity",
        f"the feed cannot place {where}: it measures only from postcodes where it "
        "knows a location's position",
    )


def _distance_metres(lat: float, lon: float) -> Any:
    """Great-circle (haversine) distance from (lat, lon) to a location, in SQL."""
    location_lat = Radians(Cast("location__latitude", FloatField()))
    location_lon = Radians(Cast("location__longitude", FloatField()))
    lat0, lon0 = math.radians(lat), math.radians(lon)
    half_chord = Power(Sin((location_lat - lat0) / 2), 2) + math.cos(lat0) * Cos(
        location_lat
    ) * Power(Sin((location_lon - lon0) / 2), 2)
    return 2 * EARTH_RADIUS_METRES * ASin(Sqrt(half_chord))


def filter_service_at_locations(
    queryset: QuerySet[ServiceAtLocation], filters: ServiceFilters
) -> QuerySet[ServiceAtLocation]:
    queryset = queryset.filter(_service_q(filters, "service__"))
    schedules = _schedule_matches(filters, "service_id")
    if schedules is not None:
        queryset = queryset.filter(schedules)
    ordering: list[str] = ["service__title", "location__name", "uuid"]
    place = filters.place
    if place is not None and filters.proximity_metres is not None:
        lat, lon = centroid(place)
        queryset = (
            queryset.filter(location__latitude__isnull=False, location__longitude__isnull=False)
            .annotate(distance=_distance_metres(lat, lon))
            .filter(distance__lte=filters.proximity_metres)
        )
        ordering = ["distance", *ordering]
    elif place is not None:
        # The postcode is covered: the service is delivered in its district, or this
        # location is in it.
        queryset = queryset.filter(
            Q(service__postcode_districts__contains=[place.district])
            | Q(location__postcode__startswith=f"{place.district} ")
        )
    if filters.search:
        queryset = _search(queryset, filters.search, "service__")
        ordering = ["-rank", *ordering]
    return queryset.order_by(*ordering)
