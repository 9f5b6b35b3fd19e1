"""The marketplace for partner systems and signed-in people: providers, services and
the category taxonomy to read; provider organisations' listings and services to create and
change; bookings and pools to read.

Who sees what:

- Providers and services: every listed provider and its active services, to any caller
  with ``marketplace:read``; a provider organisation's own staff and applications also
  see their unlisted providers and their services in any state.
- Bookings: a person sees ``Booking.objects.for_user``; an application sees the bookings
  of its organisation's holders (as the responsible ICB or council) and those of its own
  providers' services.
- Pools: a person sees ``Pool.objects.for_user``; an application sees its organisation's
  pools, pools its holders are in, and pools buying its own services. Members are shown
  as far as each agreed (see ``PoolMemberSerializer``).

Anything else answers 404, including another organisation's listing to change.

Who may write: ``marketplace.listings`` decides, as it does for the provider pages. A
partner application acts in the name of its responsible user
(``PartnerApplication.user``), who must be provider staff of the application's
organisation; the audit event names the application too.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from budgets.api.views import holders_for
from budgets.models import BudgetHolder
from core.api.caller import Caller, caller_for, schema_only
from core.api.idempotency import IDEMPOTENCY_HEADER, idempotent
from core.api.pagination import CursorPagination
from core.authz import Access
from marketplace import listings
from marketplace.api.filters import (
    BookingFilter,
    CategoryFilter,
    PoolFilter,
    ProviderFilter,
    ServiceFilter,
)
from marketplace.api.serializers import (
    BookingSerializer,
    CategorySerializer,
    PoolSerializer,
    ProviderInputSerializer,
    ProviderSerializer,
    ServiceInputSerializer,
    ServiceSerializer,
)
from marketplace.models import (
    Booking,
    Category,
    Pool,
    PoolMember,
    Provider,
    Service,
    ServiceAtLocation,
)
from marketplace.permissions import PROVIDER_ROLES
from users.models import Membership, Organisation

READ = ("marketplace:read",)
WRITE = ("listings:write",)
# People who may write listings through the API (applications need ``listings:write``).
LISTING_WRITERS = {Access.PROVIDER_STAFF, Access.ORGANISATION_ADMIN}

FORBIDDEN = (
    "Only staff of the provider organisation can change its listings; a partner "
    "application acts as its responsible user, who must be one of them."
)


def _path_id(what: str) -> OpenApiParameter:
    return OpenApiParameter(
        "id", OpenApiTypes.INT, OpenApiParameter.PATH, description=f"The {what}'s id."
    )


# Who sees what --------------------------------------------------------------------------


def _own_organisations(caller: Caller) -> Any:
    """The provider organisations whose listings the caller runs: an application's own
    organisation, or those a person works for as provider staff or admin."""
    if caller.application is not None:
        return [caller.application.organisation_id]
    return Membership.objects.filter(user=caller.user, role__in=PROVIDER_ROLES).values(
        "organisation_id"
    )


def own_providers(caller: Caller) -> QuerySet[Provider]:
    return Provider.objects.filter(organisation_id__in=_own_organisations(caller))


def providers_for(caller: Caller) -> QuerySet[Provider]:
    """Listed providers, and the caller's own whether listed or not."""
    return Provider.objects.filter(
        Q(listed=True) | Q(organisation_id__in=_own_organisations(caller))
    )


def services_for(caller: Caller) -> QuerySet[Service]:
    """Active services of listed providers, and every service of the caller's own."""
    return Service.objects.filter(
        Q(status=Service.Status.ACTIVE, provider__listed=True)
        | Q(provider__organisation_id__in=_own_organisations(caller))
    )


def bookings_for(caller: Caller) -> QuerySet[Booking]:
    if caller.application is None:
        return Booking.objects.for_user(caller.user)
    return Booking.objects.filter(
        Q(holder__in=holders_for(caller))
        | Q(service__provider__organisation_id=caller.application.organisation_id)
    )


def pools_for(caller: Caller) -> QuerySet[Pool]:
    if caller.application is None:
        return Pool.objects.for_user(caller.user)
    org = caller.application.organisation_id
    return Pool.objects.filter(
        Q(organisation_id=org)
        | Q(members__holder__in=holders_for(caller))
        | Q(service__provider__organisation_id=org)
    ).distinct()


def _readable_holders(caller: Caller, holder_ids: set[int]) -> set[int]:
    """Of these holders, those whose records the caller may read."""
    if not holder_ids:
        return set()
    if caller.application is not None:
        readable = holders_for(caller)
    else:
        readable = BudgetHolder.objects.for_user(caller.user)
    return set(readable.filter(pk__in=holder_ids).values_list("pk", flat=True))


