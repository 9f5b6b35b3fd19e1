"""Postgres itself refuses to break the ledger's rules, whatever the code path: these
tests go round the services and write raw SQL, as a bug, a script or someone at a psql
prompt would (migration budgets/0005_ledger_rules)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from budgets.models import LedgerAccount, LedgerEntry, LedgerTransaction
from tests.factories import BudgetHolderFactory, make_budget


def ledger_state() -> dict[str, Any]:
    """Everything a refused write must leave as it was: every transaction and entry
    row, and every account's cached balance."""
    return {
        "transactions": list(LedgerTransaction.objects.order_by("pk").values()),
        "entries": list(LedgerEntry.objects.order_by("pk").values()),
        "balances": dict(LedgerAccount.objects.values_list("pk", "balance_pence")),
    }


def insert_transaction(cursor: Any, legs: Sequence[tuple[int, int]], *, key: str = "") -> int:
    """One transaction header and its legs, written the way a script would."""
    cursor.execute(
        "INSERT INTO budgets_ledgertransaction (kind, idempotency_key, occurred_on, "
        "description, posted_at) VALUES ('spend', %s, current_date, 'raw', now()) RETURNING id",
        [key or f"raw:{uuid.uuid4().hex}"],
    )
    (transaction_id,) = cursor.fetchone()
    if legs:
        cursor.execute(
            "INSERT INTO budgets_ledgerentry (transaction_id, account_id, amount_pence) "
            "SELECT %s, leg.account, leg.pence "
            "FROM unnest(%s::bigint[], %s::bigint[]) AS leg (account, pence)",
            [transaction_id, [a for a, _ in legs], [p for _, p in legs]],
        )
    return int(transaction_id)


@pytest.fixture
def accounts(db: Any) -> dict[str, LedgerAccount]:
    """A budget account with £100 in it (and a £30 overdraft) and a payee account."""
    budget = make_budget(BudgetHolderFactory(), paid_in_pence=100_00, overdraft_pence=30_00)
    payee = LedgerAccount.objects.create(kind=LedgerAccount.Kind.PAYEE, name="Raw payee")
    return {"budget": budget.contributions.get().account, "payee": payee}


