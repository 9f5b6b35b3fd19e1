"""The refresh of the dashboard snapshots: every snapshot table rebuilt at once.

Approach
--------
``snapshot_refresh`` records a ``SnapshotRun`` (running), then in ONE transaction
rebuilds ``PeopleSnapshot``, ``MoneySnapshot``, ``SpendSnapshot`` and
``FigureSnapshot`` with set-based SQL (``INSERT ... SELECT``), never a Python loop over
budgets: at national scale (a million budgets, twenty million ledger entries) a loop
would take hours. Each table's new rows are computed into a temporary table, then
merged: the rows that are no longer right are deleted and the missing ones inserted,
so the table ends up holding exactly the new rows while a row that did not change
(last year's figures, mostly) is not written again. Writing a row into the real table
costs several times computing it (two indexes, and a foreign key check per
organisation column at commit), so a nightly refresh writes only what moved. ``DELETE``
(never ``TRUNCATE``, which would block readers) keeps the old rows visible to the
dashboard until the new ones commit; at the top level the transaction is REPEATABLE
READ, so the four tables describe one moment. The run is then marked done with the
number of rows the tables hold, or, if anything fails, rolled back and marked failed
with the error (written after the rollback, so the previous snapshot stays as it was).

Shared work is done once into temporary tables (analysed, so the planner knows their
size): the kept periods; each budget's in-place dates, management option and funders;
the ledger, aggregated in ONE pass per contribution account and calendar quarter (a
financial quarter is a calendar quarter; a year's flows are the sum of its quarters,
as money adds up, unlike people); spends likewise per contribution, quarter and
category. Each cube is then one ``INSERT ... SELECT`` over those.

Two refreshes never run at once: a Postgres advisory lock (``core.locks.sweep_lock``)
is held for the whole refresh. A second caller does not wait: it returns the run in
progress (a refresh is idempotent, so a second one at the same time adds nothing).
A run still marked running when the lock is free was interrupted (its worker died and
the lock went with its connection): it is marked failed.

Decisions where the models' docstrings leave room
--------------------------------------------------
- Dates: ``today`` (default the local date) ends the current period: a budget is in
  place on day d if it ever became active (``active_from`` set, or state active or
  suspended) and greatest(period_start, active_from) <= d <= least(period_end,
  ended_on, today). A budget with no active_from but active/suspended counts from its
  period_start.
- Attribution: a person's budget for a period is the one in place in it with the
  latest in-place start (ties: the newest budget). ``at_end`` counts a person with ANY
  budget in place on the period's last day (or today); ``ended`` is the rest of
  ``in_period``, so in_period = at_end + ended. ``new`` compares the person's first
  in-place day over all their budgets ever. ``active_now``: the attributed budget's
  state is active today. People rows go to the holder's ICB and, where the holder has
  one, their council (whatever funds the budget).
- ``option``: the management option all the budget's contributions share, else
  "mixed"; a budget with no contribution has option "" and is not integrated.
  ``integrated``: contributions from more than one funder organisation.
- ``child``: born after the day 18 years before the period's last day (or today).
- Money: contributions of budgets that were agreed (state agreed, active, suspended,
  or closed after being active; an indicative budget, or one closed before it was
  ever active, has no money). A contribution has a row in a period if its budget year
  overlaps the period, or its budget year starts in the period's financial year, or
  money moved on its account in the period. ``contributions`` counts those whose
  budget year overlaps the period. Flows are the entries on the contribution's budget
  account, dated (``occurred_on``) in the whole period (not cut at today; entries are
  not posted ahead of their day): paid in = payments in; spent = spends (before
  refunds); refunded = refunds; recovered = recoveries. A correction counts as what
  it reverses: a corrected payment in reduces paid in (by the amount reversed), a
  corrected spend counts as refunded (as the spend's own ``refunded_pence`` records
  it), so spent stays "before refunds" in both tables. Money and spend rows always
  carry the contribution's stream (never the blank stream): each movement is on one
  contribution, so the rows add up without counting anything twice.
- Spend: ``budgets_spend`` rows dated (``spent_on``) in the period, on the rows of
  the contribution's funder; ``refunded_pence`` is what has been refunded of those
  spends so far (by whatever date), ``spends`` their number.
- Figures: "whole days" are the difference of local (Europe/London) dates; a median
  or 90th percentile (``percentile_cont``) is rounded half up to whole days. Plan
  figures and flags and recoveries go to the holder's ICB and council, broken down
  by the holder's route and area. ``reviews_due``: active plans with next_review_on
  from today to today + 28 days (both included). Referral to plan: holder.created_at
  (local date) to the first approved_at (local date) of any of their plans, counted
  in the period (up to today) that the first approval falls in.
- Market: a provider counts for each organisation in its ``areas``, in the postcode
  area of its postcode (a provider without a postcode counts only in the all-areas
  rows); ``providers``, ``providers_user_led`` and ``providers_micro`` count listed
  providers; ``verification_queue`` counts providers waiting for verification, listed
  or not, with the longest wait in days since the listing last changed. ``services``:
  active services of listed providers by category code, with a zero row for every
  category the organisation can use (the national ones and its own) that has none:
  on the all-areas row of every ICB and council, and on each area row where the
  organisation has a listed provider.
"""

