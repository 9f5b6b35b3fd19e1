"""The quarterly PHB return in the browser: a commissioner finds the ICB's return in the
list, reads its figures, downloads the file (and sees the download recorded), rebuilds
it as version 2, and reads it on a phone. Every page ends with the axe check."""

from __future__ import annotations

import csv
import datetime
import io
import re

import pytest
from playwright.sync_api import Page, expect

from core.reporting import quarterly
from core.reporting.models import QuarterlyReturn, QuarterlyReturnDownload
from tests.conftest import staff_user
from tests.e2e.steps import (
    SCREENSHOTS,
    given_i_am_signed_in_as,
    given_i_open,
    then_i_am_on,
    then_i_see_the_heading,
    then_i_see_the_text,
    then_nothing_scrolls_sideways,
    then_the_page_is_accessible,
    when_i_press,
)
from tests.reporting.test_quarterly_data import make_returns_world
from users.models import Role

pytestmark = pytest.mark.e2e

PERIOD = "Q2 2025/26 (July to September 2025)"


def test_a_commissioner_reads_downloads_and_rebuilds_the_quarterly_return(page: Page) -> None:
    w = make_returns_world()
    quarterly.quarterly_returns_build_due(today=datetime.date(2025, 10, 2))
    commissioner = staff_user(w.north, Role.COMMISSIONER)
    given_i_am_signed_in_as(page, commissioner)

    given_i_open(page, "/reports/quarterly-returns/")
    then_i_see_the_heading(page, "Quarterly PHB returns")
    table = page.get_by_role("table", name=re.compile("^Returns, newest first"))
    row = table.get_by_role("row", name=PERIOD)
    expect(row).to_contain_text("North ICB")
    expect(row).to_contain_text("Built automatically")
    expect(row).to_contain_text("Not yet downloaded")
    expect(table).not_to_contain_text("South ICB")
    then_the_page_is_accessible(page, "quarterly-return-list")

    north = QuarterlyReturn.objects.get(icb=w.north)
    row.get_by_role("link", name=re.compile("^Q2")).click()
    then_i_am_on(page, f"/reports/quarterly-returns/{north.pk}/")
    then_i_see_the_heading(page, f"Quarterly PHB return: {PERIOD}")
    by_type = page.get_by_role("table", name="In the quarter: people by type")
    # Seven people in the quarter: six adults and one child (tests/reporting/
    # test_quarterly_data.py says who).
    expect(by_type.get_by_role("row", name=re.compile("^All types"))).to_contain_text("7")
    by_option = page.get_by_role("table", name="In the quarter: people by management option")
    expect(by_option.get_by_role("row", name=re.compile("^Mixed"))).to_contain_text("1")
    then_the_page_is_accessible(page, "quarterly-return-detail")

    # Fetched with the browser's session rather than clicked: a download aborts the
    # navigation, which the page record would report as a broken asset.
    href = page.get_by_role("link", name="Download the return (CSV)").get_attribute("href")
    assert href is not None
    download = page.request.get(href)
    assert download.ok
    rows = list(csv.DictReader(io.StringIO(download.body().decode("utf-8-sig"))))
    assert len(rows) == 300
    assert rows[0]["people"] == "7"
    assert QuarterlyReturnDownload.objects.get().user == commissioner
    page.reload()
    downloads = page.get_by_role("table", name=re.compile("Who downloaded this version"))
    expect(downloads).to_contain_text(commissioner.name)
    then_the_page_is_accessible(page, "quarterly-return-detail-downloaded")

    when_i_press(page, "Rebuild as a new version")
    then_i_see_the_text(page, f"Version 2 of the {PERIOD} return has been built")
    then_i_see_the_heading(page, f"Quarterly PHB return: {PERIOD}")
    then_i_see_the_text(page, "Versions of this return")
    assert QuarterlyReturn.objects.filter(icb=w.north).count() == 2
    then_the_page_is_accessible(page, "quarterly-return-rebuilt")

    given_i_open(page, "/reports/quarterly-returns/")
    expect(page.get_by_role("table", name=re.compile("^Returns"))).to_contain_text(
        commissioner.name
    )
    then_the_page_is_accessible(page, "quarterly-return-list-after")


def test_the_return_reads_on_a_phone(page: Page) -> None:
    w = make_returns_world()
    quarterly.quarterly_returns_build_due(today=datetime.date(2025, 10, 2))
    given_i_am_signed_in_as(page, staff_user(w.north, Role.FINANCE_OFFICER))
    page.set_viewport_size({"width": 320, "height": 800})

    given_i_open(page, "/reports/quarterly-returns/")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "quarterly-return-list-phone")

    given_i_open(page, f"/reports/quarterly-returns/{QuarterlyReturn.objects.get(icb=w.north).pk}/")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "quarterly-return-detail-phone")
    page.screenshot(path=SCREENSHOTS / "quarterly-return-detail-phone-top.png")