def _with_areas(providers: QuerySet[Provider]) -> QuerySet[Provider]:
    return providers.prefetch_related("areas")


def _with_parts(services: QuerySet[Service]) -> QuerySet[Service]:
    """A fixed number of queries for any number of services and their parts."""
    return services.select_related("provider", "category").prefetch_related(
        "cost_options",
        "schedules",
        Prefetch("at_locations", queryset=ServiceAtLocation.objects.select_related("location")),
    )


def _acting_user(caller: Caller) -> Any:
    """The person a write is made by: the signed-in person, or the application's
    responsible user (the services check their role; audit events name a person)."""
    app = caller.application
    if app is None:
        return caller.user
    if app.user_id is None:
        raise exceptions.PermissionDenied(
            "This application has no responsible user to act in the name of."
        )
    return app.user


# Categories ---------------------------------------------------------------------------


class CategoryPagination(CursorPagination):
    ordering = "id"


class CategoryList(generics.ListAPIView):
    """The category taxonomy services are filed under: the national categories and those
    ICBs and councils added for their areas. Filter services by a category's ``code``."""

    serializer_class = CategorySerializer
    filterset_class = CategoryFilter
    pagination_class = CategoryPagination
    required_scopes = READ
    queryset = Category.objects.select_related("taxonomy", "parent")


# Providers ------------------------------------------------------------------------------

PROVIDER_EXAMPLE = OpenApiExample(
    "A community micro-enterprise",
    value={
        "name": "Bright Days Gardening",
        "kind": "micro_enterprise",
        "description": "Gardening together, twice a week, for people who want to be outdoors.",
        "email": "hello@brightdays.example",
        "phone": "0113 496 0000",
        "postcode": "LS1 4AP",
        "insurer": "Community Mutual",
        "insurance_expires_on": "2027-03-31",
        "user_led": True,
        "not_for_profit": True,
        "listed": True,
        "areas": [1],
    },
    request_only=True,
)


def _listing_organisation(caller: Caller, requested: int | None) -> Organisation:
    """The organisation a new listing belongs to: an application's own, or the provider
    organisation the person works for (the one they name, if more than one)."""
    if caller.application is not None:
        if requested not in (None, caller.application.organisation_id):
            raise exceptions.ValidationError(
                {"organisation": ["An application lists only its own organisation's providers."]}
            )
        return caller.application.organisation
    mine = Organisation.objects.filter(
        pk__in=_own_organisations(caller), kind=Organisation.Kind.PROVIDER
    )
    if requested is not None:
        found = mine.filter(pk=requested).first()
        if found is None:
            raise exceptions.ValidationError(
                {"organisation": ["Choose a provider organisation you work for."]}
            )
        return found
    candidates = list(mine[:2])
    if len(candidates) != 1:
        raise exceptions.ValidationError(
            {"organisation": ["Say which provider organisation the listing belongs to."]}
        )
    return candidates[0]


def _save_provider(caller: Caller, data: dict[str, Any], **target: Any) -> Provider:
    try:
        return listings.provider_save(saved_by=_acting_user(caller), **target, **data)
    except PermissionDenied:
        raise exceptions.PermissionDenied(FORBIDDEN) from None


