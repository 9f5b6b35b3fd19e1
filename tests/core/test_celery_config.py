"""Celery is configured as DESIGN.md asks: JSON only, late acknowledgement, time limits,
a visibility timeout longer than any task, and schedules defined in code that beat's
database scheduler picks up."""

from __future__ import annotations

from typing import Any

import pytest
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from config.celery_app import app


def test_tasks_are_json_acknowledged_late_and_time_limited() -> None:
    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    # Celery's Django fixup reads this un-namespaced key to keep DB connections.
    assert conf.get("CELERY_DB_REUSE_MAX") >= 100


@pytest.mark.django_db(transaction=True)
def test_beat_loads_the_schedules_defined_in_code_into_the_database(settings: Any) -> None:
    DatabaseScheduler(app=app)
    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert set(settings.CELERY_BEAT_SCHEDULE) <= names
    heartbeat = PeriodicTask.objects.get(name="beat-heartbeat")
    assert heartbeat.task == "core.tasks.beat_heartbeat"
    assert heartbeat.interval.every == 60