# ruff: noqa: S608 - the SQL here is assembled from this module's constants, never input.
from __future__ import annotations

import datetime
import logging
import time
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from core.locks import sweep_lock
from core.reporting.models import (
    MIXED,
    FigureSnapshot,
    MoneySnapshot,
    PeopleSnapshot,
    SnapshotRun,
    SpendSnapshot,
)
from core.reporting.periods import POSTCODE_AREA_SQL, periods_kept

logger = logging.getLogger(__name__)

LOCK_NAME = "reporting_snapshot_refresh"
REVIEW_DUE_DAYS = 28
WORK_MEM = "256MB"

HOLDER_AREA = POSTCODE_AREA_SQL % "h.postcode"
PROVIDER_AREA = POSTCODE_AREA_SQL % "pr.postcode"

# Money states: budgets that were agreed. See the module docstring.
MONEY_SCOPE = "(b.state IN ('agreed', 'active', 'suspended') OR b.active_from IS NOT NULL)"

SETUP_SQL = [
    "DROP TABLE IF EXISTS snap_period, snap_budget, snap_stream, snap_contrib, snap_flow",
    """
    CREATE TEMP TABLE snap_period AS
    SELECT * FROM unnest(
        %(keys)s::text[], %(starts)s::date[], %(ends)s::date[], %(ends_by)s::date[],
        %(fy_starts)s::date[], %(fy_ends)s::date[]
    ) AS p(key, start_on, end_on, ends_by, fy_start, fy_end)
    """,
    # Each budget's in-place dates, option and whether more than one organisation
    # funds it. min = max of the options means there is one option (hashable, unlike
    # count(DISTINCT ...)).
    f"""
    CREATE TEMP TABLE snap_budget AS
    SELECT b.id, b.holder_id, b.state, b.period_start, b.period_end, b.active_from,
           h.organisation_id AS icb_id, h.council_id, h.eligibility_route AS route,
           {HOLDER_AREA} AS area, h.date_of_birth,
           greatest(b.period_start, coalesce(b.active_from, b.period_start)) AS s,
           least(b.period_end, coalesce(b.ended_on, b.period_end), %(today)s::date) AS e,
           (b.active_from IS NOT NULL OR b.state IN ('active', 'suspended')) AS ever_active,
           CASE WHEN c.min_option IS NULL THEN ''
                WHEN c.min_option = c.max_option THEN c.min_option
                ELSE '{MIXED}' END AS option,
           coalesce(c.min_funder <> c.max_funder, false) AS integrated
    FROM budgets_budget b
    JOIN budgets_budgetholder h ON h.id = b.holder_id
    LEFT JOIN (
        SELECT budget_id,
               min(management_option) AS min_option, max(management_option) AS max_option,
               min(funder_id) AS min_funder, max(funder_id) AS max_funder
        FROM budgets_fundingcontribution GROUP BY budget_id
    ) c ON c.budget_id = b.id
    """,
    """
    CREATE TEMP TABLE snap_stream AS
    SELECT DISTINCT budget_id, stream FROM budgets_fundingcontribution
    UNION ALL
    SELECT id, '' FROM snap_budget
    """,
    f"""
    CREATE TEMP TABLE snap_contrib AS
    SELECT c.id, c.budget_id, c.funder_id, c.stream, c.yearly_pence,
           b.period_start, b.period_end, b.option, b.integrated, b.holder_id,
           b.icb_id, b.council_id, b.route, b.area, b.date_of_birth
    FROM budgets_fundingcontribution c JOIN snap_budget b ON b.id = c.budget_id
    WHERE {MONEY_SCOPE}
    """,
    # The ledger, in one pass: budget-account entries by contribution, calendar
    # quarter and kind. Corrections take the kind of what they reverse (looked up for
    # corrections only, through their partial unique index).
    """
    CREATE TEMP TABLE snap_flow AS
    WITH corrected AS MATERIALIZED (
        SELECT c.id, o.kind AS reverses_kind
        FROM budgets_ledgertransaction c
        JOIN budgets_ledgertransaction o ON o.id = c.reverses_id
        WHERE c.kind = 'correction' AND c.occurred_on BETWEEN %(first)s AND %(last)s
    )
    SELECT a.contribution_id,
           date_trunc('quarter', t.occurred_on)::date AS q,
           coalesce(sum(e.amount_pence) FILTER (
               WHERE t.kind = 'allocation' OR k.reverses_kind = 'allocation'), 0) AS paid_in,
           coalesce(-sum(e.amount_pence) FILTER (WHERE t.kind = 'spend'), 0) AS spent,
           coalesce(sum(e.amount_pence) FILTER (
               WHERE t.kind = 'refund' OR k.reverses_kind = 'spend'), 0) AS refunded,
           coalesce(-sum(e.amount_pence) FILTER (WHERE t.kind = 'recovery'), 0) AS recovered
    FROM budgets_ledgerentry e
    JOIN budgets_ledgeraccount a ON a.id = e.account_id AND a.kind = 'budget'
    JOIN budgets_ledgertransaction t ON t.id = e.transaction_id
    LEFT JOIN corrected k ON k.id = t.id
    WHERE t.occurred_on BETWEEN %(first)s AND %(last)s
    GROUP BY 1, 2
    """,
    "ANALYZE snap_period",
    "ANALYZE snap_budget",
    "ANALYZE snap_stream",
    "ANALYZE snap_contrib",
    "ANALYZE snap_flow",
]

