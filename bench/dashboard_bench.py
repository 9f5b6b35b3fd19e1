#!/usr/bin/env python
"""The dashboard benchmark behind `make bench` (and `make bench-dashboard` alone).

1. Generates a national-scale data set with set-based SQL (``generate_series``): 42 ICBs
   and 150 councils, BENCH_BUDGETS (default 1,000,000) budgets for about 910,000
   holders (every route and option; about 120 postcode areas, each ICB's people in four
   neighbouring ones, 3% anywhere, as in England; about 10% children, 15%
   integrated with a council; some closed, suspended or not yet active; budget years
   starting across this financial year and the last), their contributions and ledger
   accounts, and about BENCH_ENTRIES (default 20,000,000) ledger entries: payments in
   and spends (two legs each, with a ``budgets_spend`` row per spend), a few refunds and
   recoveries, flags, support plans in every state, providers and services.
   The ledger's triggers are off for the loading session only
   (``session_replication_role = replica``): the data is written consistent instead,
   and checked afterwards (every transaction sums to zero, every budget account's
   balance is the sum of its entries); the benchmark stops if it is not.
2. Warms up (VACUUM ANALYZE, a read of each table).
3. Times, in the same run and warm: ``core.reporting.snapshots.snapshot_refresh`` (best
   of BENCH_REPEAT) against hand-written SQL for the same aggregates (``RAW_SQL``: one
   pass over the ledger, temporary tables, ``GROUPING SETS``; best of BENCH_REPEAT), and
   checks that both give the same totals for every measure of every snapshot table.
4. Times the dashboard page (``reporting:dashboard``) in-process with Django's test
   client, signed in as a commissioner of the largest ICB (two-factor set up as the
   tests do): BENCH_REQUESTS requests over a mix of filters after a warm-up; p50, p95
   and max server time, and the SQL queries per request. The same page is measured on a
   small data set (BENCH_SMALL_BUDGETS, first) so the query counts can be compared.

Figures are printed and appended to bench/results.txt. Like bench/ledger_bench.py it
owns and empties its database: DATABASE_URL's (its name must contain "bench"), or
``phb_bench_dashboard`` beside the embedded Postgres. Run it as ``make bench-dashboard``
or ``BENCH_BUDGETS=20000 BENCH_ENTRIES=400000 .venv/bin/python bench/dashboard_bench.py``.
"""

# ruff: noqa: S608 - SQL is built only from this file's own constants, never from input.
from __future__ import annotations

import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("BENCH_DATABASE", "phb_bench_dashboard")

from ledger_bench import RESULTS, Timer, _all, _configure_database, _one, _sql

