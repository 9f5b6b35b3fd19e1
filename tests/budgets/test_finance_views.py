"""The finance and monitoring pages (budgets/views/finance.py), tried by the owner (a
finance officer of the holder's ICB), a colleague with another role, and a stranger
(finance at another ICB). Flags, runs and reconciliations are made by the real jobs."""

from __future__ import annotations

import datetime
from typing import Any
from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from budgets import services
from budgets.allocation import allocation_run
from budgets.models import (
    AllocationRun,
    BudgetNotice,
    LedgerAccount,
    LedgerTransaction,
    MonitoringFlag,
    ReconciliationRun,
    Spend,
    SpendQuery,
    SurplusRecovery,
)
from budgets.monitoring import monitoring_sweep, reconciliation_run
from core.models import AuditEvent
from tests.factories import MembershipFactory, make_budget, pay_in, with_mfa
from users.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance_y(world: Any) -> Any:
    """A finance officer at the other ICB: a stranger to holder A's money."""
    return with_mfa(MembershipFactory(organisation=world.org_y, role=Role.FINANCE_OFFICER).user)


def _messages(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _surplus(world: Any, budget: Any = None, pence: int = 3_000_00) -> MonitoringFlag:
    """Pay enough into a budget to pass the 8-week threshold, then run the sweep."""
    budget = budget or world.budget_a
    pay_in(budget.contributions.get(), pence)
    monitoring_sweep()
    return MonitoringFlag.objects.get(budget=budget, kind=MonitoringFlag.Kind.SURPLUS)


def _spend(world: Any) -> Spend:
    return Spend.objects.get(budget=world.budget_a)


def _propose(world: Any, *, amount: int = 100_00, days: int = 14) -> SurplusRecovery:
    return services.surplus_recovery_propose(
        contribution=world.budget_a.contributions.get(),
        amount_pence=amount,
        reasons="Money has built up unspent for three months.",
        respond_by=timezone.localdate() + datetime.timedelta(days=days),
        proposed_by=world.finance_officer,
    )


def _date_fields(day: datetime.date, name: str = "respond_by") -> dict[str, str]:
    return {f"{name}_0": str(day.day), f"{name}_1": str(day.month), f"{name}_2": str(day.year)}


# Flags --------------------------------------------------------------------------------


def test_the_flags_queue_shows_the_organisations_flags_in_words(world, client_for):
    _surplus(world)
    _surplus(world, world.budget_b)
    response = client_for(world.finance_officer).get(reverse("budgets:flag_list"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Alex Holder" in page
    assert "Bea Holder" not in page
    # £500 + £3,000 in, £120 spent; 8 weeks of £13,000 a year is £2,000.
    assert "£3,380.00 unspent; threshold £2,000.00 (8 weeks)" in page
    assert reverse("budgets:holder_detail", args=[world.holder_a.pk]) in page
    assert reverse("budgets:budget_detail", args=[world.budget_a.pk]) in page


def test_a_care_coordinator_at_the_other_icb_sees_only_their_own_flags(world, client_for):
    _surplus(world)
    _surplus(world, world.budget_b)
    page = client_for(world.staff_y).get(reverse("budgets:flag_list")).content.decode()
    assert "Bea Holder" in page
    assert "Alex Holder" not in page


def test_the_queue_is_oldest_first_and_leaves_out_resolved_flags(world, client_for):
    first = _surplus(world)
    other = make_budget(world.holder_a, paid_in_pence=5_000_00)
    monitoring_sweep()
    second = MonitoringFlag.objects.get(budget=other)
    MonitoringFlag.objects.filter(pk=first.pk).update(
        raised_at=timezone.now() - datetime.timedelta(days=3)
    )
    client = client_for(world.finance_officer)
    page = client.get(reverse("budgets:flag_list")).content.decode()
    first_link = reverse("budgets:flag_move", args=[first.pk])
    second_link = reverse("budgets:flag_move", args=[second.pk])
    assert page.index(first_link) < page.index(second_link)

    services.flag_move(flag=first, to_state="resolved", moved_by=world.finance_officer)
    page = client.get(reverse("budgets:flag_list")).content.decode()
    assert first_link not in page
    assert second_link in page


def test_the_queue_filters_by_kind_and_state(world, client_for):
    flag = _surplus(world)
    client = client_for(world.finance_officer)
    link = reverse("budgets:flag_move", args=[flag.pk])
    url = reverse("budgets:flag_list")
    assert link in client.get(url, {"kind": "surplus"}).content.decode()
    assert link not in client.get(url, {"kind": "no_spending"}).content.decode()
    assert link in client.get(url, {"state": "open"}).content.decode()
    assert link not in client.get(url, {"state": "acknowledged"}).content.decode()


def test_an_unknown_filter_is_a_clear_error(world, client_for):
    flag = _surplus(world)
    response = client_for(world.finance_officer).get(
        reverse("budgets:flag_list"), {"kind": "everything"}
    )
    page = response.content.decode()
    assert "Choose a kind of flag from the list" in page
    assert "<title>Error: " in page
    assert reverse("budgets:flag_move", args=[flag.pk]) not in page


def test_opening_a_flag_is_audited_and_a_stranger_gets_404(world, client_for, finance_y):
    flag = _surplus(world)
    url = reverse("budgets:flag_move", args=[flag.pk])
    response = client_for(world.staff_x).get(url)
    assert response.status_code == 200
    assert "£3,380.00 unspent" in response.content.decode()
    assert AuditEvent.objects.filter(
        action="personal_record.viewed", actor=world.staff_x, person=world.holder_a
    ).exists()
    assert client_for(finance_y).get(url).status_code == 404
    assert client_for(world.staff_y).post(url, {"to_state": "resolved"}).status_code == 404
    assert MonitoringFlag.objects.get(pk=flag.pk).state == "open"


def test_staff_acknowledge_then_resolve_a_flag_with_a_note(world, client_for):
    flag = _surplus(world)
    client = client_for(world.staff_x)
    url = reverse("budgets:flag_move", args=[flag.pk])
    response = client.post(url, {"to_state": "acknowledged", "note": "Calling Alex on Monday"})
    assert response.status_code == 302
    assert response["Location"] == reverse("budgets:flag_list")
    flag.refresh_from_db()
    assert (flag.state, flag.acknowledged_by, flag.note) == (
        "acknowledged",
        world.staff_x,
        "Calling Alex on Monday",
    )
    assert "The flag for Alex Holder has been acknowledged." in _messages(response)

    client.post(url, {"to_state": "resolved", "note": "Saving for a wheelchair"})
    flag.refresh_from_db()
    assert flag.state == "resolved"
    assert (
        AuditEvent.objects.filter(action="flag.state_changed", object_id=str(flag.pk)).count() == 2
    )


def test_moving_a_resolved_flag_is_a_conflict_and_changes_nothing(world, client_for):
    flag = _surplus(world)
    services.flag_move(flag=flag, to_state="resolved", moved_by=world.finance_officer)
    response = client_for(world.staff_x).post(
        reverse("budgets:flag_move", args=[flag.pk]), {"to_state": "acknowledged"}
    )
    assert response.status_code == 409
    assert "A flag that is resolved cannot change." in response.content.decode()
    flag.refresh_from_db()
    assert flag.state == "resolved"
    assert flag.acknowledged_by is None


def test_a_flag_without_a_choice_is_a_clear_error(world, client_for):
    flag = _surplus(world)
    response = client_for(world.staff_x).post(reverse("budgets:flag_move", args=[flag.pk]), {})
    assert response.status_code == 200
    assert "Choose whether to acknowledge or resolve the flag" in response.content.decode()
    assert MonitoringFlag.objects.get(pk=flag.pk).state == "open"


def test_finance_are_offered_recovery_from_a_surplus_flag(world, client_for):
    flag = _surplus(world)
    contribution = world.budget_a.contributions.get()
    link = reverse("budgets:recovery_propose", args=[contribution.pk])
    url = reverse("budgets:flag_move", args=[flag.pk])
    assert link in client_for(world.finance_officer).get(url).content.decode()
    assert link not in client_for(world.staff_x).get(url).content.decode()


# Allocation runs ----------------------------------------------------------------------


def _run(world: Any) -> AllocationRun:
    # 60 days in: the payments due on days 28 and 56 of each world budget (day 0 was
    # paid in when the world was made), £1,000.00 each (£13,000 a year in 13).
    return allocation_run(as_of=world.budget_a.period_start + datetime.timedelta(days=60))


def test_allocation_runs_are_listed_with_their_figures(world, client_for):
    run = _run(world)
    assert (run.payments_posted, run.budgets_paid, run.total_pence) == (4, 2, 4_000_00)
    response = client_for(world.commissioner).get(reverse("budgets:allocation_run_list"))
    page = response.content.decode()
    assert reverse("budgets:allocation_run_detail", args=[run.pk]) in page
    assert "£4,000.00" in page
    assert "Succeeded" in page
    assert "Run now" not in page  # commissioners watch; finance starts runs


def test_finance_see_the_run_now_button(world, client_for):
    page = client_for(world.finance_officer).get(reverse("budgets:allocation_run_list"))
    assert reverse("budgets:allocation_run_now") in page.content.decode()


def test_a_run_lists_only_the_payments_to_budgets_the_user_may_see(world, client_for, finance_y):
    run = _run(world)
    url = reverse("budgets:allocation_run_detail", args=[run.pk])
    page = client_for(world.finance_officer).get(url).content.decode()
    assert "Alex Holder" in page
    assert "Bea Holder" not in page
    assert page.count("£1,000.00") == 2
    assert "£4,000.00" in page  # the run's own figures are platform-wide
    page_y = client_for(finance_y).get(url).content.decode()
    assert "Bea Holder" in page_y
    assert "Alex Holder" not in page_y


def test_run_now_enqueues_the_job_once_after_commit(
    world, client_for, django_capture_on_commit_callbacks
):
    client = client_for(world.finance_officer)
    with mock.patch("budgets.views.finance.allocation_run_task.delay") as delay:
        with django_capture_on_commit_callbacks() as callbacks:
            response = client.post(reverse("budgets:allocation_run_now"))
            assert not delay.called  # not before the commit
        assert len(callbacks) == 1
        callbacks[0]()
    delay.assert_called_once_with(timezone.localdate().isoformat(), world.finance_officer.pk)
    assert response.status_code == 302
    assert response["Location"] == reverse("budgets:allocation_run_list")
    assert any(m.startswith("The allocation run has started") for m in _messages(response))
    assert AuditEvent.objects.filter(
        action="allocation.run_requested", actor=world.finance_officer
    ).exists()
    assert not AllocationRun.objects.exists()  # the job does not run inside the request


def test_run_now_is_post_only_and_for_finance(world, client_for):
    url = reverse("budgets:allocation_run_now")
    with mock.patch("budgets.views.finance.allocation_run_task.delay") as delay:
        assert client_for(world.finance_officer).get(url).status_code == 405
        assert client_for(world.commissioner).post(url).status_code == 403
    assert not delay.called
    assert not AuditEvent.objects.filter(action="allocation.run_requested").exists()


# Verifying and querying spends --------------------------------------------------------


def test_finance_verify_a_spend(world, client_for):
    spend = _spend(world)
    response = client_for(world.finance_officer).post(
        reverse("budgets:spend_verify", args=[spend.pk])
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("budgets:spend_detail", args=[spend.pk])
    spend.refresh_from_db()
    assert (spend.state, spend.verified_by) == ("verified", world.finance_officer)
    assert "has been verified" in _messages(response)[0]


def test_finance_at_another_icb_cannot_verify_a_spend(world, client_for, finance_y):
    spend = _spend(world)
    response = client_for(finance_y).post(reverse("budgets:spend_verify", args=[spend.pk]))
    assert response.status_code == 404
    assert Spend.objects.get(pk=spend.pk).state == "recorded"


def test_verifying_a_spend_with_a_question_waiting_is_refused_with_a_message(world, client_for):
    spend = _spend(world)
    services.spend_query_raise(spend=spend, question="Receipt?", asked_by=world.finance_officer)
    response = client_for(world.finance_officer).post(
        reverse("budgets:spend_verify", args=[spend.pk])
    )
    assert response.status_code == 302
    assert _messages(response) == ["A spend that is queried by finance cannot be verified."]
    assert Spend.objects.get(pk=spend.pk).state == "queried"


def test_finance_ask_about_a_spend(world, client_for):
    spend = _spend(world)
    client = client_for(world.finance_officer)
    url = reverse("budgets:spend_query", args=[spend.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Personal assistant wages" in page.content.decode()
    response = client.post(url, {"question": "Please upload the payslip."})
    assert response.status_code == 302
    assert response["Location"] == reverse("budgets:spend_detail", args=[spend.pk])
    query = SpendQuery.objects.get(spend=spend)
    assert (query.question, query.asked_by) == ("Please upload the payslip.", world.finance_officer)
    assert Spend.objects.get(pk=spend.pk).state == "queried"


def test_an_empty_question_is_refused(world, client_for):
    spend = _spend(world)
    response = client_for(world.finance_officer).post(
        reverse("budgets:spend_query", args=[spend.pk]), {"question": "   "}
    )
    assert response.status_code == 200
    assert "Enter your question" in response.content.decode()
    assert not SpendQuery.objects.exists()


def test_a_second_question_while_one_waits_is_a_conflict(world, client_for):
    spend = _spend(world)
    client = client_for(world.finance_officer)
    url = reverse("budgets:spend_query", args=[spend.pk])
    client.post(url, {"question": "Payslip?"})
    response = client.post(url, {"question": "And the timesheet?"})
    assert response.status_code == 409
    assert "already has a question waiting" in response.content.decode()
    assert SpendQuery.objects.filter(spend=spend).count() == 1


def test_a_care_coordinator_cannot_ask_about_a_spend(world, client_for, finance_y):
    spend = _spend(world)
    url = reverse("budgets:spend_query", args=[spend.pk])
    assert client_for(world.staff_x).post(url, {"question": "?"}).status_code == 403
    assert client_for(finance_y).post(url, {"question": "?"}).status_code == 404
    assert not SpendQuery.objects.exists()


# Correcting transactions --------------------------------------------------------------


def _balance(world: Any) -> int:
    return LedgerAccount.objects.get(contribution__budget=world.budget_a).balance_pence


def test_the_correction_page_shows_the_entries_and_a_fresh_key(world, client_for):
    spend = _spend(world)
    response = client_for(world.finance_officer).get(
        reverse("budgets:transaction_correct", args=[spend.transaction_id])
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Personal assistant wages" in page
    assert page.count("£120.00") == 2  # out of the budget, into the payee
    assert 'name="idempotency_key"' in page
    assert AuditEvent.objects.filter(
        action="personal_record.viewed", person=world.holder_a
    ).exists()


def test_finance_correct_a_spend_once_even_if_the_form_is_sent_twice(world, client_for):
    spend = _spend(world)
    client = client_for(world.finance_officer)
    url = reverse("budgets:transaction_correct", args=[spend.transaction_id])
    form = {"reason": "Recorded twice", "idempotency_key": services.new_idempotency_key()}
    before = _balance(world)
    response = client.post(url, form)
    assert response.status_code == 302
    assert response["Location"] == reverse("budgets:budget_ledger", args=[world.budget_a.pk])
    again = client.post(url, form)
    assert again.status_code == 302
    assert (
        LedgerTransaction.objects.filter(kind="correction", reverses=spend.transaction).count() == 1
    )
    assert _balance(world) == before + 120_00


def test_correcting_again_with_a_new_page_is_a_conflict(world, client_for):
    spend = _spend(world)
    client = client_for(world.finance_officer)
    url = reverse("budgets:transaction_correct", args=[spend.transaction_id])
    client.post(url, {"reason": "Wrong", "idempotency_key": services.new_idempotency_key()})
    balance = _balance(world)
    response = client.post(
        url, {"reason": "Wrong again", "idempotency_key": services.new_idempotency_key()}
    )
    assert response.status_code == 409
    assert "It cannot be corrected again." in response.content.decode()
    assert _balance(world) == balance
    assert LedgerTransaction.objects.filter(kind="correction").count() == 1


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"reason": ""}, "Enter the reason for the correction"),
        ({"reason": "Wrong", "idempotency_key": "not-a-key"}, "This page has expired"),
    ],
)
def test_a_correction_without_a_reason_or_key_changes_nothing(world, client_for, form, message):
    spend = _spend(world)
    form.setdefault("idempotency_key", services.new_idempotency_key())
    response = client_for(world.finance_officer).post(
        reverse("budgets:transaction_correct", args=[spend.transaction_id]), form
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not LedgerTransaction.objects.filter(kind="correction").exists()


def test_a_stranger_cannot_correct_a_transaction(world, client_for, finance_y):
    spend = _spend(world)
    url = reverse("budgets:transaction_correct", args=[spend.transaction_id])
    form = {"reason": "Wrong", "idempotency_key": services.new_idempotency_key()}
    assert client_for(finance_y).post(url, form).status_code == 404
    assert client_for(world.commissioner).post(url, form).status_code == 403
    assert not LedgerTransaction.objects.filter(kind="correction").exists()


# Surplus recovery ---------------------------------------------------------------------


def _propose_url(world: Any) -> str:
    return reverse("budgets:recovery_propose", args=[world.budget_a.contributions.get().pk])


def _proposal(**changes: Any) -> dict[str, str]:
    form = {
        "amount": "250.00",
        "reasons": "Money has built up unspent for three months.",
        **_date_fields(timezone.localdate() + datetime.timedelta(days=21)),
    }
    form.update(changes)
    return form


def test_finance_propose_a_recovery_and_the_holder_gets_a_notice(world, client_for):
    client = client_for(world.finance_officer)
    page = client.get(_propose_url(world))
    assert page.status_code == 200
    assert "£380.00" in page.content.decode()  # the balance
    response = client.post(_propose_url(world), _proposal())
    assert response.status_code == 302
    assert response["Location"] == reverse("budgets:recovery_list")
    recovery = SurplusRecovery.objects.get()
    assert (recovery.amount_pence, recovery.state) == (250_00, "notice_sent")
    assert recovery.notice.kind == BudgetNotice.Kind.SURPLUS_RECOVERY
    assert _balance(world) == 380_00  # no money moves on a proposal


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("380.01", "cannot be more than the balance, £380.00"),
        ("10.005", "cannot include fractions of a penny"),
        ("-5", "must be more than £0.00"),
        ("0", "must be more than £0.00"),
        ("0.00", "must be more than £0.00"),
        ("99999999999", "or less"),
        ("ten pounds", "must be in pounds and pence, like 12.50"),
        ("1e3", "must be in pounds and pence, like 12.50"),
        ("", "Enter the amount to recover"),
    ],
)
def test_a_bad_amount_to_recover_is_refused_and_nothing_is_sent(world, client_for, amount, message):
    response = client_for(world.finance_officer).post(_propose_url(world), _proposal(amount=amount))
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert "<title>Error: " in page
    assert not SurplusRecovery.objects.exists()
    assert not BudgetNotice.objects.exists()


@pytest.mark.parametrize(
    ("days", "message"),
    [(13, "Give the person at least 14 days to respond."), (-1, "at least 14 days")],
)
def test_a_respond_by_date_too_soon_is_refused(world, client_for, days, message):
    day = timezone.localdate() + datetime.timedelta(days=days)
    response = client_for(world.finance_officer).post(
        _propose_url(world), _proposal(**_date_fields(day))
    )
    assert message in response.content.decode()
    assert not SurplusRecovery.objects.exists()


def test_a_respond_by_date_that_is_not_a_date_is_refused(world, client_for):
    response = client_for(world.finance_officer).post(
        _propose_url(world), _proposal(respond_by_0="31", respond_by_1="2", respond_by_2="2030")
    )
    assert "Respond by must be a real date" in response.content.decode()
    assert not SurplusRecovery.objects.exists()


def test_reasons_are_required_for_a_proposal(world, client_for):
    response = client_for(world.finance_officer).post(_propose_url(world), _proposal(reasons=" "))
    assert "Enter the reasons: the person will be sent them" in response.content.decode()
    assert not SurplusRecovery.objects.exists()


def test_a_second_proposal_while_one_is_open_is_a_conflict(world, client_for):
    _propose(world)
    response = client_for(world.finance_officer).post(
        _propose_url(world), _proposal(amount="10.00")
    )
    # The page says so before the form is even offered; a forced post gets the 409.
    assert response.status_code == 409
    assert "already in progress" in response.content.decode()
    assert SurplusRecovery.objects.count() == 1


def test_only_finance_of_the_holders_icb_may_propose(world, client_for, finance_y):
    assert client_for(finance_y).post(_propose_url(world), _proposal()).status_code == 404
    assert client_for(world.commissioner).post(_propose_url(world), _proposal()).status_code == 403
    assert not SurplusRecovery.objects.exists()


def test_recoveries_are_listed_for_the_users_organisations(world, client_for, finance_y):
    recovery = _propose(world)
    pay_in(world.budget_b.contributions.get(), 1_000_00)
    other = services.surplus_recovery_propose(
        contribution=world.budget_b.contributions.get(),
        amount_pence=50_00,
        reasons="Unspent",
        respond_by=timezone.localdate() + datetime.timedelta(days=14),
        proposed_by=finance_y,
    )
    page = client_for(world.commissioner).get(reverse("budgets:recovery_list")).content.decode()
    assert reverse("budgets:recovery_detail", args=[recovery.pk]) in page
    assert "Bea Holder" not in page
    assert reverse("budgets:recovery_detail", args=[other.pk]) not in page
    finance_page = client_for(world.finance_officer).get(reverse("budgets:recovery_list"))
    assert reverse("budgets:recovery_decide", args=[recovery.pk]) in finance_page.content.decode()
    filtered = client_for(world.commissioner).get(
        reverse("budgets:recovery_list"), {"state": "recovered"}
    )
    assert "Alex Holder" not in filtered.content.decode()


def _decide_url(recovery: SurplusRecovery) -> str:
    return reverse("budgets:recovery_decide", args=[recovery.pk])


def _reconsider(world: Any, recovery: SurplusRecovery) -> None:
    services.surplus_recovery_request_reconsideration(
        recovery=recovery, reasons="I am saving for a hoist.", requested_by=world.holder_a.user
    )


def test_finance_decide_after_reconsideration_and_deciding_twice_is_a_conflict(world, client_for):
    recovery = _propose(world)
    _reconsider(world, recovery)
    client = client_for(world.finance_officer)
    page = client.get(_decide_url(recovery)).content.decode()
    assert "I am saving for a hoist." in page
    form = {"decision": "recover", "amount": "60.00", "reasons": "The hoist is funded already."}
    response = client.post(_decide_url(recovery), form)
    assert response.status_code == 302
    recovery.refresh_from_db()
    assert (recovery.state, recovery.recovered_pence) == ("recovered", 60_00)
    assert _balance(world) == 380_00 - 60_00

    again = client.post(_decide_url(recovery), form)
    assert again.status_code == 409
    assert "This recovery has already been decided." in again.content.decode()
    assert LedgerTransaction.objects.filter(kind="recovery").count() == 1
    assert _balance(world) == 320_00


def test_recovering_before_the_respond_by_date_is_a_conflict(world, client_for):
    recovery = _propose(world)
    response = client_for(world.finance_officer).post(
        _decide_url(recovery), {"decision": "recover", "reasons": "Too soon"}
    )
    assert response.status_code == 409
    assert "to ask for reconsideration" in response.content.decode()
    assert SurplusRecovery.objects.get(pk=recovery.pk).state == "notice_sent"
    assert not LedgerTransaction.objects.filter(kind="recovery").exists()


def test_finance_may_withdraw_a_proposal_at_any_time(world, client_for):
    recovery = _propose(world)
    response = client_for(world.finance_officer).post(
        _decide_url(recovery), {"decision": "withdraw", "amount": "", "reasons": "Plan changed"}
    )
    assert response.status_code == 302
    recovery.refresh_from_db()
    assert (recovery.state, recovery.recovered_pence) == ("withdrawn", None)
    assert _balance(world) == 380_00


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"decision": "recover", "amount": "100.01", "reasons": "x"}, "more than the notice said"),
        ({"decision": "recover", "amount": "1.001", "reasons": "x"}, "fractions of a penny"),
        ({"decision": "recover", "reasons": ""}, "Enter the reasons for the decision"),
        ({"reasons": "x"}, "Choose whether to recover the money or withdraw the proposal"),
    ],
)
def test_a_bad_decision_changes_nothing(world, client_for, form, message):
    recovery = _propose(world)
    _reconsider(world, recovery)
    response = client_for(world.finance_officer).post(_decide_url(recovery), form)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert SurplusRecovery.objects.get(pk=recovery.pk).state == "reconsideration_requested"
    assert not LedgerTransaction.objects.filter(kind="recovery").exists()