# The holder's organisations: the ICB and, if any, the council.
HOLDER_ORGS = "CROSS JOIN LATERAL (VALUES (h.organisation_id), (h.council_id)) AS o(org)"
# The same, from snap_budget or snap_contrib (alias b or c), which carry the holder's.
BUDGET_ORGS = "CROSS JOIN LATERAL (VALUES ({t}.icb_id), ({t}.council_id)) AS o(org)"
CHILD = "({t}.date_of_birth > (p.ends_by - interval '18 years')::date)"

PEOPLE_SQL = f"""
INSERT INTO {PeopleSnapshot._meta.db_table}
    (organisation_id, period, route, option, area, child, stream,
     in_period, at_end, active_now, new, ended, integrated)
WITH placed AS (
    SELECT b.holder_id, p.key, b.id AS budget_id, b.s,
           (b.s <= p.ends_by AND p.ends_by <= b.e) AS on_end
    FROM snap_budget b
    JOIN snap_period p ON greatest(p.start_on, b.s) <= least(p.ends_by, b.e)
    WHERE b.ever_active
), attributed AS (
    -- The latest in-place start wins, then the newest budget: max over [start, id].
    SELECT holder_id, key,
           (max(ARRAY[s - DATE '2000-01-01', budget_id]))[2] AS budget_id,
           bool_or(on_end) AS at_end
    FROM placed GROUP BY holder_id, key
), first_day AS (
    SELECT holder_id, min(s) AS first_on
    FROM snap_budget WHERE ever_active AND s <= e GROUP BY holder_id
)
SELECT o.org, a.key, b.route, b.option, b.area, {CHILD.format(t="b")}, st.stream,
       count(*),
       count(*) FILTER (WHERE a.at_end),
       count(*) FILTER (WHERE b.state = 'active'),
       count(*) FILTER (WHERE f.first_on BETWEEN p.start_on AND p.ends_by),
       count(*) FILTER (WHERE NOT a.at_end),
       count(*) FILTER (WHERE b.integrated)
FROM attributed a
JOIN snap_period p ON p.key = a.key
JOIN snap_budget b ON b.id = a.budget_id
JOIN first_day f ON f.holder_id = a.holder_id
JOIN snap_stream st ON st.budget_id = a.budget_id
{BUDGET_ORGS.format(t="b")}
WHERE o.org IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7
"""

