"""The usual spend (the holder's own, a known payee, no receipt or plan item) is recorded
by one statement; every other case writes nothing in that statement and takes the full
path, which answers exactly as before. Both paths write the same rows."""

from __future__ import annotations

import copy
import datetime
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from budgets import services
from budgets.ledger import InsufficientFunds, payee_account
from budgets.models import (
    FundingStream,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Spend,
    SpendCategory,
)
from core.models import AuditEvent
from tests.conftest import World
from tests.factories import OrganisationFactory, add_contribution
from users.models import Organisation


def _spend(world: World, **overrides: Any) -> Spend:
    fields = {
        "budget": world.budget_a,
        "payee": "Hydrotherapy",
        "spent_on": timezone.localdate(),
        "amount_pence": 12_34,
        "category": SpendCategory.THERAPY,
        "recorded_by": world.holder_a.user,
        "idempotency_key": "once-1",
    }
    return services.spend_record(**{**fields, **overrides})


def _statements(queries: CaptureQueriesContext) -> list[str]:
    """The statements run, without the savepoint around them (a test runs in a
    transaction, so the service makes its block a savepoint)."""
    return [
        query["sql"]
        for query in queries.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def _written(spend: Spend) -> dict[str, Any]:
    """What the database holds for a spend, as plain values."""
    stored = Spend.objects.get(pk=spend.pk)
    posted = LedgerTransaction.objects.get(pk=stored.transaction_id)
    event = AuditEvent.objects.get(action="spend.recorded", object_id=str(spend.pk))
    return {
        "spend": (
            stored.budget_id,
            stored.contribution_id,
            stored.payee,
            stored.spent_on,
            stored.amount_pence,
            stored.category,
            stored.note,
            stored.state,
            stored.recorded_by_id,
            stored.refunded_pence,
            stored.plan_item_id,
            stored.receipt.name,
        ),
        "transaction": (
            posted.kind,
            posted.idempotency_key,
            posted.budget_id,
            posted.contribution_id,
            posted.occurred_on,
            posted.description,
            posted.created_by_id,
            posted.reverses_id,
            posted.due_on,
            posted.allocation_run_id,
        ),
        "legs": sorted(
            LedgerEntry.objects.filter(transaction=posted).values_list("account_id", "amount_pence")
        ),
        "audit": (
            event.actor_id,
            event.actor_label,
            event.acting_for_id,
            event.person_id,
            event.organisation_id,
            event.object_type,
            event.changes,
        ),
    }


def test_the_usual_spend_is_one_statement_and_writes_what_the_full_path_writes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    payee_account(name="Hydrotherapy")  # a payee seen before
    account = LedgerAccount.objects.get(budget=world.budget_a)
    with CaptureQueriesContext(connection) as queries:
        fast = _spend(world, note="Six sessions")
    assert [sql[:26] for sql in _statements(queries)] == ["EXECUTE phb_spend_at_once "]

    # The same spend through the full path: the same rows, field for field.
    with monkeypatch.context() as patch:
        patch.setattr(services, "_spend_usual", lambda **kwargs: False)
        with CaptureQueriesContext(connection) as queries:
            full = _spend(world, note="Six sessions", idempotency_key="once-2")
    assert len(_statements(queries)) > 1
    fast_rows, full_rows = _written(fast), _written(full)
    assert fast_rows["transaction"][1] == "spend:once-1"
    fast_rows["transaction"] = fast_rows["transaction"][:1] + fast_rows["transaction"][2:]
    full_rows["transaction"] = full_rows["transaction"][:1] + full_rows["transaction"][2:]
    fast_changes = fast_rows["audit"][-1]
    full_changes = full_rows["audit"][-1]
    assert fast_changes.pop("transaction") == fast.transaction_id
    assert full_changes.pop("transaction") == full.transaction_id
    assert fast_rows == full_rows
    assert fast_rows["legs"] == sorted(
        [(account.pk, -12_34), (payee_account(name="Hydrotherapy").pk, 12_34)]
    )
    account.refresh_from_db()
    assert account.balance_pence == 380_00 - 2 * 12_34  # after the world's spend and these

    # What the service returns needs no more queries to read.
    with CaptureQueriesContext(connection) as queries:
        assert fast.budget.holder == world.holder_a
        assert fast.contribution.account.pk == account.pk
        assert fast.transaction.spend is fast
        assert fast.transaction.created_by == world.holder_a.user
        assert (fast.recorded_by, fast.receipt.name, fast.verified_by) == (
            world.holder_a.user,
            "",
            None,
        )
        assert fast.transaction.entries is not None
    assert len(queries) == 0


def test_a_new_payee_takes_the_full_path_and_gets_its_account(world: World) -> None:
    spend = _spend(world, payee="  A new   therapist ")
    assert spend.payee == "A new therapist"
    assert LedgerEntry.objects.filter(
        transaction=spend.transaction, account=payee_account(name="A new therapist")
    ).exists()
    # The second spend to that payee is the usual one.
    with CaptureQueriesContext(connection) as queries:
        _spend(world, payee="A new therapist", idempotency_key="once-2")
    assert len(_statements(queries)) == 1


def test_a_replay_writes_nothing_and_returns_the_first_spend(world: World) -> None:
    payee_account(name="Hydrotherapy")
    first = _spend(world)
    counts = Spend.objects.count(), LedgerEntry.objects.count(), AuditEvent.objects.count()
    again = _spend(world)
    assert again.pk == first.pk
    assert (Spend.objects.count(), LedgerEntry.objects.count(), AuditEvent.objects.count()) == (
        counts
    )


def test_an_integrated_budget_needs_the_funding_named(world: World) -> None:
    payee_account(name="Hydrotherapy")
    council = OrganisationFactory(kind=Organisation.Kind.LOCAL_AUTHORITY)
    social = add_contribution(
        world.budget_a,
        funder=council,
        stream=FundingStream.COUNCIL_SOCIAL_CARE,
        yearly_pence=500_00,
        paid_in_pence=100_00,
    )
    with pytest.raises(ValidationError, match="Choose which funding"):
        _spend(world)
    with CaptureQueriesContext(connection) as queries:
        spend = _spend(world, contribution=social)
    assert len(_statements(queries)) == 1
    assert spend.contribution_id == social.pk
    assert LedgerAccount.objects.get(contribution=social).balance_pence == 100_00 - 12_34


def test_a_date_outside_the_budget_year_is_refused_and_nothing_is_written(
    world: World,
) -> None:
    payee_account(name="Hydrotherapy")
    before = Spend.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationError, match="within the budget year"):
        _spend(world, spent_on=world.budget_a.period_start - datetime.timedelta(days=1))
    assert (Spend.objects.count(), AuditEvent.objects.count()) == before


