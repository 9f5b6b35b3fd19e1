from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import AuditEvent, Notification
from tests.factories import InvitationFactory, MembershipFactory, UserFactory
from users import services
from users.models import Invitation, Membership, Representation, Role

pytestmark = pytest.mark.django_db


def test_an_invitation_is_emailed_with_its_link_after_commit(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invitation_create(
            organisation=world.org_x,
            email="New.Person@Example.test",
            role=Role.CLINICIAN,
            invited_by=world.org_admin_x,
        )
    assert invitation.email == "new.person@example.test"
    assert len(mail.outbox) == 1
    assert f"/invitations/{invitation.token}/" in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="membership.invited", organisation=world.org_x).exists()


def test_a_second_pending_invitation_for_the_same_email_is_refused(world: Any) -> None:
    kwargs = {"organisation": world.org_x, "role": Role.CLINICIAN, "invited_by": world.org_admin_x}
    services.invitation_create(email="twice@example.test", **kwargs)
    with pytest.raises(ValidationError, match="already has an invitation"):
        services.invitation_create(email="TWICE@example.test", **kwargs)
    assert Invitation.objects.filter(email="twice@example.test").count() == 1


def test_an_existing_member_cannot_be_invited_again(world: Any) -> None:
    with pytest.raises(ValidationError, match="already a member"):
        services.invitation_create(
            organisation=world.org_x,
            email=world.staff_x.email,
            role=Role.CLINICIAN,
            invited_by=world.org_admin_x,
        )


def test_an_expired_invitation_can_be_replaced_by_a_new_one(world: Any) -> None:
    old = InvitationFactory(
        organisation=world.org_x,
        email="late@example.test",
        expires_at=timezone.now() - datetime.timedelta(days=1),
    )
    new = services.invitation_create(
        organisation=world.org_x,
        email="late@example.test",
        role=Role.CLINICIAN,
        invited_by=world.org_admin_x,
    )
    old.refresh_from_db()
    assert old.revoked_at is not None
    assert new.is_pending


def test_accepting_an_invitation_makes_a_membership_once(world: Any) -> None:
    user = UserFactory(email="joiner@example.test")
    invitation = InvitationFactory(organisation=world.org_x, email=user.email, role=Role.CLINICIAN)
    membership = services.invitation_accept(token=invitation.token, user=user)
    assert (membership.organisation, membership.role) == (world.org_x, Role.CLINICIAN)
    with pytest.raises(services.InvitationError, match="already been used"):
        services.invitation_accept(token=invitation.token, user=user)
    assert Membership.objects.filter(user=user).count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"expires_at": timezone.now() - datetime.timedelta(minutes=1)},
        {"revoked_at": timezone.now()},
    ],
)
def test_an_expired_or_withdrawn_invitation_cannot_be_accepted(
    world: Any, change: dict[str, Any]
) -> None:
    user = UserFactory()
    invitation = InvitationFactory(organisation=world.org_x, email=user.email, **change)
    with pytest.raises(services.InvitationError):
        services.invitation_accept(token=invitation.token, user=user)
    assert not Membership.objects.filter(user=user).exists()


def test_an_invitation_cannot_be_accepted_by_someone_else(world: Any) -> None:
    invitation = InvitationFactory(organisation=world.org_x, email="meant@example.test")
    with pytest.raises(services.InvitationError, match="different email"):
        services.invitation_accept(token=invitation.token, user=world.holder_b.user)
    assert not world.holder_b.user.memberships.exists()


def test_changing_a_role_is_audited_and_the_person_is_told(world: Any) -> None:
    membership = world.staff_x.memberships.get()
    services.membership_change_role(
        membership=membership, role=Role.CLINICIAN, changed_by=world.org_admin_x
    )
    membership.refresh_from_db()
    assert membership.role == Role.CLINICIAN
    event = AuditEvent.objects.get(action="membership.role_changed")
    assert event.changes["role"] == [Role.CARE_COORDINATOR, Role.CLINICIAN]
    assert Notification.objects.filter(user=world.staff_x, subject="Your role has changed").exists()


def test_an_unknown_role_is_refused(world: Any) -> None:
    membership = world.staff_x.memberships.get()
    with pytest.raises(ValidationError):
        services.membership_change_role(
            membership=membership, role="chief_wizard", changed_by=world.org_admin_x
        )
    membership.refresh_from_db()
    assert membership.role == Role.CARE_COORDINATOR


def test_the_last_admin_cannot_be_demoted_or_removed(world: Any) -> None:
    admin = world.org_admin_x.memberships.get()
    with pytest.raises(services.LastAdminError):
        services.membership_change_role(
            membership=admin, role=Role.CLINICIAN, changed_by=world.org_admin_x
        )
    with pytest.raises(services.LastAdminError):
        services.membership_remove(membership=admin, removed_by=world.org_admin_x)
    assert Membership.objects.filter(pk=admin.pk, role=Role.ORGANISATION_ADMIN).exists()


def test_an_admin_can_be_removed_while_another_remains(world: Any) -> None:
    MembershipFactory(organisation=world.org_x, role=Role.ORGANISATION_ADMIN)
    admin = world.org_admin_x.memberships.get()
    services.membership_remove(membership=admin, removed_by=world.org_admin_x)
    assert not Membership.objects.filter(pk=admin.pk).exists()
    assert AuditEvent.objects.filter(action="membership.removed").exists()


def test_a_representation_records_scope_authority_and_is_audited(world: Any) -> None:
    carer = UserFactory()
    representation = services.representation_create(
        representative=carer,
        holder=world.holder_a,
        kind=Representation.Kind.DEPUTY_OR_ATTORNEY,
        scopes=["manage_money", "view", "view"],
        authority=Representation.AuthorityRecord.LASTING_POWER_OF_ATTORNEY,
        authority_reference="LPA 12345",
        recorded_by=world.staff_x,
    )
    assert representation.scopes == ["manage_money", "view"]
    assert representation.allows("manage_money")
    assert not representation.allows("manage_plan")
    event = AuditEvent.objects.get(action="representation.created")
    assert event.person == world.holder_a


@pytest.mark.parametrize(
    "bad",
    [
        {"scopes": []},
        {"scopes": ["be_in_charge"]},
        {"starts_on": datetime.date(2026, 5, 2), "ends_on": datetime.date(2026, 5, 1)},
    ],
)
def test_a_representation_with_bad_details_is_refused_and_nothing_is_saved(
    world: Any, bad: dict[str, Any]
) -> None:
    kwargs = {
        "representative": UserFactory(),
        "holder": world.holder_a,
        "kind": Representation.Kind.NOMINEE,
        "scopes": ["view"],
        "authority": Representation.AuthorityRecord.HOLDER_CONSENT,
        "recorded_by": world.staff_x,
        **bad,
    }
    before = Representation.objects.count()
    with pytest.raises(ValidationError):
        services.representation_create(**kwargs)
    assert Representation.objects.count() == before


def test_an_ended_representation_no_longer_grants_access(world: Any) -> None:
    from budgets.models import BudgetHolder

    Representation.objects.filter(representative=world.representative).update(
        ends_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert not BudgetHolder.objects.for_user(world.representative).exists()