MONEY_SQL = f"""
INSERT INTO {MoneySnapshot._meta.db_table}
    (organisation_id, funder_id, period, route, option, area, child, stream, integrated,
     contributions, allocated_pence, paid_in_pence, spent_pence, refunded_pence,
     recovered_pence)
WITH in_period AS (
    SELECT c.id AS contribution_id, p.key,
           (c.period_start <= p.end_on AND c.period_end >= p.start_on) AS overlaps,
           CASE WHEN c.period_start BETWEEN p.fy_start AND p.fy_end
                THEN c.yearly_pence ELSE 0 END AS allocated
    FROM snap_contrib c
    JOIN snap_period p
      ON (c.period_start <= p.end_on AND c.period_end >= p.start_on)
      OR c.period_start BETWEEN p.fy_start AND p.fy_end
), flows AS (
    SELECT f.contribution_id, p.key, sum(f.paid_in) AS paid_in, sum(f.spent) AS spent,
           sum(f.refunded) AS refunded, sum(f.recovered) AS recovered
    FROM snap_flow f JOIN snap_period p ON f.q BETWEEN p.start_on AND p.end_on
    GROUP BY 1, 2
), both_ AS (
    SELECT coalesce(i.contribution_id, f.contribution_id) AS contribution_id,
           coalesce(i.key, f.key) AS key,
           coalesce(i.overlaps, false) AS overlaps, coalesce(i.allocated, 0) AS allocated,
           coalesce(f.paid_in, 0) AS paid_in, coalesce(f.spent, 0) AS spent,
           coalesce(f.refunded, 0) AS refunded, coalesce(f.recovered, 0) AS recovered
    FROM in_period i
    FULL JOIN flows f ON f.contribution_id = i.contribution_id AND f.key = i.key
)
SELECT o.org, c.funder_id, r.key, c.route, c.option, c.area, {CHILD.format(t="c")},
       c.stream, c.integrated,
       count(*) FILTER (WHERE r.overlaps), sum(r.allocated), sum(r.paid_in), sum(r.spent),
       sum(r.refunded), sum(r.recovered)
FROM both_ r
JOIN snap_contrib c ON c.id = r.contribution_id
JOIN snap_period p ON p.key = r.key
{BUDGET_ORGS.format(t="c")}
WHERE o.org IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
"""

SPEND_SQL = f"""
INSERT INTO {SpendSnapshot._meta.db_table}
    (organisation_id, period, route, option, area, child, stream, category,
     spends, spent_pence, refunded_pence)
WITH by_quarter AS (
    SELECT s.contribution_id, date_trunc('quarter', s.spent_on)::date AS q, s.category,
           count(*) AS spends, sum(s.amount_pence) AS spent,
           sum(s.refunded_pence) AS refunded
    FROM budgets_spend s
    WHERE s.spent_on BETWEEN %(first)s AND %(last)s
    GROUP BY 1, 2, 3
)
SELECT c.funder_id, p.key, b.route, b.option, b.area, {CHILD.format(t="b")},
       c.stream, sq.category, sum(sq.spends), sum(sq.spent), sum(sq.refunded)
FROM by_quarter sq
JOIN snap_period p ON sq.q BETWEEN p.start_on AND p.end_on
JOIN budgets_fundingcontribution c ON c.id = sq.contribution_id
JOIN snap_budget b ON b.id = c.budget_id
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
"""

