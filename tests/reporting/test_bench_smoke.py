"""The dashboard benchmark's data generator (bench/dashboard_bench.py), run tiny: the
data it writes with the ledger's triggers off keeps the rules the triggers keep, and its
own consistency check would notice if it did not. Figures are checked here with the ORM,
not with the benchmark's SQL."""

from __future__ import annotations

import datetime
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, Sum

from budgets.models import (
    Budget,
    BudgetHolder,
    FundingContribution,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Spend,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import dashboard_bench

TODAY = datetime.date(2026, 11, 24)
BUDGETS = 200
ENTRIES = 4000


@pytest.fixture
def made(db: Any) -> dict[str, Any]:
    result = dashboard_bench.generate(TODAY, BUDGETS, ENTRIES)
    with connection.cursor() as cursor:  # what the load turned off, back on for the test
        cursor.execute("SET LOCAL session_replication_role = origin")
    return result


def test_generated_ledger_keeps_the_ledger_rules(made: dict[str, Any]) -> None:
    assert Budget.objects.count() == BUDGETS
    assert BudgetHolder.objects.count() == made["holders"] < BUDGETS
    # Payments in and spends: exactly the entries asked for, two legs each; then a few
    # refunds and recoveries, two legs each too.
    entries = LedgerEntry.objects.count()
    assert entries == made["entries"]
    assert ENTRIES <= entries <= ENTRIES * 1.1
    legs = LedgerEntry.objects.values("transaction_id").annotate(
        n=Count("id"), total=Sum("amount_pence")
    )
    assert {row["n"] for row in legs} == {2}
    assert {row["total"] for row in legs} == {0}
    assert len(legs) == LedgerTransaction.objects.count()

    sums: dict[int, int] = defaultdict(int)
    for account_id, amount in LedgerEntry.objects.values_list("account_id", "amount_pence"):
        sums[account_id] += amount
    for account in LedgerAccount.objects.filter(kind=LedgerAccount.Kind.BUDGET):
        assert account.balance_pence == sums.get(account.pk, 0) >= 0

    # Each spend is its transaction's budget leg, on its own contribution's account.
    budget_legs = {
        transaction_id: (amount, contribution_id)
        for transaction_id, amount, contribution_id in LedgerEntry.objects.filter(
            account__kind=LedgerAccount.Kind.BUDGET
        ).values_list("transaction_id", "amount_pence", "account__contribution_id")
    }
    spends = Spend.objects.values_list(
        "transaction_id", "amount_pence", "contribution_id", "spent_on", "transaction__occurred_on"
    )
    assert spends
    for transaction_id, amount, contribution_id, spent_on, occurred_on in spends:
        assert budget_legs[transaction_id] == (-amount, contribution_id)
        assert occurred_on == spent_on <= TODAY


def test_generated_budgets_spread_like_a_real_caseload(made: dict[str, Any]) -> None:
    holders = BudgetHolder.objects.all()
    assert holders.values("eligibility_route").distinct().count() >= 8
    assert holders.filter(council__isnull=False).exists()
    assert holders.filter(date_of_birth__gt=datetime.date(2008, 11, 24)).exists()
    states = set(Budget.objects.values_list("state", flat=True))
    assert {"active", "closed", "suspended"} <= states
    for budget in Budget.objects.filter(state="closed"):
        assert budget.active_from is not None
        assert budget.active_from <= budget.ended_on <= TODAY
    assert not Budget.objects.filter(state="indicative", active_from__isnull=False).exists()
    integrated = (
        FundingContribution.objects.values("budget_id")
        .annotate(funders=Count("funder", distinct=True))
        .filter(funders__gt=1)
    )
    assert integrated.exists()
    # Payments in only on days a budget was in place.
    for payment in LedgerTransaction.objects.filter(kind="allocation").select_related("budget"):
        budget = payment.budget
        assert budget.active_from is not None
        assert max(budget.period_start, budget.active_from) <= payment.occurred_on
        assert payment.occurred_on <= min(budget.period_end, budget.ended_on or TODAY, TODAY)


def test_the_check_notices_a_balance_that_is_not_its_entries(made: dict[str, Any]) -> None:
    dashboard_bench.check()  # consistent as made
    account = LedgerAccount.objects.filter(kind=LedgerAccount.Kind.BUDGET).first()
    assert account is not None
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE budgets_ledgeraccount SET balance_pence = balance_pence + 1 WHERE id = %s",
            [account.pk],
        )
    with pytest.raises(SystemExit, match="balance is not the sum"):
        dashboard_bench.check()
