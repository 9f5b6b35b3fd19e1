"""A version sent for approval, approved, in force or past is never changed: the plan
services refuse it, and Postgres refuses it too, so no other code path (a script, the
admin, a bug) can change what a clinician approved or what a budget's money followed.

* the parts of a plan (outcomes, support items and the outcomes they serve, money
  arrangements, risks, the circle of support) are written only while their plan is a
  draft or sent back for changes;
* a plan's own content (what matters, contingency, yearly cost, review interval, which
  budget and version it is) changes only in those states too. Its state, sign-offs and
  review dates still move, through the services.

Each check is one primary-key lookup per row written, so it costs next to nothing."""

from django.db import migrations

SQL = """
CREATE FUNCTION plans_refuse_locked_part() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    plan_ids bigint[];
    locked bigint;
BEGIN
    IF TG_TABLE_NAME = 'plans_supportitem_outcomes' THEN
        IF TG_OP = 'INSERT' THEN
            plan_ids := ARRAY(SELECT plan_id FROM plans_supportitem WHERE id = NEW.supportitem_id);
        ELSIF TG_OP = 'DELETE' THEN
            plan_ids := ARRAY(SELECT plan_id FROM plans_supportitem WHERE id = OLD.supportitem_id);
        ELSE
            plan_ids := ARRAY(SELECT plan_id FROM plans_supportitem
                               WHERE id IN (OLD.supportitem_id, NEW.supportitem_id));
        END IF;
    ELSIF TG_OP = 'INSERT' THEN
        plan_ids := ARRAY[NEW.plan_id];
    ELSIF TG_OP = 'DELETE' THEN
        plan_ids := ARRAY[OLD.plan_id];
    ELSE
        plan_ids := ARRAY[OLD.plan_id, NEW.plan_id];
    END IF;
    SELECT p.id INTO locked FROM plans_supportplan AS p
     WHERE p.id = ANY(plan_ids) AND p.state NOT IN ('draft', 'changes_requested')
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'support plan % is no longer a draft: its parts cannot change', locked
            USING ERRCODE = 'check_violation', CONSTRAINT = 'plan_version_locked';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION plans_refuse_locked_plan_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.what_matters IS DISTINCT FROM OLD.what_matters
       OR NEW.if_support_fails IS DISTINCT FROM OLD.if_support_fails
       OR NEW.carer_emergency IS DISTINCT FROM OLD.carer_emergency
       OR NEW.yearly_cost_pence IS DISTINCT FROM OLD.yearly_cost_pence
       OR NEW.review_every_months IS DISTINCT FROM OLD.review_every_months
       OR NEW.holder_id IS DISTINCT FROM OLD.holder_id
       OR NEW.budget_id IS DISTINCT FROM OLD.budget_id
       OR NEW.version IS DISTINCT FROM OLD.version
       OR NEW.revises_id IS DISTINCT FROM OLD.revises_id THEN
        RAISE EXCEPTION 'support plan % is no longer a draft: it cannot change', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'plan_version_locked';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER plans_supportplan_locked
    BEFORE UPDATE ON plans_supportplan
    FOR EACH ROW WHEN (OLD.state NOT IN ('draft', 'changes_requested'))
    EXECUTE FUNCTION plans_refuse_locked_plan_change();
"""

PART_TABLES = (
    "plans_planoutcome",
    "plans_supportitem",
    "plans_supportitem_outcomes",
    "plans_circlemember",
    "plans_planrisk",
    "plans_moneyarrangement",
)

SQL += "".join(
    f"""
CREATE TRIGGER {table}_locked
    BEFORE INSERT OR UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION plans_refuse_locked_part();
"""
    for table in PART_TABLES
)

REVERSE_SQL = (
    "".join(f"DROP TRIGGER {table}_locked ON {table};\n" for table in PART_TABLES)
    + """
DROP TRIGGER plans_supportplan_locked ON plans_supportplan;
DROP FUNCTION plans_refuse_locked_plan_change();
DROP FUNCTION plans_refuse_locked_part();
"""
)


class Migration(migrations.Migration):
    dependencies = [("plans", "0001_initial")]

    operations = [migrations.RunSQL(SQL, REVERSE_SQL)]
