"""Organisation admins manage their members; anyone invited accepts an invitation."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.services import audit_record
from users import services
from users.forms import InvitationForm, RoleForm
from users.models import Invitation, Organisation, Role


def _administered(request: HttpRequest, organisation_id: int) -> Organisation:
    """The organisation, if the user is its admin; otherwise 404 (never a hint)."""
    return get_object_or_404(
        Organisation.objects.filter(
            memberships__user=request.user, memberships__role=Role.ORGANISATION_ADMIN
        ),
        pk=organisation_id,
    )


def member_list(request: HttpRequest, organisation_id: int) -> HttpResponse:
    organisation = _administered(request, organisation_id)
    members = organisation.memberships.select_related("user").order_by("user__name")
    invitations = organisation.invitations.pending().select_related("invited_by")
    return render(
        request,
        "users/member_list.html",
        {"organisation": organisation, "members": members, "invitations": invitations},
    )


def member_invite(request: HttpRequest, organisation_id: int) -> HttpResponse:
    organisation = _administered(request, organisation_id)
    form = InvitationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_create(
                organisation=organisation,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("users:member_list", organisation.pk)
    return render(request, "users/member_invite.html", {"organisation": organisation, "form": form})


def member_change(request: HttpRequest, organisation_id: int, membership_id: int) -> HttpResponse:
    organisation = _administered(request, organisation_id)
    membership = get_object_or_404(
        organisation.memberships.select_related("user"), pk=membership_id
    )
    form = RoleForm(
        request.POST if request.method == "POST" else None, initial={"role": membership.role}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_change_role(
                membership=membership, role=form.cleaned_data["role"], changed_by=request.user
            )
        except services.LastAdminError as error:
            form.add_error("role", str(error))
        else:
            messages.success(request, f"{membership.user.name}'s role has been changed.")
            return redirect("users:member_list", organisation.pk)
    else:
        audit_record(
            actor=request.user,
            action="personal_record.viewed",
            obj=membership,
            organisation=organisation,
            changes={"page": "member", "user": membership.user.email},
        )
    return render(
        request,
        "users/member_change.html",
        {"organisation": organisation, "membership": membership, "form": form},
    )


def member_remove(request: HttpRequest, organisation_id: int, membership_id: int) -> HttpResponse:
    organisation = _administered(request, organisation_id)
    membership = get_object_or_404(
        organisation.memberships.select_related("user"), pk=membership_id
    )
    error = None
    if request.method == "POST":
        try:
            services.membership_remove(membership=membership, removed_by=request.user)
        except services.LastAdminError as exc:
            error = str(exc)
        else:
            messages.success(request, f"{membership.user.name} has been removed.")
            return redirect("users:member_list", organisation.pk)
    return render(
        request,
        "users/member_remove.html",
        {"organisation": organisation, "membership": membership, "error": error},
        status=409 if error else 200,
    )


@require_POST
def invitation_revoke(
    request: HttpRequest, organisation_id: int, invitation_id: int
) -> HttpResponse:
    organisation = _administered(request, organisation_id)
    invitation = get_object_or_404(organisation.invitations.all(), pk=invitation_id)
    services.invitation_revoke(invitation=invitation, revoked_by=request.user)
    messages.success(request, f"The invitation to {invitation.email} has been withdrawn.")
    return redirect("users:member_list", organisation.pk)


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Anyone with the link may open it. Signed out: we remember the invitation so that
    sign-up is open to them, and offer sign-in or account creation. Signed in: accept."""
    invitation = Invitation.objects.select_related("organisation").filter(token=token).first()
    if invitation is None or not invitation.is_pending:
        return render(request, "users/invitation_invalid.html", status=404)
    if not request.user.is_authenticated:
        request.session["invitation_token"] = token
        # The link came to this address, so it is proven: sign-up need not re-verify it.
        get_adapter(request).stash_verified_email(request, invitation.email)
        return render(
            request,
            "users/invitation_signed_out.html",
            {"invitation": invitation, "next": reverse("users:invitation_accept", args=[token])},
        )
    error = None
    if request.method == "POST":
        try:
            membership = services.invitation_accept(token=token, user=request.user)
        except services.InvitationError as exc:
            error = str(exc)
        else:
            request.session.pop("invitation_token", None)
            messages.success(
                request,
                f"You have joined {membership.organisation.name} as "
                f"{membership.get_role_display().lower()}.",
            )
            return redirect("home")
    return render(
        request,
        "users/invitation_accept.html",
        {"invitation": invitation, "error": error},
        status=409 if error else 200,
    )
