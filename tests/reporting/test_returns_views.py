"""The quarterly return pages (core/reporting/views_returns.py): the ICB's commissioners
and finance officers see, download and rebuild its returns; another ICB's return is a
404; a care coordinator is refused; every download is recorded and audited; the file is
served exactly as stored."""

from __future__ import annotations

import datetime
import threading
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse

from budgets.models import Budget
from core.models import AuditEvent
from core.reporting import quarterly
from core.reporting.models import QuarterlyReturn, QuarterlyReturnDownload
from tests.conftest import staff_user
from tests.reporting.test_quarterly_data import make_returns_world
from users.models import Role

pytestmark = pytest.mark.django_db

BUILT_ON = datetime.date(2025, 10, 2)  # Q2 2025/26 is the last completed quarter


@pytest.fixture
def returns(db: Any) -> Any:
    w = make_returns_world()
    quarterly.quarterly_returns_build_due(today=BUILT_ON)
    w.commissioner = staff_user(w.north, Role.COMMISSIONER)
    w.finance = staff_user(w.north, Role.FINANCE_OFFICER)
    w.coordinator = staff_user(w.north, Role.CARE_COORDINATOR)
    w.south_commissioner = staff_user(w.south, Role.COMMISSIONER)
    w.north_return = QuarterlyReturn.objects.get(icb=w.north)
    w.south_return = QuarterlyReturn.objects.get(icb=w.south)
    return w


