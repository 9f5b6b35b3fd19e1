"""Samples for the report pages (core/reporting/views_reports.py). The list and the
printable page are of the user's own organisations, so every permitted user gets one;
a job is its requester's own: made here by org X's finance officer, so the commissioner
of the same organisation gets 404 for it like everyone else."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from core.reporting.models import ReportJob
from tests.matrix_samples import Sample

if TYPE_CHECKING:
    from tests.conftest import World


def _job(w: World) -> dict[str, Any]:
    job = ReportJob.objects.create(
        public_id=uuid.uuid4(),
        kind=ReportJob.Kind.FINANCE_MONTHLY,
        format=ReportJob.Format.CSV,
        organisation=w.org_x,
        params={"month": "2026-01"},
        requested_by=w.finance_officer,
        state=ReportJob.State.DONE,
        progress=100,
        filename="monthly-finance-report.csv",
        content_type="text/csv; charset=utf-8",
        content=b"Report,Monthly finance report\r\n",
    )
    return {"public_id": job.public_id}


def _requester(w: World) -> set[str]:
    return {"finance_officer"}


SAMPLES: dict[str, Sample] = {
    "reporting:report_list": Sample(),
    "reporting:report_print": Sample(),
    "reporting:report_job": Sample(kwargs=_job, owners=_requester),
    "reporting:report_job_status": Sample(kwargs=_job, owners=_requester),
    "reporting:report_download": Sample(kwargs=_job, owners=_requester),
}
