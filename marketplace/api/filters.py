"""Filters for the marketplace API's lists. Bad filter values answer 400 with the field
named (django-filter validates them as a form)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import F, FloatField, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from budgets.api.views import IdFilter
from marketplace.models import Booking, Category, Pool, Provider, ProviderKind, Service
from marketplace.models.listings import normalise_district, validate_district


class DistrictFormField(forms.CharField):
    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if not value:
            return ""
        district = normalise_district(value)
        validate_district(district)
        return district


@extend_schema_field({"type": "string", "pattern": "^[A-Za-z]{1,2}[0-9][A-Za-z0-9]?$"})
class DistrictFilter(filters.CharFilter):
    field_class = DistrictFormField


class ProviderFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=ProviderKind.choices)
    verified = filters.BooleanFilter(
        method="filter_verified",
        help_text="Verified by a commissioner and not run out (true), or not (false).",
    )
    user_led = filters.BooleanFilter()
    not_for_profit = filters.BooleanFilter()
    area = IdFilter(
        field_name="areas",
        distinct=True,
        help_text="An ICB's or council's id: providers in its market.",
    )
    organisation = IdFilter(
        field_name="organisation_id", help_text="The provider organisation's id."
    )

    class Meta:
        model = Provider
        fields = ["kind", "verified", "user_led", "not_for_profit", "area", "organisation"]

    def filter_verified(
        self, queryset: QuerySet[Provider], name: str, value: bool | None
    ) -> QuerySet[Provider]:
        if value is None:
            return queryset
        current = Q(verification=Provider.Verification.VERIFIED) & (
            Q(verification_expires_on__isnull=True)
            | Q(verification_expires_on__gte=timezone.localdate())
        )
        return queryset.filter(current) if value else queryset.exclude(current)


class ServiceFilter(filters.FilterSet):
    q = filters.CharFilter(
        method="filter_text",
        max_length=200,
        help_text="Words to search for (titles count most, then keywords, then "
        "descriptions); results come best match first. Quotes, `or` and `-` work as in "
        "web search.",
    )
    category = filters.CharFilter(
        field_name="category__code", max_length=60, help_text="A category's code."
    )
    provider = IdFilter(field_name="provider_id", help_text="A provider's id.")
    kind = filters.ChoiceFilter(
        field_name="provider__kind", choices=ProviderKind.choices, help_text="The provider's kind."
    )
    free = filters.BooleanFilter(field_name="is_free", help_text="Free services only (true).")
    district = DistrictFilter(
        method="filter_district", help_text="A postcode district it is delivered in, like LS1."
    )
    status = filters.ChoiceFilter(choices=Service.Status.choices)

    class Meta:
        model = Service
        fields = ["q", "category", "provider", "kind", "free", "district", "status"]

    def filter_district(
        self, queryset: QuerySet[Service], name: str, value: str
    ) -> QuerySet[Service]:
        return queryset.filter(postcode_districts__contains=[value]) if value else queryset

    def filter_text(self, queryset: QuerySet[Service], name: str, value: str) -> QuerySet[Service]:
        if not value.strip():
            return queryset
        query = SearchQuery(value, search_type="websearch", config="english")
        # ts_rank is a float4; as float8 the value survives the cursor's round trip exactly,
        # so a page boundary between two ranks compares as Postgres sees them.
        return queryset.filter(search_vector=query).annotate(
            rank=Cast(SearchRank(F("search_vector"), query), FloatField())
        )


class BookingFilter(filters.FilterSet):
    state = filters.ChoiceFilter(choices=Booking.State.choices)
    service = IdFilter(field_name="service_id", help_text="A service's id.")
    provider = IdFilter(field_name="service__provider_id", help_text="A provider's id.")
    holder = IdFilter(field_name="holder_id", help_text="A holder's id.")
    budget = IdFilter(field_name="budget_id", help_text="A budget's id.")

    class Meta:
        model = Booking
        fields = ["state", "service", "provider", "holder", "budget"]


class PoolFilter(filters.FilterSet):
    state = filters.ChoiceFilter(choices=Pool.State.choices)
    service = IdFilter(field_name="service_id", help_text="A service's id.")

    class Meta:
        model = Pool
        fields = ["state", "service"]


class CategoryFilter(filters.FilterSet):
    national = filters.BooleanFilter(
        field_name="organisation",
        lookup_expr="isnull",
        help_text="National categories (true), or those ICBs and councils added (false).",
    )
    organisation = IdFilter(
        field_name="organisation_id", help_text="The ICB or council that added them."
    )

    class Meta:
        model = Category
        fields = ["national", "organisation"]