FIGURE_TABLE = FigureSnapshot._meta.db_table
FIGURE_COLUMNS = "(organisation_id, section, measure, period, route, area, key, count, value)"
# Every combination of (a route or all) x (an area or all) that occurs; an empty area
# (no postcode) appears only within "all areas", as "" means all there.
ROUTE_AREA_SETS = "GROUPING SETS ((route, area), (route), (area), ())"
ROUTE_AREA_OUT = (
    "CASE WHEN GROUPING(route) = 0 THEN route ELSE '' END AS route, "
    "CASE WHEN GROUPING(area) = 0 THEN area ELSE '' END AS area"
)
NO_EMPTY_AREA = "HAVING NOT (GROUPING(area) = 0 AND area = '')"


def _days(column: str) -> str:
    """Whole days from a timestamp's local date to today."""
    return f"(%(today)s::date - ({column} AT TIME ZONE %(tz)s)::date)"


def _rounded(fraction: float, column: str) -> str:
    return f"round((percentile_cont({fraction}) WITHIN GROUP (ORDER BY {column}))::numeric)::bigint"


PLAN_PEOPLE = f"""
    SELECT o.org, h.eligibility_route AS route, {HOLDER_AREA} AS area, pl.*
    FROM plans_supportplan pl
    JOIN budgets_budgetholder h ON h.id = pl.holder_id
    {HOLDER_ORGS}
    WHERE o.org IS NOT NULL
"""

# When a plan entered the state it waits in.
PLAN_ENTERED = """CASE state WHEN 'draft' THEN created_at
                             WHEN 'submitted' THEN submitted_at
                             WHEN 'changes_requested' THEN updated_at
                             ELSE approved_at END"""

PLANS_WAITING_SQL = f"""
INSERT INTO {FIGURE_TABLE} {FIGURE_COLUMNS}
WITH waiting AS (
    SELECT org, route, area, state AS key,
           {_days(PLAN_ENTERED)} AS days
    FROM ({PLAN_PEOPLE}) x
    WHERE state IN ('draft', 'submitted', 'changes_requested', 'approved')
), grouped AS (
    SELECT org, key, {ROUTE_AREA_OUT}, count(*) AS n,
           {_rounded(0.5, "days")} AS median, max(days) AS longest
    FROM waiting
    GROUP BY org, key, {ROUTE_AREA_SETS}
    {NO_EMPTY_AREA}
)
SELECT g.org, 'plans', m.measure, '', g.route, g.area, g.key, g.n, m.value
FROM grouped g
CROSS JOIN LATERAL (VALUES ('waiting', g.median), ('waiting_longest', g.longest))
    AS m(measure, value)
"""

PLANS_REVIEWS_SQL = f"""
INSERT INTO {FIGURE_TABLE} {FIGURE_COLUMNS}
WITH reviews AS (
    SELECT org, route, area,
           CASE WHEN next_review_on < %(today)s THEN 'reviews_overdue'
                ELSE 'reviews_due' END AS measure
    FROM ({PLAN_PEOPLE}) x
    WHERE state = 'active' AND next_review_on <= %(today)s::date + {REVIEW_DUE_DAYS}
)
SELECT org, 'plans', measure, '', {ROUTE_AREA_OUT}, '', count(*), NULL
FROM reviews
GROUP BY org, measure, {ROUTE_AREA_SETS}
{NO_EMPTY_AREA}
"""

REFERRAL_SQL = f"""
INSERT INTO {FIGURE_TABLE} {FIGURE_COLUMNS}
WITH first_approval AS (
    SELECT holder_id, (min(approved_at) AT TIME ZONE %(tz)s)::date AS approved_on
    FROM plans_supportplan WHERE approved_at IS NOT NULL GROUP BY holder_id
), referral AS (
    SELECT o.org, p.key, h.eligibility_route AS route, {HOLDER_AREA} AS area,
           fa.approved_on - (h.created_at AT TIME ZONE %(tz)s)::date AS days
    FROM first_approval fa
    JOIN snap_period p ON fa.approved_on BETWEEN p.start_on AND p.ends_by
    JOIN budgets_budgetholder h ON h.id = fa.holder_id
    {HOLDER_ORGS}
    WHERE o.org IS NOT NULL
), grouped AS (
    SELECT org, key, {ROUTE_AREA_OUT}, count(*) AS n,
           {_rounded(0.5, "days")} AS median, {_rounded(0.9, "days")} AS p90
    FROM referral
    GROUP BY org, key, {ROUTE_AREA_SETS}
    {NO_EMPTY_AREA}
)
SELECT g.org, 'plans', m.measure, g.key, g.route, g.area, '', g.n, m.value
FROM grouped g
CROSS JOIN LATERAL (VALUES ('referral_to_plan', g.median), ('referral_to_plan_p90', g.p90))
    AS m(measure, value)
"""

