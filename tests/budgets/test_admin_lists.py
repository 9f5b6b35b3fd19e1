"""The budgets lists a finance officer works from: flags with the holder, NHS number and
ICB, filtered by state, kind and organisation (their own organisations only)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from budgets.models import MonitoringFlag

pytestmark = pytest.mark.django_db

FLAGS = "admin:budgets_monitoringflag_changelist"


def listed(response: Any) -> set[Any]:
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


@pytest.fixture
def flags(world: Any) -> dict[str, MonitoringFlag]:
    return {
        "surplus_a": MonitoringFlag.objects.create(
            budget=world.budget_a, kind=MonitoringFlag.Kind.SURPLUS
        ),
        "quiet_a": MonitoringFlag.objects.create(
            budget=world.budget_a,
            kind=MonitoringFlag.Kind.NO_SPENDING,
            state=MonitoringFlag.State.ACKNOWLEDGED,
        ),
        "surplus_b": MonitoringFlag.objects.create(
            budget=world.budget_b, kind=MonitoringFlag.Kind.SURPLUS
        ),
    }


def test_the_flag_list_shows_holder_nhs_number_and_icb(
    world: Any, client_for: Any, flags: dict[str, MonitoringFlag]
) -> None:
    response = client_for(world.finance_officer).get(reverse(FLAGS))
    assert listed(response) == {flags["surplus_a"], flags["quiet_a"]}
    page = response.content.decode()
    for text in ("ICB or council", "NHS number", "North ICB", world.holder_a.nhs_number_display):
        assert text in page
    assert world.holder_b.name not in page


def test_flags_are_filtered_by_state_kind_and_organisation(
    world: Any, client_for: Any, flags: dict[str, MonitoringFlag]
) -> None:
    client = client_for(world.platform_admin)
    url = reverse(FLAGS)
    assert listed(client.get(url, {"state__exact": "open"})) == {
        flags["surplus_a"],
        flags["surplus_b"],
    }
    assert listed(client.get(url, {"kind__exact": "no_spending"})) == {flags["quiet_a"]}
    by_org = {"budget__holder__organisation__id__exact": str(world.org_y.pk)}
    assert listed(client.get(url, by_org)) == {flags["surplus_b"]}


def test_the_organisation_filter_offers_only_the_finance_officers_organisations(
    world: Any, client_for: Any, flags: dict[str, MonitoringFlag]
) -> None:
    page = client_for(world.finance_officer).get(reverse(FLAGS)).content.decode()
    assert "North ICB" in page
    assert "South ICB" not in page


def test_flags_are_listed_by_raised_date(
    world: Any, client_for: Any, flags: dict[str, MonitoringFlag]
) -> None:
    raised = flags["surplus_a"].raised_at
    response = client_for(world.finance_officer).get(
        reverse(FLAGS), {"raised_at__year": str(raised.year)}
    )
    assert listed(response) == {flags["surplus_a"], flags["quiet_a"]}
    next_year = client_for(world.finance_officer).get(
        reverse(FLAGS), {"raised_at__year": str(raised.year + 1)}
    )
    assert listed(next_year) == set()


@pytest.mark.parametrize(
    "query",
    [
        {"in_place": "not-a-day"},
        {"in_place": "2026-06-30/2026-04-01"},  # ends before it starts
        {"first_began": "2026-13-01/2026-14-01"},
        {"ended": "yesterday"},
        {"age_on": "elders:2026-03-31"},
        {"area": "L5"},
        {"managed": "somehow"},
        {"funders": "many"},
    ],
)
def test_a_malformed_dashboard_filter_is_not_applied_and_not_shown_as_applied(
    world: Any, client_for: Any, query: dict[str, str]
) -> None:
    """The dashboard writes these values; one typed wrong by hand narrows nothing, and
    the sidebar shows no such filter in use (so the list is not mistaken for a
    narrowed one), never a server error."""
    client = client_for(world.finance_officer)
    url = reverse("admin:budgets_budget_changelist")
    everything = listed(client.get(url))
    response = client.get(url, query)
    assert listed(response) == everything
    page = response.content.decode()
    for title in ("By in place", "By holder&#x27;s first budget began", "By ended", "By age"):
        assert title not in page
