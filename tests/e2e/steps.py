"""The steps browser tests are written in: given_..., when_..., then_...

``then_the_page_is_accessible`` runs axe-core (the version pinned in package.json) for
WCAG 2.2 A and AA on the page in front of the user, saves a full-page screenshot, and
fails with a readable list of every violation.
"""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path
from typing import Any

import pyotp
from django.conf import settings
from django.test import Client
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.browser import record_of

ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-results" / "screenshots"
WCAG_22_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return results.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    helpUrl: violation.helpUrl,
    nodes: violation.nodes.map((node) => ({
      target: node.target.join(" "),
      html: node.html,
      summary: node.failureSummary,
    })),
  }));
}"""


# Given ------------------------------------------------------------------------------


def given_i_am_signed_in_as(page: Page, user: Any) -> None:
    """Sign in without the login page: a test client's session cookie, put in the browser."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": session.value}
    page.context.add_cookies([{**cookie, "url": record_of(page).origin}])


def given_i_open(page: Page, path: str) -> None:
    page.goto(path)


# When -------------------------------------------------------------------------------


def when_i_sign_in_with(page: Page, *, email: str, password: str) -> None:
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def when_i_enter_the_code_for(page: Page, secret: str, *, label: str, button: str) -> None:
    totp = pyotp.TOTP(secret)
    # allauth accepts only the current 30-second code: do not type one about to expire.
    left = totp.interval - time.time() % totp.interval
    if left < 3:
        time.sleep(left + 0.5)
    page.get_by_label(label).fill(totp.now())
    page.get_by_role("button", name=button).click()


def when_i_follow_the_link(page: Page, name: str) -> None:
    page.get_by_role("link", name=name, exact=True).first.click()


def when_i_press(page: Page, name: str | re.Pattern[str]) -> None:
    page.get_by_role("button", name=name, exact=True).click()


def when_i_fill_in(page: Page, label: str, value: str) -> None:
    page.get_by_label(label, exact=True).fill(value)


def when_i_choose(page: Page, label: str) -> None:
    page.get_by_role("radio", name=label, exact=True).check()


# Then -------------------------------------------------------------------------------


def then_i_see_the_heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def then_i_am_on(page: Page, path: str) -> None:
    url = re.escape(record_of(page).origin + path)
    expect(page).to_have_url(re.compile(url + r"(\?.*)?$"))


def then_the_title_starts_with(page: Page, prefix: str) -> None:
    expect(page).to_have_title(re.compile("^" + re.escape(prefix)))


def then_i_see_the_text(page: Page, text: str) -> None:
    expect(page.get_by_text(text, exact=False).first).to_be_visible()


def then_the_error_summary_lists(page: Page, *messages: str) -> None:
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    expect(summary.locator(".nhsuk-error-summary__list li")).to_have_text(list(messages))


def then_the_error_summary_links_to(page: Page, *field_ids: str) -> None:
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    links = summary.locator(".nhsuk-error-summary__list a")
    expect(links).to_have_count(len(field_ids))
    for index, field_id in enumerate(field_ids):
        expect(links.nth(index)).to_have_attribute("href", f"#{field_id}")


def then_each_error_link_moves_focus_to_its_field(page: Page) -> None:
    links = page.locator(".nhsuk-error-summary__list a")
    count = links.count()
    assert count, "the error summary has no links"
    for index in range(count):
        link = links.nth(index)
        target = (link.get_attribute("href") or "").removeprefix("#")
        assert target, f"error link {link.inner_text()!r} does not point at a field"
        expect(page.locator(f"[id='{target}']")).to_have_count(1)
        link.click()
        focused = page.evaluate("document.activeElement && document.activeElement.id")
        assert focused == target, (
            f"clicking {link.inner_text()!r} focused {focused!r}, not the field #{target}"
        )


def then_the_page_is_accessible(page: Page, name: str) -> None:
    """axe-core finds no WCAG 2.2 A or AA violation; a screenshot is kept as ``name``."""
    page.wait_for_load_state("load")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    _keep_screenshot(page, SCREENSHOTS / f"{name}.png")
    _inject_axe(page)
    violations = page.evaluate(_RUN_AXE, WCAG_22_A_AA)
    record_of(page).mark_current_checked()
    assert not violations, _describe(page, violations)


def _keep_screenshot(page: Page, path: Path, tries: int = 3) -> None:
    """A whole-page screenshot to look at. Headless Chromium now and then answers
    "Unable to capture screenshot" when the machine is busy (a known Chromium quirk,
    not the page's fault): try again after a moment, and fail only if it persists."""
    for attempt in range(tries):
        try:
            page.screenshot(path=path, full_page=True)
            return
        except PlaywrightError as error:
            if "Unable to capture screenshot" not in str(error) or attempt == tries - 1:
                raise
            time.sleep(0.5)


def _inject_axe(page: Page) -> None:
    if page.evaluate("typeof window.axe === 'object'"):
        return
    if record_of(page).enforces_csp:
        # The page's CSP would block a script tag (strict_page); evaluating through the
        # DevTools protocol is not subject to it.
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    else:
        page.add_script_tag(path=AXE_SCRIPT)


def _describe(page: Page, violations: list[dict[str, Any]]) -> str:
    lines = [f"{len(violations)} accessibility violation(s) on {page.url} ({page.title()!r}):"]
    for violation in violations:
        lines.append(
            f"- [{violation['impact']}] {violation['id']}: {violation['help']} "
            f"({violation['helpUrl']})"
        )
        for node in violation["nodes"]:
            lines.append(f"    at {node['target']}: {node['html'][:200]}")
            for detail in (node["summary"] or "").splitlines():
                lines.append(f"      {detail}")
    return "\n".join(lines)


def then_nothing_scrolls_sideways(page: Page) -> None:
    """The page is no wider than the screen (WCAG 1.4.10 reflow, at 320px)."""
    # The header's script folds menu items that do not fit into "More" once the page
    # has loaded: measure after it has had the chance (the assertion below still fails
    # a page that stays too wide).
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_function(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth",
            timeout=3000,
        )
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{page.url} is {widths[0]}px wide on a {widths[1]}px screen"
