"""Report pages: ask for a report (and see your recent ones), follow a report being
built, download it, or read it as a printable page.

Commissioners and finance officers only (BUDGET_MANAGERS in config/authorization.py),
each for the organisations where they hold that role. A job is reached only through
``jobs_for(user)``: someone else's job, or one of an organisation where the user no
longer holds the role, is a 404."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import BooleanField, Case, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from core.reporting.finance_report import Month
from core.reporting.forms_reports import PAGE, ReportRequestForm
from core.reporting.jobs import (
    RECENT_JOBS,
    job_period_label,
    jobs_for,
    report_build,
    report_job_downloaded,
    report_job_request,
    report_organisations,
)
from core.reporting.models import ReportJob
from core.reporting.periods import last_completed_quarter
from core.reporting.report_tables import hidden_from, page_cell


def _organisations(request: HttpRequest) -> list[tuple[int, str]]:
    found = list(report_organisations(request.user).values_list("pk", "name"))
    if not found:
        raise PermissionDenied
    return found


def _jobs(request: HttpRequest) -> QuerySet[ReportJob]:
    """The user's jobs, each knowing whether its file is still kept (without loading
    the file)."""
    return jobs_for(request.user).annotate(
        has_file=Case(
            When(content__isnull=False, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def _job_view(job: ReportJob) -> dict[str, Any]:
    return {
        "job": job,
        "period": job_period_label(job),
        "running": job.state in (ReportJob.State.QUEUED, ReportJob.State.RUNNING),
        "file_kept": job.state == ReportJob.State.DONE and getattr(job, "has_file", False),
    }


def report_list(request: HttpRequest) -> HttpResponse:
    organisations = _organisations(request)
    form = ReportRequestForm(
        request.POST if request.method == "POST" else None,
        organisations=organisations,
        today=timezone.localdate(),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["format"] == PAGE:
            query = urlencode(
                {"kind": data["kind"], "organisation": data["organisation"], **form.params()}
            )
            return redirect(f"{reverse('reporting:report_print')}?{query}")
        organisation = report_organisations(request.user).get(pk=data["organisation"])
        try:
            job = report_job_request(
                user=request.user,
                kind=data["kind"],
                organisation=organisation,
                params=form.params(),
                format=data["format"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("reporting:report_job", public_id=job.public_id)
    jobs = [_job_view(job) for job in _jobs(request)[:RECENT_JOBS]]
    return render(request, "reporting/reports/report_list.html", {"form": form, "jobs": jobs})


def report_job(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    job = get_object_or_404(_jobs(request), public_id=public_id)
    return render(request, "reporting/reports/report_job.html", _job_view(job))


def report_job_status(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    job = get_object_or_404(_jobs(request), public_id=public_id)
    done = job.state == ReportJob.State.DONE and getattr(job, "has_file", False)
    response = JsonResponse(
        {
            "state": job.state,
            "state_label": job.get_state_display(),
            "progress": job.progress,
            "note": job.progress_note,
            "error": job.error,
            "download_url": (
                reverse("reporting:report_download", args=[job.public_id]) if done else None
            ),
            "filename": job.filename if done else None,
        }
    )
    response["Cache-Control"] = "no-store"
    return response


def report_download(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    job = get_object_or_404(
        jobs_for(request.user).defer(None),
        public_id=public_id,
        state=ReportJob.State.DONE,
        content__isnull=False,
    )
    report_job_downloaded(job=job, user=request.user)
    response = HttpResponse(bytes(job.content or b""), content_type=job.content_type)
    response["Content-Disposition"] = f'attachment; filename="{job.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


def report_print(request: HttpRequest) -> HttpResponse:
    """The report as a page to read and print, built now. With no choice made, the
    monthly finance report of the user's first organisation for the last whole month."""
    organisations = dict(_organisations(request))
    today = timezone.localdate()
    kind = request.GET.get("kind") or ReportJob.Kind.FINANCE_MONTHLY
    try:
        organisation_id = int(request.GET.get("organisation") or next(iter(organisations)))
    except ValueError as error:
        raise Http404("No such organisation") from error
    if organisation_id not in organisations or kind not in ReportJob.Kind.values:
        raise Http404("No such report among yours")
    if kind == ReportJob.Kind.FINANCE_MONTHLY:
        params = {"month": request.GET.get("month") or Month.last_complete(today).key}
    else:
        params = {"period": request.GET.get("period") or last_completed_quarter(today).key}
    organisation = report_organisations(request.user).get(pk=organisation_id)
    try:
        report = report_build(
            kind=kind, user=request.user, organisation=organisation, params=params
        )
    except ValidationError as error:
        raise Http404("No such period") from error
    return render(
        request,
        "reporting/reports/report_print.html",
        {"report": report, "page_cell": page_cell, "hidden_from": hidden_from, "kind": kind},
    )
