"""Report jobs: a commissioner or finance officer asks for a report file; a Celery task
builds it in steps, saying how far it has got, keeps the file, and tells them it is
ready (an in-app notification, also emailed).

Who sees what: a job is its requester's own, and only while they are still a
commissioner or finance officer of its organisation (``jobs_for``); anyone else gets
404. The same people may build a report of an organisation directly for the printable
page (``report_build``).

Progress: the task runs outside any transaction block, so each ``progress`` update is
committed at once and another connection (the page's poller) sees it while the work
goes on. The figures themselves are read step by step; a posting made while a report
is being built (a late spend backdated into the month) can be in one section and not
another, which rebuilding the report settles.

Files are kept for ``FILES_KEPT_FOR`` after they are built; the hourly
``core.tasks.expired_records_clear`` empties older ones (``report_files_expire``)."""

from __future__ import annotations

import datetime
import logging
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from core.exports import CSV_TYPE, XLSX_TYPE, download_filename
from core.reporting.finance_report import Month, finance_report
from core.reporting.models import ReportJob
from core.reporting.outcomes_report import outcomes_report
from core.reporting.periods import Period
from core.reporting.report_tables import Report, report_csv, report_xlsx
from core.services import audit_record, notification_send
from users.models import Membership, Organisation, Role

logger = logging.getLogger(__name__)

REPORT_ROLES = (Role.COMMISSIONER, Role.FINANCE_OFFICER)
FILES_KEPT_FOR = datetime.timedelta(days=7)
RECENT_JOBS = 20
# Longer than the task's hard time limit (core/reporting/tasks_reports.py).
ABANDONED_AFTER = datetime.timedelta(minutes=20)
FAILED_MESSAGE = (
    "Something went wrong while building the report. Ask for it again; if it fails "
    "again, tell the service desk."
)


class ReportRefused(Exception):
    """The job cannot be built for a reason its requester can act on (the message
    says which)."""


# Who may ask for what ----------------------------------------------------------------


def report_organisations(user: Any) -> QuerySet[Organisation]:
    """The organisations where ``user`` is a commissioner or finance officer."""
    if not getattr(user, "is_authenticated", False):
        return Organisation.objects.none()
    return Organisation.objects.filter(
        pk__in=Membership.objects.filter(user=user, role__in=REPORT_ROLES).values("organisation_id")
    ).order_by("name")


def jobs_for(user: Any) -> QuerySet[ReportJob]:
    """The user's own jobs, of organisations where they still hold a reporting role."""
    if not getattr(user, "is_authenticated", False):
        return ReportJob.objects.none()
    return (
        ReportJob.objects.filter(requested_by=user, organisation__in=report_organisations(user))
        .select_related("organisation")
        .defer("content")
    )


def job_period(kind: str, params: dict[str, Any]) -> Month | Period:
    """The month (finance) or financial year or quarter (outcomes) a job's parameters
    name; ValidationError if they name none."""
    try:
        if kind == ReportJob.Kind.FINANCE_MONTHLY:
            return Month.parse(str(params.get("month", "")))
        if kind == ReportJob.Kind.OUTCOMES:
            return Period.parse(str(params.get("period", "")))
    except ValueError as error:
        raise ValidationError("Choose a period from the list.") from error
    raise ValidationError("Choose a kind of report from the list.")


def job_period_label(job: ReportJob) -> str:
    try:
        return job_period(job.kind, job.params).label
    except ValidationError:
        return ""


def report_build(
    *,
    kind: str,
    user: Any,
    organisation: Organisation,
    params: dict[str, Any],
    progress: Any = None,
) -> Report:
    """Build a report of ``organisation`` for ``user``. Raises PermissionDenied if the
    user holds no reporting role there, ValidationError for parameters naming no
    period."""
    if not report_organisations(user).filter(pk=organisation.pk).exists():
        raise PermissionDenied
    period = job_period(kind, params)
    if isinstance(period, Month):
        return finance_report(organisation=organisation, month=period, progress=progress)
    return outcomes_report(user=user, organisation=organisation, period=period, progress=progress)


# Services ----------------------------------------------------------------------------


@transaction.atomic
def report_job_request(
    *, user: Any, kind: str, organisation: Organisation, params: dict[str, Any], format: str
) -> ReportJob:
    """Record the request and, once it commits, queue the task that builds the file.
    Raises PermissionDenied for an organisation where the user holds no reporting role,
    ValidationError for an unknown kind, format or period."""
    if not report_organisations(user).filter(pk=organisation.pk).exists():
        raise PermissionDenied
    if format not in ReportJob.Format.values:
        raise ValidationError({"format": "Choose a format from the list."})
    job_period(kind, params)
    job = ReportJob(
        public_id=uuid.uuid4(),
        kind=kind,
        format=format,
        organisation=organisation,
        params=params,
        requested_by=user,
        progress_note="In the queue: it will start shortly",
    )
    job.full_clean(exclude=["content"])
    job.save()
    audit_record(
        actor=user,
        action="report_job.requested",
        obj=job,
        organisation=organisation,
        changes={"kind": kind, "format": format, "params": params},
    )
    from core.reporting.tasks_reports import report_job_build

    transaction.on_commit(lambda: report_job_build.delay(job.pk))
    return job


