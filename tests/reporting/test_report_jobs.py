"""Report jobs without a worker: asking for one queues the task on commit; running it
builds the file, tells the requester and says how far it got; a failure says why; only
the requester, while still a commissioner or finance officer there, ever sees the job;
old files are emptied; downloads are audited."""

from __future__ import annotations

import csv
import datetime
import io
import uuid
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent, Notification
from core.reporting.finance_report import Month
from core.reporting.jobs import (
    FAILED_MESSAGE,
    report_files_expire,
    report_job_request,
    report_job_run,
)
from core.reporting.models import ReportJob
from tests.conftest import World, staff_user
from users.models import Membership, Role

MONTH = Month(timezone.localdate().year, timezone.localdate().month)


def _ask(world: World, user: Any = None, **changes: Any) -> ReportJob:
    values: dict[str, Any] = {
        "user": user or world.finance_officer,
        "kind": ReportJob.Kind.FINANCE_MONTHLY,
        "organisation": world.org_x,
        "params": {"month": MONTH.key},
        "format": ReportJob.Format.CSV,
    }
    values.update(changes)
    return report_job_request(**values)


def _form(world: World, **changes: Any) -> dict[str, Any]:
    data = {
        "kind": "finance_monthly",
        "organisation": world.org_x.pk,
        "month": MONTH.key,
        "period": "2026",
        "format": "csv",
    }
    data.update(changes)
    return data


