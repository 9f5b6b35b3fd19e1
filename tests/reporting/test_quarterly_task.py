"""The nightly job that builds the quarterly returns (core/reporting/tasks_returns.py):
scheduled, registered with the worker, builds once and a re-run builds nothing."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from config.celery_app import app
from core.locks import sweep_lock
from core.reporting.models import QuarterlyReturn
from core.reporting.periods import last_completed_quarter
from core.reporting.tasks_returns import quarterly_returns_build_task
from tests.factories import OrganisationFactory
from users.models import Organisation

pytestmark = pytest.mark.django_db

TASK = "core.reporting.tasks_returns.quarterly_returns_build_task"


def test_it_is_scheduled_daily_and_the_worker_knows_it(settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["reporting-quarterly-returns"]
    assert entry["task"] == TASK
    assert entry["schedule"].day_of_week == set(range(7))
    # The worker imports each app's tasks module; core.tasks brings in this one.
    app.loader.import_default_modules()
    assert TASK in app.tasks


def test_the_task_builds_each_icbs_last_quarter_once() -> None:
    north = OrganisationFactory(kind=Organisation.Kind.ICB)
    south = OrganisationFactory(kind=Organisation.Kind.ICB)
    OrganisationFactory(kind=Organisation.Kind.LOCAL_AUTHORITY)

    built = quarterly_returns_build_task.apply().get()
    again = quarterly_returns_build_task.apply().get()

    assert (built, again) == (2, 0)
    quarter = last_completed_quarter(timezone.localdate())
    assert set(
        QuarterlyReturn.objects.values_list("icb", "financial_year", "quarter", "version")
    ) == {
        (north.pk, quarter.financial_year, quarter.quarter, 1),
        (south.pk, quarter.financial_year, quarter.quarter, 1),
    }


@pytest.mark.django_db(transaction=True)
def test_the_task_does_nothing_while_another_run_holds_the_lock() -> None:
    OrganisationFactory(kind=Organisation.Kind.ICB)
    held = threading.Event()
    release = threading.Event()

    def other_run() -> None:
        # Another worker's run, in its own database session.
        try:
            with sweep_lock("quarterly_returns_build") as acquired:
                assert acquired
                held.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=other_run)
    thread.start()
    try:
        assert held.wait(timeout=30)
        assert quarterly_returns_build_task.apply().get() is None
        assert not QuarterlyReturn.objects.exists()
    finally:
        release.set()
        thread.join()
    assert quarterly_returns_build_task.apply().get() == 1
