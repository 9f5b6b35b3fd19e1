"""Holders, budgets, their ledger, spending and allocation runs for partner systems and
signed-in staff.

Who sees what: a partner application sees the holders of its own organisation (as the
responsible ICB or council) and their budgets, plus budgets where its organisation
manages part of the money as a third party; staff see the same through their
memberships. Anything else answers 404. Allocation runs are platform-wide (a run pays
every due budget at once), so every permitted caller sees them all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from budgets import services
from budgets.api.serializers import (
    MAX_ID,
    AllocationRunSerializer,
    BudgetSerializer,
    HolderSerializer,
    SpendInputSerializer,
    SpendSerializer,
    TransactionSerializer,
)
from budgets.models import (
    AllocationRun,
    Budget,
    BudgetHolder,
    FundingContribution,
    LedgerEntry,
    LedgerTransaction,
)
from budgets.models.holders import normalise_nhs_number
from core import request_context
from core.api.caller import Caller, caller_for, schema_only
from core.api.idempotency import IDEMPOTENCY_HEADER, idempotent
from core.services import audit_record
from users.models import Membership

BUDGET_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The budget's id."
)


def holders_for(caller: Caller) -> QuerySet[BudgetHolder]:
    """The holders whose records the caller may read: an application's organisation's
    (as ICB or council), or those a staff member's organisations serve."""
    if caller.application is not None:
        org = caller.application.organisation_id
        return BudgetHolder.objects.filter(Q(organisation_id=org) | Q(council_id=org))
    return BudgetHolder.objects.for_staff(caller.user)


def _budgets_for(caller: Caller) -> QuerySet[Budget]:
    """Budgets of the caller's holders, and those whose money the caller's organisation
    manages as a third party (it records their spending)."""
    if caller.application is not None:
        managers: Any = [caller.application.organisation_id]
    else:
        managers = Membership.objects.filter(user=caller.user).values("organisation_id")
    managed = FundingContribution.objects.filter(managed_by__in=managers).values("budget_id")
    return Budget.objects.filter(Q(holder__in=holders_for(caller)) | Q(pk__in=managed))


def _with_funding(budgets: QuerySet[Budget]) -> QuerySet[Budget]:
    """Two queries for any number of budgets: the budgets, then all their contributions
    with funder and account (the serializer sums amounts and balances from these)."""
    return budgets.prefetch_related(
        Prefetch(
            "contributions",
            queryset=FundingContribution.objects.select_related("funder", "account"),
        )
    )


def record_views(caller: Caller, holders: Iterable[BudgetHolder], what: str) -> None:
    """Every holder record an API caller is shown is an audited view of personal data.

    ``personal_record_viewed`` needs a person (and asks about representations per
    holder); API callers are staff or applications, so the event is written directly:
    an application has no user, and is named in ``actor_label`` instead."""
    app = caller.application
    user_id = getattr(caller.user, "pk", None)
    for holder in holders:
        if app is None and holder.user_id == user_id:
            continue  # one's own record is not an event
        audit_record(
            actor=caller.user,
            actor_label=request_context.application_label(app) if app else "",
            action="personal_record.viewed",
            obj=holder,
            organisation=holder.organisation,
            person=holder,
            changes={"page": what},
        )


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    """A record id: a whole number in the database's range (not a decimal)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class HolderFilter(filters.FilterSet):
    nhs_number = filters.CharFilter(
        method="filter_nhs_number", help_text="10 digits; spaces and hyphens are ignored."
    )
    date_of_birth = filters.DateFilter()

    class Meta:
        model = BudgetHolder
        fields = ["nhs_number", "date_of_birth"]

    def filter_nhs_number(
        self, queryset: QuerySet[BudgetHolder], name: str, value: str
    ) -> QuerySet[BudgetHolder]:
        return queryset.filter(nhs_number=normalise_nhs_number(value))


class HolderList(generics.ListAPIView):
    """The budget holders of the caller's organisation(s), as the responsible ICB or
    council. Each holder shown is recorded in the audit log as a view of their record."""

    serializer_class = HolderSerializer
    filterset_class = HolderFilter
    required_scopes = ("holders:read",)

    def get_queryset(self) -> QuerySet[BudgetHolder]:
        if schema_only(self):
            return BudgetHolder.objects.none()
        return holders_for(caller_for(self.request)).select_related("organisation")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        holders = list(page or [])
        with transaction.atomic():
            record_views(caller_for(request), holders, "api:holder_list")
        return self.get_paginated_response(self.get_serializer(holders, many=True).data)


class HolderDetail(generics.RetrieveAPIView):
    """One holder of the caller's organisation(s); the view is audited."""

    serializer_class = HolderSerializer
    required_scopes = ("holders:read",)

    def get_queryset(self) -> QuerySet[BudgetHolder]:
        if schema_only(self):
            return BudgetHolder.objects.none()
        return holders_for(caller_for(self.request)).select_related("organisation")

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        holder = self.get_object()
        record_views(caller_for(request), [holder], "api:holder_detail")
        return Response(self.get_serializer(holder).data)


class BudgetFilter(filters.FilterSet):
    holder = IdFilter(field_name="holder_id", help_text="A holder's id.")
    state = filters.ChoiceFilter(choices=Budget.State.choices)

    class Meta:
        model = Budget
        fields = ["holder", "state"]


