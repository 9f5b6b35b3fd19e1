"""Staff find a person, open a record, set up a budget and its funding, change its
state, and work out an indicative budget; every page checked with axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from budgets.models import Budget, RasAssessment
from tests.budgets.test_setup_views import make_questionnaire
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

pytestmark = pytest.mark.e2e


def when_i_enter_the_date(page, legend: str, day: str, month: str, year: str) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(day)
    group.get_by_label("Month").fill(month)
    group.get_by_label("Year").fill(year)


def test_a_care_coordinator_searches_and_opens_a_new_record(page, world):
    given_i_am_signed_in_as(page, world.staff_x)
    given_i_open(page, "/people/")
    then_i_see_the_heading(page, "Find a person")
    then_the_page_is_accessible(page, "find-a-person")

    when_i_fill_in(page, "NHS number", "999 123")
    when_i_enter_the_date(page, "Date of birth", "31", "2", "1980")
    when_i_press(page, "Search")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(
        page, "NHS number must be 10 digits", "Date of birth must be a real date, like 15 3 1984"
    )
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "find-a-person-with-errors")

    when_i_fill_in(page, "NHS number", world.holder_b.nhs_number)
    when_i_enter_the_date(page, "Date of birth", "", "", "")
    when_i_press(page, "Search")
    then_i_see_the_text(page, "No one found")
    then_the_page_is_accessible(page, "find-a-person-nobody")

    when_i_press(page, "Open a new record")
    then_i_see_the_heading(page, "Open a record for someone")
    then_the_page_is_accessible(page, "holder-create")

    when_i_fill_in(page, "NHS number", "999 000 0027")
    when_i_fill_in(page, "Full name", "Nia Newperson")
    when_i_enter_the_date(page, "Date of birth", "7", "11", "2999")
    when_i_fill_in(page, "Postcode", "nowhere")
    when_i_choose(page, "NHS continuing healthcare (legal right to a personal health budget)")
    when_i_press(page, "Open the record")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(
        page,
        "Enter a valid NHS number: the last digit does not match the others",
        "Date of birth must be in the past",
        "Enter a real postcode, like LS1 4AP",
    )
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "holder-create-with-errors")

    when_i_fill_in(page, "NHS number", "999 000 0026")
    when_i_enter_the_date(page, "Date of birth", "7", "11", "1975")
    when_i_fill_in(page, "Postcode", "ls2 7ue")
    when_i_press(page, "Open the record")
    then_i_see_the_heading(page, "Nia Newperson")
    then_i_see_the_text(page, "A record has been opened for Nia Newperson.")
    then_i_see_the_text(page, "999 000 0026")
    then_the_page_is_accessible(page, "holder-created")


def test_a_commissioner_sets_up_a_budget_with_funding_and_agrees_it(page, world):
    given_i_am_signed_in_as(page, world.commissioner)
    given_i_open(page, "/people/")
    then_the_page_is_accessible(page, "find-a-person-commissioner")
    when_i_fill_in(page, "Name", "alex")
    when_i_press(page, "Search")
    then_the_page_is_accessible(page, "find-a-person-results")

    when_i_follow_the_link(page, "Alex Holder")
    then_i_see_the_heading(page, "Alex Holder")
    then_the_page_is_accessible(page, "holder-record-commissioner")

    when_i_press(page, "Set up a new budget")
    then_i_see_the_heading(page, "Set up a budget for Alex Holder")
    then_the_page_is_accessible(page, "budget-create")

    when_i_enter_the_date(page, "Start date", "1", "4", "2027")
    when_i_enter_the_date(page, "End date", "1", "4", "2026")
    when_i_press(page, "Set up the budget")
    then_the_error_summary_lists(page, "The end date must be after the start date")
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "budget-create-with-errors")

    when_i_enter_the_date(page, "End date", "31", "3", "2028")
    when_i_press(page, "Set up the budget")
    then_i_see_the_heading(page, "Add funding to Alex Holder's budget")
    then_the_page_is_accessible(page, "contribution-add")

    when_i_choose(page, "North ICB")
    page.get_by_label("Funding stream").select_option(label="NHS continuing healthcare")
    when_i_fill_in(page, "Amount a year", "12.345")
    when_i_press(page, "Add the funding")
    then_the_error_summary_lists(
        page, "Amount a year must be in pounds and pence: no fractions of a penny"
    )
    then_the_page_is_accessible(page, "contribution-add-with-errors")

    when_i_fill_in(page, "Amount a year", "12,500.00")
    when_i_press(page, "Add the funding")
    then_i_see_the_heading(page, "Alex Holder")
    then_i_see_the_text(page, "North ICB now funds £12,500.00 a year")
    then_the_page_is_accessible(page, "holder-record-with-new-budget")

    budget = Budget.objects.get(holder=world.holder_a, state=Budget.State.INDICATIVE)
    given_i_open(page, f"/budgets/{budget.pk}/state/")
    then_i_see_the_heading(page, "Change the state of Alex Holder's budget")
    expect(page.get_by_role("radio")).to_have_count(2)
    then_the_page_is_accessible(page, "budget-transition")

    when_i_choose(page, "Closed")
    when_i_press(page, "Change the state")
    then_the_error_summary_lists(page, "Give the reason for suspending or closing the budget")
    then_the_page_is_accessible(page, "budget-transition-with-errors")

    when_i_choose(page, "Agreed")
    when_i_press(page, "Change the state")
    then_i_see_the_text(page, "The budget is now agreed.")
    then_the_page_is_accessible(page, "holder-record-budget-agreed")

    contribution = budget.contributions.get()
    given_i_open(page, f"/funding/{contribution.pk}/change/")
    then_i_see_the_heading(page, "Change the amount from North ICB")
    then_i_see_the_text(page, "will be sent a written notice with your reasons")
    then_the_page_is_accessible(page, "contribution-change")

    when_i_fill_in(page, "New amount a year", "10,000.00")
    when_i_press(page, "Save the amount")
    then_the_error_summary_lists(
        page, "Give the reasons for the reduction: the person will be sent them."
    )
    then_the_page_is_accessible(page, "contribution-change-with-errors")

    when_i_fill_in(page, "Reasons for a reduction", "Fewer care hours are needed.")
    when_i_press(page, "Save the amount")
    then_i_see_the_text(page, "Alex Holder has been sent a notice with your reasons.")
    then_the_page_is_accessible(page, "holder-record-after-reduction")


def test_staff_work_out_an_indicative_budget_and_a_commissioner_overrides_it(page, world):
    questionnaire = make_questionnaire(world.org_x, name="North RAS")
    given_i_am_signed_in_as(page, world.staff_x)
    given_i_open(page, f"/people/{world.holder_a.pk}/indicative-budget/new/")
    then_i_see_the_heading(page, "Work out an indicative budget for Alex Holder")
    then_the_page_is_accessible(page, "ras-method")

    when_i_press(page, "Continue")
    then_the_error_summary_lists(page, "Choose how to work out the indicative budget")
    then_the_page_is_accessible(page, "ras-method-with-errors")

    when_i_choose(
        page, f"North RAS (NHS continuing healthcare, North ICB, version {questionnaire.version})"
    )
    when_i_press(page, "Continue")
    then_i_see_the_heading(page, "North RAS for Alex Holder")
    then_the_page_is_accessible(page, "ras-questionnaire")

    page.get_by_role("group", name="Washing and dressing").get_by_label("Some help").check()
    when_i_press(page, "Work out the indicative budget")
    then_the_error_summary_lists(
        page, "Answer: Eating and drinking", "Answer: Getting about outside"
    )
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "ras-questionnaire-with-errors")

    page.get_by_role("group", name="Eating and drinking").get_by_label(
        "Help with everything"
    ).check()
    page.get_by_role("group", name="Getting about outside").get_by_label("No help needed").check()
    when_i_press(page, "Work out the indicative budget")
    then_i_see_the_heading(page, "Indicative budget for Alex Holder")
    then_i_see_the_text(page, "15 points at £100.00 a point = £1,500.00")
    then_the_page_is_accessible(page, "ras-assessment-detail")

    given_i_open(page, f"/people/{world.holder_a.pk}/indicative-budget/new/?method=package")
    then_i_see_the_heading(page, "The cost of Alex Holder's current package")
    then_the_page_is_accessible(page, "ras-package")

    assessment = RasAssessment.objects.get(holder=world.holder_a)
    given_i_am_signed_in_as(page, world.commissioner)
    given_i_open(page, f"/indicative-budgets/{assessment.pk}/")
    then_the_page_is_accessible(page, "ras-assessment-detail-commissioner")
    when_i_press(page, "Override the amount")
    then_i_see_the_heading(page, "Override Alex Holder's indicative budget")
    then_the_page_is_accessible(page, "ras-override")

    when_i_fill_in(page, "Indicative amount a year", "1,800.00")
    when_i_press(page, "Save the indicative budget")
    then_the_error_summary_lists(page, "Give the reason for the override")
    then_the_page_is_accessible(page, "ras-override-with-errors")

    when_i_fill_in(
        page, "Reason for the change", "Night-time help is not scored by the questionnaire"
    )
    when_i_press(page, "Save the indicative budget")
    then_i_see_the_text(page, "The indicative budget is now £1,800.00 a year.")
    then_i_see_the_text(page, "Night-time help is not scored by the questionnaire")
    then_the_page_is_accessible(page, "ras-assessment-overridden")
