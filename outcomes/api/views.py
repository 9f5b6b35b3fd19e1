"""Outcome surveys for partner systems and signed-in staff: instrument versions, the
organisation's rounds (counts only), aggregated results, answers collected elsewhere,
and FHIR R4 ``Questionnaire`` and ``QuestionnaireResponse`` views.

Who sees what:

- Instruments (and their FHIR Questionnaire): every version in use or retired, to any
  staff member or application with ``outcomes:read``; drafts are an admin's work in
  progress and are not served.
- Rounds: those of the caller's organisations (an application's own; a person's
  memberships), as counts of invitations, never who was invited.
- Results: only through ``outcomes.reports``, which counts in SQL and suppresses every
  group under 5 (directly or by subtraction), for the organisations where a person
  holds a role that serves people, or the application's organisation.
- Recording answers (``outcomes:write``): an application, about a holder its
  organisation serves (as ICB or council); ``Idempotency-Key`` as for spends.
- One response's answers (FHIR QuestionnaireResponse) are personal. Staff never see
  them one by one (they read aggregates). A holder sees their own holder-survey
  answers (whoever gave them); a representative those they gave on behalf of a person
  they currently represent, not the person's own (as the answering pages decide). An
  application with ``responses:read`` sees the holder-survey answers of holders its
  organisation serves, and any response it recorded itself; a carer's or staff
  member's answers collected on the platform are theirs and are not given out. Each
  such read by an application is audited as a view of the holder's record.

Anything else answers 404.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from budgets.api.views import holders_for, record_views
from budgets.models import EligibilityRoute
from budgets.models.holders import normalise_nhs_number
from core.api.caller import Caller, caller_for, schema_only
from core.api.idempotency import IDEMPOTENCY_HEADER, idempotent
from outcomes import fhir, reports
from outcomes.api.serializers import (
    InstrumentDetailSerializer,
    InstrumentSerializer,
    ResponseInputSerializer,
    ResponseSerializer,
    RoundSerializer,
)
from outcomes.api.submissions import partner_response_record
from outcomes.models import (
    MANAGEMENT_CHOICES,
    SUPPRESS_BELOW,
    Answer,
    BudgetBand,
    Instrument,
    Question,
    RespondentKind,
    SurveyInvitation,
    SurveyResponse,
    SurveyRound,
)
from plans.api.fhir_views import _fhir_schema, _FhirView
from users.models import Representation

READ = ("outcomes:read",)
WRITE = ("outcomes:write",)
RESPONSES = ("responses:read",)


def _path_id(what: str) -> OpenApiParameter:
    return OpenApiParameter(
        "id", OpenApiTypes.INT, OpenApiParameter.PATH, description=f"The {what}'s id."
    )


# Who sees what --------------------------------------------------------------------------


def instruments_visible() -> QuerySet[Instrument]:
    return Instrument.objects.exclude(status=Instrument.Status.DRAFT)


def _with_questions(instruments: QuerySet[Instrument]) -> QuerySet[Instrument]:
    return instruments.prefetch_related(
        Prefetch("questions", queryset=Question.objects.prefetch_related("options"))
    )


def rounds_for(caller: Caller) -> QuerySet[SurveyRound]:
    if caller.application is not None:
        return SurveyRound.objects.filter(organisation_id=caller.application.organisation_id)
    return SurveyRound.objects.for_user(caller.user)


def report_scope(caller: Caller) -> frozenset[int]:
    """The organisations whose results the caller may read."""
    if caller.application is not None:
        return frozenset({caller.application.organisation_id})
    return reports.report_organisation_ids(caller.user)


def responses_for(caller: Caller) -> QuerySet[SurveyResponse]:
    """The responses whose answers the caller may read one by one (module docstring)."""
    holder_survey = Q(respondent_kind=RespondentKind.HOLDER)
    if caller.application is not None:
        return SurveyResponse.objects.submitted().filter(
            (holder_survey & Q(holder__in=holders_for(caller)))
            | Q(partner_application=caller.application)
        )
    user = caller.user
    if user is None:
        return SurveyResponse.objects.none()
    represented = Representation.objects.current().filter(representative=user)
    given_for = Q(holder_id__in=represented.values("holder_id")) & Q(
        answered_by=SurveyResponse.AnsweredBy.REPRESENTATIVE
    )
    return SurveyResponse.objects.submitted().filter(
        holder_survey & (Q(holder__user=user) | given_for)
    )


# Instruments ----------------------------------------------------------------------------


class InstrumentFilter(filters.FilterSet):
    respondent_kind = filters.ChoiceFilter(choices=RespondentKind.choices)
    status = filters.ChoiceFilter(
        choices=Instrument.Status.choices,
        help_text="`published` (in use) or `retired`; drafts are not served.",
    )

    class Meta:
        model = Instrument
        fields = ["respondent_kind", "status"]


class InstrumentList(generics.ListAPIView):
    """Survey instrument versions: the one in use for each kind of respondent
    (`status=published`) and those it replaced (`retired`), newest first. Answers
    always name the version that was asked."""

    serializer_class = InstrumentSerializer
    filterset_class = InstrumentFilter
    required_scopes = READ
    queryset = instruments_visible()


class InstrumentDetail(generics.RetrieveAPIView):
    """One instrument version with its questions (by section and position) and each
    question's answer options. A question's `code` is stable across versions."""

    serializer_class = InstrumentDetailSerializer
    required_scopes = READ

    def get_queryset(self) -> QuerySet[Instrument]:
        return _with_questions(instruments_visible())


# Rounds ---------------------------------------------------------------------------------


class RoundFilter(filters.FilterSet):
    respondent_kind = filters.ChoiceFilter(choices=RespondentKind.choices)
    state = filters.ChoiceFilter(choices=SurveyRound.State.choices)
    period_from = filters.DateFilter(
        field_name="period_start", lookup_expr="gte", help_text="Rounds from this month on."
    )
    period_to = filters.DateFilter(
        field_name="period_start", lookup_expr="lte", help_text="Rounds up to this month."
    )

    class Meta:
        model = SurveyRound
        fields = ["respondent_kind", "state", "period_from", "period_to"]


def _state_count(state: str) -> Count:
    return Count("invitations", filter=Q(invitations__state=state))


class RoundList(generics.ListAPIView):
    """The survey rounds of the caller's organisation(s), newest first: how many were
    invited, answered, declined, expired or are still waiting. Never who."""

    serializer_class = RoundSerializer
    filterset_class = RoundFilter
    required_scopes = READ

    def get_queryset(self) -> QuerySet[SurveyRound]:
        if schema_only(self):
            return SurveyRound.objects.none()
        State = SurveyInvitation.State
        return (
            rounds_for(caller_for(self.request))
            .select_related("instrument")
            .annotate(
                invited=Count("invitations"),
                answered=_state_count(State.SUBMITTED),
                declined=_state_count(State.DECLINED),
                expired=_state_count(State.EXPIRED),
                waiting=Count(
                    "invitations",
                    filter=Q(invitations__state__in=[State.SENT, State.STARTED]),
                ),
            )
        )


# Results --------------------------------------------------------------------------------


class ResultsQuerySerializer(serializers.Serializer):
    respondent_kind = serializers.ChoiceField(
        choices=RespondentKind.choices, default=RespondentKind.HOLDER
    )
    organisation = serializers.IntegerField(
        required=False, min_value=1, help_text="One of the caller's organisations (ICB or council)."
    )
    eligibility_route = serializers.ChoiceField(choices=EligibilityRoute.choices, required=False)
    management_option = serializers.ChoiceField(choices=MANAGEMENT_CHOICES, required=False)
    budget_band = serializers.ChoiceField(choices=BudgetBand.choices, required=False)
    period = serializers.CharField(
        required=False,
        max_length=8,
        help_text="A financial year (`fy2025`: April 2025 to March 2026) or quarter "
        "(`fy2025q1`: April to June 2025).",
    )
    breakdown = serializers.ChoiceField(
        choices=[(v, label) for v, label in reports.Breakdown.choices if v], required=False
    )

    def validate_period(self, value: str) -> str:
        try:
            reports.period_bounds(value)
        except ValueError:
            raise serializers.ValidationError(
                "Give a financial year such as fy2025, or a quarter such as fy2025q1."
            ) from None
        return value


_FIGURES = {
    "area": {"type": "string"},
    "label": {"type": "string"},
    "suppressed": {
        "type": "boolean",
        "description": f"True when the figures could reveal a group of fewer than "
        f"{SUPPRESS_BELOW}: every count and percentage is then null.",
    },
    **{
        name: {"type": "integer", "nullable": True, "minimum": 0}
        for name in ("n", "better", "same", "worse")
    },
    **{
        f"{name}_percent": {"type": "number", "nullable": True, "minimum": 0, "maximum": 100}
        for name in ("better", "same", "worse")
    },
}
_AREAS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": _FIGURES,
        "required": list(_FIGURES),
    },
}
RESULTS_SCHEMA = {
    "type": "object",
    "required": ["respondent_kind", "suppress_below", "filters", "breakdown", "areas", "groups"],
    "properties": {
        "respondent_kind": {"type": "string", "enum": RespondentKind.values},
        "suppress_below": {"type": "integer"},
        "filters": {"type": "object", "additionalProperties": True},
        "breakdown": {"type": "string"},
        "areas": _AREAS,
        "groups": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "label", "areas"],
                "properties": {
                    "key": {"type": "string"},
                    "label": {"type": "string"},
                    "areas": _AREAS,
                },
            },
        },
    },
}


def _figures(area: reports.AreaFigures) -> dict[str, Any]:
    def number(value: Any) -> float | None:
        return None if value is None else float(value)

    return {
        "area": area.area,
        "label": area.label,
        "suppressed": area.suppressed,
        "n": area.n,
        "better": area.better,
        "same": area.same,
        "worse": area.worse,
        "better_percent": number(area.better_percent),
        "same_percent": number(area.same_percent),
        "worse_percent": number(area.worse_percent),
    }


class Results(APIView):
    """For each outcome area: how many said things got better, stayed the same or got
    worse (and n), over the caller's organisation(s), with the report page's filters
    and breakdowns. Computed by the outcome reports, which suppress every group of
    fewer than 5 answers, and any figure from which one could be worked out (by
    subtracting one view from another, or a breakdown's groups from its total)."""

    required_scopes = READ
    problem_statuses = (400,)

    @extend_schema(
        parameters=[ResultsQuerySerializer],
        responses={200: RESULTS_SCHEMA},
    )
    def get(self, request: Request) -> Response:
        query = ResultsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        scope = report_scope(caller_for(request))
        date_from = date_to = None
        if data.get("period"):
            date_from, date_to = reports.period_bounds(data["period"])
        try:
            report_filter = reports.ReportFilter(
                organisation_ids=scope,
                respondent_kind=data["respondent_kind"],
                organisation_id=data.get("organisation"),
                eligibility_route=data.get("eligibility_route", ""),
                management_option=data.get("management_option", ""),
                budget_band=data.get("budget_band", ""),
                date_from=date_from,
                date_to=date_to,
            )
        except reports.ReportScopeError:
            raise exceptions.ValidationError(
                {"organisation": ["Choose one of your own organisations."]}
            ) from None
        summary = reports.outcome_summary(report_filter, breakdown=data.get("breakdown", ""))
        return Response(
            {
                "respondent_kind": report_filter.respondent_kind,
                "suppress_below": SUPPRESS_BELOW,
                "filters": {key: str(value) for key, value in data.items() if key != "breakdown"},
                "breakdown": summary.breakdown,
                "areas": [_figures(a) for a in summary.areas],
                "groups": [
                    {
                        "key": group.key,
                        "label": group.label,
                        "areas": [_figures(a) for a in group.areas],
                    }
                    for group in summary.groups
                ],
            }
        )


# Recording answers collected elsewhere -------------------------------------------------


def _holder(caller: Caller, data: dict[str, Any]) -> Any:
    holders = holders_for(caller)
    if "holder" in data:
        found = holders.filter(pk=data["holder"]).first()
    else:
        found = holders.filter(nhs_number=normalise_nhs_number(data["nhs_number"])).first()
    if found is None:
        field = "holder" if "holder" in data else "nhs_number"
        raise exceptions.ValidationError(
            {field: ["No budget holder your organisation serves has this id or NHS number."]}
        )
    return found


class ResponseCreate(APIView):
    """Record one person's answers that the partner system collected elsewhere (on
    paper, by phone, in its own system), about a budget holder the application's
    organisation serves. The answers are checked whole: a wrong question code or answer
    is a 400 naming each, and nothing is written. A retry with the same
    `Idempotency-Key` and body returns the first response; one `external_reference`
    is recorded once (a second is 409)."""

    required_scopes = WRITE
    problem_statuses = (409,)

    @extend_schema(
        request=ResponseInputSerializer,
        responses={201: ResponseSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        caller = caller_for(request)
        if caller.application is None:  # the matrix admits applications only
            raise exceptions.PermissionDenied
        payload = ResponseInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        holder = _holder(caller, data)
        instrument = Instrument.objects.filter(pk=data["instrument"]).first()
        if instrument is None:
            raise exceptions.ValidationError({"instrument": ["There is no such survey version."]})
        response = partner_response_record(
            application=caller.application,
            holder=holder,
            instrument=instrument,
            respondent_kind=data["respondent_kind"],
            answers=data["answers"],
            collected_on=data["collected_on"],
            answered_by=data["answered_by"],
            external_reference=data["external_reference"],
        )
        response.questions_answered = len(data["answers"])  # type: ignore[attr-defined]
        return Response(ResponseSerializer(response).data, status=status.HTTP_201_CREATED)


# FHIR ----------------------------------------------------------------------------------


class FhirQuestionnaire(_FhirView):
    """An instrument version as a FHIR R4 Questionnaire: one canonical `url` per kind
    of respondent with the `version`; items grouped by section, each question's
    `linkId` its stable code; the change scale and each question's options as
    `answerOption` codings. Status: in use → `active`, retired → `retired`."""

    required_scopes = READ

    @_fhir_schema("Questionnaire", "The instrument version's id.")
    def get(self, request: Request, pk: int) -> Response:
        instrument = get_object_or_404(_with_questions(instruments_visible()), pk=pk)
        return Response(fhir.questionnaire(instrument))


class FhirQuestionnaireResponse(_FhirView):
    """One person's answers as a FHIR R4 QuestionnaireResponse, naming the
    Questionnaire version answered (`url|version`) and the holder as `subject`. Only
    for the holder themself, their representative, or an application of an
    organisation that serves them with `responses:read` (see the API's description of
    who sees what); staff read aggregated results only."""

    required_scopes = RESPONSES

    @_fhir_schema("QuestionnaireResponse", "The response's id.")
    def get(self, request: Request, pk: int) -> Response:
        caller = caller_for(request)
        responses = responses_for(caller).select_related("instrument", "holder")
        response = get_object_or_404(
            responses.prefetch_related(
                Prefetch(
                    "answers",
                    queryset=Answer.objects.select_related("question").prefetch_related(
                        "question__options"
                    ),
                )
            ),
            pk=pk,
        )
        if caller.application is not None:
            with transaction.atomic():
                record_views(caller, [response.holder], "api:fhir_questionnaire_response")
        return Response(fhir.questionnaire_response(response))