def _refused(sql_action: Any) -> IntegrityError:
    """Run ``sql_action(cursor)`` in a savepoint and return the database's refusal."""
    with (
        pytest.raises(IntegrityError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        sql_action(cursor)
    return refused.value


def test_a_balanced_raw_transaction_is_accepted_and_moves_the_cached_balance(
    accounts: dict[str, LedgerAccount],
) -> None:
    budget, payee = accounts["budget"], accounts["payee"]
    with transaction.atomic(), connection.cursor() as cursor:
        insert_transaction(cursor, [(budget.pk, -40_00), (payee.pk, 40_00)])
    budget.refresh_from_db()
    assert budget.balance_pence == 60_00


def test_an_unbalanced_transaction_is_refused(accounts: dict[str, LedgerAccount]) -> None:
    budget, payee = accounts["budget"], accounts["payee"]
    before = ledger_state()

    error = _refused(lambda c: insert_transaction(c, [(budget.pk, -40_00), (payee.pk, 39_99)]))

    assert "does not balance" in str(error)
    assert ledger_state() == before


def test_legs_that_each_balance_only_with_a_later_statement_are_refused(
    accounts: dict[str, LedgerAccount],
) -> None:
    """Every statement must leave each transaction balanced: a leg now and its other half
    later is refused at the first statement."""
    budget, payee = accounts["budget"], accounts["payee"]
    before = ledger_state()

    def two_statements(cursor: Any) -> None:
        transaction_id = insert_transaction(cursor, [(budget.pk, -10_00)])
        cursor.execute(
            "INSERT INTO budgets_ledgerentry (transaction_id, account_id, amount_pence) "
            "VALUES (%s, %s, 1000)",
            [transaction_id, payee.pk],
        )

    error = _refused(two_statements)

    assert "does not balance" in str(error)
    assert ledger_state() == before


def test_a_single_leg_is_refused(accounts: dict[str, LedgerAccount]) -> None:
    before = ledger_state()

    error = _refused(lambda c: insert_transaction(c, [(accounts["budget"].pk, 5_00)]))

    assert "does not balance" in str(error)
    assert ledger_state() == before


def test_a_zero_amount_leg_is_refused(accounts: dict[str, LedgerAccount]) -> None:
    budget, payee = accounts["budget"], accounts["payee"]
    before = ledger_state()

    error = _refused(
        lambda c: insert_transaction(c, [(budget.pk, -10_00), (payee.pk, 10_00), (payee.pk, 0)])
    )

    assert "ledger_entry_not_zero" in str(error)
    assert ledger_state() == before


def test_going_below_the_overdraft_is_refused(accounts: dict[str, LedgerAccount]) -> None:
    """£100 in with a £30 overdraft: £130.01 out is a penny too far."""
    budget, payee = accounts["budget"], accounts["payee"]
    before = ledger_state()

    error = _refused(lambda c: insert_transaction(c, [(budget.pk, -130_01), (payee.pk, 130_01)]))

    assert "ledger_account_within_overdraft" in str(error)
    assert ledger_state() == before


def test_the_whole_overdraft_can_be_used(accounts: dict[str, LedgerAccount]) -> None:
    budget, payee = accounts["budget"], accounts["payee"]
    with transaction.atomic(), connection.cursor() as cursor:
        insert_transaction(cursor, [(budget.pk, -130_00), (payee.pk, 130_00)])
    budget.refresh_from_db()
    assert budget.balance_pence == -30_00


def test_going_below_zero_is_refused_without_an_overdraft(db: Any) -> None:
    budget = make_budget(BudgetHolderFactory(), paid_in_pence=10_00).contributions.get().account
    payee = LedgerAccount.objects.create(kind=LedgerAccount.Kind.PAYEE, name="Raw payee")
    before = ledger_state()

    error = _refused(lambda c: insert_transaction(c, [(budget.pk, -10_01), (payee.pk, 10_01)]))

    assert "ledger_account_within_overdraft" in str(error)
    assert ledger_state() == before


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE budgets_ledgerentry SET amount_pence = amount_pence * 2",
        "UPDATE budgets_ledgerentry SET account_id = account_id",
        "DELETE FROM budgets_ledgerentry",
        "UPDATE budgets_ledgertransaction SET description = 'changed'",
        "UPDATE budgets_ledgertransaction SET occurred_on = occurred_on - 1",
        "DELETE FROM budgets_ledgertransaction",
    ],
)
def test_entries_and_transactions_cannot_be_changed_or_deleted(
    accounts: dict[str, LedgerAccount], statement: str
) -> None:
    before = ledger_state()
    assert before["entries"], "the fixture posted a payment in"

    error = _refused(lambda c: c.execute(statement))

    assert "append-only" in str(error)
    assert ledger_state() == before


def test_the_orm_cannot_delete_an_entry_either(accounts: dict[str, LedgerAccount]) -> None:
    entry = LedgerEntry.objects.first()
    assert entry is not None
    before = ledger_state()

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        entry.delete()

    assert ledger_state() == before


@pytest.mark.django_db(transaction=True)
def test_a_transaction_with_no_legs_is_refused_at_commit() -> None:
    key = f"raw:{uuid.uuid4().hex}"

    def header_only() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            insert_transaction(cursor, [], key=key)
            # Within the transaction the header exists: only the commit refuses it.
            cursor.execute("SELECT count(*) FROM budgets_ledgertransaction")
            assert cursor.fetchone()[0] == 1

    with pytest.raises(IntegrityError, match="is incomplete: 0 legs"):
        header_only()
    assert not LedgerTransaction.objects.filter(idempotency_key=key).exists()
    assert LedgerTransaction.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_legs_added_then_removed_by_a_rolled_back_savepoint_leave_an_incomplete_header() -> None:
    """The header survives its legs' savepoint: the commit still refuses it."""
    budget = make_budget(BudgetHolderFactory(), paid_in_pence=10_00).contributions.get().account
    payee = LedgerAccount.objects.create(kind=LedgerAccount.Kind.PAYEE, name="Raw payee")
    before = ledger_state()
    key = f"raw:{uuid.uuid4().hex}"

    def legs_rolled_back() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            transaction_id = insert_transaction(cursor, [], key=key)
            try:
                with transaction.atomic():
                    cursor.execute(
                        "INSERT INTO budgets_ledgerentry (transaction_id, account_id, "
                        "amount_pence) VALUES (%s, %s, -500), (%s, %s, 500)",
                        [transaction_id, budget.pk, transaction_id, payee.pk],
                    )
                    raise RuntimeError("the script gave up")
            except RuntimeError:
                pass

    with pytest.raises(IntegrityError, match="is incomplete"):
        legs_rolled_back()

    assert ledger_state() == before
