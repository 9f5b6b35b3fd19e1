"""Finance and monitoring staff in the browser: the flags queue, proposing and deciding a
surplus recovery (errors first), allocation runs and "run now", verifying and querying
a spend, correcting a transaction, and the reconciliation results. Every page ends
with the axe check."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from budgets import services
from budgets.allocation import allocation_run
from budgets.models import LedgerAccount, MonitoringFlag, ReconciliationRun, Spend, SurplusRecovery
from budgets.monitoring import monitoring_sweep, reconciliation_run
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
from tests.factories import pay_in

pytestmark = pytest.mark.e2e


def given_holder_a_has_money_building_up(world) -> MonitoringFlag:
    pay_in(world.budget_a.contributions.get(), 3_000_00)
    monitoring_sweep()
    return MonitoringFlag.objects.get(budget=world.budget_a, kind="surplus")


def when_i_enter_the_date(page, day: datetime.date) -> None:
    when_i_fill_in(page, "Day", str(day.day))
    when_i_fill_in(page, "Month", str(day.month))
    when_i_fill_in(page, "Year", str(day.year))


def test_finance_work_a_surplus_flag_into_a_recovery_notice(page, world):
    given_holder_a_has_money_building_up(world)
    given_i_am_signed_in_as(page, world.finance_officer)
    given_i_open(page, "/flags/")
    then_i_see_the_heading(page, "Flags")
    then_i_see_the_text(page, "£3,380.00 unspent; threshold £2,000.00 (8 weeks)")
    then_the_page_is_accessible(page, "finance-flags")

    when_i_follow_the_link(page, "Unspent money above the threshold for Alex Holder")
    then_i_see_the_heading(page, "Unspent money above the threshold")
    then_the_page_is_accessible(page, "finance-flag")

    when_i_press(page, "Save")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(page, "Choose whether to acknowledge or resolve the flag")
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "finance-flag-with-errors")

    when_i_choose(page, "Acknowledge: I am looking into it")
    when_i_fill_in(page, "Note (optional)", "Checking with Alex what the money is for")
    when_i_press(page, "Save")
    then_i_see_the_text(page, "The flag for Alex Holder has been acknowledged.")
    then_the_page_is_accessible(page, "finance-flags-after-acknowledging")

    when_i_follow_the_link(page, "Unspent money above the threshold for Alex Holder")
    then_i_see_the_text(page, "Checking with Alex what the money is for")
    then_the_page_is_accessible(page, "finance-flag-acknowledged")
    page.get_by_role("link", name="Propose recovering unspent money", exact=False).click()
    then_i_see_the_heading(page, "Propose recovering unspent money")
    then_the_page_is_accessible(page, "finance-recovery-propose")

    when_i_fill_in(page, "Amount to recover, in pounds", "5000.005")
    when_i_enter_the_date(page, timezone.localdate() + datetime.timedelta(days=3))
    when_i_press(page, "Send the notice")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(
        page,
        "The amount to recover cannot include fractions of a penny: use at most 2 decimal places",
        "Enter the reasons: the person will be sent them",
    )
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "finance-recovery-propose-with-errors")

    when_i_fill_in(page, "Amount to recover, in pounds", "1,200.00")
    when_i_fill_in(page, "Reasons", "About £1,200 has not been needed for three months.")
    when_i_press(page, "Send the notice")
    then_the_error_summary_lists(page, "Give the person at least 14 days to respond.")
    then_the_page_is_accessible(page, "finance-recovery-propose-too-soon")
    assert not SurplusRecovery.objects.exists()

    when_i_enter_the_date(page, timezone.localdate() + datetime.timedelta(days=21))
    when_i_press(page, "Send the notice")
    then_i_see_the_heading(page, "Recovering unspent money")
    then_i_see_the_text(page, "A notice proposing to recover £1,200.00 has been sent")
    then_the_page_is_accessible(page, "finance-recoveries")


def test_finance_decide_a_recovery_after_the_person_asks_to_reconsider(page, world):
    pay_in(world.budget_a.contributions.get(), 1_000_00)
    recovery = services.surplus_recovery_propose(
        contribution=world.budget_a.contributions.get(),
        amount_pence=800_00,
        reasons="Unspent for three months.",
        respond_by=timezone.localdate() + datetime.timedelta(days=14),
        proposed_by=world.finance_officer,
    )
    services.surplus_recovery_request_reconsideration(
        recovery=recovery, reasons="I am saving for a hoist.", requested_by=world.holder_a.user
    )
    given_i_am_signed_in_as(page, world.finance_officer)
    given_i_open(page, "/recoveries/")
    then_the_page_is_accessible(page, "finance-recoveries-waiting")

    when_i_follow_the_link(page, "Decide on the recovery from Alex Holder")
    then_i_see_the_heading(page, "Decide on recovering unspent money")
    then_i_see_the_text(page, "I am saving for a hoist.")
    then_the_page_is_accessible(page, "finance-recovery-decide")

    when_i_choose(page, "Recover the money")
    when_i_fill_in(page, "Amount to recover, in pounds (optional)", "900")
    when_i_press(page, "Save the decision")
    then_the_error_summary_lists(
        page,
        "The amount to recover cannot be more than the notice said, £800.00",
        "Enter the reasons for the decision",
    )
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "finance-recovery-decide-with-errors")

    when_i_fill_in(page, "Amount to recover, in pounds (optional)", "300")
    when_i_fill_in(page, "Reasons for the decision", "The hoist costs £500; the rest goes back.")
    when_i_press(page, "Save the decision")
    then_i_see_the_text(page, "£300.00 has been recovered from Alex Holder's budget.")
    then_the_page_is_accessible(page, "finance-recoveries-decided")
    balance = LedgerAccount.objects.get(contribution__budget=world.budget_a).balance_pence
    assert balance == 1_380_00 - 300_00


def test_finance_start_an_allocation_run_and_read_what_it_paid(page, world):
    given_i_am_signed_in_as(page, world.finance_officer)
    given_i_open(page, "/allocation-runs/")
    then_i_see_the_heading(page, "Allocation runs")
    then_the_page_is_accessible(page, "finance-allocation-runs-empty")

    with mock.patch("budgets.views.finance.allocation_run_task.delay") as delay:
        when_i_press(page, "Run now")
        then_i_see_the_text(page, "The allocation run has started")
    delay.assert_called_once()
    then_the_page_is_accessible(page, "finance-allocation-run-started")

    # The worker picks the job up (here, directly) and the run shows on the list.
    allocation_run(as_of=world.budget_a.period_start + datetime.timedelta(days=60))
    page.reload()
    then_i_see_the_text(page, "£4,000.00")
    then_the_page_is_accessible(page, "finance-allocation-runs")

    as_of = (world.budget_a.period_start + datetime.timedelta(days=60)).strftime("%-d %B %Y")
    page.get_by_role("table").get_by_role("link").first.click()
    then_i_see_the_heading(page, f"Allocation run for {as_of}")
    expect(page.get_by_role("link", name="Alex Holder", exact=True)).to_have_count(2)
    expect(page.get_by_role("link", name="Bea Holder", exact=False)).to_have_count(0)
    then_the_page_is_accessible(page, "finance-allocation-run")

    page.get_by_role("link", name="Correct", exact=False).first.click()
    then_i_see_the_heading(page, "Correct a payment in")
    then_the_page_is_accessible(page, "finance-correct-payment")

    when_i_press(page, "Correct the payment in")
    then_the_error_summary_lists(page, "Enter the reason for the correction")
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "finance-correct-payment-with-errors")

    when_i_fill_in(page, "Reason for the correction", "Paid twice in error")
    when_i_press(page, "Correct the payment in")
    then_i_see_the_text(page, "The payment in has been corrected")
    then_the_page_is_accessible(page, "finance-ledger-after-correction")


def test_finance_verify_one_spend_and_ask_about_another(page, world):
    spend = Spend.objects.get(budget=world.budget_a)
    given_i_am_signed_in_as(page, world.finance_officer)
    given_i_open(page, f"/spending/{spend.pk}/")
    then_the_page_is_accessible(page, "finance-spend")

    when_i_press(page, "Verify this spend")
    then_i_see_the_text(page, "The spend with Personal assistant wages has been verified.")
    then_the_page_is_accessible(page, "finance-spend-verified")

    when_i_press(page, "Ask about this spend")
    then_i_see_the_heading(page, "Ask about a spend")
    then_the_page_is_accessible(page, "finance-spend-query")

    when_i_press(page, "Send question")
    then_the_error_summary_lists(page, "Enter your question")
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "finance-spend-query-with-errors")

    when_i_fill_in(page, "Your question", "Please upload the payslip for these wages.")
    when_i_press(page, "Send question")
    then_i_see_the_text(page, "Your question has been sent to Alex Holder.")
    then_the_page_is_accessible(page, "finance-spend-queried")


def test_a_commissioner_sees_a_failed_reconciliation_clearly(page, world):
    account = LedgerAccount.objects.get(contribution__budget=world.budget_a)
    ReconciliationRun.objects.create(
        finished_at=timezone.now() - datetime.timedelta(days=1),
        ok=False,
        accounts_checked=6,
        mismatches=[
            {
                "check": "balance",
                "account": account.pk,
                "name": account.name,
                "cached_pence": 999_00,
                "entries_pence": 380_00,
            }
        ],
    )
    reconciliation_run()
    given_i_am_signed_in_as(page, world.commissioner)
    given_i_open(page, "/reconciliation/")
    then_i_see_the_heading(page, "Ledger reconciliation")
    then_i_see_the_text(page, "The ledger did not reconcile: 1 problem found.")
    then_i_see_the_text(page, "All correct")
    then_the_page_is_accessible(page, "finance-reconciliation")
