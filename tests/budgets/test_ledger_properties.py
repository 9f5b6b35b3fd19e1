"""Property-based proof of the ledger (hypothesis): any sequence of payments in, spends,
refunds and corrections, with any amounts (many of them more than there is), leaves
every transaction balanced, every cached balance equal to the sum of its entries, no
balance below its overdraft, and the ledger reconciled. A Python model of the expected
balances says which operations must succeed, and each refused one must change nothing.

Each example runs in a savepoint that is rolled back, so examples do not see each
other's rows (the ``db`` fixture's transaction lasts the whole test)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budgets.ledger import InsufficientFunds
from budgets.models import LedgerAccount, LedgerEntry, LedgerTransaction, SpendCategory
from budgets.monitoring import reconciliation_run
from budgets.services import spend_record, spend_refund, transaction_correct
from core.exceptions import Conflict
from tests.budgets.test_ledger_rules import ledger_state
from tests.factories import (
    BudgetHolderFactory,
    MembershipFactory,
    OrganisationFactory,
    add_contribution,
    make_budget,
    pay_in,
)
from users.models import Organisation, Role

amounts = st.integers(min_value=1, max_value=60_000)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("allocate"), st.integers(0, 1), amounts),
        st.tuples(st.just("spend"), st.integers(0, 1), amounts),
        st.tuples(st.just("refund"), st.integers(0, 30), amounts),
        st.tuples(st.just("correct"), st.integers(0, 30), st.just(0)),
    ),
    max_size=14,
)


@dataclass
class Model:
    """What the ledger should say: balances per contribution, and each posting."""

    balance: list[int]
    overdraft: list[int]
    spends: list[dict[str, Any]] = field(default_factory=list)
    corrected: set[int] = field(default_factory=set)
    postings: list[tuple[Any, str, int, int]] = field(default_factory=list)  # txn, kind, ci, pence


def _check_invariants(model: Model, contributions: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.id FROM budgets_ledgertransaction AS t "
            "LEFT JOIN budgets_ledgerentry AS e ON e.transaction_id = t.id GROUP BY t.id "
            "HAVING count(e.id) < 2 OR coalesce(sum(e.amount_pence), 0) <> 0"
        )
        assert cursor.fetchall() == [], "every transaction balances"
    for account in LedgerAccount.objects.filter(kind=LedgerAccount.Kind.BUDGET):
        summed = LedgerEntry.objects.filter(account=account).aggregate(
            total=Sum("amount_pence", default=0)
        )["total"]
        assert account.balance_pence == summed, "cached balance is the sum of entries"
        assert account.balance_pence >= -account.overdraft_pence
    for index, contribution in enumerate(contributions):
        contribution.account.refresh_from_db()
        assert contribution.account.balance_pence == model.balance[index]
    assert LedgerEntry.objects.aggregate(total=Sum("amount_pence", default=0))["total"] == 0
    run = reconciliation_run()
    assert run is not None
    assert run.ok is True, run.mismatches


def _refused_without_change(action: Any, error: type[Exception]) -> str:
    before = ledger_state()
    try:
        action()
    except error as refused:
        assert ledger_state() == before, "a refused operation changes nothing"
        return str(getattr(refused, "message", refused))
    raise AssertionError(f"expected {error.__name__}")


@settings(
    max_examples=30,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=operations,
    overdrafts=st.tuples(st.sampled_from([0, 0, 1, 25_00]), st.sampled_from([0, 10_000])),
    opening=st.tuples(st.integers(0, 50_000), st.integers(0, 50_000)),
)
def test_any_sequence_of_postings_keeps_the_ledger_sound(
    db: Any, ops: list[tuple[str, int, int]], overdrafts: tuple[int, int], opening: tuple[int, int]
) -> None:
    with transaction.atomic():
        _run_example(ops, overdrafts, opening)
        transaction.set_rollback(True)


def _run_example(
    ops: list[tuple[str, int, int]], overdrafts: tuple[int, int], opening: tuple[int, int]
) -> None:
    icb = OrganisationFactory(kind=Organisation.Kind.ICB)
    council = OrganisationFactory(kind=Organisation.Kind.LOCAL_AUTHORITY)
    holder = BudgetHolderFactory(organisation=icb)
    finance = MembershipFactory(organisation=icb, role=Role.FINANCE_OFFICER).user
    budget = make_budget(holder, overdraft_pence=overdrafts[0])
    contributions = [
        budget.contributions.get(),
        add_contribution(
            budget,
            funder=council,
            stream="council_social_care",
            yearly_pence=5_000_00,
            overdraft_pence=overdrafts[1],
        ),
    ]
    model = Model(balance=[0, 0], overdraft=list(overdrafts))

    def allocate(index: int, pence: int) -> None:
        posted = pay_in(contributions[index], pence)
        model.balance[index] += pence
        model.postings.append((posted, "allocation", index, pence))

    for index, pence in enumerate(opening):
        if pence:
            allocate(index, pence)

    for kind, index, pence in ops:
        if kind == "allocate":
            allocate(index, pence)
        elif kind == "spend":
            _spend(model, budget, contributions, index, pence)
        elif kind == "refund" and model.spends:
            _refund(model, model.spends[index % len(model.spends)], pence)
        elif kind == "correct" and model.postings:
            _correct(model, model.postings[index % len(model.postings)], finance)
        _check_invariants(model, contributions)
    _check_invariants(model, contributions)


def _spend(model: Model, budget: Any, contributions: list[Any], index: int, pence: int) -> None:
    def record() -> Any:
        return spend_record(
            budget=budget,
            contribution=contributions[index],
            payee="Personal assistant wages",
            spent_on=timezone.localdate(),
            amount_pence=pence,
            category=SpendCategory.PERSONAL_ASSISTANT,
            recorded_by=budget.holder.user,
            idempotency_key=uuid.uuid4().hex,
        )

    if pence > model.balance[index] + model.overdraft[index]:
        message = _refused_without_change(record, InsufficientFunds)
        assert "not enough money" in message
        return
    spend = record()
    model.balance[index] -= pence
    model.spends.append({"spend": spend, "index": index, "pence": pence, "refunded": 0})
    model.postings.append((spend.transaction, "spend", index, pence))


def _refund(model: Model, spent: dict[str, Any], pence: int) -> None:
    def refund() -> Any:
        return spend_refund(
            spend=spent["spend"],
            amount_pence=pence,
            reason="Overcharged",
            recorded_by=spent["spend"].recorded_by,
            idempotency_key=uuid.uuid4().hex,
        )

    if spent["refunded"] + pence > spent["pence"]:
        message = _refused_without_change(refund, Conflict)
        assert "cannot be more than was spent" in message
        return
    posted = refund()
    spent["refunded"] += pence
    model.balance[spent["index"]] += pence
    model.postings.append((posted, "refund", spent["index"], pence))


def _correct(model: Model, posting: tuple[Any, str, int, int], finance: Any) -> None:
    original, kind, index, pence = posting

    def correct() -> Any:
        return transaction_correct(
            original=original,
            reason="Posted in error",
            corrected_by=finance,
            idempotency_key=uuid.uuid4().hex,
        )

    spent = next((s for s in model.spends if s["spend"].transaction_id == original.pk), None)
    refused = (
        kind not in ("allocation", "spend")
        or original.pk in model.corrected
        or (spent is not None and spent["refunded"] > 0)
    )
    if refused:
        _refused_without_change(correct, Conflict)
        return
    if kind == "allocation" and pence > model.balance[index] + model.overdraft[index]:
        message = _refused_without_change(correct, InsufficientFunds)
        assert "not enough money" in message
        return
    posted = correct()
    assert posted.kind == LedgerTransaction.Kind.CORRECTION
    model.corrected.add(original.pk)
    model.balance[index] += pence if kind == "spend" else -pence
    if spent is not None:
        spent["refunded"] = spent["pence"]  # a corrected spend cannot be refunded too
