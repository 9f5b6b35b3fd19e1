"""Pages keep working under the real Content-Security-Policy (the other tests bypass it
so that axe can be injected as a script tag)."""

from __future__ import annotations

import pytest

from tests.e2e.browser import record_of
from tests.e2e.steps import (
    given_i_am_signed_in_as,
    given_i_open,
    then_i_see_the_heading,
    then_the_page_is_accessible,
)

pytestmark = pytest.mark.e2e


def then_the_policy_was_not_broken_and_the_scripts_ran(page) -> None:
    violations = record_of(page).csp_violations
    assert violations == [], violations
    classes = page.evaluate("document.body.className")
    assert "nhsuk-frontend-supported" in classes, (
        f"the nonce'd inline script did not run: {classes!r}"
    )
    stylesheet_rules = page.evaluate(
        "Array.from(document.styleSheets).reduce((n, sheet) => n + sheet.cssRules.length, 0)"
    )
    assert stylesheet_rules > 100, "the NHS.UK stylesheet did not load"


def test_public_pages_work_under_the_content_security_policy(strict_page):
    given_i_open(strict_page, "/")
    then_i_see_the_heading(strict_page, "Your personal health budget")
    then_the_policy_was_not_broken_and_the_scripts_ran(strict_page)
    then_the_page_is_accessible(strict_page, "home-public")

    given_i_open(strict_page, "/accounts/login/")
    then_i_see_the_heading(strict_page, "Sign in")
    then_the_policy_was_not_broken_and_the_scripts_ran(strict_page)
    then_the_page_is_accessible(strict_page, "login")


def test_staff_pages_work_under_the_content_security_policy(strict_page, world):
    given_i_am_signed_in_as(strict_page, world.org_admin_x)
    given_i_open(strict_page, "/")
    then_i_see_the_heading(strict_page, f"Hello, {world.org_admin_x.get_short_name()}")
    then_the_policy_was_not_broken_and_the_scripts_ran(strict_page)
    then_the_page_is_accessible(strict_page, "home-organisation-admin")

    given_i_open(strict_page, f"/organisations/{world.org_x.pk}/members/invite/")
    then_i_see_the_heading(strict_page, "Invite someone to North ICB")
    then_the_policy_was_not_broken_and_the_scripts_ran(strict_page)
    then_the_page_is_accessible(strict_page, "invite")


def test_the_api_docs_page_lists_every_operation_under_the_policy(strict_page):
    given_i_open(strict_page, "/api/v1/docs/")
    then_i_see_the_heading(strict_page, "API for partner systems")
    then_the_policy_was_not_broken_and_the_scripts_ran(strict_page)
    headings = strict_page.locator("h3").all_inner_texts()
    assert "POST /api/v1/organisations/{id}/members/" in headings, headings
    then_the_page_is_accessible(strict_page, "api-docs")
