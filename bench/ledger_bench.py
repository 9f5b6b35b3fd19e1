#!/usr/bin/env python
"""The ledger benchmark behind `make bench` (never part of `make test`).

1. Generates BENCH_BUDGETS (default 1,000,000) active budgets, each with one funding
   contribution, its budget ledger account and the funder's stream account, with
   set-based SQL (``generate_series``), all due their first payment today.
2. Warms up (VACUUM ANALYZE and a read of every table involved).
3. Times one hand-written ``INSERT ... SELECT`` (a data-modifying CTE) writing the same
   ledger rows the allocation job writes, including the commit-time checks
   (``SET CONSTRAINTS ALL IMMEDIATE``), and rolls it back.
4. Times ``budgets.allocation.allocation_run`` for today, then the re-run (nothing due).
5. Times the spend path: BENCH_THREADS threads doing BENCH_SPENDS spends through
   ``budgets.services.spend_record``, on one hot budget and on random budgets, against
   two hand-written baselines with the same threads in the same run: the fair one
   (``RAW_SPEND_AUDITED_SQL``: the guarded ``UPDATE ... RETURNING``, the insert with its
   unique idempotency key and the audit row a money change needs, in one statement),
   and the one first measured (the guarded ``UPDATE ... RETURNING`` then an insert, in
   a transaction, with no audit row: less than a spend must do, kept for comparison).

Figures are printed and appended to bench/results.txt.

The benchmark owns its own database, which it empties on each run: with DATABASE_URL
set, that database (its name must contain "bench"); without it, a ``phb_bench``
database beside the embedded Postgres that ``make run`` uses. Run it as
``make bench`` or ``BENCH_BUDGETS=10000 .venv/bin/python bench/ledger_bench.py``.
"""

from __future__ import annotations

import datetime
import itertools
import os
import platform
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# With DEBUG on, Django keeps every query in memory: not what production does.
os.environ.setdefault("DJANGO_DEBUG", "false")

BUDGETS = int(os.environ.get("BENCH_BUDGETS", "1000000"))
THREADS = int(os.environ.get("BENCH_THREADS", "8"))
SPENDS = int(os.environ.get("BENCH_SPENDS", "2000"))
SPEND_SAMPLE = int(os.environ.get("BENCH_SPEND_BUDGETS", "1000"))
EXPLAIN = os.environ.get("BENCH_EXPLAIN", "") not in ("", "0")
RESULTS = ROOT / "bench" / "results.txt"
EXPLAIN_FILE = ROOT / "bench" / "explain.txt"
ICBS = 42  # England's integrated care boards


def _configure_database() -> str:
    """Point Django at the benchmark's own database, creating and migrating it."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if not os.environ.get("DATABASE_URL"):
        db["NAME"] = os.environ.get("BENCH_DATABASE", "phb_bench")
    if "bench" not in db["NAME"]:
        sys.exit(
            f"Refusing to run: the benchmark empties its database, and {db['NAME']!r} does "
            "not look like a benchmark database (its name must contain 'bench')."
        )
    import psycopg2

    server = psycopg2.connect(
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        dbname="postgres",
    )
    try:
        server.autocommit = True
        with server.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{db["NAME"]}"')
    finally:
        server.close()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    return str(db["NAME"])


class Timer:
    def __init__(self) -> None:
        self.figures: list[tuple[str, str]] = []

    def time(self, label: str, action: Callable[[], Any]) -> tuple[float, Any]:
        print(f"... {label}", flush=True)
        start = time.perf_counter()
        result = action()
        seconds = time.perf_counter() - start
        print(f"    {seconds:10.2f} s", flush=True)
        return seconds, result

    def add(self, label: str, value: str) -> None:
        self.figures.append((label, value))


def _sql(statement: str, params: Any = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, () if params is None else params)
        return cursor.rowcount


def _one(statement: str, params: Any = None) -> Any:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()


TABLES = [
    "budgets_ledgerentry",
    "budgets_ledgertransaction",
    "budgets_ledgeraccount",
    "budgets_fundingcontribution",
    "budgets_budget",
    "budgets_budgetholder",
]


def _empty() -> None:
    # TRUNCATE is not UPDATE or DELETE: the append-only triggers do not fire, which is
    # what a throwaway benchmark database wants.
    _sql(
        "TRUNCATE budgets_ledgerentry, budgets_ledgertransaction, budgets_allocationrun, "
        "budgets_spend, budgets_ledgeraccount, budgets_fundingcontribution, budgets_budget, "
        "budgets_budgetholder, core_auditevent, users_organisation, users_user, "
        "bench_raw_spend RESTART IDENTITY CASCADE"
    )


# The NHS number's Modulus 11 check digit, computed in SQL for the 999 test range
# ("999" + a six-digit serial + check digit); serials whose check digit would be 10 have
# no valid number and are skipped. That leaves 909,091 numbers, so above that holders
# have a second budget (it makes no difference to the allocation job, which works per
# funding contribution).
HOLDERS_SQL = """
INSERT INTO budgets_budgetholder
    (name, created_at, organisation_id, date_of_birth, eligibility_route, nhs_number,
     postcode, status)
