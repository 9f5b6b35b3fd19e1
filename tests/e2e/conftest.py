"""Browser fixtures: Debian's chromium driven by Playwright against pytest-django's live server.

Every test gets a fresh browser context and page. The page records each document it
loads; ``then_the_page_is_accessible`` marks the current one as checked, and a test that
passes but left a page unchecked by axe (or met a JavaScript error or a missing asset)
fails at teardown.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.e2e.browser import PageRecord, track

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse
# the ORM calls that the tests and fixtures make alongside it.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # Fixtures read this at teardown, to add their checks only to a test that passed.
    report = yield
    if report.when == "call":
        item.stash[_CALL_PASSED] = report.passed
    return report


_CALL_PASSED = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def _e2e_database(transactional_db: None) -> None:
    """The live server runs in another thread, so it must see committed rows:
    request the transactional database before ``world`` asks for ``db``."""


def _chromium() -> str | None:
    """Debian's chromium (CI installs it) or PHB_CHROMIUM; otherwise Playwright's own
    build, which `make test` installs on a machine without chromium."""
    return os.environ.get("PHB_CHROMIUM") or shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium(),
            args=CHROMIUM_ARGS,
        )
        yield browser
        browser.close()


def _new_context(browser: Browser, live_server: Any, *, bypass_csp: bool) -> BrowserContext:
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        locale="en-GB",
        timezone_id="Europe/London",
        bypass_csp=bypass_csp,
    )
    context.set_default_timeout(15_000)
    return context


def _check(request: pytest.FixtureRequest, record: PageRecord) -> None:
    if not request.node.stash.get(_CALL_PASSED, False):
        return
    assert not record.page_errors, f"JavaScript errors on the pages: {record.page_errors}"
    assert not record.broken_assets, f"assets that failed to load: {record.broken_assets}"
    unchecked = record.unchecked()
    assert not unchecked, f"pages loaded but never checked with axe: {unchecked}"


@pytest.fixture
def context(browser: Browser, live_server: Any) -> Iterator[BrowserContext]:
    """A fresh browser context. CSP is bypassed so that axe can be injected as a script
    tag; ``strict_page`` below keeps the real policy."""
    context = _new_context(browser, live_server, bypass_csp=True)
    yield context
    context.close()


@pytest.fixture
def page(
    context: BrowserContext, live_server: Any, request: pytest.FixtureRequest
) -> Iterator[Page]:
    page = context.new_page()
    record = track(page, origin=live_server.url, enforces_csp=False)
    yield page
    _check(request, record)


@pytest.fixture
def strict_page(
    browser: Browser, live_server: Any, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A page that enforces the site's Content-Security-Policy; violations are recorded."""
    context = _new_context(browser, live_server, bypass_csp=False)
    page = context.new_page()
    record = track(page, origin=live_server.url, enforces_csp=True)
    yield page
    _check(request, record)
    context.close()