def test_asking_queues_the_build_only_when_the_request_commits(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = _ask(world)
    assert len(callbacks) == 1
    assert job.state == ReportJob.State.QUEUED
    assert AuditEvent.objects.filter(action="report_job.requested", object_id=str(job.pk)).exists()


def test_running_a_job_builds_the_file_and_tells_the_requester(world: World) -> None:
    job = _ask(world)
    done = report_job_run(job_id=job.pk)
    assert done is not None
    assert (done.state, done.progress) == ("done", 100)
    assert done.progress_note == "The file is ready to download"
    rows = list(csv.reader(io.StringIO(bytes(done.content).decode("utf-8-sig"))))
    assert rows[0] == ["Report", "Monthly finance report"]
    totals = [r for r in rows if r[:2] == ["Balances", "Total"]]
    assert totals[0][-1] == "380.00"  # world: £500 paid in, £120 spent
    note = Notification.objects.get(user=world.finance_officer)
    assert note.link == reverse("reporting:report_job", args=[job.public_id])
    assert "is ready" in note.subject
    # A second delivery of the task finds the job done and leaves it.
    assert report_job_run(job_id=job.pk) is None


def test_a_job_whose_requester_lost_the_role_fails_saying_why(world: World) -> None:
    job = _ask(world)
    Membership.objects.filter(user=world.finance_officer).delete()
    failed = report_job_run(job_id=job.pk)
    assert failed is not None
    assert failed.state == ReportJob.State.FAILED
    assert "no longer a commissioner or finance officer of North ICB" in failed.error
    assert failed.content is None


def test_a_job_that_breaks_fails_with_a_message_the_user_can_read(world: World) -> None:
    job = _ask(world)
    # Parameters that no longer name a month (as a job from an older release might).
    ReportJob.objects.filter(pk=job.pk).update(params={"month": "not a month"})
    failed = report_job_run(job_id=job.pk)
    assert failed is not None
    assert failed.state == ReportJob.State.FAILED
    assert failed.error == FAILED_MESSAGE
    assert "could not be built" in Notification.objects.get(user=world.finance_officer).subject


def test_only_budget_managers_of_the_organisation_may_ask(world: World) -> None:
    with pytest.raises(PermissionDenied):
        _ask(world, organisation=world.org_y)
    with pytest.raises(PermissionDenied):
        _ask(world, user=world.staff_x)
    assert not ReportJob.objects.exists()


def test_the_form_refuses_another_organisation(world: World, client_for: Any) -> None:
    response = client_for(world.finance_officer).post(
        reverse("reporting:report_list"), _form(world, organisation=world.org_y.pk)
    )
    assert response.status_code == 200
    assert "Choose one of your organisations" in response.content.decode()
    assert not ReportJob.objects.exists()


def test_the_printable_page_of_another_organisation_is_404(world: World, client_for: Any) -> None:
    client = client_for(world.commissioner)
    mine = client.get(reverse("reporting:report_print"), {"organisation": world.org_x.pk})
    assert mine.status_code == 200
    theirs = client.get(reverse("reporting:report_print"), {"organisation": world.org_y.pk})
    assert theirs.status_code == 404


def test_the_page_form_opens_the_printable_page_without_a_job(
    world: World, client_for: Any
) -> None:
    response = client_for(world.commissioner).post(
        reverse("reporting:report_list"), _form(world, format="page")
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("reporting:report_print") + "?")
    assert f"month={MONTH.key}" in response["Location"]
    assert not ReportJob.objects.exists()


@pytest.mark.parametrize(
    "name", ["reporting:report_job", "reporting:report_job_status", "reporting:report_download"]
)
def test_a_job_is_its_requesters_alone(world: World, client_for: Any, name: str) -> None:
    job = _ask(world)
    report_job_run(job_id=job.pk)
    path = reverse(name, args=[job.public_id])
    assert client_for(world.finance_officer).get(path).status_code == 200
    # A commissioner of the same organisation, another organisation's finance officer.
    other_finance = staff_user(world.org_y, Role.FINANCE_OFFICER)
    for someone in (world.commissioner, other_finance):
        assert client_for(someone).get(path).status_code == 404
    assert (
        client_for(world.finance_officer).get(reverse(name, args=[uuid.uuid4()])).status_code == 404
    )
    # Once no longer a finance officer there, the requester loses it too.
    Membership.objects.filter(user=world.finance_officer).update(role=Role.CARE_COORDINATOR)
    assert client_for(world.finance_officer).get(path).status_code in (403, 404)


def test_the_job_page_shows_progress_accessibly_while_running(
    world: World, client_for: Any
) -> None:
    job = _ask(world)
    ReportJob.objects.filter(pk=job.pk).update(
        state=ReportJob.State.RUNNING, progress=42, progress_note="Working out the balances"
    )
    page = client_for(world.finance_officer).get(
        reverse("reporting:report_job", args=[job.public_id])
    )
    html = page.content.decode()
    assert 'max="100" value="42"' in html
    assert 'aria-live="polite"' in html
    assert "42%" in html
    assert "Working out the balances" in html
    assert "check again" in html
    status = (
        client_for(world.finance_officer)
        .get(reverse("reporting:report_job_status", args=[job.public_id]))
        .json()
    )
    assert status == {
        "state": "running",
        "state_label": "Being built",
        "progress": 42,
        "note": "Working out the balances",
        "error": "",
        "download_url": None,
        "filename": None,
    }


def test_downloading_is_audited(world: World, client_for: Any) -> None:
    job = _ask(world)
    report_job_run(job_id=job.pk)
    response = client_for(world.finance_officer).get(
        reverse("reporting:report_download", args=[job.public_id])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert AuditEvent.objects.filter(
        action="report_job.downloaded", object_id=str(job.pk), actor=world.finance_officer
    ).exists()


def test_files_older_than_a_week_are_emptied(world: World, client_for: Any) -> None:
    old, new = _ask(world), _ask(world)
    for job in (old, new):
        report_job_run(job_id=job.pk)
    ReportJob.objects.filter(pk=old.pk).update(
        finished_at=timezone.now() - datetime.timedelta(days=7, minutes=1)
    )
    assert report_files_expire() == 1
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.content is None
    assert new.content is not None
    client = client_for(world.finance_officer)
    assert client.get(reverse("reporting:report_download", args=[old.public_id])).status_code == 404
    page = client.get(reverse("reporting:report_job", args=[old.public_id])).content.decode()
    assert "The file was deleted after 7 days" in page


def test_the_hourly_sweep_empties_old_files(world: World) -> None:
    from core.tasks import expired_records_clear

    job = _ask(world)
    report_job_run(job_id=job.pk)
    ReportJob.objects.filter(pk=job.pk).update(
        finished_at=timezone.now() - datetime.timedelta(days=8)
    )
    expired_records_clear()
    job.refresh_from_db()
    assert job.content is None
    assert job.state == ReportJob.State.DONE


def test_a_job_whose_worker_was_lost_is_taken_over_by_the_tasks_next_delivery(
    world: World,
) -> None:
    from core.reporting.jobs import ABANDONED_AFTER

    job = _ask(world)
    started = timezone.now() - datetime.timedelta(minutes=1)
    ReportJob.objects.filter(pk=job.pk).update(state=ReportJob.State.RUNNING, started_at=started)
    assert report_job_run(job_id=job.pk) is None  # still being built elsewhere
    ReportJob.objects.filter(pk=job.pk).update(
        started_at=timezone.now() - ABANDONED_AFTER - datetime.timedelta(minutes=1)
    )
    done = report_job_run(job_id=job.pk)
    assert done is not None
    assert done.state == ReportJob.State.DONE


def test_an_outcomes_job_builds_a_workbook_with_a_sheet_per_section(world: World) -> None:
    import openpyxl

    from core.reporting.periods import Period

    period = Period.quarter_containing(timezone.localdate())
    job = _ask(
        world,
        user=world.commissioner,
        kind=ReportJob.Kind.OUTCOMES,
        params={"period": period.key},
        format=ReportJob.Format.XLSX,
    )
    done = report_job_run(job_id=job.pk)
    assert done is not None
    assert done.state == ReportJob.State.DONE
    assert done.filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(bytes(done.content)))
    assert book.sheetnames == [
        "About",
        "Budget holders",
        "Family carers",
        "Staff",
        "Process and outcomes",
        "Open improvement actions",
    ]
    about = dict(book["About"].iter_rows(min_row=2, values_only=True))  # type: ignore[arg-type]
    assert about["Period"] == period.label


def test_the_reports_page_leads_to_the_quarterly_returns_and_the_dashboard(
    world: World, client_for: Any
) -> None:
    page = client_for(world.finance_officer).get(reverse("reporting:report_list"))
    html = page.content.decode()
    assert f'href="{reverse("reporting:return_list")}"' in html
    assert f'href="{reverse("reporting:dashboard")}"' in html
