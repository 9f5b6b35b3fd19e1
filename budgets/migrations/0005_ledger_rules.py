"""The ledger's rules, enforced by Postgres so that no code path (a bug, a script, an
admin at a psql prompt) can break them:

* entries and transactions are append-only: UPDATE and DELETE are refused;
* after every INSERT statement into the entries, each transaction it touched must sum to
  zero. The check is statement-level over the transition table, so its cost grows with
  the rows inserted, not with their square (a per-row trigger re-sums the transaction
  for every leg). Since no statement may leave a transaction unbalanced, the sum of all
  of a transaction's legs is always zero;
* at commit, a deferred constraint trigger (one per transaction header, not per leg)
  refuses a transaction with fewer than two legs or a non-zero sum;
* the same statement-level trigger keeps budget accounts' cached balances, so the
  check constraint ``ledger_account_within_overdraft`` applies to every posting, and
  the row lock its UPDATE takes serialises concurrent spends from one account.
"""

from django.db import migrations

SQL = """
-- Payment dates, shared by the allocation job (and mirrored by budgets.models.budgets
-- .due_dates, which a test checks against these). Month steps clamp to the month's end.
CREATE FUNCTION budgets_due_date(schedule text, start date, k integer) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN schedule = 'four_weekly' THEN start + 28 * k
                ELSE (start + make_interval(
                    months => k * CASE schedule WHEN 'quarterly' THEN 3 ELSE 1 END))::date
           END
$$;

-- How many payment dates fall from ``start`` to ``bound`` inclusive.
CREATE FUNCTION budgets_due_count(schedule text, start date, bound date) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN bound < start THEN 0
        WHEN schedule = 'four_weekly' THEN (bound - start) / 28 + 1
        ELSE (SELECT k + 1 - (budgets_due_date(schedule, start, k) > bound)::integer
                FROM (SELECT ((extract(year FROM bound) - extract(year FROM start)) * 12
                              + extract(month FROM bound) - extract(month FROM start))::integer
                             / CASE schedule WHEN 'quarterly' THEN 3 ELSE 1 END AS k) AS estimate)
    END
$$;

CREATE TRIGGER budgets_ledgerentry_append_only
    BEFORE UPDATE OR DELETE ON budgets_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION core_refuse_change();
CREATE TRIGGER budgets_ledgertransaction_append_only
    BEFORE UPDATE OR DELETE ON budgets_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION core_refuse_change();

CREATE FUNCTION budgets_ledger_entries_posted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced bigint;
BEGIN
    SELECT transaction_id INTO unbalanced
      FROM new_entries GROUP BY transaction_id HAVING sum(amount_pence) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: its entries must sum to zero',
            unbalanced USING ERRCODE = 'check_violation',
            CONSTRAINT = 'ledger_transaction_balanced';
    END IF;
    UPDATE budgets_ledgeraccount AS account
       SET balance_pence = account.balance_pence + posted.delta
      FROM (SELECT account_id, sum(amount_pence) AS delta
              FROM new_entries GROUP BY account_id) AS posted
     WHERE account.id = posted.account_id AND account.kind = 'budget';
    RETURN NULL;
END;
$$;

CREATE TRIGGER budgets_ledgerentry_posted
    AFTER INSERT ON budgets_ledgerentry
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION budgets_ledger_entries_posted();

CREATE FUNCTION budgets_ledger_transaction_complete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    legs bigint;
    total numeric;
BEGIN
    SELECT count(*), coalesce(sum(amount_pence), 0) INTO legs, total
      FROM budgets_ledgerentry WHERE transaction_id = NEW.id;
    IF legs < 2 OR total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % is incomplete: % legs summing to %',
            NEW.id, legs, total USING ERRCODE = 'check_violation',
            CONSTRAINT = 'ledger_transaction_balanced';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER budgets_ledgertransaction_complete
    AFTER INSERT ON budgets_ledgertransaction
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION budgets_ledger_transaction_complete();
"""

REVERSE_SQL = """
DROP FUNCTION IF EXISTS budgets_due_count(text, date, date);
DROP FUNCTION IF EXISTS budgets_due_date(text, date, integer);
-- Payment dates, shared by the allocation job (and mirrored by budgets.models.budgets
-- .due_dates, which a test checks against these). Month steps clamp to the month's end.
CREATE FUNCTION budgets_due_date(schedule text, start date, k integer) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN schedule = 'four_weekly' THEN start + 28 * k
                ELSE (start + make_interval(
                    months => k * CASE schedule WHEN 'quarterly' THEN 3 ELSE 1 END))::date
           END
$$;

-- How many payment dates fall from ``start`` to ``bound`` inclusive.
CREATE FUNCTION budgets_due_count(schedule text, start date, bound date) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN bound < start THEN 0
        WHEN schedule = 'four_weekly' THEN (bound - start) / 28 + 1
        ELSE (SELECT k + 1 - (budgets_due_date(schedule, start, k) > bound)::integer
                FROM (SELECT ((extract(year FROM bound) - extract(year FROM start)) * 12
                              + extract(month FROM bound) - extract(month FROM start))::integer
                             / CASE schedule WHEN 'quarterly' THEN 3 ELSE 1 END AS k) AS estimate)
    END
$$;

DROP TRIGGER IF EXISTS budgets_ledgertransaction_complete ON budgets_ledgertransaction;
DROP FUNCTION IF EXISTS budgets_ledger_transaction_complete();
DROP TRIGGER IF EXISTS budgets_ledgerentry_posted ON budgets_ledgerentry;
DROP FUNCTION IF EXISTS budgets_ledger_entries_posted();
DROP TRIGGER IF EXISTS budgets_ledgertransaction_append_only ON budgets_ledgertransaction;
DROP TRIGGER IF EXISTS budgets_ledgerentry_append_only ON budgets_ledgerentry;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("budgets", "0004_holder_details_required"),
        ("core", "0003_auditevent_append_only"),
    ]

    operations = [migrations.RunSQL(SQL, REVERSE_SQL)]
