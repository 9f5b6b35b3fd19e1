"""A real Celery worker, against real Redis, doing real work in the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction

from core.models import Heartbeat, Notification
from core.services import notification_send
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    """The test database as a URL, whether it is on TCP or the embedded server's socket."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    port = db["PORT"] or 5432
    if str(db["HOST"]).startswith("/"):
        # A Unix socket directory: django-environ passes query options to the driver.
        return f"postgres://{db['USER']}{password}@/{db['NAME']}?host={db['HOST']}&port={port}"
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{port}/{db['NAME']}"


def _purge_queue() -> None:
    """Drop tasks that earlier tests in this process left in its queue (on_commit
    notifications for rows since flushed), so the worker starts on this test's tasks."""
    from config.celery_app import app

    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(settings.CELERY_TASK_DEFAULT_QUEUE)


@pytest.fixture
def worker(transactional_db: Any):  # type: ignore[no-untyped-def]
    _purge_queue()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
    }
    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--queues",
            settings.CELERY_TASK_DEFAULT_QUEUE,
            "--loglevel",
            "info",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    print(output)  # shown when a test fails


def _wait_for(condition: Any, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


@pytest.mark.celery_worker
def test_a_notification_is_emailed_by_a_real_worker_after_commit(worker: Any) -> None:
    user = UserFactory()
    with transaction.atomic():
        notification = notification_send(
            user=user, subject="Your plan was approved", body="Well done.", link="/"
        )
        # Enqueued only on commit: nothing can have been sent yet.
        assert Notification.objects.get(pk=notification.pk).emailed_at is None

    assert _wait_for(lambda: Notification.objects.get(pk=notification.pk).emailed_at is not None)


@pytest.mark.celery_worker
def test_a_rolled_back_notification_is_never_enqueued(worker: Any) -> None:
    user = UserFactory()

    def notify_then_fail() -> None:
        with transaction.atomic():
            notification_send(user=user, subject="Never", body="Rolled back.")
            raise RuntimeError("the service failed after notifying")

    with pytest.raises(RuntimeError):
        notify_then_fail()
    # Prove the worker is alive and draining the queue, then check nothing was sent.
    from core.tasks import beat_heartbeat

    beat_heartbeat.delay()
    assert _wait_for(lambda: Heartbeat.objects.filter(name="beat").exists())
    assert not Notification.objects.filter(user=user).exists()
