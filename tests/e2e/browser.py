"""What the browser fixtures record about a page, shared by conftest.py and steps.py.

Each page keeps a record of the documents it loaded (so a test cannot reach a page
without checking it with axe), JavaScript errors, assets that failed to load and, when
the page enforces the site's CSP, the violations the browser reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from playwright.sync_api import Page

_ATTRIBUTE = "_phb_record"


@dataclass
class Visit:
    url: str
    checked: bool = False


@dataclass
class PageRecord:
    origin: str
    enforces_csp: bool = False
    loads: list[Visit] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    broken_assets: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def loaded(self, url: str) -> None:
        if url.startswith(self.origin):
            self.loads.append(Visit(url))

    def mark_current_checked(self) -> None:
        if self.loads:
            self.loads[-1].checked = True

    def unchecked(self) -> list[str]:
        return [visit.url for visit in self.loads if not visit.checked]


def track(page: Page, *, origin: str, enforces_csp: bool) -> PageRecord:
    record = PageRecord(origin=origin, enforces_csp=enforces_csp)
    setattr(page, _ATTRIBUTE, record)
    page.on("load", lambda loaded: record.loaded(loaded.url))
    page.on("pageerror", lambda error: record.page_errors.append(str(error)))
    page.on(
        "response",
        lambda response: (
            record.broken_assets.append(f"{response.status} {response.url}")
            if response.request.resource_type != "document" and response.status >= 400
            else None
        ),
    )
    page.on(
        "requestfailed",
        lambda request: record.broken_assets.append(f"{request.failure} {request.url}"),
    )
    page.on(
        "console",
        lambda message: (
            record.csp_violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return record


def record_of(page: Page) -> PageRecord:
    record: PageRecord = getattr(page, _ATTRIBUTE)
    return record
