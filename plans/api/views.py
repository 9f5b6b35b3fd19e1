"""Support plans for partner systems and signed-in staff: reading plans and their
versions, and submitting, approving or sending back a plan through the same services as
the pages.

Who sees what: a partner application sees the plans of its own organisation's holders
(as the responsible ICB or council); a signed-in person sees the plans
``SupportPlan.objects.for_user`` gives them. Anything else answers 404.

Who may act: the services decide, as they do for pages. A partner application acts in
the name of its responsible user (``PartnerApplication.user``), so it can submit only if
that user is a support planner of the holder's ICB or council, and approve only as the
role that user holds there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from budgets.api.serializers import MAX_ID
from budgets.api.views import holders_for, record_views
from core.api.caller import Caller, caller_for, schema_only
from core.api.idempotency import IDEMPOTENCY_HEADER, idempotent
from core.api.pagination import CursorPagination
from plans import services
from plans.api.serializers import (
    ApproveInputSerializer,
    PlanSerializer,
    PlanSummarySerializer,
    RequestChangesInputSerializer,
    SubmitInputSerializer,
)
from plans.models import PlanApproval, SupportItem, SupportPlan

PLAN_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The plan version's id."
)


def plans_for(caller: Caller) -> QuerySet[SupportPlan]:
    """Plans of the holders the caller may read (``budgets.api.views.holders_for``)."""
    return SupportPlan.objects.filter(holder__in=holders_for(caller))


def with_parts(plans: QuerySet[SupportPlan]) -> QuerySet[SupportPlan]:
    """A fixed number of queries for a plan with every part, however many parts."""
    return plans.prefetch_related(
        "outcomes",
        Prefetch("items", queryset=SupportItem.objects.prefetch_related("outcomes")),
        "money",
        "risks",
        "circle",
        Prefetch("approvals", queryset=PlanApproval.objects.select_related("by")),
        "reviews",
    ).select_related("holder__organisation")


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    """A record id: a whole number in the database's range (not a decimal)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class PlanFilter(filters.FilterSet):
    state = filters.ChoiceFilter(choices=SupportPlan.State.choices)
    holder = IdFilter(field_name="holder_id", help_text="A holder's id.")
    budget = IdFilter(field_name="budget_id", help_text="A budget's id.")
    next_review_after = filters.DateFilter(
        field_name="next_review_on", lookup_expr="gte", help_text="Next review on or after."
    )
    next_review_before = filters.DateFilter(
        field_name="next_review_on", lookup_expr="lte", help_text="Next review on or before."
    )

    class Meta:
        model = SupportPlan
        fields = ["state", "holder", "budget", "next_review_after", "next_review_before"]


class PlanList(generics.ListAPIView):
    """Support plan versions of the caller's holders, newest first, without their parts
    (open one for those). Filter by state, holder, budget and next review date."""

    serializer_class = PlanSummarySerializer
    filterset_class = PlanFilter
    required_scopes = ("plans:read",)

    def get_queryset(self) -> QuerySet[SupportPlan]:
        if schema_only(self):
            return SupportPlan.objects.none()
        return plans_for(caller_for(self.request))


class PlanDetail(generics.RetrieveAPIView):
    """One plan version with every part. The view is audited as a view of the holder's
    record."""

    serializer_class = PlanSerializer
    required_scopes = ("plans:read",)

    def get_queryset(self) -> QuerySet[SupportPlan]:
        if schema_only(self):
            return SupportPlan.objects.none()
        return with_parts(plans_for(caller_for(self.request)))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plan = self.get_object()
        record_views(caller_for(request), [plan.holder], "api:plan_detail")
        return Response(self.get_serializer(plan).data)


class VersionPagination(CursorPagination):
    ordering = "-version"  # unique within one budget's plans


