"""How a refresh behaves: it replaces the rows, keeps the old ones when it fails, and
never runs twice at once."""

from __future__ import annotations

import datetime
from typing import Any

import psycopg2
import pytest
from django.db import connection
from django.utils import timezone

from core.locks import _lock_id
from core.reporting import snapshots
from core.reporting.models import (
    FigureSnapshot,
    MoneySnapshot,
    PeopleSnapshot,
    SnapshotRun,
    SpendSnapshot,
)
from core.reporting.snapshots import LOCK_NAME, snapshot_refresh
from tests.factories import UserFactory
from tests.reporting.dataset import Dataset, build_dataset

TODAY = datetime.date(2026, 11, 20)
TABLES = (PeopleSnapshot, MoneySnapshot, SpendSnapshot, FigureSnapshot)


@pytest.fixture
def ds(db: Any) -> Dataset:
    return build_dataset(TODAY)


def everything() -> dict[str, list[tuple[Any, ...]]]:
    """Every snapshot row without its id, in a stable order."""
    return {
        model.__name__: sorted(
            tuple(row[1:]) for row in model.objects.values_list(
                *[f.attname for f in model._meta.concrete_fields]
            )
        )
        for model in TABLES
    }  # fmt: skip


def test_a_refresh_records_its_run(ds: Dataset) -> None:
    user = UserFactory()
    before = timezone.now()
    run = snapshot_refresh(trigger=SnapshotRun.Trigger.ON_DEMAND, requested_by=user, today=TODAY)
    assert run.status == SnapshotRun.Status.DONE
    assert run.error == ""
    assert (run.trigger, run.requested_by, run.today) == ("on_demand", user, TODAY)
    assert before <= run.as_of <= run.finished_at
    assert run.rows == sum(model.objects.count() for model in TABLES)
    assert run.rows > 100


def test_a_second_refresh_replaces_the_rows(ds: Dataset) -> None:
    snapshot_refresh(trigger=SnapshotRun.Trigger.SCHEDULED, today=TODAY)
    first = everything()
    second_run = snapshot_refresh(trigger=SnapshotRun.Trigger.SCHEDULED, today=TODAY)
    assert everything() == first  # the same figures, none twice
    assert second_run.rows == sum(len(rows) for rows in first.values())


def test_a_refresh_shows_what_changed_since_the_last(ds: Dataset) -> None:
    snapshot_refresh(trigger=SnapshotRun.Trigger.SCHEDULED, today=TODAY)
    lou = ds.holders["lou"]  # referred, no budget yet: on no people row
    assert not PeopleSnapshot.objects.filter(route="other").exists()
    from tests.factories import make_budget

    make_budget(lou, funder=ds.icb_a, period_start=datetime.date(2026, 10, 1))
    snapshot_refresh(trigger=SnapshotRun.Trigger.SCHEDULED, today=TODAY)
    row = PeopleSnapshot.objects.get(organisation=ds.icb_a, period="2026", route="other", stream="")
    assert (row.in_period, row.new) == (1, 1)


def test_a_failed_refresh_keeps_the_previous_rows_and_says_why(
    ds: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot_refresh(trigger=SnapshotRun.Trigger.SCHEDULED, today=TODAY)
    before = everything()
    # The last statement fails, after the others have deleted and written rows.
    monkeypatch.setitem(snapshots.INSERTS, "services", "SELECT 1 / 0")
    run = snapshot_refresh(trigger=SnapshotRun.Trigger.SCHEDULED, today=TODAY)
    assert run.status == SnapshotRun.Status.FAILED
    assert "division by zero" in run.error
    assert run.finished_at is not None
    assert everything() == before
    # The failure is recorded, not rolled back with the rows.
    assert SnapshotRun.objects.get(pk=run.pk).status == SnapshotRun.Status.FAILED


@pytest.fixture
def other_session(db: Any):  # type: ignore[no-untyped-def]
    """A second database session, as another worker would have."""
    settings = connection.settings_dict
    session = psycopg2.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
    )
    session.autocommit = True
    yield session.cursor()
    session.close()


def test_a_refresh_while_another_runs_returns_the_running_one(
    ds: Dataset, other_session: Any
) -> None:
    running = SnapshotRun.objects.create(
        trigger=SnapshotRun.Trigger.SCHEDULED, as_of=timezone.now(), today=TODAY
    )
    other_session.execute("SELECT pg_advisory_lock(%s)", [_lock_id(LOCK_NAME)])
    try:
        run = snapshot_refresh(trigger=SnapshotRun.Trigger.ON_DEMAND, today=TODAY)
    finally:
        other_session.execute("SELECT pg_advisory_unlock(%s)", [_lock_id(LOCK_NAME)])
    assert run == running
    assert SnapshotRun.objects.count() == 1
    assert not PeopleSnapshot.objects.exists()  # nothing was rebuilt alongside


def test_a_run_left_running_by_a_dead_worker_is_marked_failed(ds: Dataset) -> None:
    stale = SnapshotRun.objects.create(
        trigger=SnapshotRun.Trigger.SCHEDULED, as_of=timezone.now(), today=TODAY
    )
    run = snapshot_refresh(trigger=SnapshotRun.Trigger.SCHEDULED, today=TODAY)
    assert run.status == SnapshotRun.Status.DONE
    stale.refresh_from_db()
    assert stale.status == SnapshotRun.Status.FAILED
    assert "Interrupted" in stale.error


def test_today_defaults_to_the_local_date(db: Any) -> None:
    run = snapshot_refresh(trigger=SnapshotRun.Trigger.SCHEDULED)
    assert run.status == SnapshotRun.Status.DONE
    assert run.today == timezone.localdate()


def test_after_changes_a_refresh_writes_exactly_the_new_figures(ds: Dataset) -> None:
    from budgets.models import MonitoringFlag
    from tests.factories import make_budget
    from tests.reporting import test_snapshots as reference

    snapshot_refresh(trigger=SnapshotRun.Trigger.SCHEDULED, today=TODAY)
    # A new person, a flag resolved (its row goes), a plan approved (rows change).
    make_budget(ds.holders["lou"], funder=ds.icb_a, period_start=datetime.date(2026, 10, 1))
    MonitoringFlag.objects.filter(pk=ds.flags["b1_surplus"].pk).update(state="resolved")
    MonitoringFlag.objects.filter(pk=ds.flags["b10_no_spending"].pk).update(state="resolved")
    ds.plans["gus"].__class__.objects.filter(pk=ds.plans["gus"].pk).update(
        state="submitted", submitted_at=timezone.now() - datetime.timedelta(days=2)
    )
    run = snapshot_refresh(trigger=SnapshotRun.Trigger.SCHEDULED, today=TODAY)
    assert run.status == SnapshotRun.Status.DONE
    assert not FigureSnapshot.objects.filter(key="no_spending:open").exists()
    reference.assert_same(reference.expected_people(), reference.actual_people())
    reference.assert_same(reference.expected_money(), reference.actual_money())
    reference.assert_same(reference.expected_spend(), reference.actual_spend())
    reference.assert_same(reference.expected_figures(), reference.actual_figures())
    assert run.rows == sum(model.objects.count() for model in TABLES)
