"""The providers list's "Verify selected providers" action: it asks until when, then
verifies each provider through the marketplace's service (its checks, notifications and
audit events), and names and skips those it must not or cannot verify."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent, Notification
from marketplace.models import Provider
from tests.conftest import staff_user
from tests.factories import MembershipFactory
from tests.marketplace.factories import ProviderFactory
from users.models import Role

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:marketplace_provider_changelist"


def verify(client: Any, providers: list[Provider], **data: str) -> Any:
    return client.post(
        reverse(CHANGELIST),
        {
            "action": "verify_selected",
            "_selected_action": [str(p.pk) for p in providers],
            **data,
        },
    )


def in_months(months: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=30 * months)


def said(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def north(world: Any) -> list[Provider]:
    """Two providers waiting for a check in North ICB's market, each with staff."""
    providers = [
        ProviderFactory(name="Able Assistants", areas=[world.org_x], verification="pending"),
        ProviderFactory(name="Bright Walks", areas=[world.org_x], verification="unverified"),
    ]
    for provider in providers:
        MembershipFactory(organisation=provider.organisation, role=Role.PROVIDER_STAFF)
    return providers


def test_the_action_first_asks_until_when_and_changes_nothing(
    world: Any, client_for: Any, north: list[Provider]
) -> None:
    response = verify(client_for(world.commissioner), north)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Date the verification runs out" in page
    assert "Able Assistants" in page
    assert "Bright Walks" in page
    assert 'name="apply"' in page
    assert set(Provider.objects.values_list("verification", flat=True)) == {
        "pending",
        "unverified",
    }
    assert not AuditEvent.objects.filter(action="provider.verified").exists()


def test_a_commissioner_verifies_providers_in_bulk_through_the_service(
    world: Any, client_for: Any, north: list[Provider]
) -> None:
    until = in_months(12)
    response = verify(
        client_for(world.commissioner), north, apply="yes", expires_on=until.isoformat()
    )
    assert response.status_code == 302
    for provider in north:
        provider.refresh_from_db()
        assert provider.verification == Provider.Verification.VERIFIED
        assert provider.verification_expires_on == until
        assert provider.verified_by == world.commissioner
        event = AuditEvent.objects.get(action="provider.verified", object_id=str(provider.pk))
        assert event.actor == world.commissioner
        assert event.changes["expires_on"] == until.isoformat()
        # The service tells the provider's staff.
        assert Notification.objects.filter(
            user__memberships__organisation=provider.organisation,
            subject=f"{provider.name} is verified",
        ).exists()
    assert any("Able Assistants, Bright Walks" in m for m in said(response))


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("2020-01-01", "must be in the future"),
        ("", "Enter the date the verification runs out"),
        ("far", "as a real date"),
    ],
)
def test_a_date_that_cannot_be_used_is_asked_again_and_nothing_is_verified(
    world: Any, client_for: Any, north: list[Provider], typed: str, error: str
) -> None:
    response = verify(client_for(world.commissioner), north, apply="yes", expires_on=typed)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Provider.objects.filter(verification="verified").exists()
    assert not AuditEvent.objects.filter(action="provider.verified").exists()


def test_a_verification_longer_than_three_years_is_refused(
    world: Any, client_for: Any, north: list[Provider]
) -> None:
    too_far = timezone.localdate() + datetime.timedelta(days=3 * 366 + 1)
    response = verify(
        client_for(world.commissioner), north, apply="yes", expires_on=too_far.isoformat()
    )
    assert "at most 3 years" in response.content.decode()
    assert not Provider.objects.filter(verification="verified").exists()


def test_a_provider_already_verified_for_longer_is_left_as_it_is(
    world: Any, client_for: Any, north: list[Provider]
) -> None:
    longer = in_months(24)
    able = north[0]
    Provider.objects.filter(pk=able.pk).update(
        verification="verified",
        verified_by=world.commissioner,
        verified_at=timezone.now(),
        verification_expires_on=longer,
    )
    response = verify(
        client_for(world.commissioner), north, apply="yes", expires_on=in_months(12).isoformat()
    )
    able.refresh_from_db()
    assert able.verification_expires_on == longer
    assert not AuditEvent.objects.filter(
        action="provider.verified", object_id=str(able.pk)
    ).exists()
    assert AuditEvent.objects.filter(
        action="provider.verified", object_id=str(north[1].pk)
    ).exists()
    assert any("left as they are: Able Assistants" in m for m in said(response))


def test_a_provider_outside_the_commissioners_areas_is_named_and_skipped(
    world: Any, client_for: Any, north: list[Provider]
) -> None:
    """A platform admin sees every provider; where they are also a commissioner they
    may verify those of their own areas, and the service refuses the others."""
    admin = world.platform_admin
    MembershipFactory(user=admin, organisation=world.org_x, role=Role.COMMISSIONER)
    south = ProviderFactory(name="Southern Care", areas=[world.org_y], verification="pending")
    response = verify(
        client_for(admin), [north[0], south], apply="yes", expires_on=in_months(6).isoformat()
    )
    assert response.status_code == 302
    south.refresh_from_db()
    north[0].refresh_from_db()
    assert south.verification == "pending"
    assert north[0].verification == "verified"
    assert not AuditEvent.objects.filter(
        action="provider.verified", object_id=str(south.pk)
    ).exists()
    assert any(
        m.startswith("Southern Care was not verified: only a commissioner") for m in said(response)
    )


def test_a_commissioner_cannot_verify_a_provider_outside_their_market_by_its_id(
    world: Any, client_for: Any, north: list[Provider]
) -> None:
    south = ProviderFactory(name="Southern Care", areas=[world.org_y], verification="pending")
    verify(
        client_for(world.commissioner), [south], apply="yes", expires_on=in_months(6).isoformat()
    )
    south.refresh_from_db()
    assert south.verification == "pending"
    assert not AuditEvent.objects.filter(action="provider.verified").exists()


def test_the_action_is_offered_only_to_commissioners(
    world: Any, client_for: Any, north: list[Provider]
) -> None:
    url = reverse(CHANGELIST)
    assert b"Verify selected providers" in client_for(world.commissioner).get(url).content
    # A platform admin who commissions nowhere could never pass the service's check.
    assert b"Verify selected providers" not in client_for(world.platform_admin).get(url).content
    assert verify(client_for(world.platform_admin), north, apply="yes").status_code == 200
    assert not Provider.objects.filter(verification="verified").exists()


def test_provider_staff_and_finance_officers_never_reach_the_market_screens(
    world: Any, client_for: Any, north: list[Provider]
) -> None:
    staff = staff_user(north[0].organisation, Role.PROVIDER_STAFF)
    for user in (staff, world.provider_staff, world.finance_officer):
        client = client_for(user)
        assert client.get(reverse(CHANGELIST)).status_code == 403
        assert (
            verify(client, north, apply="yes", expires_on=in_months(6).isoformat()).status_code
            == 403
        )
    assert not Provider.objects.filter(verification="verified").exists()
