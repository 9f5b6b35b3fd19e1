"""FHIR R4 read views for partners that speak FHIR: ``Patient`` (a budget holder),
``CarePlan`` (a support plan version, with its outcomes as contained ``Goal``s) and
``Goal`` (one outcome), as ``application/fhir+json``.

Scoping is the API's: an application sees its own organisation's holders, a signed-in
person those ``for_user`` gives them; anything else is 404. Patient needs
``holders:read`` (it is the holder's personal details, as ``/holders/<id>/`` is);
CarePlan and Goal need ``plans:read``. Every view is audited as a view of the holder's
record. Errors stay ``application/problem+json``, as everywhere in the API.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from budgets.api.views import holders_for, record_views
from core.api.caller import caller_for
from plans import fhir
from plans.api.views import plans_for
from plans.models import OutcomeProgress, PlanOutcome, SupportItem, SupportPlan

FHIR_JSON = "application/fhir+json"

# What a FHIR client may ask for: FHIR JSON, plain JSON (the same document), anything.
_ACCEPTABLE = {FHIR_JSON, "application/json", "application/*", "*/*"}
# FHIR's own ``_format`` parameter, in its JSON spellings.
_FORMATS = {"json", FHIR_JSON, "application/json"}


class FhirJSONRenderer(JSONRenderer):
    media_type = FHIR_JSON
    format = "fhir"


class FhirContentNegotiation(BaseContentNegotiation):
    """Always FHIR JSON; a request for anything else (by ``Accept`` or ``_format``)
    answers 406."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> Any:
        return next(iter(parsers), None)  # FHIR views take no body

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        wanted = request.query_params.get("_format")
        if wanted is not None and wanted.strip().lower() not in _FORMATS:
            raise exceptions.NotAcceptable("Only _format=json (FHIR JSON) is served.")
        accept = request.headers.get("Accept", "").strip()
        if accept:
            ranges = {part.split(";")[0].strip().lower() for part in accept.split(",")}
            if not ranges & _ACCEPTABLE:
                raise exceptions.NotAcceptable(f"Resources are served as {FHIR_JSON} only.")
        return renderer, FHIR_JSON


def _fhir_schema(resource: str, what: str) -> Any:
    return extend_schema(
        summary=f"FHIR R4 {resource}",
        parameters=[
            OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description=what),
            OpenApiParameter(
                "_format",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                enum=sorted(_FORMATS),
                description="FHIR's format parameter; only JSON is served.",
            ),
        ],
        responses={
            (200, FHIR_JSON): OpenApiResponse(
                response={
                    "type": "object",
                    "required": ["resourceType", "id"],
                    "properties": {
                        "resourceType": {"type": "string", "enum": [resource]},
                        "id": {"type": "string"},
                    },
                    "additionalProperties": True,
                },
                description=f"A FHIR R4 {resource} resource.",
            )
        },
    )


class _FhirView(APIView):
    renderer_classes = [FhirJSONRenderer]
    content_negotiation_class = FhirContentNegotiation
    problem_statuses = (406,)

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code < 400:
            response["Content-Type"] = FHIR_JSON
        return response


class FhirPatient(_FhirView):
    """A budget holder as a FHIR Patient: the NHS number (system
    `https://fhir.nhs.uk/Id/nhs-number`), name, date of birth and postcode."""

    required_scopes = ("holders:read",)

    @_fhir_schema("Patient", "The budget holder's id.")
    def get(self, request: Request, pk: int) -> Response:
        caller = caller_for(request)
        holder = get_object_or_404(holders_for(caller), pk=pk)
        record_views(caller, [holder], "api:fhir_patient")
        return Response(fhir.patient(holder))


def _latest_progress(plan: SupportPlan) -> dict[int, str]:
    """Outcome id → the progress recorded at the plan's latest review of it."""
    rows = (
        OutcomeProgress.objects.filter(review__plan=plan)
        .order_by("review__held_on", "review__pk")
        .values_list("outcome_id", "progress")
    )
    return dict(rows)  # later reviews overwrite earlier ones


class FhirCarePlan(_FhirView):
    """A support plan version as a FHIR CarePlan. Its outcomes are contained Goals (with
    the life areas as categories), its support items activities (cost, funding stream
    and schedule in each detail). Status: draft, submitted, changes requested and
    approved → `draft` (the exact state in the `support-plan-state` extension); active
    → `active`; superseded → `revoked`; ended → `completed`."""

    required_scopes = ("plans:read",)

    @_fhir_schema("CarePlan", "The plan version's id.")
    def get(self, request: Request, pk: int) -> Response:
        caller = caller_for(request)
        plans = (
            plans_for(caller)
            .select_related("holder")
            .prefetch_related(
                "outcomes",
                Prefetch("items", queryset=SupportItem.objects.prefetch_related("outcomes")),
            )
        )
        plan = get_object_or_404(plans, pk=pk)
        record_views(caller, [plan.holder], "api:fhir_careplan")
        return Response(fhir.care_plan(plan, progress=_latest_progress(plan)))


class FhirGoal(_FhirView):
    """One outcome of a support plan as a FHIR Goal."""

    required_scopes = ("plans:read",)

    @_fhir_schema("Goal", "The outcome's id.")
    def get(self, request: Request, pk: int) -> Response:
        caller = caller_for(request)
        outcomes = PlanOutcome.objects.filter(plan__in=plans_for(caller)).select_related(
            "plan__holder"
        )
        outcome = get_object_or_404(outcomes, pk=pk)
        plan = outcome.plan
        record_views(caller, [plan.holder], "api:fhir_goal")
        progress = _latest_progress(plan).get(outcome.pk)
        return Response(fhir.goal(outcome, plan, progress=progress))