MONEY_FIGURES_SQL = f"""
INSERT INTO {FIGURE_TABLE} {FIGURE_COLUMNS}
WITH items AS (
    SELECT b.holder_id, 'flags' AS measure, f.kind || ':' || f.state AS key,
           NULL::bigint AS amount
    FROM budgets_monitoringflag f JOIN budgets_budget b ON b.id = f.budget_id
    WHERE f.state <> 'resolved'
    UNION ALL
    SELECT b.holder_id, 'recoveries', r.state, r.amount_pence
    FROM budgets_surplusrecovery r JOIN budgets_budget b ON b.id = r.budget_id
    WHERE r.state IN ('notice_sent', 'reconsideration_requested')
), placed AS (
    SELECT i.measure, i.key, i.amount, o.org, h.eligibility_route AS route,
           {HOLDER_AREA} AS area
    FROM items i
    JOIN budgets_budgetholder h ON h.id = i.holder_id
    {HOLDER_ORGS}
    WHERE o.org IS NOT NULL
)
SELECT org, 'money', measure, '', {ROUTE_AREA_OUT}, key, count(*),
       CASE WHEN measure = 'recoveries' THEN sum(amount) END
FROM placed
GROUP BY org, measure, key, {ROUTE_AREA_SETS}
{NO_EMPTY_AREA}
"""

MARKET_SQL = f"""
INSERT INTO {FIGURE_TABLE} {FIGURE_COLUMNS}
WITH provider_area AS (
    SELECT pa.organisation_id AS org, {PROVIDER_AREA} AS area, pr.id, pr.kind, pr.listed,
           pr.user_led, pr.verification,
           {_days("pr.updated_at")} AS waiting_days
    FROM marketplace_provider pr
    JOIN marketplace_provider_areas pa ON pa.provider_id = pr.id
), counted AS (
    SELECT org, 'providers' AS measure, kind AS key, NULL::bigint AS days, area
    FROM provider_area WHERE listed
    UNION ALL
    SELECT org, 'providers_user_led', '', NULL, area FROM provider_area WHERE listed AND user_led
    UNION ALL
    SELECT org, 'providers_micro', '', NULL, area
    FROM provider_area WHERE listed AND kind = 'micro_enterprise'
    UNION ALL
    SELECT org, 'verification_queue', '', waiting_days, area
    FROM provider_area WHERE verification = 'pending'
)
SELECT org, 'market', measure, '', '', CASE WHEN GROUPING(area) = 0 THEN area ELSE '' END,
       key, count(*), CASE WHEN measure = 'verification_queue' THEN max(days) END
FROM counted
GROUP BY org, measure, key, GROUPING SETS ((area), ())
{NO_EMPTY_AREA}
"""

SERVICES_SQL = f"""
INSERT INTO {FIGURE_TABLE} {FIGURE_COLUMNS}
WITH listed AS (
    SELECT pa.organisation_id AS org, {PROVIDER_AREA} AS area, pr.id
    FROM marketplace_provider pr
    JOIN marketplace_provider_areas pa ON pa.provider_id = pr.id
    WHERE pr.listed
), counts AS (
    SELECT l.org, CASE WHEN GROUPING(l.area) = 0 THEN l.area ELSE '' END AS area,
           c.code, count(*) AS n
    FROM listed l
    JOIN marketplace_service s ON s.provider_id = l.id AND s.status = 'active'
    JOIN marketplace_category c ON c.id = s.category_id
    GROUP BY l.org, c.code, GROUPING SETS ((l.area), ())
    HAVING NOT (GROUPING(l.area) = 0 AND l.area = '')
), frame AS (
    -- Where a gap is shown: every ICB and council as a whole, and each area where it
    -- has a listed provider; for every category it can use.
    SELECT places.org, places.area, c.code
    FROM (
        SELECT id AS org, '' AS area FROM users_organisation
        WHERE kind IN ('icb', 'local_authority')
        UNION
        SELECT DISTINCT org, area FROM listed WHERE area <> ''
    ) places
    JOIN marketplace_category c
      ON c.organisation_id IS NULL OR c.organisation_id = places.org
)
SELECT coalesce(n.org, f.org), 'market', 'services', '', '', coalesce(n.area, f.area),
       coalesce(n.code, f.code), coalesce(max(n.n), 0), NULL
FROM frame f
FULL JOIN counts n ON n.org = f.org AND n.area = f.area AND n.code = f.code
GROUP BY 1, 6, 7
"""


