"""Watching the money: the monitoring sweep that raises flags, and the nightly
reconciliation that proves the ledger adds up. Both are set-based SQL for the same
reason as allocation: they look at every budget in the country each night."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from budgets.models import MonitoringFlag, ReconciliationRun
from core.locks import sweep_lock
from core.services import notification_send
from users.models import Membership, Role

# Each flag query selects (budget_id, details) for active budgets that should be
# flagged; the insert skips budgets that already have an unresolved flag of that kind
# (the partial unique index ``flag_one_unresolved_per_kind``).
_BUDGET_FIGURES = """
    SELECT b.id AS budget_id,
           h.organisation_id,
           sum(a.balance_pence) AS balance_pence,
           sum(c.yearly_pence) AS yearly_pence,
           b.period_start, b.period_end, b.payment_schedule
      FROM budgets_budget AS b
      JOIN budgets_budgetholder AS h ON h.id = b.holder_id
      JOIN budgets_fundingcontribution AS c ON c.budget_id = b.id
      JOIN budgets_ledgeraccount AS a ON a.contribution_id = c.id
     WHERE b.state = 'active'
     GROUP BY b.id, h.organisation_id
"""

SURPLUS_SQL = """
INSERT INTO budgets_monitoringflag (budget_id, kind, state, details, raised_at, note)
SELECT f.budget_id, 'surplus', 'open',
       jsonb_build_object('balance_pence', f.balance_pence,
                          'threshold_pence', f.yearly_pence * coalesce(s.surplus_weeks, 8) / 52,
                          'weeks', coalesce(s.surplus_weeks, 8)),
       now(), ''
  FROM (__BUDGET_FIGURES__) AS f
  LEFT JOIN budgets_budgetsettings AS s ON s.organisation_id = f.organisation_id
 WHERE f.balance_pence > f.yearly_pence * coalesce(s.surplus_weeks, 8) / 52
ON CONFLICT DO NOTHING
"""

# Spending over the last 8 weeks, as a daily rate, carried to the next payment date:
# if the balance would not last that long, say so before it happens.
RUNNING_OUT_SQL = """
INSERT INTO budgets_monitoringflag (budget_id, kind, state, details, raised_at, note)
SELECT f.budget_id, 'running_out', 'open',
       jsonb_build_object('balance_pence', f.balance_pence,
                          'spent_last_56_days_pence', spent.pence,
                          'next_payment_on', next_due.on_date::text),
       now(), ''
  FROM (__BUDGET_FIGURES__) AS f
 CROSS JOIN LATERAL (
     SELECT coalesce(sum(sp.amount_pence - sp.refunded_pence), 0) AS pence
       FROM budgets_spend AS sp
      WHERE sp.budget_id = f.budget_id AND sp.spent_on > %(today)s::date - 56
 ) AS spent
 CROSS JOIN LATERAL (
     SELECT least(budgets_due_date(f.payment_schedule, f.period_start,
                    budgets_due_count(f.payment_schedule, f.period_start, %(today)s)),
                  f.period_end) AS on_date
 ) AS next_due
 WHERE spent.pence > 0
   AND f.balance_pence * 56 < spent.pence * (next_due.on_date - %(today)s::date)
ON CONFLICT DO NOTHING
"""

NO_SPENDING_SQL = """
INSERT INTO budgets_monitoringflag (budget_id, kind, state, details, raised_at, note)
SELECT f.budget_id, 'no_spending', 'open',
       jsonb_build_object('days', coalesce(s.no_spending_days, 90),
                          'last_spend_on', (SELECT max(sp.spent_on)::text FROM budgets_spend AS sp
                                             WHERE sp.budget_id = f.budget_id)),
       now(), ''
  FROM (__BUDGET_FIGURES__) AS f
  LEFT JOIN budgets_budgetsettings AS s ON s.organisation_id = f.organisation_id
 WHERE f.period_start <= %(today)s::date - coalesce(s.no_spending_days, 90)
   AND NOT EXISTS (
       SELECT 1 FROM budgets_spend AS sp
        WHERE sp.budget_id = f.budget_id
          AND sp.spent_on > %(today)s::date - coalesce(s.no_spending_days, 90))