def test_the_list_shows_the_users_icbs_returns_only(returns: Any, client_for: Any) -> None:
    response = client_for(returns.commissioner).get(reverse("reporting:return_list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Q2 2025/26 (July to September 2025)" in html
    assert "North ICB" in html
    assert "South ICB" not in html
    assert reverse("reporting:return_download", args=[returns.north_return.pk]) in html
    assert reverse("reporting:return_detail", args=[returns.south_return.pk]) not in html
    assert "Built automatically" in html
    assert "Not yet downloaded" in html


def test_the_detail_page_shows_the_figures_from_the_file(returns: Any, client_for: Any) -> None:
    response = client_for(returns.finance).get(
        reverse("reporting:return_detail", args=[returns.north_return.pk])
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Quarterly PHB return: Q2 2025/26 (July to September 2025)" in html
    assert "In the quarter: people by type" in html
    assert "Year to date: people by management option" in html
    assert "Nobody has downloaded this version yet." in html


@pytest.mark.parametrize("name", ["return_detail", "return_download"])
def test_another_icbs_return_is_not_found(returns: Any, client_for: Any, name: str) -> None:
    response = client_for(returns.commissioner).get(
        reverse(f"reporting:{name}", args=[returns.south_return.pk])
    )

    assert response.status_code == 404
    assert not QuarterlyReturnDownload.objects.exists()


def test_another_icbs_return_cannot_be_rebuilt(returns: Any, client_for: Any) -> None:
    response = client_for(returns.commissioner).post(
        reverse("reporting:return_rebuild", args=[returns.south_return.pk])
    )

    assert response.status_code == 404
    assert QuarterlyReturn.objects.filter(icb=returns.south).count() == 1


@pytest.mark.parametrize("name", ["return_list", "return_detail", "return_download"])
def test_a_care_coordinator_is_refused(returns: Any, client_for: Any, name: str) -> None:
    args = [] if name == "return_list" else [returns.north_return.pk]

    response = client_for(returns.coordinator).get(reverse(f"reporting:{name}", args=args))

    assert response.status_code == 403
    assert not QuarterlyReturnDownload.objects.exists()


def test_a_download_is_the_stored_file_and_is_recorded(returns: Any, client_for: Any) -> None:
    stored = returns.north_return.csv

    response = client_for(returns.finance).get(
        reverse("reporting:return_download", args=[returns.north_return.pk])
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="phb-return-qn1-2025-q2-v1-'
        f'{returns.north_return.built_at.date().isoformat()}.csv"'
    )
    assert response.content == stored.encode("utf-8")
    download = QuarterlyReturnDownload.objects.get()
    assert download.user == returns.finance
    assert download.quarterly_return == returns.north_return
    assert download.application == ""
    event = AuditEvent.objects.get(action="quarterly_return.downloaded")
    assert event.actor == returns.finance
    assert event.organisation_id == returns.north.pk
    assert event.object_id == str(returns.north_return.pk)

    # Who downloaded it and when shows on both pages.
    listing = client_for(returns.commissioner).get(reverse("reporting:return_list"))
    assert returns.finance.name in listing.content.decode()
    detail = client_for(returns.commissioner).get(
        reverse("reporting:return_detail", args=[returns.north_return.pk])
    )
    assert returns.finance.name in detail.content.decode()


def test_a_download_serves_the_stored_file_even_after_the_records_change(
    returns: Any, client_for: Any
) -> None:
    QuarterlyReturn.objects.filter(pk=returns.north_return.pk).update(csv="\ufeffas,stored\r\n")

    response = client_for(returns.finance).get(
        reverse("reporting:return_download", args=[returns.north_return.pk])
    )

    assert response.content == "\ufeffas,stored\r\n".encode()


def test_a_rebuild_makes_version_2_and_keeps_version_1(returns: Any, client_for: Any) -> None:
    first = returns.north_return
    # A late change: Eve's budget was in fact closed before the year began, so she
    # drops out of both measures in version 2.
    Budget.objects.filter(holder=returns.people["Eve"]).update(
        state=Budget.State.CLOSED, ended_on=datetime.date(2025, 3, 1)
    )

    client = client_for(returns.commissioner)
    response = client.post(reverse("reporting:return_rebuild", args=[first.pk]))

    second = QuarterlyReturn.objects.get(icb=returns.north, version=2)
    assert response.status_code == 302
    assert response["Location"] == reverse("reporting:return_detail", args=[second.pk])
    assert (second.financial_year, second.quarter) == (2025, 2)
    assert second.built_by == returns.commissioner
    assert second.people_in_quarter == first.people_in_quarter - 1
    kept = QuarterlyReturn.objects.get(pk=first.pk)
    assert kept.version == 1
    assert kept.csv == first.csv
    assert kept.people_in_quarter == first.people_in_quarter
    event = AuditEvent.objects.get(action="quarterly_return.built", object_id=str(second.pk))
    assert event.actor == returns.commissioner
    assert event.changes["version"] == 2
    page = client.get(response["Location"]).content.decode()
    assert "Version 2 of the Q2 2025/26 (July to September 2025) return has been built" in page
    assert "Versions of this return" in page


def test_rebuilding_an_old_version_makes_the_next_version(returns: Any, client_for: Any) -> None:
    first = returns.north_return
    client = client_for(returns.finance)
    client.post(reverse("reporting:return_rebuild", args=[first.pk]))

    client.post(reverse("reporting:return_rebuild", args=[first.pk]))

    versions = QuarterlyReturn.objects.filter(icb=returns.north).values_list("version", flat=True)
    assert sorted(versions) == [1, 2, 3]


def test_a_rebuild_is_a_post(returns: Any, client_for: Any) -> None:
    response = client_for(returns.commissioner).get(
        reverse("reporting:return_rebuild", args=[returns.north_return.pk])
    )

    assert response.status_code == 405
    assert QuarterlyReturn.objects.filter(icb=returns.north).count() == 1


def test_the_rebuild_service_refuses_someone_who_is_not_the_icbs(returns: Any) -> None:
    with pytest.raises(PermissionError):
        quarterly.quarterly_return_rebuild(
            quarterly_return=returns.north_return, by=returns.south_commissioner
        )
    with pytest.raises(PermissionError):
        quarterly.quarterly_return_rebuild(
            quarterly_return=returns.north_return, by=returns.coordinator
        )
    assert QuarterlyReturn.objects.filter(icb=returns.north).count() == 1


def test_the_list_says_when_there_are_no_returns_yet(client_for: Any, db: Any) -> None:
    w = make_returns_world()
    commissioner = staff_user(w.north, Role.COMMISSIONER)

    response = client_for(commissioner).get(reverse("reporting:return_list"))

    assert response.status_code == 200
    assert "There are no returns yet." in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_rebuilds_at_once_make_versions_2_and_3() -> None:
    w = make_returns_world()
    quarterly.quarterly_returns_build_due(today=BUILT_ON)
    first = QuarterlyReturn.objects.get(icb=w.north)
    people = [staff_user(w.north, Role.COMMISSIONER), staff_user(w.north, Role.FINANCE_OFFICER)]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def rebuild(by: Any) -> None:
        try:
            start.wait(timeout=30)
            quarterly.quarterly_return_rebuild(quarterly_return=first, by=by)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=rebuild, args=[p]) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    versions = QuarterlyReturn.objects.filter(icb=w.north).values_list("version", flat=True)
    assert sorted(versions) == [1, 2, 3]