class ProviderList(generics.ListAPIView):
    """Listed providers (and the caller's own, listed or not), with what a buyer needs to
    trust each one. POST lists a new provider of the caller's provider organisation; it
    waits for a commissioner's verification."""

    serializer_class = ProviderSerializer
    filterset_class = ProviderFilter
    required_scopes_by_method = {"GET": READ, "POST": WRITE}
    access_by_method = {"POST": LISTING_WRITERS}

    def get_queryset(self) -> QuerySet[Provider]:
        if schema_only(self):
            return Provider.objects.none()
        return _with_areas(providers_for(caller_for(self.request)))

    @extend_schema(
        request=ProviderInputSerializer,
        responses={201: ProviderSerializer},
        parameters=[IDEMPOTENCY_HEADER],
        examples=[PROVIDER_EXAMPLE],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        caller = caller_for(request)
        payload = ProviderInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        organisation = _listing_organisation(caller, data.pop("organisation", None))
        provider = _save_provider(caller, data, organisation=organisation)
        provider = _with_areas(Provider.objects.all()).get(pk=provider.pk)
        return Response(ProviderSerializer(provider).data, status=status.HTTP_201_CREATED)


@extend_schema(parameters=[_path_id("provider")])
class ProviderDetail(generics.RetrieveAPIView):
    """One provider's listing. PATCH changes the caller's own listing (send only what
    changes); changing a regulated fact of a verified listing sends it back for
    verification."""

    serializer_class = ProviderSerializer
    required_scopes_by_method = {"GET": READ, "PATCH": WRITE}
    access_by_method = {"PATCH": LISTING_WRITERS}

    def get_queryset(self) -> QuerySet[Provider]:
        if schema_only(self):
            return Provider.objects.none()
        return _with_areas(providers_for(caller_for(self.request)))

    @extend_schema(
        request=ProviderInputSerializer,
        responses={200: ProviderSerializer},
        examples=[
            OpenApiExample(
                "New insurance", value={"insurance_expires_on": "2028-03-31"}, request_only=True
            )
        ],
    )
    def patch(self, request: Request, pk: int) -> Response:
        caller = caller_for(request)
        provider = get_object_or_404(own_providers(caller), pk=pk)
        payload = ProviderInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if data.pop("organisation", provider.organisation_id) != provider.organisation_id:
            raise exceptions.ValidationError(
                {"organisation": ["A listing does not move to another organisation."]}
            )
        provider = _save_provider(caller, data, provider=provider)
        provider = _with_areas(Provider.objects.all()).get(pk=provider.pk)
        return Response(ProviderSerializer(provider).data)


# Services ------------------------------------------------------------------------------

SERVICE_EXAMPLE = OpenApiExample(
    "A weekly gardening group",
    value={
        "provider": 1,
        "title": "Gardening group",
        "description": "Grow vegetables together at the community garden; all welcome.",
        "category": "community-groups",
        "is_free": False,
        "postcode_districts": ["LS1", "LS2"],
        "minimum_age": 18,
        "languages": ["en", "ur"],
        "cost_options": [{"amount_pence": 500, "per": "session", "description": "Tea included"}],
        "schedules": [{"weekday": 2, "opens_at": "10:00", "closes_at": "12:00", "note": ""}],
    },
    request_only=True,
)


class ServicePagination(CursorPagination):
    """Newest first; best match first when searching with ``q``."""

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> tuple[str, ...]:
        if "rank" in queryset.query.annotations:
            return ("-rank", "-id")
        return ("-id",)


def _category(provider: Provider, code: str) -> Category:
    found = (
        Category.objects.for_area(provider.areas.values("pk")).filter(code=code).order_by("pk")
    ).first()
    if found is None:
        raise exceptions.ValidationError(
            {
                "category": [
                    "Choose a category from /categories/: a national one, or one added "
                    "in one of the provider's areas."
                ]
            }
        )
    return found


def _service_parts(data: dict[str, Any]) -> dict[str, Any]:
    """The input as ``listings.service_save`` takes it."""
    parts: dict[str, Any] = {}
    if "cost_options" in data:
        parts["cost_options"] = [dict(option) for option in data.pop("cost_options")]
    if "schedules" in data:
        parts["schedules"] = [dict(row) for row in data.pop("schedules")]
    if "locations" in data:
        parts["location_ids"] = data.pop("locations")
    return parts


def _save_service(caller: Caller, provider: Provider, data: dict[str, Any], **target: Any) -> Any:
    if "category" in data:
        data["category"] = _category(provider, data["category"])
    parts = _service_parts(data)
    try:
        return listings.service_save(
            saved_by=_acting_user(caller), provider=provider, **target, **parts, **data
        )
    except PermissionDenied:
        raise exceptions.PermissionDenied(FORBIDDEN) from None


class ServiceList(generics.ListAPIView):
    """Active services of listed providers (and every service of the caller's own), each
    with its prices (integer pence), days and times, and where it is delivered. Search
    with ``q``; filter by category, provider, kind of provider, free, postcode district.
    POST adds a service to one of the caller's providers (another's answers 404)."""

    serializer_class = ServiceSerializer
    filterset_class = ServiceFilter
    pagination_class = ServicePagination
    required_scopes_by_method = {"GET": READ, "POST": WRITE}
    access_by_method = {"POST": LISTING_WRITERS}
    problem_statuses = (404,)  # POST: the provider is not the caller's

    def get_queryset(self) -> QuerySet[Service]:
        if schema_only(self):
            return Service.objects.none()
        return _with_parts(services_for(caller_for(self.request)))

    @extend_schema(
        request=ServiceInputSerializer,
        responses={201: ServiceSerializer},
        parameters=[IDEMPOTENCY_HEADER],
        examples=[SERVICE_EXAMPLE],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        caller = caller_for(request)
        payload = ServiceInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        provider = get_object_or_404(own_providers(caller), pk=data.pop("provider"))
        service = _save_service(caller, provider, data)
        service = _with_parts(Service.objects.all()).get(pk=service.pk)
        return Response(ServiceSerializer(service).data, status=status.HTTP_201_CREATED)


@extend_schema(parameters=[_path_id("service")])
class ServiceDetail(generics.RetrieveAPIView):
    """One service. PATCH changes a service of the caller's own (send only what changes;
    ``cost_options``, ``schedules`` and ``locations`` replace the service's when sent)."""

    serializer_class = ServiceSerializer
    required_scopes_by_method = {"GET": READ, "PATCH": WRITE}
    access_by_method = {"PATCH": LISTING_WRITERS}

    def get_queryset(self) -> QuerySet[Service]:
        if schema_only(self):
            return Service.objects.none()
        return _with_parts(services_for(caller_for(self.request)))

    @extend_schema(
        request=ServiceInputSerializer,
        responses={200: ServiceSerializer},
        examples=[
            OpenApiExample(
                "A new price",
                value={"cost_options": [{"amount_pence": 600, "per": "session"}]},
                request_only=True,
            )
        ],
    )
    def patch(self, request: Request, pk: int) -> Response:
        caller = caller_for(request)
        service = get_object_or_404(
            Service.objects.filter(provider__in=own_providers(caller)).select_related("provider"),
            pk=pk,
        )
        payload = ServiceInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if data.pop("provider", service.provider_id) != service.provider_id:
            raise exceptions.ValidationError(
                {"provider": ["A service does not move to another provider."]}
            )
        service = _save_service(caller, service.provider, data, service=service)
        service = _with_parts(Service.objects.all()).get(pk=service.pk)
        return Response(ServiceSerializer(service).data)


# Bookings ------------------------------------------------------------------------------


class BookingList(generics.ListAPIView):
    """Bookings the caller may see, newest first: a person's through their own, the people
    they represent or serve, or their provider's services; an application's through its
    organisation's holders or its own services. Amounts are integer pence."""

    serializer_class = BookingSerializer
    filterset_class = BookingFilter
    required_scopes = READ

    def get_queryset(self) -> QuerySet[Booking]:
        if schema_only(self):
            return Booking.objects.none()
        return bookings_for(caller_for(self.request)).select_related("service")


@extend_schema(parameters=[_path_id("booking")])
class BookingDetail(generics.RetrieveAPIView):
    serializer_class = BookingSerializer
    required_scopes = READ

    def get_queryset(self) -> QuerySet[Booking]:
        if schema_only(self):
            return Booking.objects.none()
        return bookings_for(caller_for(self.request)).select_related("service")


# Pools -------------------------------------------------------------------------------


def _with_members(pools: QuerySet[Pool]) -> QuerySet[Pool]:
    return pools.prefetch_related(
        Prefetch(
            "members",
            queryset=PoolMember.objects.current().select_related("holder"),
            to_attr="current_members",
        )
    )


class _PoolRead(generics.GenericAPIView):
    serializer_class = PoolSerializer
    required_scopes = READ

    def get_queryset(self) -> QuerySet[Pool]:
        if schema_only(self):
            return Pool.objects.none()
        return _with_members(pools_for(caller_for(self.request)))

    def _context(self, pools: list[Pool]) -> dict[str, Any]:
        holders = {m.holder_id for pool in pools for m in pool.current_members}  # type: ignore[attr-defined]
        readable = _readable_holders(caller_for(self.request), holders)
        return {**self.get_serializer_context(), "readable_holders": readable}


class PoolList(_PoolRead, generics.ListAPIView):
    """Pooled purchases the caller may see. Members show only as far as each agreed: a
    first name with their consent, and budget details only for members whose records
    the caller may read."""

    filterset_class = PoolFilter

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        pools = list(self.paginate_queryset(self.filter_queryset(self.get_queryset())) or [])
        data = PoolSerializer(pools, many=True, context=self._context(pools)).data
        return self.get_paginated_response(data)


@extend_schema(parameters=[_path_id("pool")])
class PoolDetail(_PoolRead, generics.RetrieveAPIView):
    """One pooled purchase, its members shown as far as each agreed."""

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        pool = self.get_object()
        return Response(PoolSerializer(pool, context=self._context([pool])).data)
