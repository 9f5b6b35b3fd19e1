"""The snapshot job: nightly from beat, on demand through an audited request, and run by
a real Celery worker."""

from __future__ import annotations

import datetime
from typing import Any
from unittest import mock

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from config.celery_app import app
from core.exceptions import Conflict
from core.models import AuditEvent
from core.reporting import tasks
from core.reporting.models import (
    FigureSnapshot,
    MoneySnapshot,
    PeopleSnapshot,
    SnapshotRun,
    SpendSnapshot,
)
from core.reporting.tasks import (
    REQUEST_ACTION,
    snapshot_refresh_request,
    snapshot_refresh_task,
)
from tests.conftest import staff_user
from tests.factories import OrganisationFactory, UserFactory
from tests.reporting.dataset import build_dataset
from tests.test_celery_worker import _wait_for, worker  # noqa: F401 (a fixture)
from users.models import Organisation, Role


def test_the_nightly_refresh_is_scheduled_after_the_money_jobs() -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE
    entry = schedule["reporting-snapshot-refresh"]
    assert entry["task"] == snapshot_refresh_task.name
    assert entry["task"] in app.tasks  # the worker knows it by that name
    at = entry["schedule"]
    assert isinstance(at, crontab)
    assert (at.hour, at.minute) == ({4}, {30})
    for job in ("budgets-allocation-run", "budgets-monitoring-sweep", "budgets-reconciliation"):
        earlier = schedule[job]["schedule"]
        assert (max(earlier.hour), max(earlier.minute)) < (4, 30)


def test_the_task_acknowledges_late_with_a_generous_time_limit() -> None:
    assert snapshot_refresh_task.acks_late is True
    assert snapshot_refresh_task.time_limit >= 60 * 60


def test_the_task_refreshes_and_names_who_asked(db: Any) -> None:
    user = UserFactory()
    build_dataset(timezone.localdate())
    run_id = snapshot_refresh_task(SnapshotRun.Trigger.ON_DEMAND, user.pk)
    run = SnapshotRun.objects.get(pk=run_id)
    assert (run.status, run.trigger, run.requested_by) == ("done", "on_demand", user)
    assert PeopleSnapshot.objects.exists()
    # Run again (a redelivered task): the same rows, none twice.
    again = SnapshotRun.objects.get(pk=snapshot_refresh_task())
    assert (again.status, again.trigger, again.rows) == ("done", "scheduled", run.rows)


@pytest.fixture
def commissioner(db: Any) -> Any:
    return staff_user(OrganisationFactory(kind=Organisation.Kind.ICB), Role.COMMISSIONER)


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    sent: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks.snapshot_refresh_task, "delay", lambda *args: sent.append(args))
    return sent


def test_a_request_queues_a_refresh_on_commit_and_is_audited(
    commissioner: Any, queued: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert snapshot_refresh_request(user=commissioner) is None
        assert queued == []  # nothing before commit
    assert len(callbacks) == 1
    assert queued == [("on_demand", commissioner.pk)]
    event = AuditEvent.objects.get(action=REQUEST_ACTION)
    assert event.actor == commissioner


def test_a_request_while_a_refresh_runs_is_refused(commissioner: Any, queued: list[Any]) -> None:
    SnapshotRun.objects.create(
        trigger=SnapshotRun.Trigger.SCHEDULED, as_of=timezone.now(), today=timezone.localdate()
    )
    with pytest.raises(Conflict, match="being worked out now"):
        snapshot_refresh_request(user=commissioner)
    assert not AuditEvent.objects.filter(action=REQUEST_ACTION).exists()


def test_a_second_request_within_five_minutes_is_refused(
    commissioner: Any, queued: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    colleague = staff_user(commissioner.memberships.get().organisation, Role.FINANCE_OFFICER)
    with django_capture_on_commit_callbacks(execute=True):
        snapshot_refresh_request(user=commissioner)
    with pytest.raises(Conflict, match="less than 5 minutes ago"):
        snapshot_refresh_request(user=colleague)
    # Six minutes later it is allowed again.
    later = timezone.now() + datetime.timedelta(minutes=6)
    with (
        mock.patch.object(timezone, "now", return_value=later),
        django_capture_on_commit_callbacks(execute=True),
    ):
        snapshot_refresh_request(user=colleague)
    assert queued == [("on_demand", commissioner.pk), ("on_demand", colleague.pk)]


def test_an_on_demand_run_started_recently_also_counts(
    commissioner: Any, queued: list[Any]
) -> None:
    SnapshotRun.objects.create(
        trigger=SnapshotRun.Trigger.ON_DEMAND,
        status=SnapshotRun.Status.DONE,
        as_of=timezone.now(),
        today=timezone.localdate(),
    )
    with pytest.raises(Conflict):
        snapshot_refresh_request(user=commissioner)


@pytest.mark.parametrize("role", [Role.CARE_COORDINATOR, Role.CLINICIAN, Role.PROVIDER_STAFF])
def test_only_commissioners_and_finance_officers_may_ask(
    db: Any, role: str, queued: list[Any]
) -> None:
    user = staff_user(OrganisationFactory(kind=Organisation.Kind.ICB), role)
    with pytest.raises(PermissionDenied):
        snapshot_refresh_request(user=user)
    assert queued == []


@pytest.mark.celery_worker
def test_a_real_worker_refreshes_the_snapshots_on_request(worker: Any) -> None:  # noqa: F811
    ds = build_dataset(timezone.localdate())
    commissioner = ds.users["commissioner_a"]
    with transaction.atomic():
        snapshot_refresh_request(user=commissioner)

    def finished() -> bool:
        return SnapshotRun.objects.exclude(status=SnapshotRun.Status.RUNNING).exists()

    assert _wait_for(finished, timeout=120)
    run = SnapshotRun.objects.get()
    assert run.status == SnapshotRun.Status.DONE, run.error
    assert (run.trigger, run.requested_by) == ("on_demand", commissioner)
    tables = (PeopleSnapshot, MoneySnapshot, SpendSnapshot, FigureSnapshot)
    assert run.rows == sum(model.objects.count() for model in tables)
    assert PeopleSnapshot.objects.filter(organisation=ds.council, stream="").exists()