@extend_schema(parameters=[PLAN_ID])
class PlanVersionList(generics.ListAPIView):
    """Every version of the plan for this plan's budget, newest first, including this one
    (the id may be any of them)."""

    serializer_class = PlanSummarySerializer
    pagination_class = VersionPagination
    required_scopes = ("plans:read",)

    def get_queryset(self) -> QuerySet[SupportPlan]:
        if schema_only(self):
            return SupportPlan.objects.none()
        plans = plans_for(caller_for(self.request))
        plan = get_object_or_404(plans, pk=self.kwargs["pk"])
        return plans.filter(budget_id=plan.budget_id)


def _acting_user(caller: Caller) -> Any:
    """The person an action is taken by: the signed-in person, or the application's
    responsible user (sign-offs and audit events name a person)."""
    app = caller.application
    if app is None:
        return caller.user
    if app.user_id is None:
        raise exceptions.PermissionDenied(
            "This application has no responsible user to act in the name of."
        )
    return app.user


class _PlanAction(APIView):
    """Move a plan on by one service call. Bad input answers 400 with the fields named,
    a caller without the right 403, a plan in the wrong state 409. A retry with the
    same ``Idempotency-Key`` replays the first answer; a new key on a plan that has
    already moved on is a 409."""

    required_scopes = ("plans:write",)
    problem_statuses = (409,)
    input_serializer: type[Serializer]
    forbidden = ""

    def act(self, plan: SupportPlan, by: Any, data: dict[str, Any]) -> SupportPlan:
        raise NotImplementedError

    def _post(self, request: Request, pk: int) -> Response:
        caller = caller_for(request)
        plan = get_object_or_404(plans_for(caller), pk=pk)
        payload = self.input_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        by = _acting_user(caller)
        try:
            plan = self.act(plan, by, dict(payload.validated_data))
        except PermissionDenied:
            raise exceptions.PermissionDenied(self.forbidden) from None
        plan = with_parts(SupportPlan.objects.all()).get(pk=plan.pk)
        return Response(PlanSerializer(plan).data)


def _action_schema(input_serializer: type[Serializer]) -> Callable[[Any], Any]:
    return extend_schema(
        request=input_serializer,
        responses={200: PlanSerializer},
        parameters=[PLAN_ID, IDEMPOTENCY_HEADER],
    )


class PlanSubmit(_PlanAction):
    """Send a draft (or a plan with changes requested) for approval. The holder or a
    representative sends ``agree: true``; a support planner (or an application acting as
    one) says in ``agreed_in_person`` how and when the person agreed. A plan that is not
    ready answers 400 with what is missing, by part of the plan."""

    input_serializer = SubmitInputSerializer
    forbidden = (
        "A plan can be submitted only by the person, a representative allowed to manage "
        "their plan, or a support planner of their ICB or council."
    )

    def act(self, plan: SupportPlan, by: Any, data: dict[str, Any]) -> SupportPlan:
        return services.plan_submit(plan=plan, submitted_by=by, **data)

    @_action_schema(SubmitInputSerializer)
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        return self._post(request, pk)


class PlanApprove(_PlanAction):
    """Sign off a submitted plan as a clinician or, where the plan needs one, a
    commissioner. When every sign-off it needs is in, the budget is set from the plan,
    the plan becomes active and the version it revises is superseded."""

    input_serializer = ApproveInputSerializer
    forbidden = (
        "Only a clinician (or, for that step, a commissioner) of the person's ICB or "
        "council can approve their plan."
    )

    def act(self, plan: SupportPlan, by: Any, data: dict[str, Any]) -> SupportPlan:
        return services.plan_approve(plan=plan, approved_by=by, **data)

    @_action_schema(ApproveInputSerializer)
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        return self._post(request, pk)


class PlanRequestChanges(_PlanAction):
    """Send a submitted plan back, saying what needs to change and why; the holder is
    told."""

    input_serializer = RequestChangesInputSerializer
    forbidden = (
        "Only a clinician or a commissioner of the person's ICB or council can ask for "
        "changes to their plan."
    )

    def act(self, plan: SupportPlan, by: Any, data: dict[str, Any]) -> SupportPlan:
        return services.plan_request_changes(plan=plan, requested_by=by, **data)

    @_action_schema(RequestChangesInputSerializer)
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        return self._post(request, pk)
