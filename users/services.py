"""Writes about people, organisations, membership and representation."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from core.services import audit_record, notification_send
from users.models import Invitation, Membership, Organisation, Representation, Role, User


class InvitationError(Exception):
    """An invitation that cannot be used: expired, revoked, used, or for another email."""


class LastAdminError(Exception):
    """An organisation must keep at least one organisation admin."""


def _send_invitation_email(invitation: Invitation) -> None:
    from django.core.mail import send_mail

    link = settings.PHB_SITE_URL.rstrip("/") + reverse(
        "users:invitation_accept", args=[invitation.token]
    )
    send_mail(
        subject=f"{settings.PHB_SERVICE_NAME}: you are invited to {invitation.organisation.name}",
        message=(
            f"{invitation.invited_by.name} has invited you to join {invitation.organisation.name} "
            f"as {invitation.get_role_display().lower()}.\n\nAccept the invitation: {link}\n\n"
            f"The link expires on {timezone.localtime(invitation.expires_at):%d %B %Y}."
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )


@transaction.atomic
def invitation_create(
    *, organisation: Organisation, email: str, role: str, invited_by: Any
) -> Invitation:
    """Invite someone by email to join ``organisation`` with ``role``.

    Raises ValidationError if the person is already a member or already has a pending
    invitation (one at a time, so a role cannot be changed by a second invitation)."""
    email = email.strip().lower()
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise ValidationError({"email": "This person is already a member of the organisation."})
    # Lapsed invitations are revoked so a fresh one can be sent.
    Invitation.objects.filter(
        organisation=organisation,
        email=email,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__lte=timezone.now(),
    ).update(revoked_at=timezone.now())
    pending_message = "This person already has an invitation waiting to be accepted."
    if Invitation.objects.pending().filter(organisation=organisation, email=email).exists():
        raise ValidationError({"email": pending_message})
    invitation = Invitation(
        organisation=organisation,
        email=email,
        role=role,
        invited_by=invited_by,
        expires_at=timezone.now() + settings.INVITATION_VALID_FOR,
    )
    invitation.full_clean(exclude=["token"], validate_constraints=False)
    try:
        # The partial unique index settles a race between two admins inviting at once.
        with transaction.atomic():
            invitation.save()
    except IntegrityError as error:
        raise ValidationError({"email": pending_message}) from error
    audit_record(
        actor=invited_by,
        action="membership.invited",
        obj=invitation,
        organisation=organisation,
        changes={"email": email, "role": role},
    )
    transaction.on_commit(lambda: _send_invitation_email(invitation))
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, revoked_by: Any) -> Invitation:
    updated = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    invitation.refresh_from_db()
    if updated:
        audit_record(
            actor=revoked_by,
            action="membership.invitation_revoked",
            obj=invitation,
            organisation=invitation.organisation,
            changes={"email": invitation.email},
        )
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: Any) -> Membership:
    """Turn an invitation into a membership for ``user``, whose email must match.

    Raises InvitationError for an unknown, expired, revoked or used invitation, or
    for a user signed in with another email address."""
    invitation = (
        Invitation.objects.select_for_update().select_related("organisation").filter(token=token)
    ).first()
    if invitation is None or not invitation.is_pending:
        raise InvitationError("This invitation has expired or has already been used.")
    if invitation.email.lower() != user.email.lower():
        raise InvitationError(
            "This invitation was sent to a different email address. Sign in with that address."
        )
    membership, created = Membership.objects.get_or_create(
        user=user, organisation=invitation.organisation, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit_record(
        actor=user,
        action="membership.joined",
        obj=membership,
        organisation=invitation.organisation,
        changes={"role": membership.role, "invitation": invitation.pk, "created": created},
    )
    return membership


def _lock_organisation_admins(organisation: Organisation) -> int:
    admins = list(
        Membership.objects.select_for_update()
        .filter(organisation=organisation, role=Role.ORGANISATION_ADMIN)
        .values_list("pk", flat=True)
    )
    return len(admins)


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, changed_by: Any) -> Membership:
    """Change a member's role. Raises LastAdminError rather than leave an organisation
    with no admin, and ValidationError for an unknown role."""
    if role not in Role.values:
        raise ValidationError({"role": "Choose a role from the list."})
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == role:
        return membership
    if (
        membership.role == Role.ORGANISATION_ADMIN
        and _lock_organisation_admins(membership.organisation) <= 1
    ):
        raise LastAdminError("The organisation must keep at least one organisation admin.")
    old_role = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        actor=changed_by,
        action="membership.role_changed",
        obj=membership,
        organisation=membership.organisation,
        changes={"user": membership.user.email, "role": [old_role, role]},
    )
    notification_send(
        user=membership.user,
        subject="Your role has changed",
        body=(
            f"Your role at {membership.organisation.name} is now "
            f"{membership.get_role_display().lower()}."
        ),
        link=reverse("home"),
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, removed_by: Any) -> None:
    """Remove someone from an organisation. Raises LastAdminError for the last admin."""
    membership = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
    if (
        membership.role == Role.ORGANISATION_ADMIN
        and _lock_organisation_admins(membership.organisation) <= 1
    ):
        raise LastAdminError("The organisation must keep at least one organisation admin.")
    audit_record(
        actor=removed_by,
        action="membership.removed",
        obj=membership,
        organisation=membership.organisation,
        changes={"user": membership.user.email, "role": membership.role},
    )
    membership.delete()


@transaction.atomic
def representation_create(
    *,
    representative: User,
    holder: Any,
    kind: str,
    scopes: list[str],
    authority: str,
    recorded_by: Any,
    starts_on: datetime.date | None = None,
    ends_on: datetime.date | None = None,
    authority_reference: str = "",
) -> Representation:
    """Record that ``representative`` may act for ``holder`` within ``scopes``.

    Raises ValidationError for unknown scopes, no scopes, or an end before the start."""
    unknown = set(scopes) - set(Representation.Scope.values)
    if not scopes or unknown:
        raise ValidationError({"scopes": "Choose at least one scope from the list."})
    representation = Representation(
        representative=representative,
        holder=holder,
        kind=kind,
        scopes=sorted(set(scopes)),
        authority=authority,
        authority_reference=authority_reference,
        recorded_by=recorded_by,
        starts_on=starts_on or timezone.localdate(),
        ends_on=ends_on,
    )
    representation.full_clean()
    representation.save()
    audit_record(
        actor=recorded_by,
        action="representation.created",
        obj=representation,
        organisation=holder.organisation,
        person=holder,
        changes={
            "representative": representative.email,
            "kind": kind,
            "scopes": representation.scopes,
            "authority": authority,
        },
    )
    return representation
