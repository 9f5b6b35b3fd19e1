"""The dashboard API (``/api/v1/dashboard/``): the same figures as the page for the
caller's organisation(s), worked out straight from the records to compare; filters
validated (400 problem+json); another organisation refused; the reports:read scope."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from core.reporting.dashboard import DashboardFilters
from core.reporting.periods import Period
from tests.api.partners import assert_problem, bearer_client, request_token
from tests.factories import MembershipFactory, PartnerApplicationFactory, with_mfa
from tests.reporting.test_dashboard_figures import TODAY, Expected
from tests.reporting.test_dashboard_figures import ds as ds
from users.models import Role

pytestmark = pytest.mark.django_db

URL = "/api/v1/dashboard/"


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(with_mfa(user), backend="django.contrib.auth.backends.ModelBackend")
    return client


def app_client(organisation: Any, scopes: str) -> Client:
    app = PartnerApplicationFactory(organisation=organisation, scopes=scopes)
    response = request_token(app.client_id)
    assert response.status_code == 200, response.content
    return bearer_client(response.json()["access_token"])


def _expected_people(org: Any, f: DashboardFilters) -> dict[str, int]:
    return dict(Expected(TODAY).people(org.pk, f)["total"])


@pytest.mark.parametrize("org_key", ["icb_a", "council", "icb_b"])
def test_an_application_reads_its_organisations_figures(ds, org_key) -> None:
    data, _run = ds
    org = data.organisations[org_key]
    body = app_client(org, "reports:read").get(URL, {"period": "2026", "route": "chc"}).json()
    f = DashboardFilters(period=Period.parse("2026"), route="chc")
    expected = Expected(TODAY)
    people = expected.people(org.pk, f)["total"]
    assert body["organisations"] == [org.pk]
    assert body["filters"]["route"] == "chc"
    for name in ("in_period", "at_end", "active_now", "new", "ended", "integrated"):
        assert body["people"]["total"][name] == people[name], name
    money = expected.money(org.pk, f)
    assert body["money"]["own"]["spent_pence"] == sum(m["spent_pence"] for m in money.values())
    assert body["money"]["own"]["unspent_pence"] == sum(
        m["paid_in_pence"] - m["spent_pence"] + m["refunded_pence"] - m["recovered_pence"]
        for m in money.values()
    )
    assert body["money"]["flags"] == dict(expected.flags(org.pk, f))
    assert body["plans"]["reviews_overdue"] == expected.plans(org.pk, f)["overdue"]
    assert body["as_of"] is not None
    # Outcome figures come from the outcome reports, suppressed: no area has a count
    # under 5 (the data set has no survey answers, so every area is hidden).
    for area in body["outcomes"]["areas"]:
        assert area["suppressed"] or area["n"] >= 5


def test_a_commissioner_signed_in_reads_the_same_figures_as_the_page(ds) -> None:
    data, _run = ds
    user = data.users["commissioner_c"]
    body = signed_in(user).get(URL, {"period": "2026Q2"}).json()
    expected = _expected_people(data.council, DashboardFilters(period=Period.parse("2026Q2")))
    assert body["people"]["total"]["in_period"] == expected["in_period"]
    assert body["organisations"] == [data.council.pk]


def test_the_combined_view_adds_up_each_organisations_figures(ds) -> None:
    data, _run = ds
    user = data.users["commissioner_a"]
    MembershipFactory(user=user, organisation=data.council, role=Role.FINANCE_OFFICER)
    body = signed_in(user).get(URL, {"organisation": "all"}).json()
    f = DashboardFilters(period=Period.parse("2026"))
    both = [_expected_people(o, f) for o in (data.icb_a, data.council)]
    assert body["combined"] is True
    assert sorted(body["organisations"]) == sorted([data.icb_a.pk, data.council.pk])
    assert body["people"]["total"]["in_period"] == sum(p["in_period"] for p in both)
    expected = Expected(TODAY)
    own = sum(
        m["spent_pence"]
        for o in (data.icb_a, data.council)
        for m in expected.money(o.pk, f).values()
    )
    assert body["money"]["own"]["spent_pence"] == own
    # Medians cannot be added up: left out of the combined view.
    assert all(w["median_days"] is None for w in body["plans"]["waiting"].values())


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"period": "2019"}, "period"),
        ({"period": "soon"}, "period"),
        ({"route": "nonsense"}, "route"),
        ({"option": "cash"}, "option"),
        ({"stream": "lottery"}, "stream"),
        ({"area": "ZZ"}, "area"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_filter_is_a_400_problem(ds, query, field) -> None:
    data, _run = ds
    response = app_client(data.icb_a, "reports:read").get(URL, query)
    body = assert_problem(response, 400)
    assert field in str(body)


def test_another_organisation_is_refused(ds) -> None:
    data, _run = ds
    response = app_client(data.icb_a, "reports:read").get(URL, {"organisation": data.icb_b.pk})
    assert_problem(response, 400)
    response = signed_in(data.users["finance_b"]).get(URL, {"organisation": data.icb_a.pk})
    assert_problem(response, 400)


def test_an_application_without_the_scope_is_refused(ds) -> None:
    data, _run = ds
    response = app_client(data.icb_a, "outcomes:read").get(URL)
    assert response.status_code == 403


def test_care_coordinators_are_refused(ds) -> None:
    data, _run = ds
    coordinator = MembershipFactory(organisation=data.icb_a, role=Role.CARE_COORDINATOR).user
    assert signed_in(coordinator).get(URL).status_code == 403
    planner = data.users["planner_a"]
    assert signed_in(planner).get(URL).status_code == 403
