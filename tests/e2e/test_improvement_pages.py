"""The improvement loop in the browser: a commissioner follows an outcomes report's
"Record an issue from this report" link to record the issue it showed (errors first),
adds an action with an owner and a due date, records the engagement session where
people who use services, carers and staff agreed it, and marks the action done, which
takes it off the open list. An overdue action is highlighted. Every page ends with the
axe check."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from outcomes import improvement
from outcomes.models import EngagementSession, ImprovementAction, ImprovementIssue
from tests.e2e.steps import (
    given_i_am_signed_in_as,
    given_i_open,
    then_each_error_link_moves_focus_to_its_field,
    then_i_see_the_heading,
    then_i_see_the_text,
    then_the_error_summary_lists,
    then_the_page_is_accessible,
    then_the_title_starts_with,
    when_i_choose,
    when_i_fill_in,
    when_i_follow_the_link,
    when_i_press,
)
from tests.factories import BudgetHolderFactory
from tests.outcomes.factories import submitted_response

pytestmark = pytest.mark.e2e


def when_i_enter_the_date(page: Page, legend: str, day: datetime.date) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def an_overdue_action(world) -> ImprovementAction:  # type: ignore[no-untyped-def]
    issue = improvement.issue_create(
        organisation=world.org_x,
        created_by=world.commissioner,
        title="Holders wait too long for a plan",
        respondent_kind="holder",
    )
    action = improvement.action_create(
        issue=issue,
        created_by=world.commissioner,
        description="Publish how long plans take",
        owner="Personalisation team",
        due_on=timezone.localdate(),
    )
    ImprovementAction.objects.filter(pk=action.pk).update(
        due_on=timezone.localdate() - datetime.timedelta(days=7)
    )
    return action


def test_a_commissioner_records_an_issue_from_a_report_and_sees_its_action_through(page, world):
    overdue = an_overdue_action(world)
    today = timezone.localdate()
    due = today + datetime.timedelta(days=60)

    # The improvement pages: the overdue action is first and highlighted.
    given_i_am_signed_in_as(page, world.commissioner)
    given_i_open(page, "/outcomes/improvement/")
    then_i_see_the_heading(page, "Improving from survey results")
    row = page.locator(f"tr[data-action='{overdue.pk}']")
    expect(row).to_contain_text("Overdue")
    then_i_see_the_text(page, "1 action is overdue.")
    then_the_page_is_accessible(page, "improvement-home-overdue")

    # The outcomes report for people on continuing healthcare this financial year
    # shows physical health getting worse; its link brings its filters to a new issue.
    for _ in range(6):
        holder = BudgetHolderFactory(organisation=world.org_x, eligibility_route="chc")
        submitted_response(holder, {"physical_health": "worse"})
    year = today.year if today.month >= 4 else today.year - 1
    given_i_open(
        page,
        f"/outcomes/report/?kind=holder&organisation={world.org_x.pk}&route=chc&period=fy{year}",
    )
    then_i_see_the_text(page, "What has changed for")
    then_the_page_is_accessible(page, "improvement-from-report")
    when_i_follow_the_link(page, "Record an issue from this report")
    then_i_see_the_heading(page, "Record an issue")
    period = f"from 1 April {year} to 31 March {year + 1}"
    then_i_see_the_text(
        page, f"Found in: Budget holder survey, North ICB, NHS continuing healthcare, {period}"
    )
    expect(page.get_by_label("Whose answers showed it (optional)")).to_have_value("holder")
    then_the_page_is_accessible(page, "improvement-issue-form")
    when_i_press(page, "Record the issue")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(page, "Say what the issue is")
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "improvement-issue-form-errors")
    when_i_fill_in(page, "What the issue is", "Physical health worse on continuing healthcare")
    when_i_fill_in(
        page,
        "More about the issue (optional)",
        "Every answer this year said worse; carers say support at home is short.",
    )
    page.get_by_label("The area of life it is about (optional)").select_option("physical_health")
    when_i_press(page, "Record the issue")
    then_i_see_the_heading(page, "Physical health worse on continuing healthcare")
    then_i_see_the_text(page, "The issue is recorded.")
    then_i_see_the_text(page, period)
    then_the_page_is_accessible(page, "improvement-issue-new")
    # "Found in" goes back to the same report.
    found_in = page.get_by_role("link", name=re.compile("^Budget holder survey, North ICB"))
    expect(found_in).to_have_attribute("href", re.compile(rf"period=fy{year}"))

    # A second look: the issue's wording is changed; the report it came from stays.
    when_i_follow_the_link(page, "Change the issue")
    then_i_see_the_heading(page, "Change the issue")
    then_the_page_is_accessible(page, "improvement-issue-edit")
    when_i_fill_in(
        page,
        "More about the issue (optional)",
        "Every answer this year said worse; people say support at home is short.",
    )
    when_i_press(page, "Save the changes")
    then_i_see_the_text(page, "The issue is changed.")
    then_i_see_the_text(page, "people say support at home is short")
    then_i_see_the_text(page, period)
    then_the_page_is_accessible(page, "improvement-issue-changed")
    issue = ImprovementIssue.objects.get(title="Physical health worse on continuing healthcare")
    assert issue.report_filters["route"] == "chc"
    assert issue.area == "physical_health"

    # An action with an owner and a due date (mistakes first).
    when_i_follow_the_link(page, "Add an action")
    then_i_see_the_heading(page, "Add an action")
    then_the_page_is_accessible(page, "improvement-action-form")
    when_i_enter_the_date(page, "When it is due", today - datetime.timedelta(days=1))
    when_i_press(page, "Add the action")
    then_the_error_summary_lists(
        page,
        "Say what will be done",
        "Say who will do it",
    )
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "improvement-action-form-errors")
    when_i_fill_in(page, "What will be done", "Review home support hours for everyone on CHC")
    when_i_fill_in(page, "Who will do it", "Continuing healthcare team")
    when_i_press(page, "Add the action")
    then_the_error_summary_lists(page, "The due date must be today or in the future.")
    then_the_page_is_accessible(page, "improvement-action-form-past-date")
    when_i_enter_the_date(page, "When it is due", due)
    when_i_fill_in(page, "A note (optional)", "Agreed with the CHC clinical lead.")
    when_i_press(page, "Add the action")
    then_i_see_the_text(page, "The action is added.")
    action = issue.actions.get()
    row = page.locator(f"tr[data-action='{action.pk}']")
    expect(row).to_contain_text("Continuing healthcare team")
    expect(row).to_contain_text(f"{due:%-d %B %Y}")
    expect(row).to_contain_text("Not started")
    then_the_page_is_accessible(page, "improvement-issue-with-action")

    # The engagement session where carers and staff agreed it.
    when_i_follow_the_link(page, "Record an engagement session about this issue")
    then_i_see_the_heading(page, "Record an engagement session")
    expect(page.get_by_label("Physical health worse on continuing healthcare")).to_be_checked()
    expect(page.get_by_label(re.compile("Review home support hours"))).to_be_checked()
    then_the_page_is_accessible(page, "improvement-session-form")
    when_i_fill_in(page, "What the session was", "People's panel: survey results")
    when_i_enter_the_date(page, "When it was held", today)
    when_i_fill_in(page, "People who use services who came", "2")
    when_i_fill_in(page, "Family carers who came", "9")
    when_i_fill_in(page, "Staff who came", "3")
    when_i_fill_in(
        page,
        "What was said and agreed (optional)",
        "The panel asked for hours to be reviewed first.",
    )
    when_i_press(page, "Record the session")
    then_i_see_the_heading(page, "People's panel: survey results")
    then_i_see_the_text(page, "2 people who use services, 9 carers, 3 staff")
    then_the_page_is_accessible(page, "improvement-session-detail")
    session = EngagementSession.objects.get()
    assert list(session.actions.all()) == [action]

    # The action shows on the commissioner's pages until it is done.
    given_i_open(page, "/outcomes/improvement/")
    expect(page.locator(f"tr[data-action='{action.pk}']")).to_be_visible()
    then_the_page_is_accessible(page, "improvement-home-open")
    page.set_viewport_size({"width": 320, "height": 800})
    page.reload()
    then_the_page_is_accessible(page, "improvement-home-320")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role(
        "link", name=re.compile("^Update the action: Review home support hours")
    ).click()
    then_i_see_the_heading(page, "Update an action")
    then_i_see_the_text(page, "Agreed with the CHC clinical lead.")
    then_the_page_is_accessible(page, "improvement-action-edit")
    when_i_choose(page, "Done")
    when_i_fill_in(page, "Add a note (optional)", "All 48 reviewed; 11 now have more hours.")
    when_i_press(page, "Save the changes")
    then_i_see_the_text(page, "The action is done. It no longer shows as open.")
    expect(page.locator(f"tr[data-action='{action.pk}']")).to_contain_text("Done")
    then_the_page_is_accessible(page, "improvement-issue-action-done")
    action.refresh_from_db()
    assert action.status == ImprovementAction.Status.DONE
    assert "Agreed with the CHC clinical lead." in action.notes
    assert "All 48 reviewed" in action.notes

    given_i_open(page, "/outcomes/improvement/")
    expect(page.locator(f"tr[data-action='{action.pk}']")).to_have_count(0)
    expect(page.locator(f"tr[data-action='{overdue.pk}']")).to_be_visible()
    then_the_page_is_accessible(page, "improvement-home-after-done")

    # The notes keep the history, newest first, each signed and dated.
    given_i_open(page, f"/outcomes/improvement/actions/{action.pk}/")
    notes = page.locator("ol.nhsuk-list li")
    expect(notes).to_have_count(2)
    expect(notes.first).to_contain_text("Not started to Done")
    expect(notes.first).to_contain_text(world.commissioner.name)
    then_the_page_is_accessible(page, "improvement-action-edit-done")
