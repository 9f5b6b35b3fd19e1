"""A budget holder's money pages in the browser: my budget, the ledger, my spending,
recording a spend (errors first), a spend with a question to answer, notices and a
proposed recovery. Every page ends with the axe check."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from budgets import services
from budgets.models import Spend
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
    when_i_fill_in,
    when_i_follow_the_link,
    when_i_press,
)

pytestmark = pytest.mark.e2e


def test_a_budget_holder_checks_their_budget_and_spending(page, world):
    given_i_am_signed_in_as(page, world.holder_a.user)
    given_i_open(page, f"/budgets/{world.budget_a.pk}/")
    then_i_see_the_heading(page, "Your budget")
    then_i_see_the_text(page, "£380.00")
    expect(page.get_by_role("img", name="Your balance over the budget year")).to_be_visible()
    then_the_page_is_accessible(page, "money-my-budget")

    when_i_follow_the_link(page, "Every payment in and out")
    then_i_see_the_heading(page, "Your payments in and out")
    then_the_page_is_accessible(page, "money-ledger")

    when_i_follow_the_link(page, "Back to your budget")
    then_i_see_the_heading(page, "Your budget")
    then_the_page_is_accessible(page, "money-my-budget-again")
    when_i_follow_the_link(page, "Your spending")
    then_i_see_the_heading(page, "Your spending")
    then_i_see_the_text(page, "Personal assistant wages")
    then_the_page_is_accessible(page, "money-my-spending")


def test_a_budget_holder_records_a_spend_after_correcting_mistakes(page, world):
    given_i_am_signed_in_as(page, world.holder_a.user)
    given_i_open(page, f"/budgets/{world.budget_a.pk}/spending/new/")
    then_i_see_the_heading(page, "Record a spend")
    then_the_page_is_accessible(page, "money-spend-form")

    when_i_fill_in(page, "Amount", "1.005")
    when_i_fill_in(page, "Month", "14")
    when_i_press(page, "Record the spend")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(
        page,
        "Enter who was paid",
        "The date of the spend must include a day and a year",
        "The amount cannot include fractions of a penny: use at most 2 decimal places",
        "Choose what the spend was for",
    )
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "money-spend-form-with-errors")

    today = timezone.localdate()
    when_i_fill_in(page, "Who was paid", "Corner shop")
    when_i_fill_in(page, "Day", str(today.day))
    when_i_fill_in(page, "Month", str(today.month))
    when_i_fill_in(page, "Year", str(today.year))
    when_i_fill_in(page, "Amount", "12.50")
    page.get_by_label("What it was for").select_option(label="Equipment and adaptations")
    when_i_press(page, "Record the spend")
    then_i_see_the_heading(page, "Corner shop, £12.50")
    then_i_see_the_text(page, "£12.50 paid to Corner shop has been recorded.")
    then_the_page_is_accessible(page, "money-spend-detail")
    assert Spend.objects.filter(budget=world.budget_a, payee="Corner shop").count() == 1


def test_a_budget_holder_answers_a_question_about_a_spend(page, world):
    spend = Spend.objects.get(budget=world.budget_a)
    services.spend_query_raise(
        spend=spend, question="Which weeks does this cover?", asked_by=world.finance_officer
    )
    given_i_am_signed_in_as(page, world.holder_a.user)
    given_i_open(page, f"/budgets/{world.budget_a.pk}/spending/")
    then_i_see_the_text(page, "Questions to answer")
    then_the_page_is_accessible(page, "money-my-spending-with-question")

    page.get_by_role("link", name="Personal assistant wages").first.click()
    then_i_see_the_text(page, "Which weeks does this cover?")
    then_the_page_is_accessible(page, "money-spend-with-question")
    when_i_press(page, "Send your answer")
    then_the_error_summary_lists(page, "Enter your answer")
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "money-spend-answer-with-errors")

    when_i_fill_in(page, "Your answer", "The first two weeks of the month")
    when_i_press(page, "Send your answer")
    then_i_see_the_text(page, "Your answer has been sent to the finance team.")
    then_the_page_is_accessible(page, "money-spend-answered")


def test_a_budget_holder_reads_a_notice_and_asks_us_to_reconsider(page, world):
    services.surplus_recovery_propose(
        contribution=world.budget_a.contributions.get(),
        amount_pence=100_00,
        reasons="More than 8 weeks of funding has not been spent.",
        respond_by=timezone.localdate() + datetime.timedelta(days=28),
        proposed_by=world.finance_officer,
    )
    given_i_am_signed_in_as(page, world.holder_a.user)
    given_i_open(page, "/notices/")
    then_i_see_the_heading(page, "Letters and notices")
    then_the_page_is_accessible(page, "money-notices")

    when_i_follow_the_link(page, "We propose to take back £100.00 of unspent money")
    then_i_see_the_heading(page, "Taking back unspent money")
    then_the_page_is_accessible(page, "money-recovery")

    when_i_fill_in(page, "Why we should not take this money back", "Saving for a hoist")
    when_i_press(page, "Ask us to reconsider")
    then_i_see_the_text(page, "We have your request.")
    then_the_page_is_accessible(page, "money-recovery-reconsideration-asked")


def test_finance_see_a_spend_with_their_checks(page, world):
    spend = Spend.objects.get(budget=world.budget_a)
    given_i_am_signed_in_as(page, world.finance_officer)
    given_i_open(page, f"/spending/{spend.pk}/")
    then_i_see_the_heading(page, "Personal assistant wages, £120.00")
    then_the_page_is_accessible(page, "money-spend-finance-view")


def test_my_budget_fits_a_phone(page, world):
    page.set_viewport_size({"width": 375, "height": 740})
    given_i_am_signed_in_as(page, world.holder_a.user)
    given_i_open(page, f"/budgets/{world.budget_a.pk}/")
    then_i_see_the_heading(page, "Your budget")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "money-my-budget-phone")

    given_i_open(page, f"/budgets/{world.budget_a.pk}/spending/new/")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "money-spend-form-phone")