class BudgetList(generics.ListAPIView):
    """Budgets of the caller's holders and those whose money the caller's organisation
    manages, each with its funding and balances (integer pence)."""

    serializer_class = BudgetSerializer
    filterset_class = BudgetFilter
    required_scopes = ("budgets:read",)

    def get_queryset(self) -> QuerySet[Budget]:
        if schema_only(self):
            return Budget.objects.none()
        return _with_funding(_budgets_for(caller_for(self.request)))


class BudgetDetail(generics.RetrieveAPIView):
    serializer_class = BudgetSerializer
    required_scopes = ("budgets:read",)

    def get_queryset(self) -> QuerySet[Budget]:
        if schema_only(self):
            return Budget.objects.none()
        return _with_funding(_budgets_for(caller_for(self.request)))


class TransactionFilter(filters.FilterSet):
    occurred_after = filters.DateFilter(
        field_name="occurred_on", lookup_expr="gte", help_text="On or after this date."
    )
    occurred_before = filters.DateFilter(
        field_name="occurred_on", lookup_expr="lte", help_text="On or before this date."
    )
    kind = filters.ChoiceFilter(choices=LedgerTransaction.Kind.choices)

    class Meta:
        model = LedgerTransaction
        fields = ["occurred_after", "occurred_before", "kind"]


@extend_schema(parameters=[BUDGET_ID])
class TransactionList(generics.ListAPIView):
    """A budget's ledger transactions, newest first, each with its entries (positive
    pence into an account, negative out of it)."""

    serializer_class = TransactionSerializer
    filterset_class = TransactionFilter
    required_scopes = ("budgets:read",)

    def get_queryset(self) -> QuerySet[LedgerTransaction]:
        if schema_only(self):
            return LedgerTransaction.objects.none()
        budget = get_object_or_404(_budgets_for(caller_for(self.request)), pk=self.kwargs["pk"])
        return LedgerTransaction.objects.filter(budget=budget).prefetch_related(
            Prefetch("entries", queryset=LedgerEntry.objects.select_related("account"))
        )


SPEND_FORBIDDEN = (
    "Spending can be recorded only by the holder, a representative allowed to manage "
    "their money, or the organisation that manages this part of the budget."
)


def _service_key(caller: Caller, key: str) -> str:
    """The ledger's idempotency key for a partner's ``Idempotency-Key``: per caller, so
    two callers' keys cannot collide, and hashed, so any 200-character key fits."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"api:{caller.key}:{digest}"


def _charged_contribution(budget: Budget, contribution_id: int | None) -> FundingContribution:
    if contribution_id is not None:
        found = budget.contributions.filter(pk=contribution_id).first()
        if found is None:
            raise exceptions.ValidationError(
                {"contribution": ["That funding is not part of this budget."]}
            )
        return found
    contributions = list(budget.contributions.all()[:2])
    if len(contributions) != 1:
        raise exceptions.ValidationError(
            {"contribution": ["This budget has more than one funder: say which one pays."]}
        )
    return contributions[0]


def _spender(caller: Caller, contribution: FundingContribution) -> Any:
    """Who the spend is recorded by. A partner application records spending only on
    funding its organisation manages as a third party, in the name of the application's
    responsible user (``Spend.recorded_by`` is a person); ``spend_record`` then checks
    that user may manage the money, as it does for everyone."""
    app = caller.application
    if app is None:
        return caller.user
    if contribution.managed_by_id != app.organisation_id:
        raise exceptions.PermissionDenied(
            "A partner application can record spending only on funding its organisation "
            "manages as a third party."
        )
    if app.user_id is None:
        raise exceptions.PermissionDenied(
            "This application has no responsible user to record spending in the name of."
        )
    return app.user


class SpendCreate(APIView):
    """Record money spent from an active budget; it is posted to the ledger at once.
    A retry with the same ``Idempotency-Key`` moves the money once."""

    required_scopes = ("spending:write",)
    problem_statuses = (409,)  # the budget is not active, or there is not enough money

    @extend_schema(
        request=SpendInputSerializer,
        responses={201: SpendSerializer},
        parameters=[BUDGET_ID, IDEMPOTENCY_HEADER],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        caller = caller_for(request)
        budget = get_object_or_404(_budgets_for(caller).select_related("holder"), pk=pk)
        payload = SpendInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        contribution = _charged_contribution(budget, data.pop("contribution", None))
        try:
            spend = services.spend_record(
                budget=budget,
                contribution=contribution,
                recorded_by=_spender(caller, contribution),
                idempotency_key=_service_key(caller, request.headers["Idempotency-Key"].strip()),
                **data,
            )
        except PermissionDenied:
            raise exceptions.PermissionDenied(SPEND_FORBIDDEN) from None
        return Response(SpendSerializer(spend).data, status=status.HTTP_201_CREATED)


class AllocationRunList(generics.ListAPIView):
    """Allocation runs: each posts every payment that has fallen due, for every budget on
    the platform, so runs are not scoped to an organisation."""

    serializer_class = AllocationRunSerializer
    queryset = AllocationRun.objects.all()
    required_scopes = ("allocation:read",)


class AllocationRunDetail(generics.RetrieveAPIView):
    serializer_class = AllocationRunSerializer
    queryset = AllocationRun.objects.all()
    required_scopes = ("allocation:read",)
