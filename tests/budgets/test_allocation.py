"""The allocation job: set-based, idempotent per (budget, funder, payment date), and safe
to re-run after a crash part-way (budgets/allocation.py)."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from django.conf import settings
from django.db import connection

from budgets.allocation import allocation_run
from budgets.models import (
    AllocationRun,
    Budget,
    FundingContribution,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    PaymentSchedule,
)
from budgets.models.budgets import due_dates, instalment_pence
from budgets.monitoring import reconciliation_run
from tests.factories import BudgetHolderFactory, OrganisationFactory, add_contribution, make_budget
from tests.test_celery_worker import _database_url
from users.models import Organisation

ROOT = Path(__file__).resolve().parents[2]
START = datetime.date(2026, 1, 31)  # month ends and a short February


def _ledger_rows() -> dict[str, list[dict[str, Any]]]:
    return {
        "transactions": list(
            LedgerTransaction.objects.order_by("pk").values(
                "pk",
                "kind",
                "idempotency_key",
                "budget",
                "contribution",
                "due_on",
                "occurred_on",
                "posted_at",
                "description",
                "allocation_run",
            )
        ),
        "entries": list(LedgerEntry.objects.order_by("pk").values()),
        "balances": list(LedgerAccount.objects.order_by("pk").values("pk", "balance_pence")),
    }


def _expected_payments(as_of: datetime.date) -> Counter[tuple[int, datetime.date]]:
    """Every (contribution, payment date) due by ``as_of`` for active budgets."""
    expected: Counter[tuple[int, datetime.date]] = Counter()
    for contribution in FundingContribution.objects.filter(budget__state=Budget.State.ACTIVE):
        budget = contribution.budget
        for day in due_dates(budget.payment_schedule, budget.period_start, budget.period_end):
            if day <= as_of:
                expected[(contribution.pk, day)] += 1
    return expected


def _posted_payments() -> Counter[tuple[int, datetime.date]]:
    return Counter(
        LedgerTransaction.objects.filter(kind=LedgerTransaction.Kind.ALLOCATION).values_list(
            "contribution_id", "due_on"
        )
    )


def _budgets(count: int, *, start: datetime.date = START) -> list[Budget]:
    council = OrganisationFactory(kind=Organisation.Kind.LOCAL_AUTHORITY)
    budgets = []
    for i in range(count):
        budget = make_budget(
            BudgetHolderFactory(), yearly_pence=9_999_99 + 7 * i, period_start=start
        )
        schedule = PaymentSchedule.values[i % 3]
        Budget.objects.filter(pk=budget.pk).update(payment_schedule=schedule)
        if i % 2:
            add_contribution(
                budget, funder=council, stream="council_social_care", yearly_pence=1_234_57 + i
            )
        budgets.append(budget)
    return budgets


def test_running_twice_leaves_the_same_ledger(db: Any) -> None:
    _budgets(6)
    as_of = START + datetime.timedelta(days=100)

    first = allocation_run(as_of=as_of)
    after_first = _ledger_rows()
    second = allocation_run(as_of=as_of)

    assert _ledger_rows() == after_first
    assert first.payments_posted == sum(_expected_payments(as_of).values()) > 0
    assert first.status == AllocationRun.Status.SUCCEEDED
    assert second.payments_posted == 0
    assert second.total_pence == 0
    assert second.status == AllocationRun.Status.SUCCEEDED
    assert _posted_payments() == _expected_payments(as_of)
    assert reconciliation_run().ok is True


def test_running_day_by_day_posts_each_payment_once_on_its_date(db: Any) -> None:
    _budgets(3)
    day = START
    while day <= START + datetime.timedelta(days=70):
        allocation_run(as_of=day)
        assert _posted_payments() == _expected_payments(day)
        day += datetime.timedelta(days=7)
    assert reconciliation_run().ok is True


@pytest.mark.parametrize("schedule", PaymentSchedule.values)
@pytest.mark.parametrize("start", [START, datetime.date(2027, 2, 28), datetime.date(2026, 4, 1)])
@pytest.mark.parametrize("yearly_pence", [1, 13_000_01, 10_000_000_00])
def test_a_years_payments_add_up_to_exactly_the_yearly_amount(
    db: Any, schedule: str, start: datetime.date, yearly_pence: int
) -> None:
    budget = make_budget(BudgetHolderFactory(), yearly_pence=yearly_pence, period_start=start)
    Budget.objects.filter(pk=budget.pk).update(payment_schedule=schedule)
    account = budget.contributions.get().account
    dates = due_dates(schedule, start, budget.period_end)

    run = allocation_run(as_of=budget.period_end + datetime.timedelta(days=400))

    account.refresh_from_db()
    assert account.balance_pence == yearly_pence
    assert run.total_pence == yearly_pence
    posted = LedgerTransaction.objects.filter(budget=budget, kind="allocation")
    # Tiny amounts leave some instalments at 0p: those are not posted at all.
    assert sorted(posted.values_list("due_on", flat=True)) == [
        day for i, day in enumerate(dates) if instalment_pence(yearly_pence, i, len(dates))
    ]
    assert {"four_weekly": 13, "monthly": 12, "quarterly": 4}[schedule] == len(dates)


@pytest.mark.parametrize("state", ["indicative", "agreed", "suspended", "closed"])
def test_budgets_that_are_not_active_get_nothing(db: Any, state: str) -> None:
    resting = make_budget(BudgetHolderFactory(), period_start=START, state=state)
    active = make_budget(BudgetHolderFactory(), period_start=START)

    run = allocation_run(as_of=START + datetime.timedelta(days=60))

    assert not LedgerTransaction.objects.filter(budget=resting).exists()
    assert resting.contributions.get().account.balance_pence == 0
    assert LedgerTransaction.objects.filter(budget=active).count() == 3
    assert run.budgets_paid == 1


def test_a_budget_with_two_funders_gets_a_payment_from_each_traceable_to_its_funder(
    db: Any,
) -> None:
    icb = OrganisationFactory(kind=Organisation.Kind.ICB)
    council = OrganisationFactory(kind=Organisation.Kind.LOCAL_AUTHORITY)
    budget = make_budget(
        BudgetHolderFactory(organisation=icb),
        funder=icb,
        yearly_pence=26_000_00,
        period_start=START,
    )
    nhs = budget.contributions.get()
    social_care = add_contribution(
        budget, funder=council, stream="council_social_care", yearly_pence=13_000_00
    )
    as_of = START + datetime.timedelta(days=56)  # three four-weekly dates

    allocation_run(as_of=as_of)

    for contribution, instalment in ((nhs, 2_000_00), (social_care, 1_000_00)):
        funder = LedgerAccount.objects.get(
            kind="funder", organisation=contribution.funder, stream=contribution.stream
        )
        payments = LedgerTransaction.objects.filter(contribution=contribution, kind="allocation")
        assert sorted(payments.values_list("due_on", flat=True)) == [
            START,
            START + datetime.timedelta(days=28),
            as_of,
        ]
        for payment in payments:
            assert payment.budget_id == budget.pk
            assert sorted(payment.entries.values_list("account_id", "amount_pence")) == sorted(
                [(contribution.account.pk, instalment), (funder.pk, -instalment)]
            )
        contribution.account.refresh_from_db()
        assert contribution.account.balance_pence == 3 * instalment
    assert reconciliation_run().ok is True


# Crash recovery ------------------------------------------------------------------------

RUN_IN_SUBPROCESS = """
import datetime, django
django.setup()
from budgets.allocation import allocation_run
allocation_run(as_of=datetime.date.fromisoformat("{as_of}"), slice_size=2)
"""


def _wait_for(condition: Any, timeout: float = 90) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _raw_connection() -> Any:
    db = connection.settings_dict
    return psycopg2.connect(
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
    )


@pytest.mark.django_db(transaction=True)
def test_a_run_killed_part_way_then_run_again_posts_every_payment_exactly_once() -> None:
    budgets = _budgets(24)
    as_of = START + datetime.timedelta(days=120)
    expected = _expected_payments(as_of)
    contributions = sorted(c for c, _ in expected)
    blocker = contributions[len(contributions) // 2]

    # Hold the row lock on one budget account in the middle, so the run commits the
    # slices before it, then waits, mid-slice, where we kill it: a deterministic crash
    # with committed slices behind it and an uncommitted one in flight.
    holder = _raw_connection()
    process = None
    try:
        with holder.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM budgets_ledgeraccount WHERE contribution_id = %s FOR UPDATE",
                [blocker],
            )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": settings.REDIS_URL,
        }
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", RUN_IN_SUBPROCESS.format(as_of=as_of)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

        def blocked_after_a_commit() -> bool:
            run = AllocationRun.objects.filter(status="running").first()
            if run is None or run.payments_posted == 0:
                return False
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
                return cursor.fetchone()[0] > 0

        if not _wait_for(blocked_after_a_commit):
            process.kill()
            output = process.communicate()[0].decode()
            pytest.fail(f"The run never reached the locked budget. Its output:\n{output}")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        holder.rollback()
        holder.close()
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    interrupted = AllocationRun.objects.get()
    partial = _posted_payments()
    assert 0 < sum(partial.values()) == interrupted.payments_posted < sum(expected.values())
    assert all(n == 1 for n in partial.values())
    assert not any(c == blocker for c, _ in partial), "the slice in flight rolled back"

    # The killed worker's session (and its advisory lock) goes once Postgres notices.
    def lock_released() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks AS l JOIN pg_database AS d ON d.oid = l.database "
                "WHERE l.locktype = 'advisory' AND d.datname = current_database()"
            )
            return cursor.fetchone()[0] == 0

    assert _wait_for(lock_released, timeout=60)

    rerun = allocation_run(as_of=as_of)

    assert _posted_payments() == expected
    interrupted.refresh_from_db()
    assert interrupted.status == AllocationRun.Status.FAILED
    assert "Interrupted" in interrupted.errors
    assert rerun.status == AllocationRun.Status.SUCCEEDED
    assert interrupted.payments_posted + rerun.payments_posted == sum(expected.values())
    for budget in Budget.objects.filter(pk__in=[b.pk for b in budgets]):
        for contribution in budget.contributions.all():
            contribution.account.refresh_from_db()
            assert contribution.account.balance_pence == sum(
                instalment_pence(contribution.yearly_pence, i, len(dates))
                for dates in [due_dates(budget.payment_schedule, START, budget.period_end)]
                for i, day in enumerate(dates)
                if day <= as_of
            )
    assert reconciliation_run().ok is True
