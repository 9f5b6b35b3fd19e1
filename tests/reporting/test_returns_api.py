"""The quarterly return API (core/reporting/api/returns.py): scope ``reports:read``, the
application's own ICB only, the figures as JSON from the stored file, the file itself
(recorded as the application's download), and signed-in commissioners and finance
officers reading their ICBs' returns."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
from django.test import Client

from core.models import AuditEvent
from core.reporting import quarterly
from core.reporting.models import QuarterlyReturn, QuarterlyReturnDownload
from tests.api.partners import ALL_SCOPES, assert_problem, bearer_client, request_token
from tests.conftest import staff_user
from tests.factories import PartnerApplicationFactory
from tests.reporting.test_quarterly_data import EXPECTED_NORTH, make_returns_world
from users.models import Role

pytestmark = pytest.mark.django_db

LIST = "/api/v1/quarterly-returns/"
WITHOUT_REPORTS = " ".join(s for s in ALL_SCOPES.split() if s != "reports:read")


@pytest.fixture
def returns(db: Any) -> Any:
    w = make_returns_world()
    quarterly.quarterly_returns_build_due(today=datetime.date(2025, 10, 2))
    w.north_return = QuarterlyReturn.objects.get(icb=w.north)
    w.south_return = QuarterlyReturn.objects.get(icb=w.south)
    return w


def _api(organisation: Any, scopes: str = "reports:read") -> tuple[Any, Client]:
    app = PartnerApplicationFactory(organisation=organisation, scopes=scopes)
    response = request_token(app.client_id)
    assert response.status_code == 200, response.content
    return app, bearer_client(response.json()["access_token"])


def test_an_application_lists_its_own_icbs_returns(returns: Any) -> None:
    _, api = _api(returns.north)

    body = api.get(LIST).json()

    assert [r["id"] for r in body["results"]] == [returns.north_return.pk]
    listed = body["results"][0]
    assert listed["icb_name"] == "North ICB"
    assert listed["icb_code"] == "QN1"
    assert (listed["financial_year"], listed["quarter"], listed["version"]) == (2025, 2, 1)
    assert listed["period"] == "Q2 2025/26 (July to September 2025)"
    assert listed["people_in_quarter"] == EXPECTED_NORTH[("quarter", "all", "all", "all")]
    assert listed["people_year_to_date"] == EXPECTED_NORTH[("year_to_date", "all", "all", "all")]
    assert listed["built_by"] is None
    assert {"next", "previous"} <= set(body)  # cursor pages


def test_the_list_filters_by_quarter(returns: Any) -> None:
    _, api = _api(returns.north)

    assert api.get(LIST, {"quarter": 2}).json()["results"]
    assert api.get(LIST, {"quarter": 3}).json()["results"] == []
    assert api.get(LIST, {"financial_year": 2024}).json()["results"] == []


def test_the_figures_are_the_rows_of_the_stored_file(returns: Any) -> None:
    _, api = _api(returns.north)

    body = api.get(f"{LIST}{returns.north_return.pk}/").json()

    assert len(body["rows"]) == 300
    for row in body["rows"]:
        key = (row["measure"], row["phb_type"], row["management_option"], row["age_group"])
        assert row["people"] == EXPECTED_NORTH.get(key, 0), key
    in_file = list(csv.DictReader(io.StringIO(returns.north_return.csv.lstrip("\ufeff"))))
    assert [r["people"] for r in body["rows"]] == [int(r["people"]) for r in in_file]


def test_the_csv_is_the_stored_file_and_the_download_names_the_application(
    returns: Any,
) -> None:
    app, api = _api(returns.north)

    response = api.get(f"{LIST}{returns.north_return.pk}/csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content == returns.north_return.csv.encode("utf-8")
    download = QuarterlyReturnDownload.objects.get()
    assert download.application == app.name
    assert download.user is None
    event = AuditEvent.objects.get(action="quarterly_return.downloaded")
    assert event.changes == {"application": app.name}
    assert event.organisation_id == returns.north.pk


def test_the_csv_may_be_asked_for_as_text_csv(returns: Any) -> None:
    _, api = _api(returns.north)

    response = api.get(f"{LIST}{returns.north_return.pk}/csv", headers={"Accept": "text/csv"})

    assert response.status_code == 200
    assert response.content == returns.north_return.csv.encode("utf-8")


@pytest.mark.parametrize("suffix", ["", "csv"])
def test_another_icbs_return_is_not_found(returns: Any, suffix: str) -> None:
    _, api = _api(returns.north)

    response = api.get(f"{LIST}{returns.south_return.pk}/{suffix}")

    assert_problem(response, 404)
    assert not QuarterlyReturnDownload.objects.exists()


@pytest.mark.parametrize("suffix", ["", "{pk}/", "{pk}/csv"])
def test_without_the_reports_scope_the_api_refuses(returns: Any, suffix: str) -> None:
    _, api = _api(returns.north, scopes=WITHOUT_REPORTS)

    response = api.get(LIST + suffix.format(pk=returns.north_return.pk))

    assert_problem(response, 403)
    assert not QuarterlyReturnDownload.objects.exists()


def test_an_application_of_a_council_sees_no_returns(returns: Any) -> None:
    _, api = _api(returns.council)

    assert api.get(LIST).json()["results"] == []


def test_a_commissioner_signed_in_reads_their_icbs_returns(returns: Any, client_for: Any) -> None:
    commissioner = staff_user(returns.north, Role.COMMISSIONER)
    client = client_for(commissioner)

    listed = client.get(LIST).json()["results"]
    response = client.get(f"{LIST}{returns.north_return.pk}/csv")

    assert [r["id"] for r in listed] == [returns.north_return.pk]
    assert response.status_code == 200
    assert QuarterlyReturnDownload.objects.get().user == commissioner
    assert_problem(client.get(f"{LIST}{returns.south_return.pk}/"), 404)


def test_a_care_coordinator_signed_in_is_refused(returns: Any, client_for: Any) -> None:
    coordinator = staff_user(returns.north, Role.CARE_COORDINATOR)

    assert_problem(client_for(coordinator).get(LIST), 403)
    assert_problem(client_for(coordinator).get(f"{LIST}{returns.north_return.pk}/csv"), 403)
