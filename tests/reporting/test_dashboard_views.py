"""The dashboard page: who may see it, which organisation's figures, the filters, the
message before the first snapshot, refreshing, and a fixed number of queries."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from core.reporting.models import PeopleSnapshot, SnapshotRun

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 8, 15)


def finished_run(today: datetime.date = TODAY) -> SnapshotRun:
    now = timezone.now()
    return SnapshotRun.objects.create(
        status=SnapshotRun.Status.DONE,
        trigger=SnapshotRun.Trigger.SCHEDULED,
        as_of=now,
        today=today,
        finished_at=now,
    )


def people_row(org: Any, **values: Any) -> PeopleSnapshot:
    fields = {
        "period": "2026",
        "route": "chc",
        "option": "notional",
        "area": "LS",
        "child": False,
        "stream": "",
    }
    fields.update(values)
    return PeopleSnapshot.objects.create(organisation=org, **fields)


def test_a_commissioner_sees_their_organisations_dashboard(world, client_for) -> None:
    finished_run()
    people_row(world.org_x, in_period=7, at_end=6, active_now=6, new=2)
    people_row(world.org_y, in_period=50, at_end=50)
    response = client_for(world.commissioner).get("/dashboard/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Dashboard: North ICB" in page
    assert ">7<" in page
    assert ">50<" not in page


def test_before_the_first_snapshot_the_page_says_there_are_no_figures(world, client_for) -> None:
    response = client_for(world.finance_officer).get("/dashboard/")
    assert response.status_code == 200
    assert "No figures yet" in response.content.decode()


def test_another_organisation_is_not_found(world, client_for) -> None:
    finished_run()
    response = client_for(world.commissioner).get(f"/dashboard/?organisation={world.org_y.pk}")
    assert response.status_code == 404


@pytest.mark.parametrize("who", ["staff_x", "holder_a"])
def test_care_coordinators_and_holders_are_refused(world, client_for, who) -> None:
    user = world.users()[who]
    assert client_for(user).get("/dashboard/").status_code == 403


def test_the_target_form_page_opens_for_a_commissioner(world, client_for) -> None:
    response = client_for(world.commissioner).get(
        f"/dashboard/target/?organisation={world.org_x.pk}"
    )
    assert response.status_code == 200
    assert "Target for personal budgets" in response.content.decode()