def _params(today: datetime.date) -> dict[str, Any]:
    kept = periods_kept(today)
    return {
        "today": today,
        "tz": settings.TIME_ZONE,
        "keys": [p.key for p in kept],
        "starts": [p.start for p in kept],
        "ends": [p.end for p in kept],
        "ends_by": [p.ends_by(today) for p in kept],
        "fy_starts": [p.year.start for p in kept],
        "fy_ends": [p.year.end for p in kept],
        "first": min(p.start for p in kept),
        "last": max(p.end for p in kept),
    }


# Where each table's new rows are written first, before the merge.
STAGED: dict[type[models.Model], list[str]] = {
    PeopleSnapshot: ["people"],
    MoneySnapshot: ["money"],
    SpendSnapshot: ["spend"],
    FigureSnapshot: [
        "plans waiting",
        "reviews",
        "referral to plan",
        "flags and recoveries",
        "market",
        "services",
    ],
}
INSERTS = {
    "people": PEOPLE_SQL,
    "money": MONEY_SQL,
    "spend": SPEND_SQL,
    "plans waiting": PLANS_WAITING_SQL,
    "reviews": PLANS_REVIEWS_SQL,
    "referral to plan": REFERRAL_SQL,
    "flags and recoveries": MONEY_FIGURES_SQL,
    "market": MARKET_SQL,
    "services": SERVICES_SQL,
}
# Each table's measures; its other columns are the row's key (unique in the table).
MEASURES: dict[type[models.Model], list[str]] = {
    PeopleSnapshot: ["in_period", "at_end", "active_now", "new", "ended", "integrated"],
    MoneySnapshot: [
        "contributions",
        "allocated_pence",
        "paid_in_pence",
        "spent_pence",
        "refunded_pence",
        "recovered_pence",
    ],
    SpendSnapshot: ["spends", "spent_pence", "refunded_pence"],
    FigureSnapshot: ["count", "value"],
}


