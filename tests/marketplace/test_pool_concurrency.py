"""Funding pools while the members spend from the same budgets, on real Postgres with
real commits, each thread on its own database connection: every round, either every
member's share is posted or none is, no balance goes below zero, the ledger reconciles,
and nothing deadlocks or hangs (two pools sharing members are funded at once too)."""

from __future__ import annotations

import datetime
import random
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from budgets.ledger import InsufficientFunds
from budgets.models import LedgerAccount, LedgerEntry, Spend, SpendCategory
from budgets.monitoring import reconciliation_run
from budgets.services import new_idempotency_key, spend_record
from core.exceptions import Conflict
from marketplace import pooling
from marketplace.models import Category, Pool, PoolMember, Taxonomy
from tests.conftest import staff_user
from tests.factories import BudgetHolderFactory, OrganisationFactory, make_budget
from tests.marketplace.factories import ProviderFactory, ServiceFactory
from users.models import Organisation, Role

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 6


def _at_once(actions: list[Callable[[], Any]]) -> list[Any]:
    """Run each action on its own thread, released together; each result or the
    exception it raised."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(i: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=60)
            results[i] = actions[i]()
        except Exception as error:
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (a deadlock?)"
    return results


def a_category() -> Category:
    """A category of the national taxonomy. A transactional test's database is emptied
    after it, seeded rows included, so the tests here make their own when it is gone."""
    taxonomy, _ = Taxonomy.objects.get_or_create(
        name="Personal health budget support", defaults={"description": "Kinds of support"}
    )
    found, _ = Category.objects.get_or_create(
        code="learning",
        taxonomy=taxonomy,
        defaults={"name": "Learning and skills", "description": "Courses"},
    )
    return found


def _setup(members: int, paid_in: int) -> tuple[Any, Any, list[Any]]:
    icb = OrganisationFactory(kind=Organisation.Kind.ICB)
    organiser = staff_user(icb, Role.CARE_COORDINATOR)
    service = ServiceFactory(
        provider=ProviderFactory(name=f"Provider {uuid.uuid4().hex[:8]}"),
        category=a_category(),
        price=(10_00, "session"),
    )
    budgets = [
        make_budget(BudgetHolderFactory(organisation=icb), paid_in_pence=paid_in)
        for _ in range(members)
    ]
    return organiser, service, budgets


def _pool(organiser: Any, service: Any, budgets: list[Any], cost: int) -> Pool:
    pool = pooling.pool_create(
        organiser=organiser,
        service=service,
        organisation=organiser.memberships.get().organisation,
        purpose="Swimming lessons together",
        cost_pence=cost,
        minimum_members=2,
        deadline=timezone.localdate() + datetime.timedelta(days=7),
    )
    for budget in budgets:
        pooling.pool_join(pool=pool, budget=budget, joined_by=budget.holder.user)
    return pool


def _spend(budget: Any, pence: int) -> Spend:
    return spend_record(
        budget=budget,
        payee="Taxi",
        spent_on=timezone.localdate(),
        amount_pence=pence,
        category=SpendCategory.TRANSPORT,
        recorded_by=budget.holder.user,
        idempotency_key=new_idempotency_key(),
    )


def _fund(pool: Pool, organiser: Any) -> Pool:
    return pooling.pool_fund(pool=pool, funded_by=organiser, idempotency_key=new_idempotency_key())


def _balance(budget: Any) -> int:
    return LedgerAccount.objects.get(contribution__budget=budget).balance_pence


def _assert_all_or_nothing(pool: Pool, budgets: list[Any]) -> bool:
    """The pool is funded with every share posted, or open with none; returns which."""
    pool.refresh_from_db()
    members = list(PoolMember.objects.filter(pool=pool, left_at__isnull=True))
    paid = [m for m in members if m.spend_id is not None]
    shares = Spend.objects.filter(note__contains=f"(pool {pool.pk})")
    if pool.state == Pool.State.FUNDED:
        assert len(paid) == len(members) == shares.count()
        assert sum(s.amount_pence for s in shares) == pooling.total_pence(pool, len(members))
        return True
    assert pool.state == Pool.State.OPEN
    assert paid == []
    assert shares.count() == 0
    return False


def test_funding_while_members_spend_posts_every_share_or_none() -> None:
    """Three members with £100 each; a £150 pool (£50 each) funded while eight spends
    of £30 to £70 hit the same budgets. Whichever gets the accounts first wins; every
    round the pool is all or nothing and no budget goes below zero."""
    rng = random.Random(5)  # the spends' sizes vary, but the same run each time
    for _ in range(ROUNDS):
        organiser, service, budgets = _setup(3, 100_00)
        pool = _pool(organiser, service, budgets, 150_00)
        spends = [(rng.choice(budgets), rng.randrange(30_00, 70_01, 10_00)) for _ in range(8)]
        actions: list[Callable[[], Any]] = [lambda p=pool, o=organiser: _fund(p, o)]
        actions += [lambda b=b, p=p: _spend(b, p) for b, p in spends]
        results = _at_once(actions)

        unexpected = [
            r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)
        ]
        assert unexpected == []
        funded = _assert_all_or_nothing(pool, budgets)
        assert isinstance(results[0], Pool) == funded
        if not funded:
            assert "cannot be funded because" in results[0].message
        taxi = sum(r.amount_pence for r in results[1:] if isinstance(r, Spend))
        refused = [r for r in results[1:] if isinstance(r, InsufficientFunds)]
        assert len(refused) + sum(isinstance(r, Spend) for r in results[1:]) == 8
        for budget in budgets:
            balance = _balance(budget)
            assert balance >= 0
            entries = LedgerEntry.objects.filter(account__contribution__budget=budget)
            assert balance == sum(entries.values_list("amount_pence", flat=True))
        assert sum(_balance(b) for b in budgets) == 300_00 - taxi - (150_00 if funded else 0)
    assert reconciliation_run().ok is True


def test_two_pools_sharing_members_funded_at_once_never_deadlock() -> None:
    """Pools A and B both have the same four members, joined in opposite orders, and
    are funded at the same moment while the members spend: locks are taken in account
    order, so neither waits on the other for ever. Each pool is all or nothing."""
    for _ in range(ROUNDS):
        organiser, service, budgets = _setup(4, 60_00)
        pool_a = _pool(organiser, service, budgets, 100_00)  # £25 each
        pool_b = _pool(organiser, service, list(reversed(budgets)), 120_00)  # £30 each
        actions: list[Callable[[], Any]] = [
            lambda p=pool_a, o=organiser: _fund(p, o),
            lambda p=pool_b, o=organiser: _fund(p, o),
        ]
        actions += [lambda b=b: _spend(b, 20_00) for b in budgets]
        results = _at_once(actions)
        unexpected = [
            r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)
        ]
        assert unexpected == []
        funded_a = _assert_all_or_nothing(pool_a, budgets)
        funded_b = _assert_all_or_nothing(pool_b, budgets)
        # £60 each: £25 + £30 fit together, but not with a £20 taxi as well.
        for budget in budgets:
            assert _balance(budget) >= 0
        # A taxi leaves £40, which either share fits: at least one pool is always funded.
        assert funded_a or funded_b
    assert reconciliation_run().ok is True


def test_one_funding_key_from_many_threads_funds_once() -> None:
    organiser, service, budgets = _setup(3, 100_00)
    pool = _pool(organiser, service, budgets, 90_00)
    key = new_idempotency_key()
    results = _at_once(
        [
            lambda: pooling.pool_fund(pool=pool, funded_by=organiser, idempotency_key=key)
            for _ in range(6)
        ]
    )
    assert all(isinstance(r, Pool) for r in results), results
    assert _assert_all_or_nothing(pool, budgets) is True
    assert [_balance(b) for b in budgets] == [70_00, 70_00, 70_00]
    assert reconciliation_run().ok is True
