"""The commissioner's spend target: set through an audited service, by a commissioner of
the organisation only; bad input gets a clear message and changes nothing."""

from __future__ import annotations

import html

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent
from core.reporting.models import SpendTarget
from core.reporting.targets import spend_target_set

pytestmark = pytest.mark.django_db


def test_a_commissioner_sets_and_changes_the_target_with_an_audit_trail(world) -> None:
    target = spend_target_set(
        user=world.commissioner,
        organisation_id=world.org_x.pk,
        financial_year=2026,
        relevant_spend_pence=25_000_000_00,
        target_basis_points=1250,
    )
    assert (target.relevant_spend_pence, target.target_basis_points) == (25_000_000_00, 1250)
    spend_target_set(
        user=world.commissioner,
        organisation_id=world.org_x.pk,
        financial_year=2026,
        relevant_spend_pence=30_000_000_00,
        target_basis_points=1500,
    )
    assert SpendTarget.objects.get().target_basis_points == 1500
    events = AuditEvent.objects.filter(action="spend_target.set").order_by("pk")
    assert events.count() == 2
    assert events.last().changes["before"] == {
        "relevant_spend_pence": 25_000_000_00,
        "target_basis_points": 1250,
    }
    assert events.last().organisation_id == world.org_x.pk


@pytest.mark.parametrize("who", ["finance_officer", "staff_x", "staff_y"])
def test_only_a_commissioner_of_the_organisation_may_set_it(world, who) -> None:
    with pytest.raises(PermissionDenied):
        spend_target_set(
            user=getattr(world, who),
            organisation_id=world.org_x.pk,
            financial_year=2026,
            relevant_spend_pence=100,
            target_basis_points=100,
        )
    assert not SpendTarget.objects.exists()


@pytest.mark.parametrize(
    ("spend", "points"), [(0, 1000), (-5, 1000), (100_00, 10001), (100_00, -1)]
)
def test_bad_figures_are_refused_and_change_nothing(world, spend, points) -> None:
    with pytest.raises(ValidationError):
        spend_target_set(
            user=world.commissioner,
            organisation_id=world.org_x.pk,
            financial_year=2026,
            relevant_spend_pence=spend,
            target_basis_points=points,
        )
    assert not SpendTarget.objects.exists()
    assert not AuditEvent.objects.filter(action="spend_target.set").exists()


def test_the_page_saves_a_target_and_goes_back_to_the_dashboard(world, client_for) -> None:
    response = client_for(world.commissioner).post(
        "/dashboard/target/",
        {
            "organisation": world.org_x.pk,
            "year": "2026",
            "relevant_spend": "£25,000,000",
            "target_percent": "12.5%",
        },
    )
    assert response.status_code == 302
    assert f"organisation={world.org_x.pk}" in response["Location"]
    target = SpendTarget.objects.get()
    assert (target.financial_year, target.relevant_spend_pence) == (2026, 25_000_000_00)
    assert target.target_basis_points == 1250


@pytest.mark.parametrize(
    ("spend", "percent", "message"),
    [
        ("", "12", "Enter the organisation's relevant spend for the year"),
        ("25 million", "12", "Enter the relevant spend in pounds"),
        ("0", "12", "The relevant spend must be more than £0"),
        ("1000", "", "Enter the target share as a percentage"),
        ("1000", "101", "The target must be 100% or less"),
        ("1000", "twelve", "Enter the target as a percentage, like 12 or 12.5"),
        ("1000", "-3", "Enter the target as a percentage, like 12 or 12.5"),
    ],
)
def test_the_page_shows_a_clear_error_and_saves_nothing(
    world, client_for, spend, percent, message
) -> None:
    response = client_for(world.commissioner).post(
        "/dashboard/target/",
        {
            "organisation": world.org_x.pk,
            "year": "2026",
            "relevant_spend": spend,
            "target_percent": percent,
        },
    )
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert "Error: " in page.split("</title>")[0]
    assert message in page
    assert not SpendTarget.objects.exists()


def test_another_organisation_is_not_found(world, client_for) -> None:
    response = client_for(world.commissioner).get(
        f"/dashboard/target/?organisation={world.org_y.pk}"
    )
    assert response.status_code == 404
    response = client_for(world.commissioner).post(
        "/dashboard/target/",
        {"organisation": world.org_y.pk, "relevant_spend": "100", "target_percent": "5"},
    )
    assert response.status_code == 404
    assert not SpendTarget.objects.exists()


def test_a_finance_officer_cannot_open_the_target_page(world, client_for) -> None:
    assert client_for(world.finance_officer).get("/dashboard/target/").status_code == 403