BUDGETS = int(os.environ.get("BENCH_BUDGETS", "1000000"))
ENTRIES = int(os.environ.get("BENCH_ENTRIES", "20000000"))
SMALL_BUDGETS = int(os.environ.get("BENCH_SMALL_BUDGETS", "10000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "2"))
ICBS = 42
COUNCILS = 150
MANAGERS = 10
PAYEES = 500
MAX_HOLDERS = 909_091  # NHS numbers in the 999 test range with a valid check digit

# ~120 postcode areas: real ones, so the page shows plausible areas.
AREAS = [
    "AB",
    "AL",
    "B",
    "BA",
    "BB",
    "BD",
    "BH",
    "BL",
    "BN",
    "BR",
    "BS",
    "BT",
    "CA",
    "CB",
    "CF",
    "CH",
    "CM",
    "CO",
    "CR",
    "CT",
    "CV",
    "CW",
    "DA",
    "DD",
    "DE",
    "DG",
    "DH",
    "DL",
    "DN",
    "DT",
    "DY",
    "E",
    "EC",
    "EH",
    "EN",
    "EX",
    "FK",
    "FY",
    "G",
    "GL",
    "GU",
    "HA",
    "HD",
    "HG",
    "HP",
    "HR",
    "HS",
    "HU",
    "HX",
    "IG",
    "IP",
    "IV",
    "KA",
    "KT",
    "KW",
    "KY",
    "L",
    "LA",
    "LD",
    "LE",
    "LL",
    "LN",
    "LS",
    "LU",
    "M",
    "ME",
    "MK",
    "ML",
    "N",
    "NE",
    "NG",
    "NN",
    "NP",
    "NR",
    "NW",
    "OL",
    "OX",
    "PA",
    "PE",
    "PH",
    "PL",
    "PO",
    "PR",
    "RG",
    "RH",
    "RM",
    "S",
    "SA",
    "SE",
    "SG",
    "SK",
    "SL",
    "SM",
    "SN",
    "SO",
    "SP",
    "SR",
    "SS",
    "ST",
    "SW",
    "SY",
    "TA",
    "TD",
    "TF",
    "TN",
    "TQ",
    "TR",
    "TS",
    "TW",
    "UB",
    "W",
    "WA",
    "WC",
    "WD",
    "WF",
    "WN",
    "WR",
    "WS",
    "WV",
    "YO",
    "ZE",
]

ROUTE_CASE = """CASE WHEN r < 38 THEN 'chc' WHEN r < 44 THEN 'childrens_continuing_care'
     WHEN r < 54 THEN 's117_aftercare' WHEN r < 63 THEN 'wheelchair'
     WHEN r < 68 THEN 'end_of_life' WHEN r < 71 THEN 'maternity'
     WHEN r < 79 THEN 'learning_disability_autism' WHEN r < 90 THEN 'mental_health'
     WHEN r < 94 THEN 'social_care' ELSE 'other' END"""

# Each route's NHS stream; the council's stream for an integrated budget.
NHS_STREAM_CASE = """CASE h.eligibility_route WHEN 'chc' THEN 'nhs_chc'
     WHEN 'childrens_continuing_care' THEN 'nhs_ccc' WHEN 's117_aftercare' THEN 'nhs_s117'
     WHEN 'wheelchair' THEN 'nhs_wheelchair' WHEN 'end_of_life' THEN 'nhs_end_of_life'
     WHEN 'maternity' THEN 'nhs_maternity' WHEN 'mental_health' THEN 'nhs_mental_health'
     ELSE 'nhs_other' END"""

CATEGORIES = [
    "personal_assistant",
    "care_agency",
    "therapy",
    "equipment",
    "transport",
    "activities",
    "respite",
    "training",
    "employment_costs",
    "other",
]


# --- generation ------------------------------------------------------------------

ORGANISATIONS_SQL = """
INSERT INTO users_organisation (name, kind, ods_code, created_at)
SELECT name, kind, '', now() FROM (
    SELECT 1 AS o, n, 'Bench ICB ' || n AS name, 'icb' AS kind FROM generate_series(1, %(icbs)s) n
    UNION ALL
    SELECT 2, n, 'Bench council ' || n, 'local_authority' FROM generate_series(1, %(councils)s) n
    UNION ALL
    SELECT 3, n, 'Bench budget manager ' || n, 'budget_manager'
      FROM generate_series(1, %(managers)s) n
    UNION ALL
    SELECT 4, n, 'Bench provider organisation ' || n, 'provider' FROM generate_series(1, 20) n
) AS o ORDER BY o, n
"""

# Holder serial s: ICB s %% 42 (the first ICBs a little larger), a council for ~15%%,
# a route, ~10%% children. Geography as in England, where an ICB covers a handful of
# postcode areas: 97%% live in one of four neighbouring areas of their ICB's (ICB k's
# are areas 3k to 3k + 3, so neighbours share one), the rest anywhere.
HOLDERS_SQL = (
    """
INSERT INTO budgets_budgetholder
    (name, created_at, organisation_id, council_id, date_of_birth, eligibility_route,
     nhs_number, postcode, status)
SELECT 'Bench holder ' || serial, now(),
       (%(icbs)s::bigint[])[1 + icb_index],
       CASE WHEN hc < 15
            THEN (%(councils)s::bigint[])[1 + ((serial %% %(icb_count)s) * %(council_count)s
                                               / %(icb_count)s + serial / 100 %% 4)
                                              %% %(council_count)s] END,
       CASE WHEN hk < 10 THEN %(today)s::date - 200 - serial %% 6000
            ELSE date '1935-01-01' + serial %% 24000 END,
       """
    + ROUTE_CASE.replace("r <", "hr <")
    + """,
       '999' || lpad(serial::text, 6, '0') || (CASE WHEN check_digit = 11 THEN 0
                                                   ELSE check_digit END)::text,
       (%(areas)s::text[])[1 + CASE WHEN ha < 97
                                    THEN (icb_index * 3 + ha %% 4) %% %(area_count)s
                                    ELSE (hashtext('area' || serial) & 2147483647)
                                         %% %(area_count)s END]
           || (1 + serial %% 9)::text
           || ' ' || (serial %% 10)::text || 'AB',
       'active'
  FROM (SELECT serial,
               11 - (243 + (serial / 100000) %% 10 * 7 + (serial / 10000) %% 10 * 6
                     + (serial / 1000) %% 10 * 5 + (serial / 100) %% 10 * 4
                     + (serial / 10) %% 10 * 3 + serial %% 10 * 2) %% 11 AS check_digit,
               (hashtext('council' || serial) & 2147483647) %% 100 AS hc,
               (hashtext('child' || serial) & 2147483647) %% 100 AS hk,
               (hashtext('route' || serial) & 2147483647) %% 100 AS hr,
               (hashtext('area' || serial) & 2147483647) %% 100 AS ha,
               (CASE WHEN serial %% 10 = 0 THEN serial / 10 %% 3 ELSE serial END)
                   %% %(icb_count)s AS icb_index
          FROM generate_series(0, %(last_serial)s) AS serial) AS numbers
 WHERE check_digit <> 10
 ORDER BY serial
 LIMIT %(limit)s
"""
)

# Budget n of holder (n - 1) %% H: holders with two budgets have a first one, closed at
# the end of its year, and a second starting the day after. Budget years start across
# the last financial year and this one, up to today.
BUDGETS_SQL = """
INSERT INTO budgets_budget
    (period_start, period_end, state, payment_schedule, created_at, updated_at,
     created_by_id, holder_id, active_from, ended_on)
SELECT start, start + 364, state, 'four_weekly', now(), now(), %(creator)s,
       %(first_holder)s + idx,
       CASE WHEN state IN ('active', 'suspended', 'closed')
            THEN least(start + n %% 3, %(today)s::date) END,
       CASE WHEN state = 'closed'
            THEN CASE WHEN doubled AND NOT second THEN start + 364
                      ELSE least(start + n %% 3 + (n * 17) %% greatest(1, %(today)s::date - start),
                                 start + 364, %(today)s::date) END END
  FROM (SELECT n, idx, doubled, second,
               CASE WHEN doubled AND NOT second THEN 'closed'
                    WHEN r < 7 THEN 'closed' WHEN r < 9 THEN 'suspended'
                    WHEN r < 11 THEN 'agreed' WHEN r < 12 THEN 'indicative'
                    ELSE 'active' END AS state,
               CASE WHEN doubled
                    THEN %(fy_start)s::date
                         + ((idx::bigint * 7919) %% (%(today)s::date - 365
                                                    - %(fy_start)s::date + 1))::int
                         + CASE WHEN second THEN 365 ELSE 0 END
                    ELSE %(fy_start)s::date
                         + ((idx::bigint * 7919) %% (%(today)s::date
                                                    - %(fy_start)s::date + 1))::int
               END AS start
          FROM (SELECT n, (n - 1) %% %(holders)s AS idx, n > %(holders)s AS second,
                       (n - 1) %% %(holders)s < %(budgets)s - %(holders)s AS doubled,
                       (hashtext('state' || n) & 2147483647) %% 100 AS r
                  FROM generate_series(1, %(budgets)s) AS n) AS numbered) AS b
"""

# The ICB's contribution for every budget, and the council's for integrated ones (its
# option differs for a fifth of them, so some budgets are "mixed").
CONTRIBUTIONS_SQL = (
    """
INSERT INTO budgets_fundingcontribution
    (stream, yearly_pence, management_option, managed_by_id, created_at, budget_id, funder_id)
SELECT stream, yearly, option,
       CASE WHEN option = 'third_party' THEN (%(managers)s::bigint[])[1 + budget_id %% 10] END,
       now(), budget_id, funder_id
  FROM (SELECT """
    + NHS_STREAM_CASE
    + """ AS stream,
               500000 + (b.id * 7919) %% 5000000 AS yearly,
               CASE WHEN (hashtext('option' || b.id) & 2147483647) %% 100 < 50 THEN 'notional'
                    WHEN (hashtext('option' || b.id) & 2147483647) %% 100 < 85 THEN 'direct_payment'
                    ELSE 'third_party' END AS option,
               b.id AS budget_id, h.organisation_id AS funder_id
          FROM budgets_budget AS b JOIN budgets_budgetholder AS h ON h.id = b.holder_id
        UNION ALL
        SELECT CASE WHEN h.eligibility_route = 's117_aftercare' THEN 'council_s117'
                    WHEN h.date_of_birth > %(today)s::date - interval '18 years'
                    THEN 'council_children' ELSE 'council_social_care' END,
               200000 + (b.id * 104729) %% 2000000,
               CASE WHEN (hashtext('mixed' || b.id) & 2147483647) %% 5 = 0
                    THEN CASE WHEN (hashtext('option' || b.id) & 2147483647) %% 100 < 50
                              THEN 'direct_payment'
                              ELSE 'notional' END
                    WHEN (hashtext('option' || b.id) & 2147483647) %% 100 < 50 THEN 'notional'
                    WHEN (hashtext('option' || b.id) & 2147483647) %% 100 < 85 THEN 'direct_payment'
                    ELSE 'third_party' END,
               b.id, h.council_id
          FROM budgets_budget AS b JOIN budgets_budgetholder AS h ON h.id = b.holder_id
         WHERE h.council_id IS NOT NULL) AS c
 ORDER BY budget_id, funder_id
"""
)

ACCOUNTS_SQL = [
    """INSERT INTO budgets_ledgeraccount
           (kind, name, stream, balance_pence, overdraft_pence, budget_id, contribution_id)
       SELECT 'budget', 'Bench budget ' || c.budget_id, '', 0, 0, c.budget_id, c.id
         FROM budgets_fundingcontribution AS c ORDER BY c.id""",
    """INSERT INTO budgets_ledgeraccount
           (kind, name, stream, balance_pence, overdraft_pence, organisation_id)
       SELECT kind, 'Bench ' || kind || ' ' || funder_id || ' ' || stream, stream, 0, 0,
              funder_id
         FROM (SELECT DISTINCT funder_id, stream FROM budgets_fundingcontribution) AS s
        CROSS JOIN (VALUES ('funder'), ('recovery')) AS k (kind)""",
    """INSERT INTO budgets_ledgeraccount (kind, name, stream, balance_pence, overdraft_pence)
       SELECT 'payee', 'Bench payee ' || n, '', 0, 0 FROM generate_series(1, %(payees)s) n""",
]

# Per contribution in place (a budget that became active): its days in place and how
# many transactions it gets, in proportion to them, so that the total is exactly
# %(transactions)s (floors of the cumulative share); 40%% of them payments in.
PLAN_SQL = """
CREATE UNLOGGED TABLE bench_plan AS
WITH placed AS (
    SELECT c.id AS contribution_id, c.budget_id, c.yearly_pence, c.funder_id, c.stream,
           greatest(b.period_start, b.active_from) AS ws,
           least(b.period_end, b.ended_on, %(today)s::date)
               - greatest(b.period_start, b.active_from) + 1 AS days
      FROM budgets_fundingcontribution AS c JOIN budgets_budget AS b ON b.id = c.budget_id
     WHERE b.active_from IS NOT NULL
), cumulative AS (
    SELECT *, sum(days) OVER (ORDER BY contribution_id) AS upto,
           sum(days) OVER () AS total
      FROM placed WHERE days > 0
), counted AS (
    SELECT *, (upto * %(transactions)s / total) - ((upto - days) * %(transactions)s / total)
               AS n,
              (upto - days) * %(transactions)s / total AS first
      FROM cumulative
)
SELECT counted.contribution_id, counted.budget_id, counted.yearly_pence, counted.ws,
       counted.days::int, counted.n::int,
       least(counted.days, greatest(1, (counted.n * 4 + 9) / 10))::int AS payments,
       counted.first::bigint,
       account.id AS account_id, funder.id AS funder_account_id,
       recovery.id AS recovery_account_id
  FROM counted
  JOIN budgets_ledgeraccount AS account ON account.contribution_id = counted.contribution_id
  JOIN budgets_ledgeraccount AS funder
    ON funder.kind = 'funder' AND funder.organisation_id = counted.funder_id
   AND funder.stream = counted.stream
  JOIN budgets_ledgeraccount AS recovery
    ON recovery.kind = 'recovery' AND recovery.organisation_id = counted.funder_id
   AND recovery.stream = counted.stream
 WHERE n > 0
"""

# Transaction j of a contribution: j < payments is a payment in (yearly / 13, spread
# evenly over its days in place, one per day at most); the rest are spends spread the
# same way, together at most 96%% of what was paid in, so no balance goes negative.
MOVEMENTS_SQL = """
CREATE UNLOGGED TABLE bench_movement AS
SELECT p.first + j + %(base)s AS id, p.contribution_id, p.budget_id, p.account_id,
       CASE WHEN j < p.payments THEN p.funder_account_id
            ELSE %(first_payee)s + (p.first + j) %% %(payees)s END AS other_account_id,
       j < p.payments AS payment,
       CASE WHEN j < p.payments THEN p.ws + j * p.days / p.payments
            ELSE p.ws + (j - p.payments) * p.days / (p.n - p.payments) END AS occurred_on,
       CASE WHEN j < p.payments THEN greatest(1, p.yearly_pence / 13)
            ELSE greatest(1, greatest(1, p.yearly_pence / 13) * p.payments * 8
                             / (10 * (p.n - p.payments)) * (8 + j %% 5) / 10) END AS amount
  FROM bench_plan AS p CROSS JOIN LATERAL generate_series(0, p.n - 1) AS j
"""

TRANSACTIONS_SQL = """
INSERT INTO budgets_ledgertransaction
    (id, kind, idempotency_key, budget_id, contribution_id, due_on, occurred_on, posted_at,
     description, created_by_id)
SELECT id, CASE WHEN payment THEN 'allocation' ELSE 'spend' END,
       CASE WHEN payment THEN 'allocation:' || contribution_id || ':' || occurred_on
            ELSE 'bench-spend:' || id END,
       budget_id, contribution_id, CASE WHEN payment THEN occurred_on END, occurred_on,
       occurred_on + time '12:00', CASE WHEN payment THEN 'Payment in' ELSE 'Spend' END,
       CASE WHEN payment THEN NULL ELSE %(creator)s::bigint END
  FROM bench_movement
"""

ENTRIES_SQL = """
INSERT INTO budgets_ledgerentry (transaction_id, account_id, amount_pence)
SELECT m.id, leg.account_id, leg.amount
  FROM bench_movement AS m
 CROSS JOIN LATERAL (VALUES (m.account_id, CASE WHEN m.payment THEN m.amount ELSE -m.amount END),
                            (m.other_account_id,
                             CASE WHEN m.payment THEN -m.amount ELSE m.amount END))
       AS leg (account_id, amount)
"""

SPENDS_SQL = """
INSERT INTO budgets_spend
    (budget_id, contribution_id, transaction_id, payee, spent_on, amount_pence, category,
     note, receipt, receipt_content_type, receipt_extension, state, recorded_by_id,
     recorded_at, refunded_pence)
SELECT m.budget_id, m.contribution_id, m.id,
       'Bench payee ' || (m.other_account_id - %(first_payee)s + 1),
       m.occurred_on, m.amount, (%(categories)s::text[])[1 + m.id * 7 %% 10], '', '', '', '',
       CASE WHEN m.id %% 3 = 0 THEN 'verified' ELSE 'recorded' END, %(creator)s,
       m.occurred_on + time '12:00', 0
  FROM bench_movement AS m WHERE NOT m.payment
"""

# A refund of half of one spend in 40 (of two pence or more), the same day.
REFUNDS_SQL = [
    """CREATE UNLOGGED TABLE bench_refund AS
       SELECT %(base)s + row_number() OVER (ORDER BY m.id) AS id, m.id AS spend_tx_id,
              m.budget_id, m.contribution_id, m.account_id, m.other_account_id,
              m.occurred_on, m.amount / 2 AS amount
         FROM bench_movement AS m
        WHERE NOT m.payment AND m.id %% 40 = 0 AND m.amount >= 2""",
    """INSERT INTO budgets_ledgertransaction
           (id, kind, idempotency_key, budget_id, contribution_id, occurred_on, posted_at,
            description, reverses_id, created_by_id)
       SELECT id, 'refund', 'bench-refund:' || id, budget_id, contribution_id, occurred_on,
              occurred_on + time '13:00', 'Refund', spend_tx_id, %(creator)s
         FROM bench_refund""",
    """INSERT INTO budgets_ledgerentry (transaction_id, account_id, amount_pence)
       SELECT r.id, leg.account_id, leg.amount FROM bench_refund AS r
        CROSS JOIN LATERAL (VALUES (r.account_id, r.amount), (r.other_account_id, -r.amount))
              AS leg (account_id, amount)""",
    """UPDATE budgets_spend AS s SET refunded_pence = r.amount
         FROM bench_refund AS r WHERE s.transaction_id = r.spend_tx_id""",
]

# One budget in 2,000 (with payments in) has a proposed recovery; half of those are
# recovered: a fiftieth of one payment in goes back to the funder's recovery account.
RECOVERIES_SQL = [
    """CREATE UNLOGGED TABLE bench_recovery AS
       SELECT row_number() OVER (ORDER BY p.contribution_id) AS k, p.*,
              greatest(1, p.yearly_pence / 13 / 50) AS amount,
              least(p.ws + p.days - 1, %(today)s::date) AS on_day
         FROM bench_plan AS p WHERE p.budget_id %% 2000 = 0 AND p.payments > 0""",
    """INSERT INTO budgets_budgetnotice
           (budget_id, kind, subject, reasons, amount_pence, respond_by, issued_by_id, issued_at)
       SELECT budget_id, 'surplus_recovery', 'Proposed recovery', 'Unspent money', amount,
              on_day + 28, %(creator)s, on_day + time '09:00'
         FROM bench_recovery ORDER BY k""",
    """INSERT INTO budgets_ledgertransaction
           (id, kind, idempotency_key, budget_id, contribution_id, occurred_on, posted_at,
            description, created_by_id)
       SELECT %(base)s + k, 'recovery', 'bench-recovery:' || k, budget_id, contribution_id,
              on_day, on_day + time '14:00', 'Recovery', %(creator)s
         FROM bench_recovery WHERE k %% 2 = 0""",
    """INSERT INTO budgets_ledgerentry (transaction_id, account_id, amount_pence)
       SELECT %(base)s + r.k, leg.account_id, leg.amount FROM bench_recovery AS r
        CROSS JOIN LATERAL (VALUES (r.account_id, -r.amount), (r.recovery_account_id, r.amount))
              AS leg (account_id, amount)
        WHERE r.k %% 2 = 0""",
    """INSERT INTO budgets_surplusrecovery
           (budget_id, contribution_id, amount_pence, reasons, respond_by, state, notice_id,
            proposed_by_id, proposed_at, reconsideration_reasons, decision_reasons,
            recovered_pence, transaction_id, decided_by_id, decided_at)
       SELECT r.budget_id, r.contribution_id, r.amount, 'Unspent money', r.on_day + 28,
              CASE WHEN r.k %% 2 = 0 THEN 'recovered' WHEN r.k %% 3 = 0
                   THEN 'reconsideration_requested' ELSE 'notice_sent' END,
              n.id, %(creator)s, r.on_day + time '09:00', '', '',
              CASE WHEN r.k %% 2 = 0 THEN r.amount END,
              CASE WHEN r.k %% 2 = 0 THEN %(base)s + r.k END,
              CASE WHEN r.k %% 2 = 0 THEN %(creator)s END,
              CASE WHEN r.k %% 2 = 0 THEN r.on_day + time '14:00' END
         FROM bench_recovery AS r
         JOIN (SELECT id, row_number() OVER (ORDER BY id) AS k FROM budgets_budgetnotice) AS n
           ON n.k = r.k""",
]

BALANCES_SQL = """
UPDATE budgets_ledgeraccount AS a SET balance_pence = s.total
  FROM (SELECT account_id, sum(amount_pence) AS total FROM budgets_ledgerentry
         GROUP BY account_id) AS s
 WHERE a.id = s.account_id AND a.kind = 'budget'
"""

FLAGS_SQL = """
INSERT INTO budgets_monitoringflag (budget_id, kind, state, details, raised_at, note)
SELECT b.id, (ARRAY['surplus', 'running_out', 'no_spending', 'outside_plan',
                    'review_overdue'])[1 + b.id / 50 %% 5],
       (ARRAY['open', 'open', 'acknowledged', 'resolved'])[1 + b.id / 250 %% 4], '{}',
       now() - (b.id %% 200) * interval '1 day', ''
  FROM budgets_budget AS b WHERE b.id %% 50 = 0 AND b.active_from IS NOT NULL
"""

CHECKS_SQL = {
    "transactions that do not sum to zero": """
        SELECT count(*) FROM (SELECT transaction_id FROM budgets_ledgerentry
                               GROUP BY transaction_id HAVING sum(amount_pence) <> 0) AS t""",
    "transactions without two legs": """
        SELECT count(*) FROM budgets_ledgertransaction AS t
         WHERE NOT EXISTS (SELECT 1 FROM budgets_ledgerentry AS e WHERE e.transaction_id = t.id)""",
    "budget accounts whose balance is not the sum of their entries": """
        SELECT count(*) FROM budgets_ledgeraccount AS a
          LEFT JOIN (SELECT account_id, sum(amount_pence) AS total FROM budgets_ledgerentry
                      GROUP BY account_id) AS s ON s.account_id = a.id
         WHERE a.kind = 'budget' AND a.balance_pence <> coalesce(s.total, 0)""",
    "budget accounts below zero": """
        SELECT count(*) FROM budgets_ledgeraccount WHERE kind = 'budget' AND balance_pence < 0""",
    "spends whose amount is not their ledger leg": """
        SELECT count(*) FROM budgets_spend AS s
          JOIN budgets_ledgerentry AS e ON e.transaction_id = s.transaction_id
          JOIN budgets_ledgeraccount AS a ON a.id = e.account_id AND a.kind = 'budget'
         WHERE -e.amount_pence <> s.amount_pence""",
}


def _columns_to_fill(table: str, given: set[str]) -> dict[str, str]:
    """Neutral values for the NOT NULL columns without a database default that a
    generation statement does not set (blank text, false, zero, now, empty JSON)."""
    rows = _all(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL "
        "AND is_identity = 'NO'",
        [table],
    )
    neutral = {
        "character varying": "''",
        "text": "''",
        "boolean": "false",
        "integer": "0",
        "smallint": "0",
        "bigint": "0",
        "timestamp with time zone": "now()",
        "date": "current_date",
        "jsonb": "'{}'",
        "ARRAY": "'{}'",
        "uuid": "gen_random_uuid()",
    }
    return {name: neutral[kind] for name, kind in rows if name not in given and name != "id"}


def _insert_select(table: str, values: dict[str, str], tail: str, params: Any = None) -> int:
    values = {**values, **_columns_to_fill(table, set(values))}
    columns = ", ".join(values)
    expressions = ", ".join(values.values())
    return _sql(f"INSERT INTO {table} ({columns}) SELECT {expressions} {tail}", params)


def _plans_and_market(
    budgets: int, creator: int, icbs: list[int], councils: list[int], provider_orgs: list[int]
) -> dict[str, int]:
    """A support plan for every budget, in every state (most active), with reviews due
    across the year; providers of every kind in a few areas each, with services."""
    made: dict[str, int] = {}
    made["plans"] = _insert_select(
        "plans_supportplan",
        {
            "holder_id": "b.holder_id",
            "budget_id": "b.id",
            "version": "1",
            "state": """CASE WHEN b.state IN ('indicative', 'agreed')
                             THEN (ARRAY['draft', 'submitted', 'changes_requested',
                                         'approved'])
                                  [1 + (hashtext('plan' || b.id) & 2147483647) %% 4]
                             WHEN b.state = 'closed' THEN 'ended' ELSE 'active' END""",
            "created_by_id": "%(creator)s",
            "created_at": "b.period_start - 60 + time '10:00'",
            "updated_at": "now()",
            "review_every_months": "12",
            "submitted_at": "CASE WHEN b.state IN ('indicative', 'agreed') "
            "AND (hashtext('plan' || b.id) & 2147483647) %% 4 = 0 "
            "THEN NULL ELSE b.period_start - 60 + (b.id %% 50)::int + time '10:00' END",
            "approved_at": "CASE WHEN b.state NOT IN ('indicative', 'agreed') "
            "OR (hashtext('plan' || b.id) & 2147483647) %% 4 = 3 "
            "THEN b.period_start - 5 + time '10:00' END",
            "active_from": "CASE WHEN b.state NOT IN ('indicative', 'agreed') "
            "THEN b.period_start + time '00:00' END",
            "ended_at": "CASE WHEN b.state = 'closed' THEN b.ended_on + time '00:00' END",
            "next_review_on": "CASE WHEN b.state IN ('active', 'suspended') "
            "THEN b.period_start + 180 + (b.id %% 120)::int END",
            "first_review_on": "b.period_start + 180",
            "needs_commissioner": "b.id %% 7 = 0",
            "yearly_cost_pence": "0",
        },
        "FROM budgets_budget AS b",
        {"creator": creator},
    )
    from marketplace.models import ProviderKind

    kinds = [choice for choice, _ in ProviderKind.choices]
    providers = max(50, budgets // 200)
    made["providers"] = _insert_select(
        "marketplace_provider",
        {
            "organisation_id": "(%(providers_orgs)s::bigint[])[1 + n %% 20]",
            "name": "'Bench provider ' || n",
            "kind": "(%(kinds)s::text[])[1 + n %% %(kind_count)s]",
            "cqc_number": "'1-' || lpad(n::text, 9, '0')",
            "postcode": "(%(areas)s::text[])[1 + n * 7 %% %(area_count)s] || '1 1AB'",
            "user_led": "n %% 6 = 0",
            "not_for_profit": "n %% 4 = 0",
            "listed": "true",
            "verification": "(ARRAY['verified', 'verified', 'verified', 'pending', "
            "'unverified'])[1 + n %% 5]",
            "verified_by_id": "CASE WHEN n %% 5 < 3 THEN %(creator)s END",
            "verified_at": "CASE WHEN n %% 5 < 3 THEN now() END",
            "created_at": "now()",
            "updated_at": "now()",
        },
        "FROM generate_series(1, %(providers)s) AS n",
        {
            "providers_orgs": provider_orgs,
            "kinds": kinds,
            "kind_count": len(kinds),
            "areas": AREAS,
            "area_count": len(AREAS),
            "providers": providers,
            "creator": creator,
        },
    )
    # Each provider in the market of its ICB and, for one in three, a council too.
    _sql(
        """INSERT INTO marketplace_provider_areas (provider_id, organisation_id)
           SELECT p.id, (%(icbs)s::bigint[])[1 + p.id %% %(icb_count)s]
             FROM marketplace_provider AS p
           UNION ALL
           SELECT p.id, (%(councils)s::bigint[])[1 + p.id %% %(council_count)s]
             FROM marketplace_provider AS p WHERE p.id %% 3 = 0""",
        {
            "icbs": icbs,
            "icb_count": len(icbs),
            "councils": councils,
            "council_count": len(councils),
        },
    )
    categories = [
        row[0]
        for row in _all(
            "SELECT id FROM marketplace_category WHERE organisation_id IS NULL ORDER BY id"
        )
    ]
    made["services"] = (
        _insert_select(
            "marketplace_service",
            {
                "provider_id": "p.id",
                "title": "'Bench service ' || p.id || '-' || k",
                "description": "'Support'",
                "category_id": "(%(categories)s::bigint[])"
                "[1 + (p.id * 3 + k) %% %(category_count)s]",
                "status": "'active'",
                "created_at": "now()",
                "updated_at": "now()",
            },
            "FROM marketplace_provider AS p CROSS JOIN generate_series(1, 2) AS k",
            {"categories": categories, "category_count": len(categories)},
        )
        if categories
        else 0
    )
    return made


def generate(today: datetime.date, budgets: int, entries: int) -> dict[str, Any]:
    """The whole data set, set-based. The loading transaction has the ledger's
    triggers off (``SET LOCAL``: on again when it ends); ``check`` proves the result
    consistent."""
    from django.db import transaction

    from core.reporting.periods import Period
    from users.models import Membership, Organisation, Role, User

    _sql("DROP TABLE IF EXISTS bench_plan, bench_movement, bench_refund, bench_recovery")
    holders = min(MAX_HOLDERS, max(1, budgets * 909 // 1000), budgets)
    if budgets > 2 * holders:
        raise SystemExit(f"At most {2 * MAX_HOLDERS:,} budgets (two per holder).")
    fy_start = Period.year_of(today).start.replace(year=Period.year_of(today).start.year - 1)
    made: dict[str, Any] = {"holders": holders}
    with transaction.atomic():
        _sql("SET LOCAL session_replication_role = replica")
        _sql(
            ORGANISATIONS_SQL,
            {"icbs": ICBS, "councils": COUNCILS, "managers": MANAGERS},
        )
        orgs = {
            kind: [
                row[0]
                for row in _all(
                    "SELECT id FROM users_organisation WHERE kind = %s AND name LIKE 'Bench %%' "
                    "ORDER BY id",
                    [kind],
                )
            ]
            for kind in ("icb", "local_authority", "budget_manager", "provider")
        }
        creator = User.objects.create(email="bench-creator@example.test", name="Bench staff")
        Membership.objects.create(
            user=creator,
            organisation=Organisation.objects.get(pk=orgs["icb"][0]),
            role=Role.CARE_COORDINATOR,
        )
        _sql(
            HOLDERS_SQL,
            {
                "icbs": orgs["icb"],
                "icb_count": ICBS,
                "councils": orgs["local_authority"],
                "council_count": COUNCILS,
                "areas": AREAS,
                "area_count": len(AREAS),
                "today": today,
                "limit": holders,
                # Ten serials in eleven have a valid check digit: enough, not all of them.
                "last_serial": min(999_999, holders * 12 // 10 + 100),
            },
        )
        (first_holder,) = _one("SELECT min(id) FROM budgets_budgetholder")
        _sql(
            BUDGETS_SQL,
            {
                "creator": creator.pk,
                "first_holder": first_holder,
                "holders": holders,
                "budgets": budgets,
                "today": today,
                "fy_start": fy_start,
            },
        )
        made["budgets"] = budgets
        made["contributions"] = _sql(
            CONTRIBUTIONS_SQL, {"managers": orgs["budget_manager"], "today": today}
        )
        for statement in ACCOUNTS_SQL:
            _sql(statement, {"payees": PAYEES})
        (first_payee,) = _one("SELECT min(id) FROM budgets_ledgeraccount WHERE kind = 'payee'")
        _sql(PLAN_SQL, {"today": today, "transactions": entries // 2})
        (base,) = _one("SELECT coalesce(max(id), 0) FROM budgets_ledgertransaction")
        _sql(MOVEMENTS_SQL, {"base": base + 1, "first_payee": first_payee, "payees": PAYEES})
        made["transactions"] = _sql(TRANSACTIONS_SQL, {"creator": creator.pk})
        made["entries"] = _sql(ENTRIES_SQL)
        made["spends"] = _sql(
            SPENDS_SQL,
            {"first_payee": first_payee, "categories": CATEGORIES, "creator": creator.pk},
        )
        (base,) = _one("SELECT max(id) FROM budgets_ledgertransaction")
        for statement in REFUNDS_SQL:
            _sql(statement, {"base": base, "creator": creator.pk})
        (base,) = _one("SELECT max(id) FROM budgets_ledgertransaction")
        for statement in RECOVERIES_SQL:
            _sql(statement, {"base": base, "creator": creator.pk, "today": today})
        _sql(
            "SELECT setval(pg_get_serial_sequence('budgets_ledgertransaction', 'id'), "
            "(SELECT max(id) FROM budgets_ledgertransaction))"
        )
        _sql(BALANCES_SQL)
        made["flags"] = _sql(FLAGS_SQL)
        made.update(
            _plans_and_market(
                budgets, creator.pk, orgs["icb"], orgs["local_authority"], orgs["provider"]
            )
        )
        (made["transactions"],) = _one("SELECT count(*) FROM budgets_ledgertransaction")
        (made["entries"],) = _one("SELECT count(*) FROM budgets_ledgerentry")
        (made["recoveries"],) = _one("SELECT count(*) FROM budgets_surplusrecovery")
        (made["refunds"],) = _one("SELECT count(*) FROM bench_refund")
        made["icbs"] = orgs["icb"]
    return made


def check() -> None:
    """Stop unless the loaded ledger keeps the rules its triggers would have kept."""
    for label, statement in CHECKS_SQL.items():
        (count,) = _one(statement)
        if count:
            raise SystemExit(f"Generated data is not consistent: {count} {label}.")


TABLES = [
    "users_organisation",
    "budgets_budgetholder",
    "budgets_budget",
    "budgets_fundingcontribution",
    "budgets_ledgeraccount",
    "budgets_ledgertransaction",
    "budgets_ledgerentry",
    "budgets_spend",
    "budgets_monitoringflag",
    "budgets_surplusrecovery",
    "plans_supportplan",
    "marketplace_provider",
]


def warm_up() -> None:
    for table in TABLES:
        _sql(f"VACUUM ANALYZE {table}")
        _one(f"SELECT count(*) FROM {table}")


def empty() -> None:
    # TRUNCATE fires no row triggers (the ledger's append-only rules): a throwaway
    # benchmark database. CASCADE empties whatever refers to these tables.
    _sql(
        "TRUNCATE budgets_ledgerentry, budgets_ledgertransaction, budgets_spend, "
        "budgets_ledgeraccount, budgets_fundingcontribution, budgets_budget, "
        "budgets_budgetholder, core_auditevent, users_organisation, users_user, "
        "marketplace_taxonomy "
        "RESTART IDENTITY CASCADE"
    )
    # The seeded rows the cascade took with it: the national service categories and
    # the survey instruments, put back by the code that seeds them.
    import importlib

    from django.apps import apps

    from outcomes.instruments import seed_instruments

    importlib.import_module("marketplace.migrations.0002_national_categories").seed(apps, None)
    seed_instruments()
    _sql("DROP TABLE IF EXISTS bench_plan, bench_movement, bench_refund, bench_recovery")


# --- the hand-written baseline ---------------------------------------------------------
#
# The same aggregates as the snapshot tables, written for this benchmark as fast as
# its author could make them, from the meaning of each column (core/reporting/models.py)
# and the choices core/reporting/snapshots.py documents where the models leave room
# (a budget is in place from greatest(start, active_from) to least(end, ended_on,
# today); money and spend rows carry the contribution's stream, never the blank one;
# money is for budgets that were agreed; a contribution has a money row in a period its
# budget year overlaps or starts the financial year of, or that money moved in). One
# pass over the ledger (entries joined to their budget account and transaction, summed
# per contribution and quarter), one over the spends; a year's flows are the sum of
# its quarters; people per period from the budgets. Temporary tables, analysed.

QUARTER_KEY_SQL = (
    "(extract(year FROM {d} - interval '3 months')::int::text || 'Q' || "
    "((extract(month FROM {d} - interval '3 months')::int - 1) / 3 + 1)::text)"
)
AREA_SQL = "coalesce(substring(upper(h.postcode) from '^[A-Z]{1,2}'), '')"
LOCAL_DAY = "({t} AT TIME ZONE %(tz)s)::date"
CHILD_SQL = "b.date_of_birth > (p.eod - interval '18 years')::date"
# When a plan entered the step it waits at.
PLAN_ENTERED_SQL = (
    "CASE pl.state WHEN 'draft' THEN pl.created_at WHEN 'submitted' THEN pl.submitted_at "
    "WHEN 'changes_requested' THEN pl.updated_at ELSE pl.approved_at END"
)
# Every (route or all) x (area or all); a blank area only within "all areas".
RAW_SETS = "GROUPING SETS ((route, area), (route), (area), ())"
RAW_SETS_OUT = (
    "CASE WHEN GROUPING(route) = 0 THEN route ELSE '' END, "
    "CASE WHEN GROUPING(area) = 0 THEN area ELSE '' END"
)
RAW_SETS_HAVING = "HAVING GROUPING(area) = 1 OR area <> ''"
# Memory for the baseline's hash aggregates (the server's default is 4MB): part of writing
# it as fast as it can go (the refresh sets the same).
RAW_WORK_MEM = os.environ.get("BENCH_RAW_WORK_MEM", "256MB")

RAW_SQL = [
    # The periods the snapshots keep, from core.reporting.periods.periods_kept.
    """CREATE TEMP TABLE raw_periods (key text PRIMARY KEY, p_start date, p_end date,
                                      eod date, fy int)""",
    "INSERT INTO raw_periods VALUES {periods}",
    # Every budget with its holder's dimensions and its contributions' option and
    # funders; in place from ps to pe if it ever became active.
    f"""CREATE TEMP TABLE raw_budget AS
       SELECT b.id AS budget_id, b.holder_id, b.state, b.period_start, b.period_end,
              b.active_from,
              extract(year FROM b.period_start - interval '3 months')::int AS fy,
              greatest(b.period_start, coalesce(b.active_from, b.period_start)) AS ps,
              least(b.period_end, coalesce(b.ended_on, b.period_end), %(today)s::date) AS pe,
              (b.active_from IS NOT NULL OR b.state IN ('active', 'suspended')) AS placed,
              h.organisation_id AS icb_id, h.council_id, h.eligibility_route AS route,
              {AREA_SQL} AS area, h.date_of_birth,
              coalesce(c.option, '') AS option, coalesce(c.integrated, false) AS integrated,
              coalesce(c.streams, '{{}}') AS streams
         FROM budgets_budget AS b
         JOIN budgets_budgetholder AS h ON h.id = b.holder_id
         LEFT JOIN (SELECT budget_id,
                           CASE WHEN min(management_option) = max(management_option)
                                THEN min(management_option) ELSE 'mixed' END AS option,
                           min(funder_id) <> max(funder_id) AS integrated,
                           array_agg(DISTINCT stream::text) AS streams
                      FROM budgets_fundingcontribution GROUP BY budget_id) AS c
           ON c.budget_id = b.id""",
    # People: per period, each holder's budget in place in it with the latest start.
    f"""CREATE TEMP TABLE raw_people AS
       WITH placed AS (SELECT * FROM raw_budget WHERE placed AND ps <= pe),
       firsts AS (SELECT holder_id, min(ps) AS first_ps FROM placed GROUP BY holder_id),
       per AS (
           SELECT p.key, b.holder_id,
                  (array_agg(b.budget_id ORDER BY b.ps DESC, b.budget_id DESC))[1]
                      AS budget_id,
                  bool_or(b.ps <= p.eod AND b.pe >= p.eod) AS at_end
             FROM placed AS b JOIN raw_periods AS p ON b.ps <= p.eod AND b.pe >= p.p_start
            GROUP BY p.key, b.holder_id
       )
       SELECT org.id AS organisation_id, per.key AS period, b.route, b.option, b.area,
              {CHILD_SQL} AS child, s.stream,
              count(*) AS in_period,
              count(*) FILTER (WHERE per.at_end) AS at_end,
              count(*) FILTER (WHERE b.state = 'active') AS active_now,
              count(*) FILTER (WHERE f.first_ps BETWEEN p.p_start AND p.eod) AS new,
              count(*) FILTER (WHERE NOT per.at_end) AS ended,
              count(*) FILTER (WHERE b.integrated) AS integrated
         FROM per
         JOIN raw_periods AS p ON p.key = per.key
         JOIN raw_budget AS b ON b.budget_id = per.budget_id
         JOIN firsts AS f ON f.holder_id = per.holder_id
        CROSS JOIN LATERAL (VALUES (b.icb_id), (b.council_id)) AS org (id)
        CROSS JOIN LATERAL unnest(b.streams || ''::text) AS s (stream)
        WHERE org.id IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5, 6, 7""",
    # Money flows: one pass over the ledger, per contribution and quarter.
    f"""CREATE TEMP TABLE raw_flows AS
       SELECT a.contribution_id, {QUARTER_KEY_SQL.format(d="t.occurred_on")} AS quarter,
              coalesce(sum(e.amount_pence) FILTER (WHERE t.kind = 'allocation'), 0) AS paid_in,
              coalesce(-sum(e.amount_pence) FILTER (WHERE t.kind = 'spend'), 0) AS spent,
              coalesce(sum(e.amount_pence) FILTER (WHERE t.kind = 'refund'), 0) AS refunded,
              coalesce(-sum(e.amount_pence) FILTER (WHERE t.kind = 'recovery'), 0) AS recovered
         FROM budgets_ledgerentry AS e
         JOIN budgets_ledgeraccount AS a ON a.id = e.account_id AND a.kind = 'budget'
         JOIN budgets_ledgertransaction AS t ON t.id = e.transaction_id
        WHERE t.occurred_on BETWEEN %(first_day)s AND %(last_day)s
        GROUP BY 1, 2""",
    f"""CREATE TEMP TABLE raw_money AS
       WITH scope AS (
           SELECT c.id, c.funder_id, c.stream::text AS stream, c.yearly_pence, b.*
             FROM budgets_fundingcontribution AS c
             JOIN raw_budget AS b ON b.budget_id = c.budget_id
            WHERE b.state IN ('agreed', 'active', 'suspended') OR b.active_from IS NOT NULL
       ), cp AS (
           SELECT contribution_id, key, max(in_year) AS in_year, sum(allocated) AS allocated,
                  sum(paid_in) AS paid_in, sum(spent) AS spent, sum(refunded) AS refunded,
                  sum(recovered) AS recovered
             FROM (SELECT s.id AS contribution_id, p.key,
                          (s.period_start <= p.p_end AND s.period_end >= p.p_start)::int
                              AS in_year,
                          CASE WHEN s.fy = p.fy THEN s.yearly_pence ELSE 0 END AS allocated,
                          0 AS paid_in, 0 AS spent, 0 AS refunded, 0 AS recovered
                     FROM scope AS s
                     JOIN raw_periods AS p
                       ON (s.period_start <= p.p_end AND s.period_end >= p.p_start)
                       OR s.fy = p.fy
                   UNION ALL
                   SELECT f.contribution_id, k.key, 0, 0, f.paid_in, f.spent, f.refunded,
                          f.recovered
                     FROM raw_flows AS f
                    CROSS JOIN LATERAL (VALUES (f.quarter), (left(f.quarter, 4))) AS k (key))
                  AS x
            GROUP BY 1, 2
       )
       SELECT org.id AS organisation_id, b.funder_id, cp.key AS period, b.route, b.option,
              b.area, {CHILD_SQL} AS child, b.stream, b.integrated,
              sum(cp.in_year) AS contributions, sum(cp.allocated) AS allocated_pence,
              sum(cp.paid_in) AS paid_in_pence, sum(cp.spent) AS spent_pence,
              sum(cp.refunded) AS refunded_pence, sum(cp.recovered) AS recovered_pence
         FROM cp
         JOIN raw_periods AS p ON p.key = cp.key
         JOIN scope AS b ON b.id = cp.contribution_id
        CROSS JOIN LATERAL (VALUES (b.icb_id), (b.council_id)) AS org (id)
        WHERE org.id IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9""",
    # Spending by category: the funder's own contributions, by the spend's date.
    f"""CREATE TEMP TABLE raw_spend AS
       WITH sq AS (
           SELECT s.contribution_id, {QUARTER_KEY_SQL.format(d="s.spent_on")} AS quarter,
                  s.category, count(*) AS spends, sum(s.amount_pence) AS spent,
                  sum(s.refunded_pence) AS refunded
             FROM budgets_spend AS s
            WHERE s.spent_on BETWEEN %(first_day)s AND %(last_day)s
            GROUP BY 1, 2, 3
       )
       SELECT c.funder_id AS organisation_id, k.key AS period, b.route, b.option, b.area,
              {CHILD_SQL} AS child, c.stream::text AS stream, sq.category,
              sum(sq.spends) AS spends, sum(sq.spent) AS spent_pence,
              sum(sq.refunded) AS refunded_pence
         FROM sq
        CROSS JOIN LATERAL (VALUES (sq.quarter), (left(sq.quarter, 4))) AS k (key)
         JOIN raw_periods AS p ON p.key = k.key
         JOIN budgets_fundingcontribution AS c ON c.id = sq.contribution_id
         JOIN raw_budget AS b ON b.budget_id = c.budget_id
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8""",
    # The smaller figures: each person's on their ICB's and council's rows, by route
    # and area and for all of either.
    """CREATE TEMP TABLE raw_figures (organisation_id bigint, section text, measure text,
                                      period text, route text, area text, key text,
                                      count bigint, value bigint)""",
    # Plans waiting at each step (days since they entered it), reviews due and overdue.
    f"""INSERT INTO raw_figures
       WITH plans AS (
           SELECT org.id AS org, h.eligibility_route AS route, {AREA_SQL} AS area,
                  pl.state, pl.next_review_on,
                  %(today)s::date - {LOCAL_DAY.format(t=PLAN_ENTERED_SQL)} AS days
             FROM plans_supportplan AS pl
             JOIN budgets_budgetholder AS h ON h.id = pl.holder_id
            CROSS JOIN LATERAL (VALUES (h.organisation_id), (h.council_id)) AS org (id)
            WHERE org.id IS NOT NULL
              AND (pl.state IN ('draft', 'submitted', 'changes_requested', 'approved')
                   OR (pl.state = 'active' AND pl.next_review_on <= %(today)s::date + 28))
       ), waiting AS (
           SELECT org, state, {RAW_SETS_OUT.replace(", CASE", " AS route, CASE")} AS area,
                  count(*) AS n,
                  round((percentile_cont(0.5) WITHIN GROUP (ORDER BY days))::numeric)::bigint
                      AS median,
                  max(days) AS longest
             FROM plans WHERE state <> 'active'
            GROUP BY org, state, {RAW_SETS} {RAW_SETS_HAVING}
       )
       SELECT w.org, 'plans', m.measure, '', w.route, w.area, w.state, w.n, m.value
         FROM waiting AS w
        CROSS JOIN LATERAL (VALUES ('waiting', w.median), ('waiting_longest', w.longest))
              AS m (measure, value)
       UNION ALL
       SELECT org, 'plans', CASE WHEN next_review_on < %(today)s THEN 'reviews_overdue'
                                 ELSE 'reviews_due' END, '', {RAW_SETS_OUT}, '', count(*), NULL
         FROM plans WHERE state = 'active'
        GROUP BY org, 3, {RAW_SETS} {RAW_SETS_HAVING}""",
    # Referral to a first approved plan, in the period the approval falls in.
    f"""INSERT INTO raw_figures
       WITH approved AS (
           SELECT holder_id, {LOCAL_DAY.format(t="min(approved_at)")} AS on_day
             FROM plans_supportplan WHERE approved_at IS NOT NULL GROUP BY holder_id
       ), timed AS (
           SELECT org.id AS org, p.key, h.eligibility_route AS route, {AREA_SQL} AS area,
                  a.on_day - {LOCAL_DAY.format(t="h.created_at")} AS days
             FROM approved AS a
             JOIN raw_periods AS p ON a.on_day BETWEEN p.p_start AND p.eod
             JOIN budgets_budgetholder AS h ON h.id = a.holder_id
            CROSS JOIN LATERAL (VALUES (h.organisation_id), (h.council_id)) AS org (id)
            WHERE org.id IS NOT NULL
       ), grouped AS (
           SELECT org, key, {RAW_SETS_OUT.replace(", CASE", " AS route, CASE")} AS area,
                  count(*) AS n,
                  round((percentile_cont(0.5) WITHIN GROUP (ORDER BY days))::numeric)::bigint
                      AS median,
                  round((percentile_cont(0.9) WITHIN GROUP (ORDER BY days))::numeric)::bigint
                      AS p90
             FROM timed GROUP BY org, key, {RAW_SETS} {RAW_SETS_HAVING}
       )
       SELECT g.org, 'plans', m.measure, g.key, g.route, g.area, '', g.n, m.value
         FROM grouped AS g
        CROSS JOIN LATERAL (VALUES ('referral_to_plan', g.median),
                                   ('referral_to_plan_p90', g.p90)) AS m (measure, value)""",
    # Flags not resolved (by kind and state) and recoveries in progress (with amounts).
    f"""INSERT INTO raw_figures
       SELECT org, 'money', measure, '', {RAW_SETS_OUT}, key, count(*),
              CASE WHEN measure = 'recoveries' THEN sum(amount) END
         FROM (SELECT org.id AS org, x.measure, x.key, x.amount, b.route, b.area
                 FROM (SELECT f.budget_id, 'flags' AS measure, f.kind || ':' || f.state AS key,
                              NULL::bigint AS amount
                         FROM budgets_monitoringflag AS f WHERE f.state <> 'resolved'
                       UNION ALL
                       SELECT r.budget_id, 'recoveries', r.state, r.amount_pence
                         FROM budgets_surplusrecovery AS r
                        WHERE r.state IN ('notice_sent', 'reconsideration_requested')) AS x
                 JOIN raw_budget AS b ON b.budget_id = x.budget_id
                CROSS JOIN LATERAL (VALUES (b.icb_id), (b.council_id)) AS org (id)
                WHERE org.id IS NOT NULL) AS y
        GROUP BY org, measure, key, {RAW_SETS} {RAW_SETS_HAVING}""",
    # The market: listed providers by kind, user-led and micro-enterprises, the
    # verification queue (longest wait), for each organisation whose market they are in.
    f"""INSERT INTO raw_figures
       SELECT org, 'market', measure, '', '',
              CASE WHEN GROUPING(area) = 0 THEN area ELSE '' END, key, count(*),
              CASE WHEN measure = 'verification_queue' THEN max(days) END
         FROM (SELECT pa.organisation_id AS org,
                      {AREA_SQL.replace("h.", "pr.")} AS area, m.measure, m.key,
                      %(today)s::date - {LOCAL_DAY.format(t="pr.updated_at")} AS days
                 FROM marketplace_provider AS pr
                 JOIN marketplace_provider_areas AS pa ON pa.provider_id = pr.id
                CROSS JOIN LATERAL (VALUES
                    ('providers', pr.kind::text, pr.listed),
                    ('providers_user_led', '', pr.listed AND pr.user_led),
                    ('providers_micro', '', pr.listed AND pr.kind = 'micro_enterprise'),
                    ('verification_queue', '', pr.verification = 'pending'))
                      AS m (measure, key, counted)
                WHERE m.counted) AS x
        GROUP BY org, measure, key, GROUPING SETS ((area), ())
       HAVING GROUPING(area) = 1 OR area <> ''""",
    # Active services of listed providers by category, and a zero for every category an
    # organisation can use that has none: as a whole, and in each of its areas with a
    # listed provider.
    f"""INSERT INTO raw_figures
       WITH listed AS (
           SELECT pa.organisation_id AS org, {AREA_SQL.replace("h.", "pr.")} AS area, pr.id
             FROM marketplace_provider AS pr
             JOIN marketplace_provider_areas AS pa ON pa.provider_id = pr.id
            WHERE pr.listed
       ), counted AS (
           SELECT l.org, CASE WHEN GROUPING(l.area) = 0 THEN l.area ELSE '' END AS area,
                  c.code, count(*) AS n
             FROM listed AS l
             JOIN marketplace_service AS s ON s.provider_id = l.id AND s.status = 'active'
             JOIN marketplace_category AS c ON c.id = s.category_id
            GROUP BY l.org, c.code, GROUPING SETS ((l.area), ())
           HAVING GROUPING(l.area) = 1 OR l.area <> ''
       ), places AS (
           SELECT id AS org, '' AS area FROM users_organisation
            WHERE kind IN ('icb', 'local_authority')
           UNION
           SELECT org, area FROM listed WHERE area <> ''
       ), frame AS (
           SELECT pl.org, pl.area, c.code FROM places AS pl
             JOIN marketplace_category AS c
               ON c.organisation_id IS NULL OR c.organisation_id = pl.org
       )
       SELECT coalesce(n.org, f.org), 'market', 'services', '', '', coalesce(n.area, f.area),
              coalesce(n.code, f.code), coalesce(n.n, 0), NULL
         FROM frame AS f
         FULL JOIN counted AS n ON n.org = f.org AND n.area = f.area AND n.code = f.code""",
]

RAW_TABLES = "raw_periods, raw_budget, raw_people, raw_flows, raw_money, raw_spend, raw_figures"

# Snapshot table, baseline table, measures compared.
COMPARED = [
    (
        "core_peoplesnapshot",
        "raw_people",
        ["in_period", "at_end", "active_now", "new", "ended", "integrated"],
    ),
    (
        "core_moneysnapshot",
        "raw_money",
        [
            "contributions",
            "allocated_pence",
            "paid_in_pence",
            "spent_pence",
            "refunded_pence",
            "recovered_pence",
        ],
    ),
    ("core_spendsnapshot", "raw_spend", ["spends", "spent_pence", "refunded_pence"]),
]


def raw_aggregates(today: datetime.date) -> float:
    """Seconds for the hand-written aggregates (left in temporary tables)."""
    from django.conf import settings
    from django.db import transaction

    from core.reporting.periods import periods_kept

    periods = periods_kept(today)
    values = ", ".join(
        f"('{p.key}', date '{p.start}', date '{p.end}', date '{p.ends_by(today)}', "
        f"{p.financial_year})"
        for p in periods
    )
    params = {
        "today": today,
        "first_day": min(p.start for p in periods),
        "last_day": max(p.end for p in periods),
        "tz": settings.TIME_ZONE,
    }
    _sql(f"DROP TABLE IF EXISTS {RAW_TABLES}")
    start = time.perf_counter()
    with transaction.atomic():
        _sql(f"SET LOCAL work_mem = '{RAW_WORK_MEM}'")
        for statement in RAW_SQL:
            began = time.perf_counter()
            _sql(statement.replace("{periods}", values), params)
            table = statement.split()[3]
            if statement.startswith("CREATE TEMP TABLE") and table != "raw_periods":
                _sql(f"ANALYZE {table}")  # the next statement's plan needs its size
            print(f"      {time.perf_counter() - began:8.2f} s  {' '.join(statement.split()[:4])}")
    return time.perf_counter() - start


def compare_totals() -> list[str]:
    """Each measure's total in the snapshot table and the baseline (the cubes by
    period, the figures by section and measure); a line for every difference."""
    differences = []
    for table, raw, measures in COMPARED:
        sums = ", ".join(f"coalesce(sum({m}), 0)" for m in measures)
        by_period = f"SELECT period, {sums} FROM {{t}} GROUP BY period ORDER BY period"
        snapshot = {row[0]: row[1:] for row in _all(by_period.format(t=table))}
        baseline = {row[0]: row[1:] for row in _all(by_period.format(t=raw))}
        for period in sorted(set(snapshot) | set(baseline)):
            theirs = snapshot.get(period, (0,) * len(measures))
            ours = baseline.get(period, (0,) * len(measures))
            for measure, a, b in zip(measures, theirs, ours, strict=True):
                if a != b:
                    differences.append(
                        f"{table}.{measure} {period}: snapshot {a:,}, baseline {b:,}"
                    )
    figures = (
        "SELECT section, measure, count(*), sum(count), coalesce(sum(value), 0) FROM {t} "
        "GROUP BY section, measure ORDER BY section, measure"
    )
    snapshot = {row[:2]: row[2:] for row in _all(figures.format(t="core_figuresnapshot"))}
    baseline = {row[:2]: row[2:] for row in _all(figures.format(t="raw_figures"))}
    for key in sorted(set(snapshot) | set(baseline)):
        if snapshot.get(key) != baseline.get(key):
            differences.append(
                f"core_figuresnapshot {'.'.join(key)} (rows, count, value): snapshot "
                f"{snapshot.get(key)}, baseline {baseline.get(key)}"
            )
    return differences


# --- the snapshot refresh and the page ---------------------------------------------------


def refresh(today: datetime.date) -> tuple[float, Any]:
    from core.reporting.snapshots import snapshot_refresh

    start = time.perf_counter()
    run = snapshot_refresh(trigger="on_demand", today=today)
    seconds = time.perf_counter() - start
    if getattr(run, "status", "done") != "done":
        raise SystemExit(f"The snapshot refresh failed: {getattr(run, 'error', run)}")
    return seconds, run


def _commissioner(icb_id: int) -> Any:
    """A commissioner of the ICB (and of a council sharing its people), with two-factor
    authentication set up as the tests do (a TOTP authenticator)."""
    from allauth.mfa.totp.internal.auth import TOTP

    from users.models import Membership, Organisation, Role, User

    email = f"bench-commissioner-{icb_id}@example.test"
    existing = User.objects.filter(email=email).first()
    if existing is not None:  # made by an earlier measurement of the same data
        return existing
    user = User.objects.create(email=email, name="Bench")
    Membership.objects.create(
        user=user, organisation=Organisation.objects.get(pk=icb_id), role=Role.COMMISSIONER
    )
    row = _one(
        "SELECT council_id FROM budgets_budgetholder WHERE organisation_id = %s "
        "AND council_id IS NOT NULL GROUP BY council_id ORDER BY count(*) DESC LIMIT 1",
        [icb_id],
    )
    if row is not None:
        Membership.objects.create(
            user=user, organisation=Organisation.objects.get(pk=row[0]), role=Role.COMMISSIONER
        )
    TOTP.activate(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    return user


def _queries(icb_id: int, council_id: int | None, today: datetime.date) -> list[dict[str, str]]:
    """The mix of filters the page is asked for: none, each filter alone, several
    together, other periods, and the combined view of the user's organisations."""
    from core.reporting.periods import periods_kept

    periods = [p.key for p in periods_kept(today)]
    one = {"organisation": str(icb_id)}
    mix: list[dict[str, str]] = [one, {"organisation": "all"}]  # all: the combined view
    if council_id is not None:
        mix.append({"organisation": str(council_id)})
    mix += [{**one, "period": key} for key in periods]
    mix += [
        {**one, "stream": "nhs_chc"},
        {**one, "stream": "council_social_care"},
        {**one, "route": "chc"},
        {**one, "route": "mental_health"},
        {**one, "option": "direct_payment"},
        {**one, "option": "mixed"},
        {**one, "area": "LS"},
        {**one, "area": "M"},
        {**one, "period": periods[1], "route": "chc", "option": "notional"},
        {**one, "period": periods[0], "stream": "nhs_chc", "area": "LS", "route": "chc"},
        {"period": periods[1], "route": "s117_aftercare"},
    ]
    return mix


def page_timings(icb_id: int, today: datetime.date, requests: int) -> dict[str, Any]:
    """Server time of the dashboard page, in-process (middleware, view, queries and
    template), after a warm-up pass over every filter mix; queries per request."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    url = reverse("reporting:dashboard")
    user = _commissioner(icb_id)
    council = _one(
        "SELECT organisation_id FROM users_membership WHERE user_id = %s AND organisation_id <> %s",
        [user.pk, icb_id],
    )
    mix = _queries(icb_id, council[0] if council else None, today)
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    for params in mix:  # warm-up: every variant once, untimed
        response = client.get(url, params)
        if response.status_code != 200:
            raise SystemExit(f"The dashboard answered {response.status_code} for {params}")
    times: list[float] = []
    sql_times: list[float] = []
    counts: dict[str, set[int]] = {}
    for i in range(requests):
        params = mix[i % len(mix)]
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"The dashboard answered {response.status_code} for {params}")
        kind = "combined" if params.get("organisation") == "all" else "one organisation"
        counts.setdefault(kind, set()).add(len(captured))
        sql_times.append(sum(float(query["time"]) for query in captured.captured_queries) * 1000)
    times.sort()
    sql_times.sort()
    return {
        "requests": requests,
        "variants": len(mix),
        "p50": statistics.median(times),
        "p95": times[max(0, int(len(times) * 0.95 + 0.5) - 1)],
        "max": times[-1],
        "sql_p50": statistics.median(sql_times),
        "sql_p95": sql_times[max(0, int(len(sql_times) * 0.95 + 0.5) - 1)],
        "load": os.getloadavg()[0],
        "queries": counts,
    }


PAGE_HEADER = (
    f"{'':<18}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}{'SQL p50':>9}{'SQL p95':>9}{'load':>6}"
    "  queries per request"
)


def _page_line(label: str, page: dict[str, Any]) -> str:
    """Server time (and the part of it spent in SQL), the machine's load average then,
    and the queries per request."""
    return (
        f"{'  ' + label:<18}{page['p50']:>8.1f}{page['p95']:>8.1f}{page['max']:>8.1f}"
        f"{page['sql_p50']:>9.1f}{page['sql_p95']:>9.1f}{page['load']:>6.1f}  "
        f"{_counts_text(page['queries'])}"
    )


def page_only() -> None:
    """`dashboard_bench.py page`: the page again, on the data and snapshot the last run
    left, without generating anything (for measuring on a quieter machine)."""
    name = _configure_database()
    from django.utils import timezone

    today = timezone.localdate()
    (budgets,) = _one("SELECT count(*) FROM budgets_budget")
    (entries,) = _one("SELECT count(*) FROM budgets_ledgerentry")
    if not _one("SELECT count(*) FROM core_peoplesnapshot")[0]:
        raise SystemExit(f"No snapshot in {name!r}: run the whole benchmark first.")
    page = page_timings(_largest_icb(), today, REQUESTS)
    lines = [
        f"Dashboard page only, {datetime.datetime.now(tz=datetime.UTC):%Y-%m-%d %H:%M} UTC, on "
        f"the last run's data ({budgets:,} budgets, {entries:,} entries), warm, "
        f"{page['requests']} requests over {page['variants']} filter mixes",
        *([f"  {os.environ['BENCH_NOTE']}"] if os.environ.get("BENCH_NOTE") else []),
        PAGE_HEADER,
        _page_line(f"{budgets:,} budgets", page),
        "",
    ]
    print("\n".join(lines))
    with RESULTS.open("a") as results:
        results.write("\n".join(lines) + "\n")


# The holders' geography, as HOLDERS_SQL now draws it, for data generated before it
# did (serial from the holder's name; the ICB's place in the ICB list).
REGEOGRAPHY_SQL = """
UPDATE budgets_budgetholder AS h
   SET postcode = (%(areas)s::text[])[1 + CASE WHEN x.ha < 97
                                          THEN (x.icb_index * 3 + x.ha %% 4) %% %(area_count)s
                                          ELSE (hashtext('area' || x.serial) & 2147483647)
                                               %% %(area_count)s END]
                  || (1 + x.serial %% 9)::text || ' ' || (x.serial %% 10)::text || 'AB'
  FROM (SELECT hh.id, s.serial, (hashtext('area' || s.serial) & 2147483647) %% 100 AS ha,
               i.ord - 1 AS icb_index
          FROM budgets_budgetholder AS hh
          CROSS JOIN LATERAL (SELECT substring(hh.name from 14)::int AS serial) AS s
          JOIN (SELECT id, row_number() OVER (ORDER BY id) AS ord FROM users_organisation
                 WHERE kind = 'icb' AND name LIKE 'Bench %%') AS i
            ON i.id = hh.organisation_id
         WHERE hh.name LIKE 'Bench holder %%') AS x
 WHERE h.id = x.id
"""


def again() -> None:
    """`dashboard_bench.py again`: on the data the last run generated (no new data),
    bring the holders' geography up to HOLDERS_SQL's, then measure again what the
    whole benchmark measures after generating: the refresh against the hand-written
    SQL (alternated, best of BENCH_REPEAT, totals compared) and the page."""
    started = time.perf_counter()
    name = _configure_database()
    from django.utils import timezone

    today = timezone.localdate()
    (budgets,) = _one("SELECT count(*) FROM budgets_budget")
    (entries,) = _one("SELECT count(*) FROM budgets_ledgerentry")
    if not budgets:
        raise SystemExit(f"No data in {name!r}: run the whole benchmark first.")
    timer = Timer()
    timer.time(
        "holders' geography as the generator now draws it",
        lambda: _sql(REGEOGRAPHY_SQL, {"areas": AREAS, "area_count": len(AREAS)}),
    )
    check()
    warm_up()
    raw_runs: list[float] = []
    refresh_runs: list[float] = []
    for i in range(REPEAT):
        raw_runs.append(
            timer.time(
                f"hand-written SQL for the same aggregates ({i + 1})", lambda: raw_aggregates(today)
            )[1]
        )
        refresh_runs.append(timer.time(f"snapshot_refresh ({i + 1})", lambda: refresh(today))[1][0])
    differences = compare_totals()
    (snapshot_rows,) = _one(
        "SELECT (SELECT count(*) FROM core_peoplesnapshot) + (SELECT count(*) FROM "
        "core_moneysnapshot) + (SELECT count(*) FROM core_spendsnapshot) + "
        "(SELECT count(*) FROM core_figuresnapshot)"
    )
    page = timer.time(
        f"dashboard page, {REQUESTS} requests",
        lambda: page_timings(_largest_icb(), today, REQUESTS),
    )[1]
    (icb_people,) = _one(
        "SELECT count(*) FROM budgets_budgetholder WHERE organisation_id = %s", [_largest_icb()]
    )
    raw_best, refresh_best = min(raw_runs), min(refresh_runs)
    most = max(max(counts) for counts in page["queries"].values())
    lines = [
        f"Dashboard benchmark again, {datetime.datetime.now(tz=datetime.UTC):%Y-%m-%d %H:%M} "
        f"UTC, on the last run's data ({budgets:,} budgets, {entries:,} entries) with the "
        "holders' geography redrawn as the generator now draws it (each ICB's people in "
        "four neighbouring postcode areas, 3% anywhere); today "
        f"{today}",
        f"{'Snapshot refresh (warm: best of ' + str(REPEAT) + ', alternated)':<62}{'seconds':>10}",
        f"{'  hand-written SQL, same aggregates':<62}{raw_best:>10.2f}",
        f"{'  snapshot_refresh':<62}{refresh_best:>10.2f}",
        f"{'  refresh / hand-written (target <= 2.0)':<62}{refresh_best / raw_best:>10.2f}",
        f"  snapshot rows: {snapshot_rows:,}; totals of every measure "
        + ("the same in both" if not differences else f"DIFFER ({len(differences)}):"),
        *(f"    {line}" for line in differences),
        f"Dashboard page, commissioner of the largest ICB ({icb_people:,} people) and a "
        f"council; {page['requests']} requests over {page['variants']} filter mixes, warm",
        PAGE_HEADER,
        _page_line(f"{budgets:,} budgets", page),
        f"  p95 target < 100 ms: {'met' if page['p95'] < 100 else 'NOT met'}; at most "
        f"{most} queries per request",
        f"Whole run: {time.perf_counter() - started:.0f} s",
        "",
    ]
    report = "\n".join(lines)
    print()
    print(report)
    with RESULTS.open("a") as results:
        results.write(report + "\n")


def _counts_text(counts: dict[str, set[int]]) -> str:
    return ", ".join(
        f"{kind} {min(c)}" + (f"-{max(c)}" if max(c) != min(c) else "")
        for kind, c in sorted(counts.items())
    )


def _largest_icb() -> int:
    return int(
        _one(
            "SELECT organisation_id FROM budgets_budgetholder GROUP BY organisation_id "
            "ORDER BY count(*) DESC, organisation_id LIMIT 1"
        )[0]
    )


def main() -> None:
    started = time.perf_counter()
    name = _configure_database()
    from django.db import connection
    from django.utils import timezone

    timer = Timer()
    today = timezone.localdate()
    print(
        f"Benchmark database {name!r}: {BUDGETS:,} budgets, {ENTRIES:,} ledger entries "
        f"(and first {SMALL_BUDGETS:,} budgets), today {today}"
    )

    # The small data set first: the page's query count there, to compare.
    timer.time("emptying the benchmark database", empty)
    small = timer.time(
        f"generating {SMALL_BUDGETS:,} budgets (small data set)",
        lambda: generate(today, SMALL_BUDGETS, SMALL_BUDGETS * ENTRIES // max(1, BUDGETS)),
    )[1]
    check()
    warm_up()
    timer.time("snapshot refresh (small)", lambda: refresh(today))
    small_page = timer.time(
        "dashboard page (small)",
        lambda: page_timings(_largest_icb(), today, min(REQUESTS, 100)),
    )[1]

    timer.time("emptying the benchmark database", empty)
    gen_seconds, made = timer.time(
        f"generating {BUDGETS:,} budgets and {ENTRIES:,} entries with set-based SQL",
        lambda: generate(today, BUDGETS, ENTRIES),
    )
    check_seconds, _ = timer.time("checking the ledger is consistent", check)
    warm_seconds, _ = timer.time("warming up (VACUUM ANALYZE, reading each table)", warm_up)
    raw_runs: list[float] = []
    refresh_runs: list[float] = []
    for i in range(REPEAT):  # alternated, so both see the same cache
        raw_runs.append(
            timer.time(
                f"hand-written SQL for the same aggregates ({i + 1})", lambda: raw_aggregates(today)
            )[1]
        )
        refresh_runs.append(timer.time(f"snapshot_refresh ({i + 1})", lambda: refresh(today))[1][0])
    differences = compare_totals()
    for line in differences:
        print("    DIFFERENT:", line)
    (snapshot_rows,) = _one(
        "SELECT (SELECT count(*) FROM core_peoplesnapshot) + (SELECT count(*) FROM "
        "core_moneysnapshot) + (SELECT count(*) FROM core_spendsnapshot) + "
        "(SELECT count(*) FROM core_figuresnapshot)"
    )
    page = timer.time(
        f"dashboard page, {REQUESTS} requests",
        lambda: page_timings(_largest_icb(), today, REQUESTS),
    )[1]
    (icb_people,) = _one(
        "SELECT count(*) FROM budgets_budgetholder WHERE organisation_id = %s", [_largest_icb()]
    )

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (server_version,) = cursor.fetchone()
    raw_best, refresh_best = min(raw_runs), min(refresh_runs)
    raw_list = ", ".join(f"{s:.1f}" for s in raw_runs)
    refresh_list = ", ".join(f"{s:.1f}" for s in refresh_runs)
    # Fixed whatever the size: the most queries any request makes is the same at both
    # sizes (a filter on an area with no provider makes one fewer: no categories to name).
    most = max(max(counts) for counts in page["queries"].values())
    most_small = max(max(counts) for counts in small_page["queries"].values())
    lines = [
        f"Dashboard benchmark, {datetime.datetime.now(tz=datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs (shared), Python "
        f"{platform.python_version()}, PostgreSQL {server_version}",
        f"Data: {made['budgets']:,} budgets ({made['holders']:,} holders), "
        f"{made['contributions']:,} contributions, {made['transactions']:,} ledger "
        f"transactions, {made['entries']:,} entries, {made['spends']:,} spends "
        f"({made['refunds']:,} refunded), {made['recoveries']:,} recoveries, "
        f"{made['flags']:,} flags, {made['plans']:,} plans, {made['providers']:,} providers; "
        f"today {today}",
        "",
        f"{'Snapshot refresh (warm: best of ' + str(REPEAT) + ', alternated)':<62}{'seconds':>10}",
        f"{'  generate the data (set-based SQL, triggers off)':<62}{gen_seconds:>10.2f}",
        f"{'  check it (legs sum to zero, balances = entries)':<62}{check_seconds:>10.2f}",
        f"{'  warm up (VACUUM ANALYZE)':<62}{warm_seconds:>10.2f}",
        f"{'  hand-written SQL, same aggregates (runs: ' + raw_list + ')':<62}{raw_best:>10.2f}",
        f"{'  snapshot_refresh (runs: ' + refresh_list + ')':<62}{refresh_best:>10.2f}",
        f"{'  refresh / hand-written (target <= 2.0)':<62}{refresh_best / raw_best:>10.2f}",
        f"  snapshot rows: {snapshot_rows:,}; totals of every measure "
        + ("the same in both" if not differences else f"DIFFER ({len(differences)}):"),
        *(f"    {line}" for line in differences),
        "",
        f"Dashboard page, in-process (Django test client), warm, commissioner of the largest "
        f"ICB ({icb_people:,} people) and a council; {page['requests']} requests over "
        f"{page['variants']} filter mixes",
        PAGE_HEADER,
        _page_line(f"{made['budgets']:,} budgets", page),
        _page_line(f"{small['budgets']:,} budgets", small_page),
        f"  p95 target < 100 ms: {'met' if page['p95'] < 100 else 'NOT met'}; at most "
        f"{most} queries per request at {made['budgets']:,} budgets, {most_small} at "
        f"{small['budgets']:,}: {'the same' if most == most_small else 'NOT the same'}",
        "",
        f"Whole benchmark: {time.perf_counter() - started:.0f} s",
        "",
    ]
    report = "\n".join(lines)
    print()
    print(report)
    with RESULTS.open("a") as results:
        results.write(report + "\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["page"]:
        page_only()
    elif sys.argv[1:] == ["again"]:
        again()
    else:
        main()