SELECT 'Bench holder ' || serial, now(), (%(icbs)s::bigint[])[1 + serial %% %(icb_count)s],
       date '1940-01-01' + serial %% 25000, 'chc',
       '999' || lpad(serial::text, 6, '0') || (CASE WHEN check_digit = 11 THEN 0
                                                   ELSE check_digit END)::text,
       'LS1 4AP', 'active'
  FROM (SELECT serial,
               11 - (243 + (serial / 100000) %% 10 * 7 + (serial / 10000) %% 10 * 6
                     + (serial / 1000) %% 10 * 5 + (serial / 100) %% 10 * 4
                     + (serial / 10) %% 10 * 3 + serial %% 10 * 2) %% 11 AS check_digit
          FROM generate_series(0, 999999) AS serial) AS numbers
 WHERE check_digit <> 10
 ORDER BY serial
 LIMIT %(limit)s
"""

BUDGETS_SQL = """
INSERT INTO budgets_budget
    (period_start, period_end, state, payment_schedule, created_at, updated_at,
     created_by_id, holder_id)
SELECT %(start)s, %(end)s, 'active', 'four_weekly', now(), now(), %(creator)s,
       %(first_holder)s + (n - 1) %% %(holders)s
  FROM generate_series(1, %(budgets)s) AS n
"""

CONTRIBUTIONS_SQL = """
INSERT INTO budgets_fundingcontribution
    (stream, yearly_pence, management_option, created_at, budget_id, funder_id)
SELECT 'nhs_chc', 5000000 + (b.id * 7919) %% 5000000, 'notional', now(), b.id,
       h.organisation_id
  FROM budgets_budget AS b JOIN budgets_budgetholder AS h ON h.id = b.holder_id
"""

ACCOUNTS_SQL = """
INSERT INTO budgets_ledgeraccount
    (kind, name, stream, balance_pence, overdraft_pence, budget_id, contribution_id)
SELECT 'budget', 'Bench budget ' || c.budget_id, '', 0, 0, c.budget_id, c.id
  FROM budgets_fundingcontribution AS c
"""

# The baseline: the same transactions and legs the job writes for a run on the budgets'
# first day, by one hand-written statement that knows every payment is the first of 13.
# It takes the transaction ids from the sequence up front, so the legs need no join back
# to the inserted headers (the foreign key is checked at commit, as for the job).
RAW_ALLOCATION_SQL = """
WITH due AS MATERIALIZED (
    SELECT nextval(pg_get_serial_sequence('budgets_ledgertransaction', 'id')) AS id,
           c.id AS contribution_id, c.budget_id, account.id AS account_id,
           funder.id AS funder_account_id, b.period_start AS due_on,
           c.yearly_pence / ((b.period_end - 1 - b.period_start) / 28 + 1) AS amount_pence
      FROM budgets_fundingcontribution AS c
      JOIN budgets_budget AS b ON b.id = c.budget_id
      JOIN budgets_ledgeraccount AS account ON account.contribution_id = c.id
      JOIN budgets_ledgeraccount AS funder
        ON funder.kind = 'funder' AND funder.organisation_id = c.funder_id
       AND funder.stream = c.stream
     WHERE b.state = 'active'
),
posted AS (
    INSERT INTO budgets_ledgertransaction
        (id, kind, idempotency_key, budget_id, contribution_id, due_on, occurred_on,
         description, allocation_run_id, posted_at)
    SELECT id, 'allocation', 'allocation:' || contribution_id || ':' || due_on, budget_id,
           contribution_id, due_on, due_on,
           'Payment due ' || to_char(due_on, 'FMDD Month YYYY'), %(run)s, now()
      FROM due
)
INSERT INTO budgets_ledgerentry (transaction_id, account_id, amount_pence)
SELECT due.id, leg.account_id, leg.amount_pence
  FROM due
 CROSS JOIN LATERAL (VALUES (due.account_id, due.amount_pence),
                            (due.funder_account_id, -due.amount_pence))
       AS leg (account_id, amount_pence)
