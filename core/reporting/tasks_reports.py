"""The report job's task: thin, it takes the job's id and calls the service, which
claims the job (queued to running) so a second delivery of the task does nothing."""

from __future__ import annotations

from celery import shared_task

from core.reporting.jobs import report_job_run


@shared_task(time_limit=15 * 60, soft_time_limit=14 * 60)
def report_job_build(job_id: int) -> str | None:
    """Build one report job's file; returns the job's state, or None if it was not
    waiting to start."""
    job = report_job_run(job_id=job_id)
    return job.state if job is not None else None