def test_a_stranger_cannot_decide(world, client_for, finance_y):
    recovery = _propose(world)
    form = {"decision": "withdraw", "reasons": "x"}
    assert client_for(finance_y).post(_decide_url(recovery), form).status_code == 404
    assert client_for(world.commissioner).post(_decide_url(recovery), form).status_code == 403
    assert SurplusRecovery.objects.get(pk=recovery.pk).state == "notice_sent"


# Reconciliation -----------------------------------------------------------------------


def test_a_clean_reconciliation_is_listed(world, client_for):
    run = reconciliation_run()
    assert run is not None
    assert run.ok
    page = client_for(world.commissioner).get(reverse("budgets:reconciliation_list"))
    text = page.content.decode()
    assert "All correct" in text
    assert "nhsuk-card--warning" not in text


def test_a_failed_reconciliation_is_marked_and_names_only_what_the_user_may_see(
    world, client_for, finance_y
):
    # A run as reconciliation_run records one that found a cached balance out of step
    # with its entries. (Made directly: the ledger's triggers keep real balances right.)
    account = LedgerAccount.objects.get(contribution__budget=world.budget_a)
    ReconciliationRun.objects.create(
        finished_at=timezone.now(),
        ok=False,
        accounts_checked=9,
        ledger_total_pence=0,
        mismatches=[
            {
                "check": "balance",
                "account": account.pk,
                "name": account.name,
                "cached_pence": 999_00,
                "entries_pence": 380_00,
            },
            {"check": "transaction", "transaction": 77, "legs": 1, "sum_pence": 5_00},
        ],
    )
    reconciliation_run()  # a later, clean night
    page = client_for(world.finance_officer).get(reverse("budgets:reconciliation_list"))
    text = page.content.decode()
    assert text.count("nhsuk-card--warning") == 1
    assert "All correct" in text
    assert "The ledger did not reconcile: 2 problems found." in text
    assert f"“{account.name}” (account {account.pk}): the kept balance is £999.00" in text
    assert "entries add up to £380.00" in text
    assert "Transaction 77 has 1 entry adding up to £5.00, not £0.00" in text
    stranger = client_for(finance_y).get(reverse("budgets:reconciliation_list")).content.decode()
    assert f"Account {account.pk}: the kept balance is £999.00" in stranger
    assert account.name not in stranger