"""

RAW_SPEND_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS bench_raw_spend (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL,
    payee_account_id bigint NOT NULL,
    amount_pence bigint NOT NULL CHECK (amount_pence <> 0),
    idempotency_key varchar(200) NOT NULL UNIQUE,
    posted_at timestamptz NOT NULL DEFAULT now()
)
"""

GUARDED_UPDATE_SQL = """
UPDATE budgets_ledgeraccount SET balance_pence = balance_pence - %(amount)s
 WHERE id = %(account)s AND balance_pence - %(amount)s >= -overdraft_pence
RETURNING balance_pence
"""

RAW_SPEND_INSERT_SQL = """
INSERT INTO bench_raw_spend (account_id, payee_account_id, amount_pence, idempotency_key)
VALUES (%(account)s, %(payee)s, %(amount)s, %(key)s)
"""

# The fair baseline: the best hand-written SQL for the guarantees a spend must keep, in
# the fewest statements. One statement (one round trip, its own transaction): the
# guarded UPDATE of the balance (the overdraft guard, re-checked by Postgres against
# concurrent updates), the movement row (from and to accounts, so it balances by
# construction; append-only as nothing updates it), whose unique idempotency key makes
# a replay fail and write nothing, and the audit event every money change needs, in
# the platform's audit table. Writing nothing unless the guard passes. It is given the
# account, holder and organisation ids up front (the service has to look them up).
RAW_SPEND_AUDITED_SQL = """
WITH moved AS (
    UPDATE budgets_ledgeraccount SET balance_pence = balance_pence - %(amount)s
     WHERE id = %(account)s AND balance_pence - %(amount)s >= -overdraft_pence
    RETURNING balance_pence
), spend AS (
    INSERT INTO bench_raw_spend (account_id, payee_account_id, amount_pence, idempotency_key)
    SELECT %(account)s, %(payee)s, %(amount)s, %(key)s FROM moved
    RETURNING id
), audit AS (
    INSERT INTO core_auditevent
        (created_at, actor_id, actor_label, acting_for_id, person_id, organisation_id, action,
         object_type, object_id, changes, request_id, ip_address)
    SELECT now(), %(actor)s, %(label)s, NULL, %(person)s, %(organisation)s, 'spend.recorded',
           'bench.rawspend', spend.id::text,
           jsonb_build_object('amount_pence', %(amount)s::bigint, 'payee', %(payee_name)s::text,
                              'transaction', spend.id),
           '', NULL
      FROM spend
)
SELECT balance_pence FROM moved
"""


def generate(today: datetime.date) -> dict[str, Any]:
    from django.db import transaction

    from budgets.ledger import funder_account, payee_account
    from users.models import Organisation, User

    with transaction.atomic():
        icbs = Organisation.objects.bulk_create(
            Organisation(name=f"Bench ICB {n}", kind=Organisation.Kind.ICB)
            for n in range(1, ICBS + 1)
        )
        creator = User.objects.create(email="bench-commissioner@example.test", name="Bench")
        for icb in icbs:
            funder_account(organisation=icb, stream="nhs_chc")
        payee_account(name="Bench payee")
    icb_ids = [icb.pk for icb in icbs]
    holders = _sql(HOLDERS_SQL, {"icbs": icb_ids, "icb_count": ICBS, "limit": BUDGETS})
    (first_holder,) = _one("SELECT min(id) FROM budgets_budgetholder")
    end = today.replace(year=today.year + 1) - datetime.timedelta(days=1)
    _sql(
        BUDGETS_SQL,
        {
            "start": today,
            "end": end,
            "creator": creator.pk,
            "first_holder": first_holder,
            "holders": holders,
            "budgets": BUDGETS,
        },
    )
    contributions = _sql(CONTRIBUTIONS_SQL)
    _sql(ACCOUNTS_SQL)
    return {"holders": holders, "contributions": contributions, "icbs": icb_ids}


