"""Many people spending from one budget at the same moment, on real Postgres with real
commits: exactly the spends that fit succeed, the rest are told why, and the balance
never goes below zero. Each thread has its own database connection."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from budgets import services
from budgets.ledger import InsufficientFunds
from budgets.models import LedgerEntry, LedgerTransaction, Spend, SpendCategory
from budgets.monitoring import reconciliation_run
from budgets.services import spend_record
from core.models import AuditEvent
from tests.factories import BudgetHolderFactory, make_budget

pytestmark = pytest.mark.django_db(transaction=True)


def _at_once(count: int, action: Callable[[int], Any]) -> list[Any]:
    """Run ``action(i)`` on ``count`` threads released together; return each result or
    the exception it raised."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=60)
            results[i] = action(i)
        except Exception as error:
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a spend hung"
    return results


def _spend(budget: Any, pence: int, key: str) -> Spend:
    return spend_record(
        budget=budget,
        payee="Personal assistant wages",
        spent_on=budget.period_start,
        amount_pence=pence,
        category=SpendCategory.PERSONAL_ASSISTANT,
        recorded_by=budget.holder.user,
        idempotency_key=key,
    )


def test_twenty_spends_at_once_from_a_budget_with_room_for_ten() -> None:
    budget = make_budget(BudgetHolderFactory(), paid_in_pence=1_000)
    account = budget.contributions.get().account

    results = _at_once(20, lambda i: _spend(budget, 100, uuid.uuid4().hex))

    spent = [r for r in results if isinstance(r, Spend)]
    refused = [r for r in results if isinstance(r, InsufficientFunds)]
    others = [r for r in results if not isinstance(r, Spend | InsufficientFunds)]
    assert others == []
    assert len(spent) == 10
    assert len(refused) == 10
    for error in refused:
        assert error.message == (
            "There is not enough money for this: £1.00 is more than the £0.00 available."
        )
    account.refresh_from_db()
    assert account.balance_pence == 0
    assert Spend.objects.filter(budget=budget).count() == 10
    events = AuditEvent.objects.filter(action="spend.recorded", person=budget.holder)
    assert sorted(events.values_list("object_id", flat=True)) == sorted(str(s.pk) for s in spent)
    # Entries are written under the account's row lock, one posting at a time, so their
    # order is the order the money moved: the running balance never went below zero.
    running = 0
    entries = LedgerEntry.objects.filter(account=account).order_by("pk")
    for pence in entries.values_list("amount_pence", flat=True):
        running += pence
        assert running >= 0
    assert running == 0
    assert reconciliation_run().ok is True


def test_spends_that_fit_an_overdraft_all_succeed_and_no_more() -> None:
    """£5 in and a £2 overdraft: of twenty 50p spends at once, fourteen fit."""
    budget = make_budget(BudgetHolderFactory(), paid_in_pence=500, overdraft_pence=200)
    account = budget.contributions.get().account

    results = _at_once(20, lambda i: _spend(budget, 50, uuid.uuid4().hex))

    assert sum(isinstance(r, Spend) for r in results) == 14
    assert sum(isinstance(r, InsufficientFunds) for r in results) == 6
    account.refresh_from_db()
    assert account.balance_pence == -200
    assert reconciliation_run().ok is True


def test_one_idempotency_key_from_ten_threads_records_one_spend() -> None:
    budget = make_budget(BudgetHolderFactory(), paid_in_pence=1_000)
    account = budget.contributions.get().account
    key = uuid.uuid4().hex

    results = _at_once(10, lambda i: _spend(budget, 300, key))

    assert all(isinstance(r, Spend) for r in results), results
    assert {r.pk for r in results} == {results[0].pk}
    assert Spend.objects.filter(budget=budget).count() == 1
    assert LedgerTransaction.objects.filter(idempotency_key=f"spend:{key}").count() == 1
    account.refresh_from_db()
    assert account.balance_pence == 700
    assert reconciliation_run().ok is True


def test_a_refusal_inside_a_callers_transaction_leaves_that_transaction_usable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Outside a block a spend is one statement; inside a caller's block it takes a
    savepoint, so the caller can carry on after Postgres refuses the balance. The read
    before the write is made stale on purpose (as when another spend got there first),
    so that the refusal comes from the database's constraint."""
    budget = make_budget(BudgetHolderFactory(), paid_in_pence=100)
    read_funding = services._spend_funding

    def stale(*args: Any) -> Any:
        found, payee_id = read_funding(*args)
        found.account.balance_pence = 1_000_00
        return found, payee_id

    monkeypatch.setattr(services, "_spend_funding", stale)
    with transaction.atomic():
        with pytest.raises(InsufficientFunds, match=r"£1\.00 available"):
            _spend(budget, 500, uuid.uuid4().hex)
        spend = _spend(budget, 100, uuid.uuid4().hex)
    assert list(Spend.objects.filter(budget=budget)) == [spend]
    assert AuditEvent.objects.filter(action="spend.recorded", person=budget.holder).count() == 1
    assert reconciliation_run().ok is True
