"""A report job built by a real Celery worker against real Redis, watched as a person
would through the status endpoint: the progress moves, then the file is there.

Building a small report takes milliseconds, too fast to see a step. So the test holds
two tables the later steps read (spending, then recoveries) locked from a second
database connection, as a long-running statement of someone else's would: the worker
waits at each in turn with its progress committed, the poller sees it, and releasing
each lock lets the job go on. Nothing in the job is slowed or stubbed."""

from __future__ import annotations

import io
import time
from typing import Any

import openpyxl
import psycopg2
import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from core.models import Notification
from core.reporting.finance_report import Month
from core.reporting.models import ReportJob
from tests.conftest import World
from tests.test_celery_worker import _wait_for, worker  # noqa: F401 (a fixture)


def _lock(table: str) -> Any:
    """A second connection holding ``table`` locked until it commits."""
    settings = connection.settings_dict
    held = psycopg2.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings.get("PASSWORD") or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
    )
    with held.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    return held


@pytest.mark.celery_worker
def test_a_report_jobs_progress_rises_while_a_real_worker_builds_it_then_the_file_is_there(
    worker: Any,  # noqa: F811
    world: World,
    client_for: Any,
) -> None:
    month = Month(timezone.localdate().year, timezone.localdate().month)
    client = client_for(world.finance_officer)
    spending = _lock("budgets_spend")
    recoveries = _lock("budgets_surplusrecovery")
    try:
        response = client.post(
            reverse("reporting:report_list"),
            {
                "kind": "finance_monthly",
                "organisation": world.org_x.pk,
                "month": month.key,
                "period": "2026",
                "format": "xlsx",
            },
        )
        job = ReportJob.objects.get(requested_by=world.finance_officer)
        assert response.status_code == 302
        assert response["Location"] == reverse("reporting:report_job", args=[job.public_id])
        status_url = reverse("reporting:report_job_status", args=[job.public_id])
        seen: list[int] = []

        def poll() -> dict[str, Any]:
            answer = client.get(status_url)
            assert answer.status_code == 200
            status: dict[str, Any] = answer.json()
            if not seen or seen[-1] != status["progress"]:
                seen.append(status["progress"])
            return status

        # Waiting at the spending step, with the progress and its note committed.
        assert _wait_for(lambda: poll()["note"] == "Adding up the spending")
        time.sleep(1)
        waiting = poll()
        assert (waiting["state"], waiting["progress"]) == ("running", 20)
        assert waiting["download_url"] is None
        page = client.get(reverse("reporting:report_job", args=[job.public_id]))
        assert (
            b'<progress class="app-report-progress" id="report-progress" max="100" value="20"'
            in (page.content)
        )

        spending.commit()
        assert _wait_for(lambda: poll()["note"] == "Listing the recoveries")
        assert poll()["progress"] == 70

        recoveries.commit()
        assert _wait_for(lambda: poll()["state"] == "done")
    finally:
        spending.close()
        recoveries.close()

    done = poll()
    assert done["progress"] == 100
    assert seen == sorted(seen)
    assert {20, 70, 100} <= set(seen)
    assert len(set(seen)) >= 3

    download = client.get(done["download_url"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="monthly-finance')
    book = openpyxl.load_workbook(io.BytesIO(download.content))
    balances = list(book["Balances"].iter_rows(values_only=True))
    # Holder A's budget: £500 paid in this month, £120 spent.
    assert balances[1][0] == world.holder_a.name
    assert balances[1][4:] == (0, 500, 120, 0, 0, 0, 380)
    assert Notification.objects.filter(
        user=world.finance_officer, link=reverse("reporting:report_job", args=[job.public_id])
    ).exists()
