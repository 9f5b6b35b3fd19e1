"""The quarterly PHB return for partner systems and national collections.

- ``GET quarterly-returns/``: the caller's ICBs' returns, newest first (cursor pages),
  with the headline figures; filter by financial year, quarter or ICB.
- ``GET quarterly-returns/<id>/``: one return with every row of its file as JSON.
- ``GET quarterly-returns/<id>/csv``: the file itself, exactly as it was stored when the
  return was built. Each call is recorded as a download (the application's name, or
  the person) and audited.

Scope ``reports:read``. An application reads its own organisation's returns (an ICB's);
a signed-in commissioner or finance officer reads those of their ICBs. Anything else
answers 404."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import generics, serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from core.api.caller import Caller, caller_for, schema_only
from core.exports import CSV_TYPE
from core.reporting import quarterly
from core.reporting.models import QuarterlyReturn
from core.reporting.periods import Period

READ = ("reports:read",)


def returns_for(caller: Caller) -> QuerySet[QuarterlyReturn]:
    if caller.application is not None:
        return quarterly.returns_for_application(caller.application)
    if caller.user is None:
        return QuarterlyReturn.objects.none()
    return quarterly.returns_for_user(caller.user)


class ReturnSerializer(serializers.ModelSerializer):
    icb_name = serializers.CharField(source="icb.name", read_only=True)
    icb_code = serializers.CharField(
        source="icb.ods_code", read_only=True, help_text="The ICB's ODS code."
    )
    period = serializers.SerializerMethodField(
        help_text='The quarter, as "Q1 2026/27 (April to June 2026)".'
    )
    built_by = serializers.SerializerMethodField(
        help_text="Who rebuilt it; null when the scheduled job built it."
    )

    class Meta:
        model = QuarterlyReturn
        fields = [
            "id",
            "icb",
            "icb_code",
            "icb_name",
            "financial_year",
            "quarter",
            "period",
            "version",
            "layout",
            "built_at",
            "built_by",
            "people_in_quarter",
            "people_year_to_date",
        ]
        read_only_fields = fields

    def get_period(self, obj: QuarterlyReturn) -> str:
        return Period(obj.financial_year, obj.quarter).label

    def get_built_by(self, obj: QuarterlyReturn) -> str | None:
        return obj.built_by.name if obj.built_by else None


class ReturnRowSerializer(serializers.Serializer):
    measure = serializers.ChoiceField(choices=quarterly.MEASURES)
    phb_type = serializers.CharField(source="kind", help_text='A type code, or "all".')
    management_option = serializers.CharField(
        source="option", help_text='notional, third_party, direct_payment, mixed, or "all".'
    )
    age_group = serializers.CharField(help_text='adult, child, or "all".')
    people = serializers.IntegerField(min_value=0)


class ReturnDetailSerializer(ReturnSerializer):
    rows = serializers.SerializerMethodField()

    class Meta(ReturnSerializer.Meta):
        fields = [*ReturnSerializer.Meta.fields, "rows"]
        read_only_fields = fields

    @extend_schema_field(ReturnRowSerializer(many=True))
    def get_rows(self, obj: QuarterlyReturn) -> list[dict[str, Any]]:
        return list(ReturnRowSerializer(quarterly.parse_return(obj.csv), many=True).data)


class ReturnFilter(filters.FilterSet):
    financial_year = filters.NumberFilter(help_text="2026 is April 2026 to March 2027.")
    quarter = filters.NumberFilter(help_text="1 (April to June) to 4 (January to March).")
    icb = filters.NumberFilter(field_name="icb_id", help_text="One of the caller's ICBs (id).")

    class Meta:
        model = QuarterlyReturn
        fields = ["financial_year", "quarter", "icb"]


class ReturnList(generics.ListAPIView):
    """The quarterly PHB returns of the caller's ICB(s), newest first, every version.
    Each gives the people with a budget in the quarter and in the year to date; the
    full figures are at the return's own URL and its file at `csv`."""

    serializer_class = ReturnSerializer
    filterset_class = ReturnFilter
    required_scopes = READ

    def get_queryset(self) -> QuerySet[QuarterlyReturn]:
        if schema_only(self):
            return QuarterlyReturn.objects.none()
        return returns_for(caller_for(self.request))


def _path_id() -> OpenApiParameter:
    return OpenApiParameter(
        "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The return's id."
    )


@extend_schema(parameters=[_path_id()])
class ReturnDetail(generics.RetrieveAPIView):
    """One return with every row of its file (the layout is in docs/quarterly-return.md):
    for each measure (`quarter`, `year_to_date`), type, management option and age group,
    the number of people; "all" rows are totals, and each person is counted once in
    each."""

    serializer_class = ReturnDetailSerializer
    required_scopes = READ

    def get_queryset(self) -> QuerySet[QuarterlyReturn]:
        if schema_only(self):
            return QuarterlyReturn.objects.none()
        return returns_for(caller_for(self.request))


class CsvRenderer(BaseRenderer):
    """Lets a caller ask for ``text/csv``; an error is still a problem document."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> bytes:
        return json.dumps(data).encode()


class ReturnCsv(APIView):
    """The return's file, byte for byte as it was stored when it was built (UTF-8 with
    a byte order mark). The download is recorded against the calling application (or
    person) and audited."""

    required_scopes = READ
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        parameters=[_path_id()],
        responses={
            (200, CSV_TYPE.split(";")[0]): OpenApiResponse(
                OpenApiTypes.STR, description="The return as CSV."
            )
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        caller = caller_for(request)
        quarterly_return = get_object_or_404(returns_for(caller), pk=pk)
        quarterly.quarterly_return_download(
            quarterly_return=quarterly_return,
            user=caller.user if caller.application is None else None,
            application=caller.application,
        )
        response = HttpResponse(quarterly_return.csv.encode("utf-8"), content_type=CSV_TYPE)
        filename = quarterly.return_filename(quarterly_return)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response
