"""Outcome surveys in the browser: a commissioner sets up North ICB's survey schedule
(mistakes first), sends the surveys due now, and sees the rounds they made, as counts
without names, on a wide screen and a 320px one. Every page ends with the axe check."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from outcomes.models import SurveyInvitation, SurveySchedule
from outcomes.scheduling import add_months
from plans.models import SupportPlan
from tests.e2e.steps import (
    given_i_am_signed_in_as,
    given_i_open,
    then_each_error_link_moves_focus_to_its_field,
    then_i_see_the_heading,
    then_i_see_the_text,
    then_nothing_scrolls_sideways,
    then_the_error_summary_lists,
    then_the_page_is_accessible,
    then_the_title_starts_with,
    when_i_choose,
    when_i_fill_in,
    when_i_follow_the_link,
    when_i_press,
)
from tests.outcomes.test_scheduling import links, surveyed  # noqa: F401
from tests.plans.conftest import pw  # noqa: F401

pytestmark = pytest.mark.e2e


def given_holder_a_s_first_survey_is_due_today(surveyed) -> None:  # noqa: F811
    approved = add_months(timezone.localdate(), -6)
    SupportPlan.objects.filter(pk=surveyed.plan.pk).update(
        approved_at=timezone.make_aware(datetime.datetime.combine(approved, datetime.time(9)))
    )
    SurveySchedule.objects.all().delete()  # North ICB has not set one up yet


def when_i_tick(page: Page, label: str) -> None:
    page.get_by_role("checkbox", name=label, exact=True).check()


def test_a_commissioner_sets_the_schedule_sends_the_surveys_due_and_sees_the_rounds(
    page,
    surveyed,  # noqa: F811
):
    world = surveyed.world
    given_holder_a_s_first_survey_is_due_today(surveyed)

    given_i_am_signed_in_as(page, world.commissioner)
    given_i_open(page, "/outcomes/rounds/")
    then_i_see_the_heading(page, "Outcome surveys")
    then_i_see_the_text(page, "North ICB does not send outcome surveys yet.")
    then_i_see_the_text(page, "No surveys have been sent yet.")
    then_the_page_is_accessible(page, "survey-rounds-empty")

    when_i_follow_the_link(page, "Set up the survey schedule of North ICB")
    then_i_see_the_heading(page, "Survey schedule")
    then_the_page_is_accessible(page, "survey-schedule-form")

    # Mistakes first: zero months, a reminder after the time to answer, nobody asked.
    when_i_choose(page, "Yes, send surveys when they fall due")
    when_i_fill_in(page, "First survey, months after a person's first plan is approved", "0")
    when_i_fill_in(page, "Send one reminder after this many days", "50")
    for label in (
        "Budget holders (or their representative)",
        "Family carers named in the person's circle of support",
        "Staff who wrote or approved the person's plan",
    ):
        page.get_by_role("checkbox", name=label, exact=True).uncheck()
    when_i_press(page, "Save the schedule")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(
        page,
        "The months before the first survey must be a whole number from 1 to 36",
        "Select who is asked",
        "The reminder must go before the time to answer ends: choose fewer days than 42",
    )
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "survey-schedule-errors")
    assert not SurveySchedule.objects.exists()

    when_i_fill_in(page, "First survey, months after a person's first plan is approved", "6")
    when_i_fill_in(page, "Send one reminder after this many days", "14")
    when_i_tick(page, "Budget holders (or their representative)")
    when_i_tick(page, "Family carers named in the person's circle of support")
    when_i_tick(page, "Staff who wrote or approved the person's plan")
    when_i_press(page, "Save the schedule")
    then_i_see_the_heading(page, "Outcome surveys")
    then_i_see_the_text(page, "The survey schedule of North ICB is saved.")
    then_i_see_the_text(
        page, "First 6 months after a person's first plan is approved, then every 12 months"
    )
    then_the_page_is_accessible(page, "survey-rounds-scheduled")

    # Send what is due now: holder A, Jo their family carer and the approving clinician.
    when_i_press(page, "Send surveys due now")
    then_i_see_the_text(page, "Surveys checked: 3 invitations and 0 reminders sent.")
    rows = page.locator("tr[data-round]")
    expect(rows).to_have_count(3)
    expect(page.locator("main")).not_to_contain_text(world.holder_a.name)
    expect(page.locator("main")).not_to_contain_text("Jo Sister")
    then_the_page_is_accessible(page, "survey-rounds-sent")
    assert SurveyInvitation.objects.filter(sent_at__isnull=False).count() == 3

    # Running it again sends nothing more.
    when_i_press(page, "Send surveys due now")
    then_i_see_the_text(page, "Surveys checked: 0 invitations and 0 reminders sent.")
    then_the_page_is_accessible(page, "survey-rounds-again")

    page.get_by_role("link", name=re.compile("family carer survey")).click()
    month = f"{timezone.localdate():%B %Y}"
    then_i_see_the_heading(page, f"Family carer survey, {month}")
    then_i_see_the_text(page, "Invited, not opened yet")
    expect(page.locator("main")).not_to_contain_text("Jo Sister")
    then_the_page_is_accessible(page, "survey-round-detail")

    # On a small screen nothing scrolls sideways.
    page.set_viewport_size({"width": 320, "height": 640})
    given_i_open(page, "/outcomes/rounds/")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "survey-rounds-320")
    when_i_follow_the_link(page, "Change the survey schedule of North ICB")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "survey-schedule-320")