ON CONFLICT DO NOTHING
"""


SURPLUS_SQL, RUNNING_OUT_SQL, NO_SPENDING_SQL = (
    sql.replace("__BUDGET_FIGURES__", _BUDGET_FIGURES)
    for sql in (SURPLUS_SQL, RUNNING_OUT_SQL, NO_SPENDING_SQL)
)


def monitoring_sweep(*, today: datetime.date | None = None) -> dict[str, int] | None:
    """Raise flags for every active budget that needs a look. Returns how many new flags
    of each kind, or None if another sweep is running."""
    today = today or timezone.localdate()
    raised: dict[str, int] = {}
    with sweep_lock("budgets.monitoring_sweep") as acquired:
        if not acquired:
            return None
        with transaction.atomic(), connection.cursor() as cursor:
            for kind, sql in (
                (MonitoringFlag.Kind.SURPLUS, SURPLUS_SQL),
                (MonitoringFlag.Kind.RUNNING_OUT, RUNNING_OUT_SQL),
                (MonitoringFlag.Kind.NO_SPENDING, NO_SPENDING_SQL),
            ):
                cursor.execute(sql, {"today": today})
                raised[str(kind)] = cursor.rowcount
    return raised


# A cached balance that differs from the sum of the account's entries.
BALANCE_MISMATCH_SQL = """
SELECT a.id, a.name, a.balance_pence, coalesce(e.total, 0), a.budget_id
  FROM budgets_ledgeraccount AS a
  LEFT JOIN (SELECT account_id, sum(amount_pence)::bigint AS total
               FROM budgets_ledgerentry GROUP BY account_id) AS e ON e.account_id = a.id
 WHERE a.kind = 'budget' AND a.balance_pence <> coalesce(e.total, 0)
 LIMIT 1000
"""

UNBALANCED_SQL = """
SELECT t.id, count(e.id), coalesce(sum(e.amount_pence), 0)::bigint
  FROM budgets_ledgertransaction AS t
  LEFT JOIN budgets_ledgerentry AS e ON e.transaction_id = t.id
 GROUP BY t.id
HAVING count(e.id) < 2 OR coalesce(sum(e.amount_pence), 0) <> 0
 LIMIT 1000
"""


def reconciliation_run() -> ReconciliationRun | None:
    """Check that every budget account's cached balance equals the sum of its entries,
    that every transaction balances, and that the whole ledger sums to zero. The result
    is kept either way; a mismatch alerts every finance officer (in the app and by
    email). Returns None if another reconciliation is running."""
    with sweep_lock("budgets.reconciliation_run") as acquired:
        if not acquired:
            return None
        run = ReconciliationRun.objects.create()
        mismatches: list[dict[str, Any]] = []
        # One snapshot for all three checks, so a posting between them cannot make
        # them disagree with each other.
        nested = connection.in_atomic_block  # inside a test's transaction
        with transaction.atomic(), connection.cursor() as cursor:
            if not nested:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cursor.execute(BALANCE_MISMATCH_SQL)
            for account_id, name, cached, summed, budget_id in cursor.fetchall():
                mismatches.append(
                    {
                        "check": "balance",
                        "account": account_id,
                        "budget": budget_id,
                        "name": name,
                        "cached_pence": cached,
                        "entries_pence": summed,
                    }
                )
            cursor.execute(UNBALANCED_SQL)
            for transaction_id, legs, total in cursor.fetchall():
                mismatches.append(
                    {
                        "check": "transaction",
                        "transaction": transaction_id,
                        "legs": legs,
                        "sum_pence": total,
                    }
                )
            cursor.execute("SELECT coalesce(sum(amount_pence), 0)::bigint FROM budgets_ledgerentry")
            (ledger_total,) = cursor.fetchone()
            if ledger_total != 0:
                mismatches.append({"check": "ledger_total", "sum_pence": ledger_total})
            cursor.execute("SELECT count(*) FROM budgets_ledgeraccount")
            (accounts,) = cursor.fetchone()
        ReconciliationRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(),
            ok=not mismatches,
            accounts_checked=accounts,
            ledger_total_pence=ledger_total,
            mismatches=mismatches,
        )
        run.refresh_from_db()
        if mismatches:
            _flag_budgets(run)
            _alert_finance(run)
    return run


def _flag_budgets(run: ReconciliationRun) -> None:
    """Flag each budget whose balance is out of step, so it shows on the budget and in
    the flags queue of the organisation responsible (once while unresolved)."""
    for mismatch in run.mismatches:
        if mismatch["check"] != "balance" or not mismatch.get("budget"):
            continue
        MonitoringFlag.objects.get_or_create(
            budget_id=mismatch["budget"],
            kind=MonitoringFlag.Kind.LEDGER_MISMATCH,
            state__in=[MonitoringFlag.State.OPEN, MonitoringFlag.State.ACKNOWLEDGED],
            defaults={
                "state": MonitoringFlag.State.OPEN,
                "details": {
                    "reconciliation": run.pk,
                    "cached_pence": mismatch["cached_pence"],
                    "entries_pence": mismatch["entries_pence"],
                },
            },
        )


def _alert_finance(run: ReconciliationRun) -> None:
    finance = {
        m.user for m in Membership.objects.filter(role=Role.FINANCE_OFFICER).select_related("user")
    }
    with transaction.atomic():
        for user in finance:
            notification_send(
                user=user,
                subject="The ledger does not reconcile",
                body=(
                    f"Last night's check found {len(run.mismatches)} problem(s). "
                    "No money should move by hand until it is explained."
                ),
                link=reverse("budgets:reconciliation_list"),
            )
