"""The caller's own organisation and members, and who the caller is."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.caller import caller_for
from core.api.idempotency import IDEMPOTENCY_HEADER, idempotent
from core.authz import Access
from users import services
from users.api.serializers import (
    InvitationInputSerializer,
    InvitationOutputSerializer,
    MemberSerializer,
    MeSerializer,
    OrganisationSerializer,
)
from users.models import Membership, Organisation, Role


class MeView(APIView):
    """Who the caller is: a person (with their memberships) or a partner application."""

    required_scopes = ()

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        caller = caller_for(request)
        data: dict[str, Any]
        if caller.application is not None:
            app = caller.application
            data = {
                "kind": "application",
                "id": app.pk,
                "name": app.name,
                "organisation": OrganisationSerializer(app.organisation).data,
                "scopes": sorted(caller.scopes),
            }
        else:
            user: Any = caller.user  # permitted, so signed in
            memberships = user.memberships.select_related("organisation")
            data = {
                "kind": "user",
                "id": user.pk,
                "name": user.name,
                "email": user.email,
                "memberships": [
                    {"organisation": OrganisationSerializer(m.organisation).data, "role": m.role}
                    for m in memberships
                ],
                "is_budget_holder": hasattr(user, "budget_holder"),
            }
        return Response(MeSerializer(data).data)


def _caller_organisations(view: Any) -> Any:
    if getattr(view, "swagger_fake_view", False):  # schema generation has no caller
        return Organisation.objects.none()
    return Organisation.objects.filter(pk__in=caller_for(view.request).organisation_ids())


class OrganisationList(generics.ListAPIView):
    """The organisations the caller belongs to (a partner application: its own)."""

    serializer_class = OrganisationSerializer
    required_scopes = ("organisation:read",)
    filterset_fields = ["kind"]

    def get_queryset(self) -> Any:
        return _caller_organisations(self)


class OrganisationDetail(generics.RetrieveAPIView):
    serializer_class = OrganisationSerializer
    required_scopes = ("organisation:read",)

    def get_queryset(self) -> Any:
        return _caller_organisations(self)


class MemberFilter(filters.FilterSet):
    role = filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["role"]


class MemberList(generics.ListAPIView):
    """Members of one of the caller's organisations. POST invites someone by email
    (organisation admins, or applications with ``members:write``)."""

    serializer_class = MemberSerializer
    filterset_class = MemberFilter
    required_scopes_by_method = {"GET": ("members:read",), "POST": ("members:write",)}
    access_by_method = {"POST": {Access.ORGANISATION_ADMIN}}

    def organisation(self) -> Organisation:
        return get_object_or_404(_caller_organisations(self), pk=self.kwargs["pk"])

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no pk
            return Membership.objects.none()
        return self.organisation().memberships.select_related("user")

    @extend_schema(
        request=InvitationInputSerializer,
        responses={201: InvitationOutputSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        organisation = self.organisation()
        caller = caller_for(request)
        if (
            caller.user is not None
            and not organisation.memberships.filter(
                user=caller.user, role=Role.ORGANISATION_ADMIN
            ).exists()
        ):
            raise exceptions.PermissionDenied("Only the organisation's admins can invite members.")
        payload = InvitationInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        invited_by = caller.user or getattr(caller.application, "user", None)
        if invited_by is None:
            raise exceptions.PermissionDenied(
                "This application has no responsible user to send invitations in the name of."
            )
        # The service's ValidationError becomes a 400 problem in core.api.errors.
        invitation = services.invitation_create(
            organisation=organisation, invited_by=invited_by, **payload.validated_data
        )
        return Response(InvitationOutputSerializer(invitation).data, status=status.HTTP_201_CREATED)