def test_more_than_the_balance_is_refused_with_the_figures(world: World) -> None:
    payee_account(name="Hydrotherapy")
    before = Spend.objects.count(), AuditEvent.objects.count()
    with pytest.raises(InsufficientFunds, match=r"£380\.00 available"):
        _spend(world, amount_pence=380_01)
    assert (Spend.objects.count(), AuditEvent.objects.count()) == before


def test_a_representative_spends_through_the_full_path_acting_for_the_holder(
    world: World,
) -> None:
    payee_account(name="Hydrotherapy")
    representation = world.holder_a.representations.get()
    representation.scopes = ["view", "manage_money"]
    representation.save()
    spend = _spend(world, recorded_by=world.representative)
    event = AuditEvent.objects.get(action="spend.recorded", object_id=str(spend.pk))
    assert (event.actor, event.acting_for) == (world.representative, world.holder_a)


def test_a_refusal_by_the_database_in_the_one_statement_leaves_the_transaction_usable(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As when a concurrent spend takes the money between the statement's read and its
    write: the statement's own check of the balance is taken out, so the refusal comes
    from the ledger's check constraint. Nothing is written, the caller's transaction
    (a test runs in one) carries on, and the full path says why."""
    payee_account(name="Hydrotherapy")
    original = services.SPEND_AT_ONCE
    stale = copy.copy(original)
    stale.name = "phb_spend_at_once_stale"
    stale.prepare_sql = re.sub(
        r"AND balance_pence \+ overdraft_pence >= \$\d+", "", original.prepare_sql
    ).replace("PREPARE phb_spend_at_once ", "PREPARE phb_spend_at_once_stale ")
    stale.execute_sql = original.execute_sql.replace(
        "EXECUTE phb_spend_at_once ", "EXECUTE phb_spend_at_once_stale "
    )
    assert stale.prepare_sql.count("overdraft_pence >=") == 0
    monkeypatch.setattr(services, "SPEND_AT_ONCE", stale)
    before = Spend.objects.count(), AuditEvent.objects.count(), LedgerEntry.objects.count()
    with (
        CaptureQueriesContext(connection) as queries,
        pytest.raises(InsufficientFunds, match=r"£380\.00 available"),
    ):
        _spend(world, amount_pence=380_01)
    assert any("phb_spend_at_once_stale" in sql for sql in _statements(queries))
    assert (Spend.objects.count(), AuditEvent.objects.count(), LedgerEntry.objects.count()) == (
        before
    )
    spend = _spend(world, amount_pence=380_00, idempotency_key="once-2")
    assert LedgerAccount.objects.get(budget=world.budget_a).balance_pence == 0
    assert Spend.objects.filter(pk=spend.pk).exists()
