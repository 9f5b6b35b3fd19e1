"""Support plans in the browser: a budget holder writes a plan step by step (no
JavaScript needed) and sends it, a clinician asks for changes, the holder changes the
cost and sends it again, the clinician and then a commissioner (the cost passes the
ICB's threshold) approve, and the holder sees the plan in place against their budget,
prints it and compares a new version with it. Then the writing pages on a small phone
screen. Every page ends with the axe check."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from budgets.models import Budget
from plans import services
from plans.models import PlanSettings, SupportPlan
from tests.conftest import staff_user
from tests.e2e.steps import (
    given_i_am_signed_in_as,
    given_i_open,
    then_each_error_link_moves_focus_to_its_field,
    then_i_am_on,
    then_i_see_the_heading,
    then_i_see_the_text,
    then_nothing_scrolls_sideways,
    then_the_error_summary_lists,
    then_the_page_is_accessible,
    then_the_title_starts_with,
    when_i_choose,
    when_i_enter_the_code_for,
    when_i_fill_in,
    when_i_follow_the_link,
    when_i_press,
    when_i_sign_in_with,
)
from tests.factories import PASSWORD, TOTP_SECRET
from users.models import Role

pytestmark = pytest.mark.e2e

GOAL = "Walk to the park on my own"
SUPPORT = "A personal assistant to help me go out"


def when_i_enter_the_date(page: Page, legend: str, day: datetime.date) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def when_i_tick(page: Page, label: str) -> None:
    page.get_by_role("checkbox", name=label, exact=True).check()


def when_i_switch_to(page: Page, user: object) -> None:
    page.context.clear_cookies()
    given_i_am_signed_in_as(page, user)


def then_the_task_is(page: Page, step: str, status: str) -> None:
    row = page.locator(".nhsuk-task-list__item").filter(
        has=page.get_by_role("link", name=step, exact=True)
    )
    expect(row.locator(".nhsuk-task-list__status")).to_have_text(status)


def then_the_choice_sits_under_the_versions(page: Page) -> None:
    first = page.get_by_label("Compare version").bounding_box()
    only = page.get_by_role("checkbox", name="Only show what changed").bounding_box()
    assert first is not None
    assert only is not None
    assert abs(only["x"] - first["x"]) <= 4, f"the checkbox is at x={only['x']}"
    assert only["y"] > first["y"] + first["height"]


def test_a_plan_is_written_sent_back_changed_and_approved_by_two_people(page, world):
    # A commissioner must approve plans over £10,000 a year at this ICB.
    PlanSettings.objects.update_or_create(
        organisation=world.org_x, defaults={"commissioner_over_pence": 10_000_00}
    )
    clinician = staff_user(world.org_x, Role.CLINICIAN)
    today = timezone.localdate()
    holder = world.holder_a

    # The holder starts a plan for their budget ----------------------------------------
    given_i_am_signed_in_as(page, holder.user)
    given_i_open(page, "/")
    then_i_see_the_text(page, "You have no support plan yet.")
    then_the_page_is_accessible(page, "home-no-plan")
    when_i_follow_the_link(page, "Start your support plan")
    then_i_see_the_heading(page, "Your support plans")
    then_i_see_the_text(page, "There is no plan for this budget yet.")
    then_the_page_is_accessible(page, "plan-list-empty")

    when_i_press(page, "Start the plan")
    then_i_see_the_heading(page, "Start your plan")
    then_the_page_is_accessible(page, "plan-start")

    when_i_press(page, "Start your plan")
    then_i_see_the_heading(page, "Write your support plan")
    then_i_see_the_text(page, "You have completed 0 of 8 steps.")
    then_the_task_is(page, "What matters to you", "Not started")
    then_the_page_is_accessible(page, "plan-task-list")
    plan = SupportPlan.objects.get(budget=world.budget_a)
    assert plan.state == SupportPlan.State.DRAFT

    # What matters: an error first ------------------------------------------------------
    when_i_follow_the_link(page, "What matters to you")
    then_i_see_the_heading(page, "What matters to you")
    then_the_page_is_accessible(page, "plan-step-what-matters")
    when_i_press(page, "Save and continue")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(page, "Say what matters to you")
    # Said once in the summary and once at the field: not a third time in a callout.
    expect(page.locator(".nhsuk-card--warning")).to_have_count(0)
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "plan-step-with-error")

    when_i_fill_in(
        page, "What matters to you", "Getting out of the house, and my garden. I like mornings."
    )
    when_i_press(page, "Save and continue")

    # Outcomes, with areas of life ------------------------------------------------------
    then_i_see_the_heading(page, "What you want to achieve")
    then_i_see_the_text(page, "What matters to you: saved.")
    then_the_page_is_accessible(page, "plan-step-outcomes")
    when_i_fill_in(page, "What you want to achieve", GOAL)
    when_i_fill_in(page, "How you will know you have achieved it (optional)", "I go twice a week")
    when_i_enter_the_date(page, "By when", today + datetime.timedelta(days=300))
    when_i_tick(page, "Independence")
    when_i_tick(page, "Being part of the community")
    when_i_press(page, "Add an outcome")
    then_i_see_the_text(page, "The outcome has been added.")
    expect(page.get_by_role("heading", level=2, name="Your outcomes")).to_be_visible()
    expect(page.get_by_role("heading", level=3, name=GOAL)).to_be_visible()
    then_i_see_the_text(page, "Independence, Being part of the community")
    then_the_page_is_accessible(page, "plan-step-outcomes-added")
    when_i_press(page, "Continue")

    # Support, with its cost ------------------------------------------------------------
    then_i_see_the_heading(page, "Your support")
    then_the_page_is_accessible(page, "plan-step-support")
    when_i_fill_in(page, "What the support is", SUPPORT)
    when_i_choose(page, "A personal assistant")
    when_i_fill_in(page, "Their name (optional)", "Priya")
    when_i_fill_in(page, "How many times", "2")
    when_i_choose(page, "a week")
    when_i_fill_in(page, "Cost each time", "80")
    when_i_choose(page, "NHS continuing healthcare")
    when_i_tick(page, GOAL)
    when_i_press(page, "Add some support")
    then_i_see_the_text(page, "The support has been added.")
    expect(page.get_by_role("heading", level=2, name="Your support so far")).to_be_visible()
    then_i_see_the_text(page, "£80.00 each time, £8,320.00 a year")
    expect(page.get_by_text("The plan costs £8,320.00 a year so far.")).to_be_visible()
    then_the_page_is_accessible(page, "plan-step-support-added")
    when_i_press(page, "Continue")

    # How the money is managed ----------------------------------------------------------
    then_i_see_the_heading(page, "How the money is managed")
    then_i_see_the_text(page, "Say how the NHS continuing healthcare money is managed")
    then_the_page_is_accessible(page, "plan-step-money")
    page.get_by_role("link", name=re.compile("^Say how")).click()
    then_i_see_the_heading(page, "How the NHS continuing healthcare money is managed")
    then_the_page_is_accessible(page, "plan-step-money-stream")
    when_i_choose(page, "Direct payment")
    when_i_fill_in(page, "Who manages the money", "Me, with help from my sister")
    when_i_press(page, "Save and continue")
    then_i_see_the_heading(page, "How the money is managed")
    then_i_see_the_text(page, "Direct payment, managed by Me, with help from my sister")
    then_the_page_is_accessible(page, "plan-step-money-said")
    when_i_press(page, "Continue")

    # A risk the holder chooses to take -------------------------------------------------
    then_i_see_the_heading(page, "Risks")
    then_the_page_is_accessible(page, "plan-step-risks")
    when_i_fill_in(page, "The risk", "I could fall on the way to the park")
    when_i_fill_in(page, "How it is managed", "I carry my phone and a walking stick")
    when_i_fill_in(page, "Who agreed how it is managed", "Me, my sister and my physiotherapist")
    when_i_tick(page, "This is a risk I choose to take")
    when_i_press(page, "Add a risk")
    then_i_see_the_text(page, "The risk has been added.")
    then_i_see_the_text(page, "A risk I choose to take")
    then_the_page_is_accessible(page, "plan-step-risks-added")
    when_i_press(page, "Continue")

    # If things go wrong ----------------------------------------------------------------
    then_i_see_the_heading(page, "If things go wrong")
    then_the_page_is_accessible(page, "plan-step-contingency")
    when_i_fill_in(
        page,
        "What happens if your support does not turn up or stops",
        "I ring the agency's out-of-hours number, then my neighbour Jo.",
    )
    when_i_fill_in(
        page,
        "What happens if your family carer has an emergency",
        "Sam rings Jo, who comes round the same day.",
    )
    when_i_press(page, "Save and continue")

    # The circle of support: a family carer and a separate back-up person ----------------
    then_i_see_the_heading(page, "Your circle of support")
    then_i_see_the_text(page, "If things go wrong: saved.")
    then_the_page_is_accessible(page, "plan-step-circle")
    when_i_fill_in(page, "Their name", "Sam Holder")
    when_i_choose(page, "Family carer")
    when_i_fill_in(page, "What they do (optional)", "Lives with me and helps every day")
    when_i_press(page, "Add someone to your circle of support")
    then_i_see_the_text(page, "The person has been added.")
    then_the_page_is_accessible(page, "plan-step-circle-carer-added")
    when_i_fill_in(page, "Their name", "Jo Neighbour")
    when_i_choose(page, "Friend")
    when_i_tick(page, "They are a named back-up person")
    when_i_fill_in(page, "Phone number (optional)", "07700 900123")
    when_i_press(page, "Add someone to your circle of support")
    then_i_see_the_text(page, "The person has been added.")
    then_i_see_the_text(page, "07700 900123")
    then_the_page_is_accessible(page, "plan-step-circle-backup-added")
    when_i_press(page, "Continue")

    # Review dates ------------------------------------------------------------------------
    then_i_see_the_heading(page, "Review dates")
    then_the_page_is_accessible(page, "plan-step-reviews")
    first_review = today + datetime.timedelta(days=60)
    when_i_enter_the_date(page, "First review", first_review)
    page.get_by_label("After that, review the plan every").select_option(label="6 months")
    when_i_press(page, "Save and continue")

    # Check and send ----------------------------------------------------------------------
    then_i_see_the_heading(page, "Check the plan and send it")
    expect(page.locator(".nhsuk-card--warning")).to_have_count(0)
    then_i_see_the_text(page, GOAL)
    then_i_see_the_text(page, "Jo Neighbour")
    then_the_page_is_accessible(page, "plan-check-answers")
    when_i_press(page, "Send for approval")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(page, "Confirm that you agree with the plan to send it.")
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "plan-check-answers-with-error")
    when_i_tick(page, "I agree with this plan")
    when_i_press(page, "Send for approval")
    then_i_see_the_heading(page, "Your support plan")
    then_i_see_the_text(page, "The plan has been sent for approval.")
    then_i_see_the_text(page, "Waiting for approval")
    then_the_page_is_accessible(page, "plan-sent")
    plan.refresh_from_db()
    assert plan.state == SupportPlan.State.SUBMITTED
    assert plan.yearly_cost_pence == 8_320_00
    assert not plan.needs_commissioner

    # The clinician signs in (with their code) and asks for changes ----------------------
    page.context.clear_cookies()
    given_i_open(page, "/accounts/login/")
    then_the_page_is_accessible(page, "clinician-login")
    when_i_sign_in_with(page, email=clinician.email, password=PASSWORD)
    then_i_see_the_heading(page, "Enter your security code")
    then_the_page_is_accessible(page, "clinician-mfa")
    when_i_enter_the_code_for(page, TOTP_SECRET, label="Code", button="Continue")
    then_i_am_on(page, "/")
    then_the_page_is_accessible(page, "clinician-home")

    when_i_follow_the_link(page, "Plans waiting")
    then_i_see_the_heading(page, "Plans waiting for you")
    queue_row = page.locator(f"#clinician tr[data-plan='{plan.pk}']")
    expect(queue_row).to_contain_text("Alex Holder")
    expect(queue_row).to_contain_text("£8,320.00")
    expect(queue_row).to_contain_text("Today")
    then_the_page_is_accessible(page, "staff-queue")

    queue_row.get_by_role("link", name=re.compile("^Look at and sign off")).click()
    then_i_see_the_heading(page, "Sign off the support plan")
    then_i_see_the_text(page, "A clinician")
    then_the_page_is_accessible(page, "staff-signoff")
    when_i_press(page, "Request changes")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(page, "Say what needs to change, and why")
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "staff-signoff-with-error")
    changes = "Two hours twice a week is not enough to reach the park: make it £120 a visit."
    when_i_fill_in(page, "What needs to change, and why", changes)
    when_i_press(page, "Request changes")
    then_i_see_the_heading(page, "Plans waiting for you")
    then_i_see_the_text(page, "Alex Holder's plan has been sent back")
    expect(page.locator(f"#clinician tr[data-plan='{plan.pk}']")).to_have_count(0)
    then_the_page_is_accessible(page, "staff-queue-after-changes-requested")

    # The holder is told, and changes the plan -------------------------------------------
    when_i_switch_to(page, holder.user)
    given_i_open(page, "/notifications/")
    then_i_see_the_text(page, "Your support plan needs some changes")
    then_i_see_the_text(page, changes)
    then_the_page_is_accessible(page, "holder-notifications")
    when_i_press(page, re.compile("^Open.*needs some changes"))
    then_i_see_the_heading(page, "Your support plan")
    expect(page.locator(".nhsuk-card--warning")).to_contain_text(changes)
    then_the_page_is_accessible(page, "plan-changes-requested")

    when_i_follow_the_link(page, "Make the changes")
    then_i_see_the_heading(page, "Write your support plan")
    then_i_see_the_text(page, changes)
    then_the_page_is_accessible(page, "plan-task-list-changes-requested")
    when_i_follow_the_link(page, "Your support")
    then_the_page_is_accessible(page, "plan-step-support-to-change")
    page.get_by_role("link", name=re.compile("^Change")).first.click()
    then_i_see_the_heading(page, "Change some support")
    expect(page.get_by_label("Cost each time")).to_have_value("80.00")
    then_the_page_is_accessible(page, "plan-step-support-change")
    when_i_fill_in(page, "Cost each time", "120")
    when_i_press(page, "Save changes")
    then_i_see_the_text(page, "The support has been changed.")
    then_i_see_the_text(page, "£120.00 each time, £12,480.00 a year")
    then_the_page_is_accessible(page, "plan-step-support-changed")

    when_i_follow_the_link(page, "Back to the steps of the plan")
    then_the_task_is(page, "Your support", "Completed")
    then_the_page_is_accessible(page, "plan-task-list-revised")
    when_i_press(page, "Check and send the plan")
    then_i_see_the_heading(page, "Check the plan and send it")
    then_i_see_the_text(page, "£12,480.00")
    then_the_page_is_accessible(page, "plan-check-answers-revised")
    when_i_tick(page, "I agree with this plan")
    when_i_press(page, "Send for approval")
    then_i_see_the_text(page, "The plan has been sent for approval.")
    then_the_page_is_accessible(page, "plan-sent-again")
    plan.refresh_from_db()
    assert plan.state == SupportPlan.State.SUBMITTED
    assert plan.needs_commissioner

    # The clinician approves; it now needs a commissioner too ----------------------------
    when_i_switch_to(page, clinician)
    given_i_open(page, "/plans/waiting/")
    then_the_page_is_accessible(page, "staff-queue-resent")
    page.locator(f"#clinician tr[data-plan='{plan.pk}']").get_by_role("link").last.click()
    then_i_see_the_heading(page, "Sign off the support plan")
    then_i_see_the_text(page, "A clinician and a commissioner (the plan passes a cost threshold)")
    then_i_see_the_text(page, "You are approving as the clinician.")
    then_the_page_is_accessible(page, "staff-signoff-resent")
    when_i_press(page, "Approve the plan")
    then_i_see_the_heading(page, "Plans waiting for you")
    then_i_see_the_text(page, "It now waits for a commissioner's approval too.")
    then_the_page_is_accessible(page, "staff-queue-after-clinician")

    # A commissioner (someone else) approves: the budget is reduced to the plan's cost ----
    when_i_switch_to(page, world.commissioner)
    given_i_open(page, "/plans/waiting/")
    then_i_see_the_heading(page, "Plans waiting for you")
    commissioner_row = page.locator(f"#commissioner tr[data-plan='{plan.pk}']")
    expect(commissioner_row).to_contain_text("£12,480.00")
    then_the_page_is_accessible(page, "staff-queue-commissioner")
    commissioner_row.get_by_role("link").last.click()
    then_i_see_the_heading(page, "Sign off the support plan")
    then_i_see_the_text(page, "Approving reduces the budget")
    then_i_see_the_text(page, "from £13,000.00 to £12,480.00 a year")
    then_the_page_is_accessible(page, "staff-signoff-commissioner")
    when_i_press(page, "Approve the plan")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(
        page, "Give the reasons for reducing the budget: the person is sent them"
    )
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "staff-signoff-commissioner-with-error")
    when_i_fill_in(
        page, "Reasons for reducing the budget", "The agreed plan costs £520 a year less."
    )
    when_i_press(page, "Approve the plan")
    then_i_see_the_heading(page, "Plans waiting for you")
    then_i_see_the_text(page, "Alex Holder's plan is approved and in place.")
    then_the_page_is_accessible(page, "staff-queue-after-commissioner")
    plan.refresh_from_db()
    assert plan.state == SupportPlan.State.ACTIVE
    assert plan.clinician_approved_by == clinician
    assert plan.commissioner_approved_by == world.commissioner

    # The holder sees the plan in place, against the budget --------------------------------
    when_i_switch_to(page, holder.user)
    given_i_open(page, "/")
    then_i_see_the_text(page, "Version 1 of your plan is active.")
    then_the_page_is_accessible(page, "home-plan-active")
    when_i_follow_the_link(page, "All your plans, or start a change")
    then_i_see_the_text(page, "Active")
    then_the_page_is_accessible(page, "plan-list-active")
    when_i_follow_the_link(page, "Version 1 of the plan")
    then_i_see_the_heading(page, "Your support plan")
    then_i_see_the_text(page, "Active")
    costs = page.locator("dl").filter(has_text="The plan costs").first
    expect(costs).to_contain_text("£12,480.00 a year")
    expect(costs.locator(".nhsuk-summary-list__row").nth(1)).to_contain_text("£12,480.00 a year")
    then_i_see_the_text(page, "Approved by a clinician")
    then_i_see_the_text(page, "Approved by a commissioner")
    expect(page.get_by_role("link", name="Compare with another version")).to_have_count(0)
    then_the_page_is_accessible(page, "plan-active")

    when_i_follow_the_link(page, "Print the plan")
    then_i_see_the_text(page, "Use your browser's print command")
    then_i_see_the_text(page, GOAL)
    then_the_page_is_accessible(page, "plan-print")
    page.emulate_media(media="print")
    expect(page.get_by_text("Use your browser's print command")).to_be_hidden()
    page.emulate_media(media="screen")

    when_i_follow_the_link(page, "Your budget")
    then_i_see_the_heading(page, "Your budget")
    then_i_see_the_text(page, "See your plan in place (version 1)")
    then_the_page_is_accessible(page, "budget-with-plan")

    # Changing the plan starts version 2, which can be compared with version 1 ------------
    when_i_follow_the_link(page, "See your plan in place (version 1)")
    then_the_page_is_accessible(page, "plan-active-again")
    when_i_press(page, "Change the plan")
    then_i_see_the_heading(page, "Change your plan")
    then_the_page_is_accessible(page, "plan-change-start")
    when_i_press(page, "Change your plan")
    then_i_see_the_heading(page, "Write your support plan")
    then_i_see_the_text(page, "Your support plan, version 2")
    then_the_page_is_accessible(page, "plan-v2-task-list")
    when_i_follow_the_link(page, "What matters to you")
    expect(page.get_by_label("What matters to you")).to_contain_text("I like mornings.")
    then_the_page_is_accessible(page, "plan-v2-what-matters")
    when_i_fill_in(
        page, "What matters to you", "Getting out of the house, and my garden. I like evenings."
    )
    when_i_press(page, "Save and continue")
    then_the_page_is_accessible(page, "plan-v2-outcomes")

    version_2 = SupportPlan.objects.get(budget=world.budget_a, version=2)
    given_i_open(page, f"/plans/{version_2.pk}/")
    then_i_see_the_text(page, "Draft")
    then_the_page_is_accessible(page, "plan-v2")
    when_i_follow_the_link(page, "Compare with another version")
    then_i_see_the_heading(page, "Compare versions of the plan")
    then_i_see_the_text(page, "Comparing version 1 (active) with version 2 (draft).")
    expect(page.locator("del", has_text="mornings.")).to_be_visible()
    expect(page.locator("ins", has_text="evenings.")).to_be_visible()
    then_the_choice_sits_under_the_versions(page)
    then_the_page_is_accessible(page, "plan-compare")
    when_i_tick(page, "Only show what changed")
    when_i_press(page, "Compare")
    expect(page.get_by_role("heading", name=re.compile("^What matters"))).to_have_count(1)
    expect(page.get_by_role("heading", name=re.compile("^Your support"))).to_have_count(0)
    then_the_page_is_accessible(page, "plan-compare-only-changes")

    budget = Budget.objects.get(pk=world.budget_a.pk)
    assert services.budget_total_pence(budget) == 12_480_00


def test_writing_a_plan_fits_a_small_phone(page, world):
    plan = services.plan_start(budget=world.budget_a, started_by=world.holder_a.user)
    services.plan_update(
        plan=plan, updated_by=world.holder_a.user, what_matters="My garden and my dog."
    )
    page.set_viewport_size({"width": 320, "height": 640})
    given_i_am_signed_in_as(page, world.holder_a.user)

    given_i_open(page, f"/plans/{plan.pk}/write/")
    then_i_see_the_heading(page, "Write your support plan")
    then_i_see_the_text(page, "You have completed 1 of 8 steps.")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "narrow-plan-task-list")

    when_i_follow_the_link(page, "Your support")
    then_i_see_the_heading(page, "Your support")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "narrow-plan-step-support")

    when_i_press(page, "Add some support")
    then_the_title_starts_with(page, "Error: ")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "narrow-plan-step-support-with-errors")

    given_i_open(page, f"/plans/{plan.pk}/write/check/")
    then_i_see_the_heading(page, "Check the plan and send it")
    then_i_see_the_text(page, "Before the plan can be sent")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "narrow-plan-check-answers")


def test_a_review_a_removal_and_ending_a_plan(page, world):
    """The pages the journey above does not reach: a clinician records a review of the
    plan in force (with an error first), the holder removes an outcome from the new
    version the review started, and the clinician ends the old plan's successor."""
    from tests.plans.conftest import fill_plan

    clinician = staff_user(world.org_x, Role.CLINICIAN)
    holder = world.holder_a
    plan = services.plan_start(budget=world.budget_a, started_by=holder.user)
    plan = fill_plan(plan, holder.user, weekly_pence=250_00)
    services.plan_submit(plan=plan, submitted_by=holder.user, agree=True)
    plan = services.plan_approve(plan=plan, approved_by=clinician, step="clinician")
    outcome = plan.outcomes.get()

    # A review: progress on the outcome is needed -----------------------------------------
    given_i_am_signed_in_as(page, clinician)
    given_i_open(page, f"/plans/{plan.pk}/review/")
    then_i_see_the_heading(page, "Record a review")
    then_the_page_is_accessible(page, "staff-review")
    when_i_press(page, "Record the review")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(
        page,
        f"Choose how it is going with “{outcome.goal}”",
        "Enter the date the review was held",
        "Say whether the plan needs to change",
    )
    then_the_page_is_accessible(page, "staff-review-with-errors")
    when_i_choose(page, "Getting there")
    when_i_enter_the_date(page, "Date of the review", timezone.localdate())
    when_i_fill_in(page, "What is working", "Walks twice a week with Sam")
    when_i_choose(page, "Yes: start a new version of the plan to change")
    when_i_press(page, "Record the review")
    then_the_page_is_accessible(page, "staff-review-recorded")
    review = plan.reviews.get()
    assert review.progress.get().progress == "progressing"
    draft = review.new_version
    assert draft is not None
    assert draft.state == SupportPlan.State.DRAFT

    # The holder removes the outcome from the new version ---------------------------------
    when_i_switch_to(page, holder.user)
    copied = draft.outcomes.get()
    given_i_open(page, f"/plans/{draft.pk}/write/outcomes/{copied.pk}/remove/")
    then_the_page_is_accessible(page, "plan-part-remove")
    when_i_press(page, "Yes, remove it")
    then_the_page_is_accessible(page, "plan-part-removed")
    assert not draft.outcomes.exists()

    # The clinician ends the new version: a reason is needed --------------------------------
    when_i_switch_to(page, clinician)
    given_i_open(page, f"/plans/{draft.pk}/end/")
    then_i_see_the_heading(page, "End the support plan")
    then_the_page_is_accessible(page, "staff-end")
    when_i_press(page, "End the plan")
    then_the_error_summary_lists(page, "Give the reason for ending the plan")
    then_the_page_is_accessible(page, "staff-end-with-errors")
    when_i_fill_in(page, "Why is the plan ending?", "The person chose to keep the plan as it is")
    when_i_press(page, "End the plan")
    then_the_page_is_accessible(page, "staff-ended")
    draft.refresh_from_db()
    assert draft.state == SupportPlan.State.ENDED
    plan.refresh_from_db()
    assert plan.state == SupportPlan.State.ACTIVE