def _progress(job_id: int, percent: int, note: str) -> None:
    # Committed at once (no transaction block): the poller reads it from its own
    # connection while the build goes on. Never backwards, never past 99 until done.
    ReportJob.objects.filter(pk=job_id, state=ReportJob.State.RUNNING).update(
        progress=max(0, min(percent, 99)), progress_note=note[:200]
    )


def report_job_run(*, job_id: int) -> ReportJob | None:
    """Build a queued job's file. A job that is not queued (being built by another
    delivery of the task, or done) is left alone and None returned, unless it has been
    "running" for longer than any task may run, when its worker was lost. Any failure marks
    the job failed with a message its requester can read, and tells them."""
    # A job still "running" long after the task's time limit lost its worker (the
    # broker delivers the task again, acks_late): that delivery may take it over.
    abandoned = Q(state=ReportJob.State.RUNNING, started_at__lt=timezone.now() - ABANDONED_AFTER)
    claimed = ReportJob.objects.filter(
        Q(state=ReportJob.State.QUEUED) | abandoned, pk=job_id
    ).update(
        state=ReportJob.State.RUNNING,
        started_at=timezone.now(),
        progress=1,
        progress_note="Starting",
    )
    if not claimed:
        return None
    job = ReportJob.objects.select_related("organisation", "requested_by").get(pk=job_id)
    try:
        try:
            report = report_build(
                kind=job.kind,
                user=job.requested_by,
                organisation=job.organisation,
                params=job.params,
                progress=lambda percent, note: _progress(job.pk, percent, note),
            )
        except PermissionDenied as error:
            raise ReportRefused(
                f"You are no longer a commissioner or finance officer of "
                f"{job.organisation.name}, so this report was not built."
            ) from error
        _progress(job.pk, 90, "Writing the file")
        extension = job.format
        content = report_csv(report) if extension == "csv" else report_xlsx(report)
        filename = download_filename(
            f"{report.title} {job.organisation.name} {report.period_label}",
            extension,
            on=timezone.localdate(),
        )
        with transaction.atomic():
            ReportJob.objects.filter(pk=job.pk).update(
                state=ReportJob.State.DONE,
                progress=100,
                progress_note="The file is ready to download",
                finished_at=timezone.now(),
                filename=filename,
                content_type=CSV_TYPE if extension == "csv" else XLSX_TYPE,
                content=content,
            )
            audit_record(
                actor=job.requested_by,
                action="report_job.built",
                obj=job,
                organisation=job.organisation,
                changes={"filename": filename, "bytes": len(content)},
            )
            notification_send(
                user=job.requested_by,
                subject=f"Your {job.get_kind_display().lower()} is ready",
                body=(
                    f"The {job.get_kind_display().lower()} of {job.organisation.name} for "
                    f"{report.period_label} is ready to download for the next 7 days."
                ),
                link=reverse("reporting:report_job", args=[job.public_id]),
            )
    except Exception as error:
        message = str(error) if isinstance(error, ReportRefused) else FAILED_MESSAGE
        if not isinstance(error, ReportRefused):
            logger.exception("Report job %s failed", job.pk)
        with transaction.atomic():
            ReportJob.objects.filter(pk=job.pk).update(
                state=ReportJob.State.FAILED, finished_at=timezone.now(), error=message
            )
            audit_record(
                actor=job.requested_by,
                action="report_job.failed",
                obj=job,
                organisation=job.organisation,
                changes={"error": message},
            )
            notification_send(
                user=job.requested_by,
                subject=f"Your {job.get_kind_display().lower()} could not be built",
                body=message,
                link=reverse("reporting:report_job", args=[job.public_id]),
            )
    job.refresh_from_db()
    return job


def report_job_downloaded(*, job: ReportJob, user: Any) -> None:
    """Record that the file was downloaded (an audit event: a report of money or
    outcomes leaving the platform)."""
    audit_record(
        actor=user,
        action="report_job.downloaded",
        obj=job,
        organisation=job.organisation,
        changes={"filename": job.filename},
    )


def report_files_expire(*, now: datetime.datetime | None = None) -> int:
    """Empty the files of jobs finished more than ``FILES_KEPT_FOR`` ago (the job stays,
    so its requester sees it was built and can ask again). Returns how many."""
    cutoff = (now or timezone.now()) - FILES_KEPT_FOR
    return ReportJob.objects.filter(finished_at__lt=cutoff, content__isnull=False).update(
        content=None
    )
