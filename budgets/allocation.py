"""Scheduled allocation: post every payment that has fallen due, for every active budget
and funder, in a few SQL statements per run (DESIGN.md section 4, "Money").

Why raw SQL: a national run is a million payments; one ``INSERT ... SELECT`` posts them
in seconds where a loop of ORM saves takes many minutes (DESIGN.md section 6). The
statement below is the whole job for one slice of contributions:

* ``candidate`` picks the contributions of active budgets with a payment due by
  ``as_of`` (``next_due_on``, kept by this statement; empty means not yet worked out),
  so a night with little to pay reads little;
* ``due`` lists, for each candidate, each payment date on or before ``as_of``
  (``budgets_due_date``/``budgets_due_count``, SQL functions from migration
  ``budgets/0005``), with its instalment (the year's amount split so that the
  instalments add up exactly), leaving out those already posted;
* ``posted`` inserts one ledger transaction per payment. The unique index on
  (contribution, due date) makes it idempotent: ``ON CONFLICT DO NOTHING`` means two
  runs at once, a re-run, or a run after a crash part-way post each payment once;
* ``legs`` inserts the two entries of each posted transaction: into the budget account,
  out of the funder's stream account. The ledger trigger checks every transaction sums
  to zero and updates the cached balances, in the same statement;
* ``advanced`` moves each candidate's ``next_due_on`` to its first payment after
  ``as_of`` (or NEVER_DUE once the year is paid), in the same transaction as the
  payments, so the two cannot disagree after a crash.

Slices are committed one by one, so a crash loses at most the slice in flight (which
rolls back whole), and the next run posts what is missing.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from budgets.models import AllocationRun, FundingContribution, LedgerTransaction
from core.locks import sweep_lock
from core.services import audit_record

SLICE_SQL = """
WITH candidate AS (
    SELECT c.id AS contribution_id,
           c.budget_id,
           c.yearly_pence,
           b.payment_schedule,
           b.period_start,
           account.id AS account_id,
           funder.id AS funder_account_id,
           counts.total,
           counts.upto
      FROM budgets_fundingcontribution AS c
      JOIN budgets_budget AS b ON b.id = c.budget_id
      JOIN budgets_ledgeraccount AS account ON account.contribution_id = c.id
      JOIN budgets_ledgeraccount AS funder
        ON funder.kind = 'funder' AND funder.organisation_id = c.funder_id
       AND funder.stream = c.stream
     CROSS JOIN LATERAL (
         SELECT budgets_due_count(b.payment_schedule, b.period_start, b.period_end - 1)
                    AS total,
                budgets_due_count(b.payment_schedule, b.period_start,
                                  least(%(as_of)s::date, b.period_end - 1)) AS upto
     ) AS counts
     WHERE b.state = 'active'
       AND c.id >= %(low)s AND c.id < %(high)s
       AND (c.next_due_on IS NULL OR c.next_due_on <= %(as_of)s::date)
),
due AS (
    SELECT contribution_id, budget_id, account_id, funder_account_id,
           budgets_due_date(payment_schedule, period_start, k) AS due_on,
           yearly_pence * (k + 1) / total - yearly_pence * k / total AS amount_pence
      FROM candidate
     CROSS JOIN LATERAL generate_series(0, upto - 1) AS k
     WHERE NOT EXISTS (
           SELECT 1 FROM budgets_ledgertransaction AS t
            WHERE t.kind = 'allocation' AND t.contribution_id = candidate.contribution_id
              AND t.due_on = budgets_due_date(payment_schedule, period_start, k))
),
posted AS (
    INSERT INTO budgets_ledgertransaction
        (kind, idempotency_key, budget_id, contribution_id, due_on, occurred_on,
         description, allocation_run_id, posted_at)
    SELECT 'allocation', 'allocation:' || contribution_id || ':' || due_on, budget_id,
           contribution_id, due_on, due_on, 'Payment due ' || to_char(due_on, 'FMDD Month YYYY'),
           %(run)s, now()
      FROM due
     WHERE amount_pence > 0
        ON CONFLICT DO NOTHING
    RETURNING id, contribution_id, due_on
),
legs AS (
    INSERT INTO budgets_ledgerentry (transaction_id, account_id, amount_pence)
    SELECT posted.id, leg.account_id, leg.amount_pence
      FROM posted
      JOIN due USING (contribution_id, due_on)
     CROSS JOIN LATERAL (VALUES (due.account_id, due.amount_pence),
                                (due.funder_account_id, -due.amount_pence))
           AS leg (account_id, amount_pence)
    RETURNING account_id, amount_pence
),
advanced AS (
    UPDATE budgets_fundingcontribution AS c
       SET next_due_on = CASE WHEN candidate.upto < candidate.total
                              THEN budgets_due_date(candidate.payment_schedule,
                                                    candidate.period_start, candidate.upto)
                              ELSE %(never)s::date END
      FROM candidate
     WHERE c.id = candidate.contribution_id
)
SELECT count(*), coalesce(sum(amount_pence), 0) FROM legs WHERE amount_pence > 0
"""

DEFAULT_SLICE = 100_000


class AllocationAlreadyRunning(Exception):
    """Another allocation run holds the lock."""


def _mark_interrupted_runs() -> None:
    """A run still 'running' when we hold the lock was cut off (a killed worker)."""
    AllocationRun.objects.filter(status=AllocationRun.Status.RUNNING).update(
        status=AllocationRun.Status.FAILED,
        finished_at=timezone.now(),
        errors="Interrupted before it finished; a later run posted what was missing.",
    )


def allocation_run(
    *,
    as_of: datetime.date | None = None,
    triggered_by: Any = None,
    slice_size: int = DEFAULT_SLICE,
) -> AllocationRun:
    """Post every payment due on or before ``as_of`` (today by default) that has not
    been posted yet, and record the run. Raises AllocationAlreadyRunning if another
    run is in progress (two beats, or "run now" during the nightly run)."""
    as_of = as_of or timezone.localdate()
    with sweep_lock("budgets.allocation_run") as acquired:
        if not acquired:
            raise AllocationAlreadyRunning("An allocation run is already in progress.")
        _mark_interrupted_runs()
        run = AllocationRun.objects.create(as_of=as_of, triggered_by=triggered_by)
        if triggered_by is not None:
            audit_record(
                actor=triggered_by,
                action="allocation.run_started",
                obj=run,
                changes={"as_of": str(as_of)},
            )
        highest = FundingContribution.objects.aggregate(top=Max("pk"))["top"] or 0
        try:
            for low in range(1, highest + 1, slice_size):
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(
                        SLICE_SQL,
                        {
                            "as_of": as_of,
                            "low": low,
                            "high": low + slice_size,
                            "run": run.pk,
                            "never": FundingContribution.NEVER_DUE,
                        },
                    )
                    payments, total = cursor.fetchone()
                    if payments:
                        # Progress, committed with the slice it counts.
                        AllocationRun.objects.filter(pk=run.pk).update(
                            payments_posted=F("payments_posted") + payments,
                            total_pence=F("total_pence") + total,
                        )
        except Exception as error:
            AllocationRun.objects.filter(pk=run.pk).update(
                status=AllocationRun.Status.FAILED, finished_at=timezone.now(), errors=str(error)
            )
            raise
        budgets_paid = (
            LedgerTransaction.objects.filter(allocation_run=run)
            .values("budget_id")
            .distinct()
            .count()
        )
        AllocationRun.objects.filter(pk=run.pk).update(
            status=AllocationRun.Status.SUCCEEDED,
            finished_at=timezone.now(),
            budgets_paid=budgets_paid,
        )
    run.refresh_from_db()
    return run
