"""Allocation, monitoring and reconciliation against real Postgres."""

from __future__ import annotations

import datetime
from typing import Any

from budgets.allocation import allocation_run
from budgets.models import Budget, LedgerTransaction, MonitoringFlag, PaymentSchedule
from budgets.models.budgets import due_dates, instalment_pence
from budgets.monitoring import monitoring_sweep, reconciliation_run
from tests.factories import BudgetHolderFactory, OrganisationFactory, make_budget


def test_a_run_posts_every_payment_due_once_and_a_rerun_posts_nothing(db: Any) -> None:
    icb = OrganisationFactory()
    holder = BudgetHolderFactory(organisation=icb)
    start = datetime.date(2026, 4, 1)
    budget = make_budget(holder, yearly_pence=13_000_01, period_start=start)
    contribution = budget.contributions.get()
    as_of = datetime.date(2026, 7, 1)

    first = allocation_run(as_of=as_of)
    again = allocation_run(as_of=as_of)

    expected = [
        d for d in due_dates(budget.payment_schedule, start, budget.period_end) if d <= as_of
    ]
    count = len(due_dates(budget.payment_schedule, start, budget.period_end))
    posted = LedgerTransaction.objects.filter(kind="allocation", contribution=contribution)
    assert sorted(posted.values_list("due_on", flat=True)) == expected
    assert first.payments_posted == len(expected)
    assert again.payments_posted == 0
    assert first.total_pence == sum(
        instalment_pence(13_000_01, i, count) for i in range(len(expected))
    )
    contribution.account.refresh_from_db()
    assert contribution.account.balance_pence == first.total_pence
    assert reconciliation_run().ok is True


def test_a_whole_year_pays_exactly_the_yearly_amount(db: Any) -> None:
    holder = BudgetHolderFactory()
    for schedule in PaymentSchedule.values:
        budget = make_budget(
            holder, yearly_pence=10_000_07, period_start=datetime.date(2026, 1, 31)
        )
        Budget.objects.filter(pk=budget.pk).update(payment_schedule=schedule)
    allocation_run(as_of=datetime.date(2027, 6, 1))
    for budget in Budget.objects.filter(holder=holder):
        total = sum(
            e.amount_pence
            for t in LedgerTransaction.objects.filter(budget=budget)
            for e in t.entries.filter(account__kind="budget")
        )
        assert total == 10_000_07, budget.payment_schedule


def test_the_sweep_flags_a_surplus_once(db: Any) -> None:
    budget = make_budget(BudgetHolderFactory(), yearly_pence=52_00, paid_in_pence=20_00)
    assert monitoring_sweep()["surplus"] == 1
    assert monitoring_sweep()["surplus"] == 0
    assert MonitoringFlag.objects.filter(budget=budget, kind="surplus").count() == 1


def test_a_balance_out_of_step_fails_reconciliation_flags_the_budget_and_tells_finance(
    db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.db.models import F

    from budgets.models import LedgerAccount
    from core.models import Notification
    from tests.factories import MembershipFactory
    from users.models import Role

    icb = OrganisationFactory()
    finance = MembershipFactory(organisation=icb, role=Role.FINANCE_OFFICER).user
    budget = make_budget(BudgetHolderFactory(organisation=icb), yearly_pence=52_00)
    allocation_run(as_of=budget.period_start)
    assert reconciliation_run().ok is True
    account = LedgerAccount.objects.get(budget=budget, kind="budget")
    # Only a bug or a hand edit could do this: the triggers keep balances right.
    LedgerAccount.objects.filter(pk=account.pk).update(balance_pence=F("balance_pence") + 1)

    with django_capture_on_commit_callbacks(execute=False):
        run = reconciliation_run()
        again = reconciliation_run()

    assert run is not None
    assert run.ok is False
    assert run.mismatches == [
        {
            "check": "balance",
            "account": account.pk,
            "budget": budget.pk,
            "name": account.name,
            "cached_pence": account.balance_pence + 1,
            "entries_pence": account.balance_pence,
        }
    ]
    assert again is not None
    assert again.ok is False
    flags = MonitoringFlag.objects.filter(budget=budget, kind="ledger_mismatch")
    assert flags.count() == 1  # raised once while it stays unresolved
    assert (
        Notification.objects.filter(user=finance, subject="The ledger does not reconcile").count()
        == 2
    )


def test_each_run_moves_the_next_payment_date_on_so_a_quiet_night_reads_little(
    db: Any,
) -> None:
    from budgets.models import FundingContribution

    start = datetime.date(2026, 4, 1)
    budget = make_budget(BudgetHolderFactory(), yearly_pence=13_000_00, period_start=start)
    contribution = budget.contributions.get()
    dates = due_dates(budget.payment_schedule, start, budget.period_end)
    assert contribution.next_due_on is None  # not yet worked out

    allocation_run(as_of=dates[2])
    contribution.refresh_from_db()
    assert contribution.next_due_on == dates[3]

    allocation_run(as_of=dates[3] - datetime.timedelta(days=1))  # nothing due yet
    assert LedgerTransaction.objects.filter(contribution=contribution).count() == 3

    allocation_run(as_of=budget.period_end)
    contribution.refresh_from_db()
    assert contribution.next_due_on == FundingContribution.NEVER_DUE
    assert LedgerTransaction.objects.filter(contribution=contribution).count() == len(dates)
    assert reconciliation_run().ok is True
