"""Reports in the browser: a finance officer asks for this month's finance report as a
CSV, watches the job page while it waits, while it is being built and as it finishes
(the page moves by itself),
downloads the file, and reads the printable page, on screen and as it prints; a
commissioner reads the outcomes report's printable page, small groups hidden. Every page
ends with the axe check."""

from __future__ import annotations

import csv
import io
import re
import threading
import uuid
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import Page, expect

from core.reporting.finance_report import Month
from core.reporting.jobs import FAILED_MESSAGE, report_job_run
from core.reporting.models import ReportJob
from core.reporting.periods import Period
from tests.e2e.steps import (
    SCREENSHOTS,
    given_i_am_signed_in_as,
    given_i_open,
    then_i_see_the_heading,
    then_i_see_the_text,
    then_the_page_is_accessible,
    when_i_choose,
    when_i_follow_the_link,
    when_i_press,
)
from tests.e2e.test_small_screens import then_nothing_scrolls_sideways
from tests.outcomes.test_report_views import make_answers
from tests.reporting.test_report_jobs_worker import _lock

pytestmark = pytest.mark.e2e


def _build(job_id: int) -> None:
    try:
        report_job_run(job_id=job_id)
    finally:
        connection.close()


MONTH = Month(timezone.localdate().year, timezone.localdate().month)


def test_a_finance_officer_asks_for_the_finance_report_and_gets_the_file(
    page: Page, world: Any
) -> None:
    given_i_am_signed_in_as(page, world.finance_officer)
    given_i_open(page, "/reports/")
    then_i_see_the_heading(page, "Reports")
    then_i_see_the_text(page, "You have not asked for a report yet.")
    then_the_page_is_accessible(page, "report-list")

    page.get_by_label("Month", exact=True).select_option(label=f"{MONTH.label} (so far)")
    when_i_choose(page, "A CSV file, the tables one after another")
    when_i_press(page, "Get the report")

    job = ReportJob.objects.get(requested_by=world.finance_officer)
    then_i_see_the_heading(page, f"Monthly finance report, {MONTH.label}")
    progress = page.get_by_role("progressbar", name="How far the report has got")
    expect(progress).to_have_attribute("value", "0")
    expect(page.get_by_role("status")).to_contain_text("Waiting to start")
    then_the_page_is_accessible(page, "report-job-waiting")

    # The worker's part, done here in a thread; the spending table is held locked from
    # another connection so the build waits at that step (as in the real worker's test)
    # and the page, polling, shows it running. Then it moves on by itself to the end.
    spending = _lock("budgets_spend")
    builder = threading.Thread(target=_build, args=(job.pk,))
    builder.start()
    try:
        expect(progress).to_have_attribute("value", "20", timeout=10_000)
        expect(page.get_by_role("status")).to_contain_text("Being built")
        expect(page.get_by_role("status")).to_contain_text("Adding up the spending")
        then_the_page_is_accessible(page, "report-job-running")
    finally:
        spending.commit()
        spending.close()
        builder.join(timeout=60)
    download = page.get_by_role("link", name=re.compile("^Download the report"))
    expect(download).to_be_visible(timeout=10_000)
    expect(progress).to_have_attribute("value", "100")
    expect(page.get_by_role("status")).to_contain_text("100%")
    expect(page.get_by_role("status")).to_contain_text("Ready")
    then_the_page_is_accessible(page, "report-job-done")

    href = download.get_attribute("href")
    assert href is not None
    fetched = page.request.get(href)
    assert fetched.ok
    rows = list(csv.reader(io.StringIO(fetched.body().decode("utf-8-sig"))))
    assert ["Organisation", "North ICB"] in rows
    balances = [r for r in rows if r[:2] == ["Balances", world.holder_a.name]]
    assert balances[0][-1] == "380.00"

    when_i_follow_the_link(page, "Read this report as a page to print")
    then_i_see_the_heading(page, f"Monthly finance report, {MONTH.label}")
    table = page.get_by_role("table", name=f"Balances, {MONTH.label}")
    expect(table.get_by_role("row", name=re.compile(world.holder_a.name))).to_contain_text(
        "£380.00"
    )
    then_the_page_is_accessible(page, "report-print-finance")
    page.emulate_media(media="print")
    expect(page.locator(".nhsuk-header")).to_be_hidden()
    expect(page.locator(".nhsuk-footer-container")).to_be_hidden()
    page.screenshot(path=SCREENSHOTS / "report-print-finance-as-printed.png", full_page=True)
    page.emulate_media(media="screen")

    given_i_open(page, "/reports/")
    recent = page.get_by_role("table", name="Reports you asked for, newest first")
    expect(recent.get_by_role("row", name=re.compile("Monthly finance report"))).to_contain_text(
        "Ready"
    )
    then_the_page_is_accessible(page, "report-list-with-a-job")

    # On a phone: nothing scrolls sideways, the tables stack.
    # (Each page opened afresh at that size: the header's menu settles on load.)
    page.set_viewport_size({"width": 320, "height": 640})
    given_i_open(page, "/reports/")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "report-list-phone")
    given_i_open(page, f"/reports/{job.public_id}/")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "report-job-phone")
    given_i_open(page, f"/reports/print/?organisation={world.org_x.pk}&month={MONTH.key}")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "report-print-finance-phone")


def test_a_commissioner_reads_the_outcomes_report_with_small_groups_hidden(
    page: Page, world: Any
) -> None:
    make_answers(world)
    year = Period.year_of(timezone.localdate())
    given_i_am_signed_in_as(page, world.commissioner)
    given_i_open(
        page, f"/reports/print/?kind=outcomes&organisation={world.org_x.pk}&period={year.key}"
    )
    then_i_see_the_heading(page, f"Outcomes report, {year.label}")
    holders = page.get_by_role("table", name=f"Budget holders, {year.label}")
    expect(holders.get_by_role("row", name=re.compile("^Independence"))).to_contain_text(
        "Fewer than 5 answers: not shown"
    )
    then_the_page_is_accessible(page, "report-print-outcomes")
    page.set_viewport_size({"width": 320, "height": 800})
    page.reload()
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "report-print-outcomes-phone")


def test_a_report_that_could_not_be_built_says_why(page: Page, world: Any) -> None:
    job = ReportJob.objects.create(
        public_id=uuid.uuid4(),
        kind=ReportJob.Kind.OUTCOMES,
        format=ReportJob.Format.XLSX,
        organisation=world.org_x,
        params={"period": Period.quarter_containing(timezone.localdate()).key},
        requested_by=world.commissioner,
        state=ReportJob.State.FAILED,
        progress=40,
        error=FAILED_MESSAGE,
    )
    given_i_am_signed_in_as(page, world.commissioner)
    given_i_open(page, f"/reports/{job.public_id}/")
    expect(page.get_by_role("status")).to_contain_text("Failed")
    expect(page.get_by_role("status")).to_contain_text("Ask for it again")
    expect(page.get_by_role("link", name=re.compile("^Download"))).to_have_count(0)
    then_the_page_is_accessible(page, "report-job-failed")