def _merge(cursor: Any, model: type[models.Model], stage: str) -> tuple[int, int]:
    """Make the table hold exactly the staged rows, writing only the rows that
    changed. (Writing a row into the real table costs more than computing it: two
    indexes, and a foreign key check per organisation column at commit; most rows,
    last year's above all, are the same night after night.) One hash full join on the
    row's key finds the rows gone, new or changed; an empty table (the first run) is
    simply filled. Returns (deleted, inserted)."""
    table = model._meta.db_table
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    measures = MEASURES[model]
    keys = [c for c in columns if c not in measures]
    listed = ", ".join(columns)
    # Rows go in by organisation and period, as the dashboard reads them: one
    # organisation's rows then sit on few pages rather than one page each.
    order = "ORDER BY organisation_id, period"
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
    if not cursor.fetchone()[0]:
        cursor.execute(f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {stage} {order}")
        inserted = cursor.rowcount
        cursor.execute(f"ANALYZE {table}")
        return 0, inserted
    # The planner must see both sides' sizes (a nested loop here would be quadratic).
    cursor.execute(f"ANALYZE {table}")
    on = " AND ".join(f"t.{c} = n.{c}" for c in keys)
    changed = " OR ".join(f"t.{c} IS DISTINCT FROM n.{c}" for c in measures)
    cursor.execute("DROP TABLE IF EXISTS snap_diff")
    cursor.execute(
        f"CREATE TEMP TABLE snap_diff AS "
        f"SELECT t.id AS old_id, n.{keys[0]} IS NOT NULL AS staged, "
        f"{', '.join(f'n.{c}' for c in columns)} "
        f"FROM {stage} n FULL JOIN {table} t ON {on} "
        f"WHERE t.id IS NULL OR n.{keys[0]} IS NULL OR {changed}"
    )
    cursor.execute(
        f"DELETE FROM {table} WHERE id IN (SELECT old_id FROM snap_diff WHERE old_id IS NOT NULL)"
    )
    deleted = cursor.rowcount
    cursor.execute(
        f"INSERT INTO {table} ({listed}) SELECT {listed} FROM snap_diff WHERE staged {order}"
    )
    inserted = cursor.rowcount
    cursor.execute("DROP TABLE snap_diff")
    # Fresh statistics for the dashboard's queries (it reads a few thousand rows of one
    # organisation; stale ones made the planner expect a few dozen).
    cursor.execute(f"ANALYZE {table}")
    return deleted, inserted


def _rebuild(today: datetime.date) -> int:
    """Rebuild every snapshot table; the number of rows they hold. Each table's rows
    are computed into a temporary table, then merged in (``_merge``). Each step's time
    is logged (at national scale, the place to look when it slows)."""
    params = _params(today)
    rows = 0
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        for number, statement in enumerate(SETUP_SQL):
            started = time.perf_counter()
            cursor.execute(statement, params)
            logger.info("Snapshot setup %s: %.2f s", number, time.perf_counter() - started)
        for model, names in STAGED.items():
            table = model._meta.db_table
            stage = f"snap_new_{model._meta.model_name}"
            cursor.execute(f"DROP TABLE IF EXISTS {stage}")
            cursor.execute(f"CREATE TEMP TABLE {stage} (LIKE {table})")
            cursor.execute(f"ALTER TABLE {stage} DROP COLUMN id")
            for name in names:
                started = time.perf_counter()
                cursor.execute(
                    INSERTS[name].replace(f"INSERT INTO {table}", f"INSERT INTO {stage}", 1),
                    params,
                )
                rows += max(cursor.rowcount, 0)
                logger.info("Snapshot %s: %.2f s", name, time.perf_counter() - started)
            cursor.execute(f"ANALYZE {stage}")
            started = time.perf_counter()
            deleted, inserted = _merge(cursor, model, stage)
            logger.info(
                "Snapshot %s merged: %s rows deleted, %s inserted, %.2f s",
                table,
                deleted,
                inserted,
                time.perf_counter() - started,
            )
            cursor.execute(f"DROP TABLE {stage}")
        cursor.execute(SETUP_SQL[0])
    return rows


def snapshot_refresh(
    *, trigger: str, requested_by: Any = None, today: datetime.date | None = None
) -> SnapshotRun:
    """Rebuild the dashboard snapshots (see the module docstring). Returns the run:
    done, failed (with the error; the previous snapshot is untouched), or, when
    another refresh holds the lock, that one (still running)."""
    today = today or timezone.localdate()
    with sweep_lock(LOCK_NAME) as acquired:
        if not acquired:
            running = SnapshotRun.objects.filter(status=SnapshotRun.Status.RUNNING).first()
            if running is not None:
                return running
            return SnapshotRun.objects.latest()
        # Holding the lock, any run still marked running was cut short.
        SnapshotRun.objects.filter(status=SnapshotRun.Status.RUNNING).update(
            status=SnapshotRun.Status.FAILED,
            error="Interrupted: the worker stopped before it finished.",
            finished_at=timezone.now(),
        )
        run = SnapshotRun.objects.create(
            trigger=trigger, requested_by=requested_by, as_of=timezone.now(), today=today
        )
        top_level = not connection.in_atomic_block
        try:
            with transaction.atomic():
                if top_level:
                    with connection.cursor() as cursor:
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                rows = _rebuild(today)
        except Exception as error:
            logger.exception("Snapshot refresh %s failed", run.pk)
            SnapshotRun.objects.filter(pk=run.pk).update(
                status=SnapshotRun.Status.FAILED,
                error=f"{type(error).__name__}: {error}"[:2000],
                finished_at=timezone.now(),
            )
            run.refresh_from_db()
            return run
        SnapshotRun.objects.filter(pk=run.pk).update(
            status=SnapshotRun.Status.DONE, rows=rows, finished_at=timezone.now()
        )
        run.refresh_from_db()
        return run