def warm_up() -> None:
    for table in TABLES:
        _sql(f"VACUUM ANALYZE {table}")
        _one(f"SELECT count(*) FROM {table}")  # noqa: S608 (a fixed table name)
    # The index scans the job does: budget accounts by contribution, budgets by id.
    _one(
        "SELECT count(*) FROM budgets_fundingcontribution AS c "
        "JOIN budgets_ledgeraccount AS a ON a.contribution_id = c.id "
        "JOIN budgets_budget AS b ON b.id = c.budget_id"
    )


class _Rollback(Exception):
    pass


def raw_allocation(today: datetime.date) -> tuple[float, float, int]:
    """Seconds for the insert, seconds for the commit-time checks, legs written."""
    from django.db import connection, transaction

    from budgets.models import AllocationRun

    result: dict[str, Any] = {}
    try:
        with transaction.atomic():
            run = AllocationRun.objects.create(as_of=today)
            start = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(RAW_ALLOCATION_SQL, {"run": run.pk})
                result["legs"] = cursor.rowcount
                inserted = time.perf_counter()
                # The deferred checks (a complete transaction per header, foreign keys)
                # run at commit for the job; run them here too so the baseline pays them.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            result["insert"] = inserted - start
            result["checks"] = time.perf_counter() - inserted
            raise _Rollback
    except _Rollback:
        pass
    return result["insert"], result["checks"], result["legs"]


def explain_slice(today: datetime.date) -> None:
    from django.db import connection, transaction

    from budgets.allocation import DEFAULT_SLICE, SLICE_SQL
    from budgets.models import AllocationRun

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            run = AllocationRun.objects.create(as_of=today)
            cursor.execute(
                "EXPLAIN (ANALYZE, BUFFERS) " + SLICE_SQL,
                {"as_of": today, "low": 1, "high": 1 + DEFAULT_SLICE, "run": run.pk},
            )
            plan = "\n".join(row[0] for row in cursor.fetchall())
            start = time.perf_counter()
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            checks = time.perf_counter() - start
            raise _Rollback
    except _Rollback:
        pass
    EXPLAIN_FILE.write_text(
        f"EXPLAIN ANALYZE of one slice ({DEFAULT_SLICE} contributions) of "
        f"budgets.allocation.SLICE_SQL, {BUDGETS} budgets\n\n{plan}\n\n"
        f"Deferred checks at commit for that slice: {checks:.2f} s\n"
    )
    print(plan)
    print(f"Deferred checks for the slice: {checks:.2f} s")


def run_threads(work: Callable[[int], None], total: int) -> tuple[float, int]:
    """Run ``work(i)`` for i in 0..total-1 on THREADS threads started together.
    Returns (seconds, failures)."""
    from django.db import connection

    counter = itertools.count()
    lock = threading.Lock()
    started: list[float] = []
    barrier = threading.Barrier(THREADS, action=lambda: started.append(time.perf_counter()))
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            connection.ensure_connection()
            barrier.wait()
            while True:
                with lock:
                    i = next(counter)
                if i >= total:
                    return
                try:
                    work(i)
                except Exception as error:  # counted and reported, not fatal
                    failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        print(f"    {len(failures)} failed, e.g. {failures[0]!r}")
    return time.perf_counter() - started[0], len(failures)


def spend_targets(today: datetime.date) -> list[tuple[Any, Any, int]]:
    """(budget, holder's user, budget account id) for a random sample of budgets, each
    holder given a user account so that they may record spending."""
    from budgets.models import Budget, LedgerAccount
    from users.models import User

    ids = [
        row[0]
        for row in _all(
            "SELECT id FROM budgets_budget ORDER BY random() LIMIT %s", [min(SPEND_SAMPLE, BUDGETS)]
        )
    ]
    budgets = list(Budget.objects.filter(pk__in=ids).select_related("holder"))
    targets = []
    for budget in budgets:
        holder = budget.holder
        if holder.user_id is None:
            holder.user = User.objects.create(
                email=f"bench-holder-{holder.pk}@example.test", name=holder.name
            )
            holder.save(update_fields=["user"])
        account = LedgerAccount.objects.get(budget=budget)
        targets.append((budget, holder.user, account.pk))
    return targets


