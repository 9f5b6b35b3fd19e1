"""Support plans in the admin: read-only, for commissioners of the holder's ICB or
council (and platform admins); opening one is an audit event."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from plans.models import SupportPlan
from tests.conftest import staff_user
from tests.factories import MembershipFactory
from users.models import Role

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:plans_supportplan_changelist"


def listed(response: Any) -> set[Any]:
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


@pytest.fixture
def plans(world: Any) -> dict[str, SupportPlan]:
    today = timezone.localdate()
    return {
        "a": SupportPlan.objects.create(
            holder=world.holder_a,
            budget=world.budget_a,
            created_by=world.staff_x,
            state=SupportPlan.State.SUBMITTED,
            submitted_at=timezone.now(),
            needs_commissioner=True,
            next_review_on=today - datetime.timedelta(days=3),
        ),
        "b": SupportPlan.objects.create(
            holder=world.holder_b,
            budget=world.budget_b,
            created_by=world.staff_y,
            next_review_on=today + datetime.timedelta(days=20),
        ),
    }


def test_a_commissioner_lists_only_the_plans_of_their_organisations_holders(
    world: Any, client_for: Any, plans: dict[str, SupportPlan]
) -> None:
    url = reverse(CHANGELIST)
    assert listed(client_for(world.commissioner).get(url)) == {plans["a"]}
    commissioner_y = staff_user(world.org_y, Role.COMMISSIONER)
    assert listed(client_for(commissioner_y).get(url)) == {plans["b"]}
    assert listed(client_for(world.platform_admin).get(url)) == {plans["a"], plans["b"]}


def test_a_council_commissioner_sees_the_plans_of_integrated_budgets_they_fund(
    world: Any, client_for: Any, plans: dict[str, SupportPlan]
) -> None:
    council = MembershipFactory(role=Role.COMMISSIONER).organisation
    world.holder_b.council = council
    world.holder_b.save(update_fields=["council"])
    commissioner = staff_user(council, Role.COMMISSIONER)
    assert listed(client_for(commissioner).get(reverse(CHANGELIST))) == {plans["b"]}


def test_a_commissioner_who_is_only_a_clinician_elsewhere_does_not_see_those_plans(
    world: Any, client_for: Any, plans: dict[str, SupportPlan]
) -> None:
    MembershipFactory(user=world.commissioner, organisation=world.org_y, role=Role.CLINICIAN)
    assert listed(client_for(world.commissioner).get(reverse(CHANGELIST))) == {plans["a"]}


def test_another_organisations_plan_is_not_found(
    world: Any, client_for: Any, plans: dict[str, SupportPlan]
) -> None:
    url = reverse("admin:plans_supportplan_change", args=[plans["b"].pk])
    assert client_for(world.commissioner).get(url).status_code == 404
    assert not AuditEvent.objects.filter(person=world.holder_b, action="personal_record.viewed")


def test_opening_a_plan_is_audited_and_nothing_can_be_changed(
    world: Any, client_for: Any, plans: dict[str, SupportPlan]
) -> None:
    client = client_for(world.commissioner)
    url = reverse("admin:plans_supportplan_change", args=[plans["a"].pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    event = AuditEvent.objects.get(action="personal_record.viewed", person=world.holder_a)
    assert event.actor == world.commissioner
    assert event.changes == {"page": "admin: support plan"}
    assert client.post(url, {"state": "approved"}).status_code == 403
    assert client.get(reverse("admin:plans_supportplan_add")).status_code == 403
    plans["a"].refresh_from_db()
    assert plans["a"].state == SupportPlan.State.SUBMITTED


def test_plans_are_filtered_by_review_due_and_found_by_nhs_number(
    world: Any, client_for: Any, plans: dict[str, SupportPlan]
) -> None:
    client = client_for(world.platform_admin)
    url = reverse(CHANGELIST)
    assert listed(client.get(url, {"review": "overdue"})) == {plans["a"]}
    assert listed(client.get(url, {"review": "30"})) == {plans["b"]}
    assert listed(client.get(url, {"needs_commissioner__exact": "1"})) == {plans["a"]}
    spaced = world.holder_b.nhs_number_display
    assert listed(client.get(url, {"q": spaced})) == {plans["b"]}
    assert listed(client.get(url, {"q": "Bea"})) == {plans["b"]}


@pytest.mark.parametrize("who", ["finance_officer", "staff_x", "provider_staff"])
def test_plans_are_not_opened_to_other_roles(
    world: Any, client_for: Any, plans: dict[str, SupportPlan], who: str
) -> None:
    assert client_for(getattr(world, who)).get(reverse(CHANGELIST)).status_code == 403