def _all(statement: str, params: Any = None) -> list[Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def spend_benchmarks(today: datetime.date, timer: Timer) -> list[tuple[Any, ...]]:
    """Spends per second through the service and the two baselines, on one hot budget
    and on random ones; first row: statements per spend for each."""
    from django.db import connection, transaction

    from budgets.ledger import payee_account
    from budgets.services import spend_record

    targets = spend_targets(today)
    hot = targets[0]
    payee = payee_account(name="Bench payee").pk

    def service(target_of: Callable[[int], tuple[Any, Any, int]]) -> Callable[[int], None]:
        def work(i: int) -> None:
            budget, user, _ = target_of(i)
            spend_record(
                budget=budget,
                payee="Bench payee",
                spent_on=today,
                amount_pence=1,
                category="other",
                recorded_by=user,
                idempotency_key=uuid.uuid4().hex,
            )

        return work

    def audited(target_of: Callable[[int], tuple[Any, Any, int]]) -> Callable[[int], None]:
        def work(i: int) -> None:
            budget, user, account = target_of(i)
            params = {
                "amount": 1,
                "account": account,
                "payee": payee,
                "payee_name": "Bench payee",
                "key": uuid.uuid4().hex,
                "actor": user.pk,
                "label": user.email,
                "person": budget.holder_id,
                "organisation": budget.holder.organisation_id,
            }
            with connection.cursor() as cursor:
                cursor.execute(RAW_SPEND_AUDITED_SQL, params)
                if cursor.fetchone() is None:
                    raise RuntimeError("not enough money")

        return work

    def raw(target_of: Callable[[int], tuple[Any, Any, int]]) -> Callable[[int], None]:
        def work(i: int) -> None:
            _, _, account = target_of(i)
            params = {"amount": 1, "account": account, "payee": payee, "key": uuid.uuid4().hex}
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(GUARDED_UPDATE_SQL, params)
                if cursor.fetchone() is None:
                    raise RuntimeError("not enough money")
                cursor.execute(RAW_SPEND_INSERT_SQL, params)

        return work

    def hot_target(i: int) -> tuple[Any, Any, int]:
        return hot

    def random_target(i: int) -> tuple[Any, Any, int]:
        return random.choice(targets)  # noqa: S311 (not for security)

    # How many statements one spend costs on each path (counting BEGIN and COMMIT where
    # there is a transaction block). The first spend on a connection also prepares the
    # service's statement (once per connection), so count the second.
    from django.test.utils import CaptureQueriesContext

    ways = (("service", service), ("audited", audited), ("raw", raw))
    counts = []
    for _, way in ways:
        way(hot_target)(0)
        with CaptureQueriesContext(connection) as queries:
            way(hot_target)(0)
        counts.append(float(len(queries)))
    rows: list[tuple[Any, ...]] = [("statements per spend", *counts)]
    titles = {
        "service": "spends through spend_record",
        "audited": "fair baseline (guarded UPDATE, insert, audit row; one statement)",
        "raw": "guarded UPDATE ... RETURNING + insert, no audit row",
    }
    for label, target_of in (("one hot budget", hot_target), ("random budgets", random_target)):
        rates = []
        for name, way in ways:
            seconds, failed = timer.time(
                f"{SPENDS} {titles[name]}, {THREADS} threads, {label}",
                lambda t=target_of, w=way: run_threads(w(t), SPENDS),
            )[1]
            if failed:
                raise SystemExit("Some spends failed: the figures would not be comparable.")
            rates.append(SPENDS / seconds)
        rows.append((label, *rates))
    return rows


def main() -> None:
    started = time.perf_counter()
    name = _configure_database()
    from django.db import connection
    from django.utils import timezone

    from budgets.allocation import allocation_run
    from budgets.models import LedgerTransaction

    _sql(RAW_SPEND_TABLE_SQL)
    timer = Timer()
    today = timezone.localdate()
    print(f"Benchmark database {name!r}: {BUDGETS:,} budgets, run date {today}")
    timer.time("emptying the benchmark database", _empty)
    gen_seconds, made = timer.time("generating budgets with set-based SQL", lambda: generate(today))
    warm_seconds, _ = timer.time("warming up (VACUUM ANALYZE, reading each table)", warm_up)
    (raw_insert, raw_checks, legs) = timer.time(
        "hand-written INSERT ... SELECT of the same ledger rows (rolled back)",
        lambda: raw_allocation(today),
    )[1]
    raw_total = raw_insert + raw_checks
    timer.time("VACUUM after the rollback", warm_up)
    if EXPLAIN:
        timer.time("EXPLAIN ANALYZE of one slice (rolled back)", lambda: explain_slice(today))
    job_seconds, run = timer.time("allocation_run", lambda: allocation_run(as_of=today))
    rerun_seconds, rerun = timer.time(
        "allocation_run again (nothing due)", lambda: allocation_run(as_of=today)
    )
    posted = LedgerTransaction.objects.filter(kind="allocation").count()
    if run.payments_posted != made["contributions"] or posted != made["contributions"]:
        raise SystemExit(
            f"The job posted {run.payments_posted} payments for {made['contributions']} "
            "contributions: the benchmark is not measuring a complete run."
        )
    if rerun.payments_posted != 0 or legs != 2 * made["contributions"]:
        raise SystemExit("The re-run posted payments, or the baseline wrote the wrong rows.")
    timer.time("VACUUM ANALYZE after the run", warm_up)
    spend_rows = spend_benchmarks(today, timer)

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (server_version,) = cursor.fetchone()
    lines = [
        f"Ledger benchmark, {datetime.datetime.now(tz=datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs (shared), Python "
        f"{platform.python_version()}, PostgreSQL {server_version}",
        f"Budgets: {BUDGETS:,} active ({made['holders']:,} holders), "
        f"{made['contributions']:,} funding contributions, all due on {today}",
        "",
        f"{'Allocation':<62}{'seconds':>10}",
        f"{'  generate the budgets (set-based SQL)':<62}{gen_seconds:>10.2f}",
        f"{'  warm up':<62}{warm_seconds:>10.2f}",
        f"{'  raw INSERT ... SELECT, insert':<62}{raw_insert:>10.2f}",
        f"{'  raw INSERT ... SELECT, commit-time checks':<62}{raw_checks:>10.2f}",
        f"{'  raw INSERT ... SELECT, total (baseline)':<62}{raw_total:>10.2f}",
        f"{'  allocation_run (' + format(run.payments_posted, ',') + ' payments)':<62}"
        f"{job_seconds:>10.2f}",
        f"{'  allocation_run again (nothing to do)':<62}{rerun_seconds:>10.2f}",
        f"{'  job / raw insert (target <= 2.0)':<62}{job_seconds / raw_total:>10.2f}",
        f"{'  re-run / raw insert (target < 0.10)':<62}{rerun_seconds / raw_total:>10.3f}",
        "",
        f"Spending, {THREADS} threads, {SPENDS} spends each way, against two baselines:",
        "  fair: guarded UPDATE ... RETURNING, insert (unique idempotency key) and the audit",
        "        row, in one statement: the same guarantees in the fewest statements",
        "  raw:  guarded UPDATE ... RETURNING, then an insert, in a transaction; no audit row",
        "        (the baseline as first measured; does less than a spend must)",
        "Target: each ratio (baseline spends per second / the service's) at most 2.0.",
        "",
        f"{'':<30}{'service/s':>10}{'fair/s':>10}{'raw/s':>10}{'fair/service':>14}"
        f"{'raw/service':>13}",
    ]
    (_, statements, fair_statements, raw_statements), *spend_rows = spend_rows
    lines.append(
        f"{'  statements per spend':<30}{statements:>10.0f}{fair_statements:>10.0f}"
        f"{raw_statements:>10.0f}"
    )
    for label, service_rate, fair_rate, raw_rate in spend_rows:
        lines.append(
            f"{'  ' + label:<30}{service_rate:>10.1f}{fair_rate:>10.1f}{raw_rate:>10.1f}"
            f"{fair_rate / service_rate:>14.2f}{raw_rate / service_rate:>13.2f}"
        )
    lines += ["", f"Whole benchmark: {time.perf_counter() - started:.0f} s", ""]
    report = "\n".join(lines)
    print()
    print(report)
    with RESULTS.open("a") as results:
        results.write(report + "\n")


if __name__ == "__main__":
    main()
