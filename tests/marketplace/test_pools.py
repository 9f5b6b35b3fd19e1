"""Pooled purchasing (marketplace/pooling.py and its pages): who may open, join, leave,
fund, cancel and confirm a pool; every transition and every refused one; shares that
sum exactly to the cost; funding that pays every share or none; refunds that restore
every balance; and who sees which member's name."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from budgets.models import (
    Budget,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Spend,
    SpendCategory,
)
from budgets.monitoring import reconciliation_run
from budgets.services import budget_transition, new_idempotency_key, spend_record
from core.exceptions import Conflict
from core.models import AuditEvent, Notification
from marketplace import pooling
from marketplace.models import Pool, PoolMember, Service
from tests.conftest import World, staff_user
from tests.factories import BudgetHolderFactory, RepresentationFactory, make_budget
from tests.marketplace.factories import ProviderFactory, ServiceFactory, category
from users.models import Representation, Role

TODAY = timezone.localdate
IN_TWO_WEEKS = lambda: timezone.localdate() + datetime.timedelta(days=14)  # noqa: E731


@dataclass
class Market:
    w: World
    service: Service
    organiser: Any  # care coordinator at org X
    commissioner: Any  # at org X
    holders: list[Any]  # three holders at org X, each with £100 in an active budget
    budgets: list[Budget]
    money_rep: Any  # represents holders[0] with the money scope

    def balance(self, budget: Budget) -> int:
        return LedgerAccount.objects.get(contribution__budget=budget).balance_pence


@pytest.fixture
def m(world: World) -> Market:
    provider = ProviderFactory(organisation=world.provider_org, name="Bright Days Kitchen")
    service = ServiceFactory(
        provider=provider,
        title="Cookery course",
        category=category("learning"),
        price=(40_00, "session"),
    )
    holders = [
        BudgetHolderFactory(name=name, organisation=world.org_x)
        for name in ("Ann Carter", "Ben Dale", "Cath Evans")
    ]
    budgets = [make_budget(h, paid_in_pence=100_00) for h in holders]
    money_rep = RepresentationFactory(
        holder=holders[0],
        scopes=[Representation.Scope.VIEW, Representation.Scope.MANAGE_MONEY],
        recorded_by=world.staff_x,
    ).representative
    return Market(
        w=world,
        service=service,
        organiser=world.staff_x,
        commissioner=world.commissioner,
        holders=holders,
        budgets=budgets,
        money_rep=money_rep,
    )


def open_pool(m: Market, **overrides: Any) -> Pool:
    args: dict[str, Any] = {
        "organiser": m.organiser,
        "service": m.service,
        "organisation": m.w.org_x,
        "purpose": "Learn to cook together",
        "cost_pence": 100_00,
        "minimum_members": 2,
        "deadline": IN_TWO_WEEKS(),
    }
    args.update(overrides)
    return pooling.pool_create(**args)


def join_all(m: Market, pool: Pool, count: int = 3, **kwargs: Any) -> list[PoolMember]:
    return [
        pooling.pool_join(pool=pool, budget=b, joined_by=b.holder.user, **kwargs)
        for b in m.budgets[:count]
    ]


def fund(m: Market, pool: Pool, key: str | None = None, by: Any = None) -> Pool:
    return pooling.pool_fund(
        pool=pool, funded_by=by or m.organiser, idempotency_key=key or new_idempotency_key()
    )


def paid_to_provider() -> int:
    entries = LedgerEntry.objects.filter(account__kind="payee", account__name="Bright Days Kitchen")
    return int(entries.aggregate(total=Sum("amount_pence"))["total"] or 0)


def pool_spends() -> int:
    return Spend.objects.filter(note__startswith="Share of the pooled purchase").count()


# Shares --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cost", "count"),
    [(100_00, 3), (1, 1), (2, 2), (10_01, 7), (99_999_99, 13), (100, 99), (1_000_000_00, 97)],
)
def test_equal_shares_sum_exactly_to_the_cost(cost: int, count: int) -> None:
    shares = pooling.split_equally(cost, count)
    assert len(shares) == count
    assert sum(shares) == cost
    assert max(shares) - min(shares) <= 1
    # The leftover pennies go to the first members, so the order never changes them.
    assert shares == sorted(shares, reverse=True)


def test_every_split_of_every_small_cost_sums_exactly() -> None:
    for cost in range(1, 400):
        for count in range(1, 12):
            assert sum(pooling.split_equally(cost, count)) == cost


def test_the_first_to_join_pay_the_leftover_pennies(m: Market) -> None:
    pool = open_pool(m, cost_pence=100_00)
    members = join_all(m, pool)
    assert pooling.shares(pool) == {
        members[0].pk: 33_34,
        members[1].pk: 33_33,
        members[2].pk: 33_33,
    }


def test_someone_joining_is_shown_their_share_now_and_the_most_it_can_be(m: Market) -> None:
    pool = open_pool(m, cost_pence=100_00, minimum_members=3)
    outlook = pooling.share_if_joined(pool)
    # Until the minimum have joined, the share is the cost split the fewest ways.
    assert (outlook.now_pence, outlook.at_most_pence) == (33_33, 33_34)
    join_all(m, pool, 3)
    outlook = pooling.share_if_joined(pool)
    assert (outlook.now_pence, outlook.at_most_pence) == (25_00, 33_34)


# Opening a pool --------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.SUPPORT_PLANNER, Role.CARE_COORDINATOR, Role.COMMISSIONER])
def test_staff_who_plan_or_commission_open_pools_for_their_organisation(
    m: Market, role: str
) -> None:
    pool = open_pool(m, organiser=staff_user(m.w.org_x, role))
    assert pool.state == Pool.State.OPEN
    assert AuditEvent.objects.filter(action="pool.created", object_id=str(pool.pk)).exists()


def test_a_holder_and_a_representative_with_the_money_scope_open_pools_for_their_icb(
    m: Market,
) -> None:
    assert open_pool(m, organiser=m.holders[1].user).organiser == m.holders[1].user
    assert open_pool(m, organiser=m.money_rep).organiser == m.money_rep


@pytest.mark.parametrize(
    "who",
    ["finance_officer", "org_admin_x", "provider_staff", "staff_y", "representative", "holder_b"],
)
def test_others_cannot_open_a_pool_for_org_x(m: Market, who: str) -> None:
    with pytest.raises(PermissionDenied):
        open_pool(m, organiser=m.w.users()[who])
    assert not Pool.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"purpose": "  "}, "purpose", "Say what the members want to achieve."),
        ({"deadline": "today"}, "deadline", "The deadline must be in the future."),
        ({"deadline": "yesterday"}, "deadline", "The deadline must be in the future."),
        ({"deadline": "next year"}, "deadline", "The deadline must be within a year."),
        ({"minimum_members": 1}, "minimum_members", "A pool needs at least 2 members."),
        (
            {"minimum_members": 4, "maximum_members": 3},
            "maximum_members",
            "The most members must be at least the fewest.",
        ),
        ({"cost_pence": 0}, "cost_pence", "The amount must be more than £0.00."),
        ({"cost_pence": 12.5}, "cost_pence", "Enter the amount in whole pence."),
        (
            {"cost_pence": 3, "maximum_members": 4},
            "cost_pence",
            "The cost is too small to share: each member must pay at least 1p.",
        ),
        (
            {"share_pence": 10_00},
            "share_pence",
            "With an equal split, the share comes from the cost.",
        ),
        (
            {"split": "fixed", "share_pence": 25_00, "cost_pence": 99_00},
            "cost_pence",
            "With a fixed share, the cost is the share times the fewest members: £50.00.",
        ),
        ({"split": "whatever"}, "split", "Choose how the cost is shared."),
    ],
)
def test_a_pool_with_bad_details_is_refused_with_a_clear_message(
    m: Market, overrides: dict[str, Any], field: str, message: str
) -> None:
    dates = {
        "today": TODAY(),
        "yesterday": TODAY() - datetime.timedelta(days=1),
        "next year": TODAY() + datetime.timedelta(days=400),
    }
    if overrides.get("deadline") in dates:
        overrides = {**overrides, "deadline": dates[overrides["deadline"]]}
    with pytest.raises(ValidationError) as error:
        open_pool(m, **overrides)
    assert error.value.message_dict == {field: [message]}
    assert not Pool.objects.exists()


def test_a_free_or_unlisted_service_cannot_be_pooled(m: Market) -> None:
    free = ServiceFactory(provider=m.service.provider, is_free=True)
    with pytest.raises(ValidationError, match="That service is free"):
        open_pool(m, service=free)
    withdrawn = ServiceFactory(provider=m.service.provider, status=Service.Status.WITHDRAWN)
    with pytest.raises(ValidationError, match="not listed"):
        open_pool(m, service=withdrawn)


def test_a_fixed_share_pool_costs_the_share_for_the_fewest_members(m: Market) -> None:
    pool = open_pool(m, split="fixed", share_pence=25_00, cost_pence=None, minimum_members=3)
    assert (pool.cost_pence, pool.share_pence) == (75_00, 25_00)


# Joining and leaving -------------------------------------------------------------------


def test_a_holder_joins_with_their_own_budget_and_the_organiser_is_told(m: Market) -> None:
    pool = open_pool(m)
    member = pooling.pool_join(pool=pool, budget=m.budgets[0], joined_by=m.holders[0].user)
    assert member.contribution == m.budgets[0].contributions.get()
    assert member.show_name is False
    event = AuditEvent.objects.get(action="pool.joined")
    assert event.person_id == m.holders[0].pk
    assert event.changes["share_now_pence"] == 50_00  # the cost split the fewest ways
    note = Notification.objects.get(user=m.organiser)
    assert note.body.startswith("Someone joined")  # no name without the member's agreement


def test_a_representative_with_the_money_scope_joins_for_the_holder(m: Market) -> None:
    pool = open_pool(m)
    member = pooling.pool_join(pool=pool, budget=m.budgets[0], joined_by=m.money_rep)
    assert member.joined_by == m.money_rep
    assert AuditEvent.objects.get(action="pool.joined").acting_for_id == m.holders[0].pk


def test_someone_who_cannot_manage_a_budget_cannot_join_with_it(m: Market) -> None:
    pool = open_pool(m)
    view_only = RepresentationFactory(
        holder=m.holders[1], scopes=[Representation.Scope.VIEW], recorded_by=m.organiser
    ).representative
    for who in (view_only, m.holders[0].user, m.organiser, m.commissioner, m.w.provider_staff):
        with pytest.raises(PermissionDenied):
            pooling.pool_join(pool=pool, budget=m.budgets[1], joined_by=who)
    assert not PoolMember.objects.exists()


def test_another_icbs_holder_cannot_join(m: Market) -> None:
    pool = open_pool(m)
    with pytest.raises(PermissionDenied):
        pooling.pool_join(pool=pool, budget=m.w.budget_b, joined_by=m.w.holder_b.user)
    assert not PoolMember.objects.exists()
    assert pooling.joinable_funding(m.w.holder_b.user, pool) == []
    assert pool not in pooling.pools_visible(m.w.holder_b.user)


def test_joining_twice_is_refused(m: Market) -> None:
    pool = open_pool(m)
    join_all(m, pool, 1)
    with pytest.raises(Conflict, match="Ann Carter is already a member of this pool"):
        pooling.pool_join(pool=pool, budget=m.budgets[0], joined_by=m.money_rep)


def test_a_full_pool_takes_nobody_else(m: Market) -> None:
    pool = open_pool(m, maximum_members=2)
    join_all(m, pool, 2)
    with pytest.raises(Conflict, match="This pool is full"):
        pooling.pool_join(pool=pool, budget=m.budgets[2], joined_by=m.holders[2].user)


def test_nobody_joins_after_the_deadline(m: Market) -> None:
    pool = open_pool(m)
    Pool.objects.filter(pk=pool.pk).update(deadline=TODAY() - datetime.timedelta(days=1))
    with pytest.raises(Conflict, match="The deadline to join this pool has passed"):
        pooling.pool_join(pool=pool, budget=m.budgets[0], joined_by=m.holders[0].user)


def test_a_suspended_budget_cannot_join(m: Market) -> None:
    pool = open_pool(m)
    budget_transition(
        budget=m.budgets[0], to_state="suspended", changed_by=m.commissioner, reason="Review"
    )
    with pytest.raises(Conflict, match="Only an active budget can pay a share"):
        pooling.pool_join(pool=pool, budget=m.budgets[0], joined_by=m.holders[0].user)


def test_funding_from_someone_elses_budget_is_refused(m: Market) -> None:
    pool = open_pool(m)
    with pytest.raises(ValidationError, match="That funding is not part of this budget"):
        pooling.pool_join(
            pool=pool,
            budget=m.budgets[0],
            contribution=m.budgets[1].contributions.get(),
            joined_by=m.holders[0].user,
        )


def test_a_plan_item_not_in_the_budgets_plan_is_refused(m: Market) -> None:
    pool = open_pool(m)
    with pytest.raises(ValidationError) as error:
        pooling.pool_join(
            pool=pool, budget=m.budgets[0], plan_item=999_999, joined_by=m.holders[0].user
        )
    assert "plan_item" in error.value.message_dict


def test_a_member_leaves_while_open_and_can_join_again(m: Market) -> None:
    pool = open_pool(m)
    member = join_all(m, pool, 1)[0]
    pooling.pool_leave(member=member, left_by=m.money_rep)
    assert pool.members.current().count() == 0
    with pytest.raises(Conflict, match="already given up"):
        pooling.pool_leave(member=member, left_by=m.holders[0].user)
    again = pooling.pool_join(pool=pool, budget=m.budgets[0], joined_by=m.holders[0].user)
    assert again.pk != member.pk


def test_only_someone_who_manages_the_money_can_give_up_a_place(m: Market) -> None:
    pool = open_pool(m)
    member = join_all(m, pool, 1)[0]
    for who in (m.holders[1].user, m.organiser, m.commissioner):
        with pytest.raises(PermissionDenied):
            pooling.pool_leave(member=member, left_by=who)


# Funding: all or nothing ------------------------------------------------------------------


def test_funding_posts_every_share_from_each_budget_to_the_provider(m: Market) -> None:
    pool = open_pool(m, cost_pence=100_00)
    members = join_all(m, pool)
    funded = fund(m, pool)
    assert funded.state == Pool.State.FUNDED
    assert funded.funded_by == m.organiser
    assert [m.balance(b) for b in m.budgets] == [66_66, 66_67, 66_67]
    for member, share in zip(members, [33_34, 33_33, 33_33], strict=True):
        member.refresh_from_db()
        spend = member.spend
        assert spend is not None
        assert (member.share_pence, spend.amount_pence) == (share, share)
        assert spend.budget_id == member.budget_id
        assert spend.payee == "Bright Days Kitchen"
        assert spend.category == SpendCategory.TRAINING
        assert spend.recorded_by == member.joined_by
        assert spend.transaction.idempotency_key == f"spend:pool:{pool.uuid}:member:{member.pk}"
    assert paid_to_provider() == 100_00
    event = AuditEvent.objects.get(action="pool.funded")
    assert (event.actor, event.changes["total_pence"]) == (m.organiser, 100_00)
    assert AuditEvent.objects.filter(action="pool.share_paid", actor=m.organiser).count() == 3
    assert reconciliation_run().ok is True


def test_a_share_is_linked_to_the_plan_item_it_pays_for(m: Market) -> None:
    from plans.models import SupportItem, SupportPlan

    pool = open_pool(m)
    plan = SupportPlan.objects.create(
        budget=m.budgets[0],
        holder=m.holders[0],
        version=1,
        created_by=m.holders[0].user,
    )
    item = SupportItem.objects.create(
        plan=plan,
        description="Cookery lessons",
        provider_kind="marketplace",
        unit_cost_pence=40_00,
        yearly_cost_pence=40_00,
        stream="nhs_chc",
        key="6f0c1a52-7d0e-4e3a-9a51-2f7b8c1d0a99",
    )
    # Parts are written while a plan is a draft; then it comes into force.
    SupportPlan.objects.filter(pk=plan.pk).update(state=SupportPlan.State.ACTIVE)
    member = pooling.pool_join(
        pool=pool, budget=m.budgets[0], plan_item=item.pk, joined_by=m.holders[0].user
    )
    pooling.pool_join(pool=pool, budget=m.budgets[1], joined_by=m.holders[1].user)
    fund(m, pool)
    member.refresh_from_db()
    assert member.spend is not None
    assert member.spend.plan_item_id == item.pk


def test_a_member_short_of_money_blocks_funding_and_nothing_is_posted_for_anyone(
    m: Market,
) -> None:
    pool = open_pool(m, cost_pence=150_00)
    members = join_all(m, pool)
    # Ben spends most of his budget: £100 - £60 = £40 left, and his share is £50.
    spend_record(
        budget=m.budgets[1],
        payee="Taxi",
        spent_on=TODAY(),
        amount_pence=60_00,
        category=SpendCategory.TRANSPORT,
        recorded_by=m.holders[1].user,
        idempotency_key=new_idempotency_key(),
    )
    entries = LedgerEntry.objects.count()
    transactions = LedgerTransaction.objects.count()
    with pytest.raises(Conflict) as error:
        fund(m, pool)
    assert error.value.message == (
        "This pool cannot be funded because one member's budget does not have enough money "
        "for their share. Nothing has been paid from anyone's budget. The member has been "
        "told privately."
    )
    assert (LedgerEntry.objects.count(), LedgerTransaction.objects.count()) == (
        entries,
        transactions,
    )
    assert pool_spends() == 0
    assert [m.balance(b) for b in m.budgets] == [100_00, 40_00, 100_00]
    pool.refresh_from_db()
    assert pool.state == Pool.State.OPEN
    assert all(PoolMember.objects.get(pk=x.pk).spend_id is None for x in members)
    # Ben is told privately, with his own figures; nobody else hears them.
    private = Notification.objects.get(subject__contains="could not be paid")
    assert private.user == m.holders[1].user
    assert "has £40.00 available and your share is £50.00" in private.body
    assert not Notification.objects.filter(body__contains="£40.00").exclude(user=m.holders[1].user)
    assert AuditEvent.objects.get(action="pool.funding_refused").person_id == m.holders[1].pk
    assert reconciliation_run().ok is True


def test_the_short_member_is_named_only_if_they_agreed(m: Market) -> None:
    pool = open_pool(m, cost_pence=150_00)
    pooling.pool_join(pool=pool, budget=m.budgets[0], joined_by=m.holders[0].user)
    pooling.pool_join(pool=pool, budget=m.budgets[1], joined_by=m.holders[1].user, show_name=True)
    pooling.pool_join(pool=pool, budget=m.budgets[2], joined_by=m.holders[2].user)
    spend_record(
        budget=m.budgets[1],
        payee="Taxi",
        spent_on=TODAY(),
        amount_pence=60_00,
        category=SpendCategory.TRANSPORT,
        recorded_by=m.holders[1].user,
        idempotency_key=new_idempotency_key(),
    )
    with pytest.raises(Conflict, match=r"because Ben's budget does not have enough money"):
        fund(m, pool)
    assert pool_spends() == 0


def test_a_concurrent_spend_after_the_check_makes_the_whole_pool_fail(
    m: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check passes on a stale figure (as if another spend emptied Cath's budget
    after it), so the refusal comes from the database's balance constraint, after the
    first shares were written: they are rolled back with it."""
    from budgets import services

    pool = open_pool(m, cost_pence=150_00)
    join_all(m, pool)
    last = max(m.budgets, key=lambda b: LedgerAccount.objects.get(contribution__budget=b).pk)
    spend_record(
        budget=last,
        payee="Taxi",
        spent_on=TODAY(),
        amount_pence=90_00,
        category=SpendCategory.TRANSPORT,
        recorded_by=last.holder.user,
        idempotency_key=new_idempotency_key(),
    )
    real_check, real_funding = pooling._check_member, services._spend_funding

    def check_ignoring_balance(pool: Any, member: Any, share: int, account: Any, today: Any) -> Any:
        account.balance_pence = 1_000_00
        return real_check(pool, member, share, account, today)

    def stale(*args: Any) -> Any:
        found, payee_id = real_funding(*args)
        found.account.balance_pence = 1_000_00
        return found, payee_id

    monkeypatch.setattr(pooling, "_check_member", check_ignoring_balance)
    monkeypatch.setattr(services, "_spend_funding", stale)
    with pytest.raises(Conflict, match="one member's budget does not have enough money"):
        fund(m, pool)
    assert pool_spends() == 0
    assert sorted(m.balance(b) for b in m.budgets) == [10_00, 100_00, 100_00]
    private = Notification.objects.get(subject__contains="could not be paid", user=last.holder.user)
    assert "has £10.00 available and your share is £50.00" in private.body
    pool.refresh_from_db()
    assert pool.state == Pool.State.OPEN
    assert reconciliation_run().ok is True


def test_funding_twice_with_one_key_moves_money_once(m: Market) -> None:
    pool = open_pool(m)
    join_all(m, pool, 2)
    key = new_idempotency_key()
    first = fund(m, pool, key)
    again = fund(m, pool, key)
    assert first.pk == again.pk
    assert again.state == Pool.State.FUNDED
    assert pool_spends() == 2
    assert [m.balance(b) for b in m.budgets[:2]] == [50_00, 50_00]
    assert AuditEvent.objects.filter(action="pool.funded").count() == 1
    with pytest.raises(Conflict, match="This pool has already been funded"):
        fund(m, pool, new_idempotency_key())


def test_funding_needs_the_minimum_and_the_deadline(m: Market) -> None:
    pool = open_pool(m, minimum_members=3)
    join_all(m, pool, 2)
    with pytest.raises(Conflict, match="needs 3 members before it can be funded; it has 2"):
        fund(m, pool)
    pooling.pool_join(pool=pool, budget=m.budgets[2], joined_by=m.holders[2].user)
    Pool.objects.filter(pk=pool.pk).update(deadline=TODAY() - datetime.timedelta(days=1))
    with pytest.raises(Conflict, match="The deadline for this pool has passed"):
        fund(m, pool)
    assert pool_spends() == 0


def test_a_member_whose_budget_was_suspended_blocks_funding(m: Market) -> None:
    pool = open_pool(m)
    join_all(m, pool, 2)
    budget_transition(
        budget=m.budgets[0], to_state="suspended", changed_by=m.commissioner, reason="Review"
    )
    with pytest.raises(Conflict, match=r"cannot pay their share at the moment \(the budget"):
        fund(m, pool)
    assert pool_spends() == 0


@pytest.mark.parametrize("who", ["holder", "money_rep", "provider_staff", "staff_y", "finance"])
def test_only_the_organiser_or_a_commissioner_funds(m: Market, who: str) -> None:
    pool = open_pool(m)
    join_all(m, pool, 2)
    user = {
        "holder": m.holders[0].user,
        "money_rep": m.money_rep,
        "provider_staff": m.w.provider_staff,
        "staff_y": m.w.staff_y,
        "finance": m.w.finance_officer,
    }[who]
    with pytest.raises(PermissionDenied):
        fund(m, pool, by=user)
    assert fund(m, pool, by=m.commissioner).funded_by == m.commissioner


def test_a_funding_request_without_a_key_is_refused(m: Market) -> None:
    pool = open_pool(m)
    join_all(m, pool, 2)
    with pytest.raises(ValidationError):
        pooling.pool_fund(pool=pool, funded_by=m.organiser, idempotency_key="")


# After funding -------------------------------------------------------------------------------


def test_a_failed_purchase_refunds_every_share_exactly(m: Market) -> None:
    pool = open_pool(m, cost_pence=100_00)
    members = join_all(m, pool)
    fund(m, pool)
    key = new_idempotency_key()
    done = pooling.pool_purchase_failed(
        pool=pool, reason="The course was cancelled.", by=m.w.provider_staff, idempotency_key=key
    )
    assert done.state == Pool.State.REFUNDED
    assert [m.balance(b) for b in m.budgets] == [100_00, 100_00, 100_00]
    assert paid_to_provider() == 0
    for member in members:
        member.refresh_from_db()
        assert member.refund is not None
        assert member.spend is not None
        assert member.refund.reverses_id == member.spend.transaction_id
        assert Spend.objects.get(pk=member.spend_id).refunded_pence == member.share_pence
    # Again (a double click, or someone else): nothing more moves.
    again = pooling.pool_purchase_failed(
        pool=pool, reason="Again", by=m.organiser, idempotency_key=new_idempotency_key()
    )
    assert again.state == Pool.State.REFUNDED
    assert [m.balance(b) for b in m.budgets] == [100_00, 100_00, 100_00]
    assert LedgerTransaction.objects.filter(kind="refund").count() == 3
    assert Notification.objects.filter(subject="Your pooled purchase did not go ahead").count() >= 3
    assert reconciliation_run().ok is True


def test_the_provider_confirms_the_purchase(m: Market) -> None:
    pool = open_pool(m)
    join_all(m, pool, 2)
    fund(m, pool)
    done = pooling.pool_complete(pool=pool, by=m.w.provider_staff)
    assert done.state == Pool.State.COMPLETED
    assert pooling.pool_complete(pool=pool, by=m.organiser).state == Pool.State.COMPLETED
    with pytest.raises(Conflict, match="This pool is bought: it cannot be refunded"):
        pooling.pool_purchase_failed(
            pool=pool, reason="No", by=m.organiser, idempotency_key=new_idempotency_key()
        )


@pytest.mark.parametrize("who", ["holder", "staff_y", "finance", "money_rep"])
def test_members_and_other_staff_cannot_say_whether_it_was_bought(m: Market, who: str) -> None:
    pool = open_pool(m)
    join_all(m, pool, 2)
    fund(m, pool)
    user = {
        "holder": m.holders[0].user,
        "staff_y": m.w.staff_y,
        "finance": m.w.finance_officer,
        "money_rep": m.money_rep,
    }[who]
    with pytest.raises(PermissionDenied):
        pooling.pool_complete(pool=pool, by=user)
    with pytest.raises(PermissionDenied):
        pooling.pool_purchase_failed(
            pool=pool, reason="No", by=user, idempotency_key=new_idempotency_key()
        )


def test_the_organiser_cancels_an_open_pool_and_members_are_told(m: Market) -> None:
    pool = open_pool(m)
    join_all(m, pool, 2)
    with pytest.raises(ValidationError, match="Say why the pool is being cancelled"):
        pooling.pool_cancel(pool=pool, cancelled_by=m.organiser, reason=" ")
    with pytest.raises(PermissionDenied):
        pooling.pool_cancel(pool=pool, cancelled_by=m.holders[0].user, reason="No")
    done = pooling.pool_cancel(pool=pool, cancelled_by=m.organiser, reason="The hall closed.")
    assert (done.state, done.close_reason) == (Pool.State.CANCELLED, "The hall closed.")
    told = set(
        Notification.objects.filter(subject="A pool you joined was cancelled").values_list(
            "user", flat=True
        )
    )
    assert {m.holders[0].user_id, m.holders[1].user_id, m.money_rep.pk} <= told


# Every refused transition ------------------------------------------------------------------


def _in_state(m: Market, state: str) -> Pool:
    pool = open_pool(m)
    join_all(m, pool, 2)
    if state in ("funded", "completed", "refunded"):
        fund(m, pool)
    if state == "completed":
        pooling.pool_complete(pool=pool, by=m.organiser)
    if state == "refunded":
        pooling.pool_purchase_failed(
            pool=pool, reason="No", by=m.organiser, idempotency_key=new_idempotency_key()
        )
    if state == "cancelled":
        pooling.pool_cancel(pool=pool, cancelled_by=m.organiser, reason="No")
    if state == "expired":
        Pool.objects.filter(pk=pool.pk).update(state=state)
    pool.refresh_from_db()
    assert pool.state == state
    return pool


ACTIONS = {
    "join": lambda m, p: pooling.pool_join(
        pool=p, budget=m.budgets[2], joined_by=m.holders[2].user
    ),
    "leave": lambda m, p: pooling.pool_leave(
        member=p.members.order_by("pk").first(), left_by=m.holders[0].user
    ),
    "fund": lambda m, p: fund(m, p),
    "cancel": lambda m, p: pooling.pool_cancel(pool=p, cancelled_by=m.organiser, reason="x"),
    "complete": lambda m, p: pooling.pool_complete(pool=p, by=m.organiser),
    "fail": lambda m, p: pooling.pool_purchase_failed(
        pool=p, reason="x", by=m.organiser, idempotency_key=new_idempotency_key()
    ),
}
ALLOWED = {
    "open": {"join", "leave", "fund", "cancel"},
    "funded": {"complete", "fail"},
    "completed": {"complete"},  # confirming again changes nothing
    "refunded": {"fail"},  # a repeat changes nothing
    "cancelled": {"cancel"},
    "expired": set(),
}


@pytest.mark.parametrize(
    ("state", "action"),
    [(s, a) for s in ALLOWED for a in ACTIONS if a not in ALLOWED[s]],
)
def test_each_action_in_a_state_that_does_not_allow_it_is_refused(
    m: Market, state: str, action: str
) -> None:
    pool = _in_state(m, state)
    balances = [m.balance(b) for b in m.budgets]
    events = AuditEvent.objects.count()
    with pytest.raises(Conflict) as error:
        ACTIONS[action](m, pool)
    assert re.search(r"^This pool (is|has)", error.value.message), error.value.message
    pool.refresh_from_db()
    assert pool.state == state
    assert [m.balance(b) for b in m.budgets] == balances
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(("state", "action"), [(s, a) for s in ALLOWED for a in sorted(ALLOWED[s])])
def test_each_allowed_action_moves_the_pool_as_the_transitions_say(
    m: Market, state: str, action: str
) -> None:
    pool = _in_state(m, state)
    ACTIONS[action](m, pool)
    pool.refresh_from_db()
    expected = {
        "fund": "funded",
        "cancel": "cancelled",
        "complete": "completed",
        "fail": "refunded",
    }
    assert pool.state == expected.get(action, state)
    assert pool.state == state or pool.state in Pool.TRANSITIONS[state]


# The deadline sweep --------------------------------------------------------------------------


def test_the_sweep_closes_pools_past_their_deadline(m: Market) -> None:
    short = open_pool(m, purpose="Too few", minimum_members=3)
    join_all(m, short, 2)
    enough = open_pool(m, purpose="Enough, not funded")
    join_all(m, enough, 2)
    current = open_pool(m, purpose="Still open")
    Pool.objects.filter(pk__in=[short.pk, enough.pk]).update(
        deadline=TODAY() - datetime.timedelta(days=1)
    )
    assert pooling.pool_expire_sweep() == 2
    assert pooling.pool_expire_sweep() == 0
    short.refresh_from_db()
    enough.refresh_from_db()
    current.refresh_from_db()
    assert short.state == Pool.State.EXPIRED
    assert short.close_reason == "The deadline passed with 2 of the 3 members needed."
    assert enough.state == Pool.State.CANCELLED
    assert current.state == Pool.State.OPEN
    assert (
        Notification.objects.filter(
            user=m.holders[0].user, subject="A pool you joined has closed"
        ).count()
        == 2
    )


# Who sees whom -------------------------------------------------------------------------------


def test_members_see_others_by_first_name_only_if_they_agreed(m: Market) -> None:
    pool = open_pool(m)
    pooling.pool_join(pool=pool, budget=m.budgets[0], joined_by=m.holders[0].user)
    pooling.pool_join(pool=pool, budget=m.budgets[1], joined_by=m.holders[1].user, show_name=True)
    pooling.pool_join(pool=pool, budget=m.budgets[2], joined_by=m.holders[2].user)
    seen_by_cath = pooling.pool_members_visible(pool, m.holders[2].user)
    assert [(v.label, v.share_pence) for v in seen_by_cath] == [
        ("Another member", None),
        ("Ben", None),
        ("Cath Evans", 33_33),
    ]
    seen_by_rep = pooling.pool_members_visible(pool, m.money_rep)
    assert [v.label for v in seen_by_rep] == ["Ann Carter", "Ben", "Another member"]
    seen_by_staff = pooling.pool_members_visible(pool, m.commissioner)
    assert [(v.label, v.share_pence) for v in seen_by_staff] == [
        ("Ann Carter", 33_34),
        ("Ben Dale", 33_33),
        ("Cath Evans", 33_33),
    ]
    seen_by_provider = pooling.pool_members_visible(pool, m.w.provider_staff)
    assert [v.label for v in seen_by_provider] == ["Another member", "Ben", "Another member"]


# Pages -----------------------------------------------------------------------------------------


def test_the_pages_show_pools_to_those_who_may_see_them(m: Market, client_for: Any) -> None:
    pool = open_pool(m)
    join_all(m, pool, 1)
    detail = reverse("marketplace:pool_detail", args=[pool.pk])
    assert client_for(m.holders[1].user).get(detail).status_code == 200  # may join
    assert client_for(m.w.holder_b.user).get(detail).status_code == 404  # another ICB
    assert client_for(m.w.staff_y).get(detail).status_code == 404
    page = client_for(m.holders[1].user).get(reverse("marketplace:pool_list"))
    assert "Learn to cook together" in page.content.decode()
    assert (
        "Learn to cook together"
        not in client_for(m.w.holder_b.user).get(reverse("marketplace:pool_list")).content.decode()
    )


def test_the_pages_join_fund_and_a_double_submit_funds_once(m: Market, client_for: Any) -> None:
    pool = open_pool(m)
    for budget in m.budgets[:2]:
        response = client_for(budget.holder.user).post(
            reverse("marketplace:pool_join", args=[pool.pk]),
            {"contribution": budget.contributions.get().pk, "show_name": "on"},
        )
        assert response.status_code == 302
    organiser = client_for(m.organiser)
    key = new_idempotency_key()
    for _ in range(2):
        response = organiser.post(
            reverse("marketplace:pool_fund", args=[pool.pk]), {"idempotency_key": key}
        )
        assert response.status_code == 302
    assert pool_spends() == 2
    assert [m.balance(b) for b in m.budgets[:2]] == [50_00, 50_00]
    # A member may not fund it (the page refuses), nor may another ICB's staff see it.
    member = client_for(m.holders[0].user)
    assert (
        member.post(
            reverse("marketplace:pool_fund", args=[pool.pk]), {"idempotency_key": key}
        ).status_code
        == 403
    )
    assert (
        client_for(m.w.staff_y)
        .post(reverse("marketplace:pool_fund", args=[pool.pk]), {"idempotency_key": key})
        .status_code
        == 404
    )


def test_the_create_page_is_for_those_who_may_organise(m: Market, client_for: Any) -> None:
    url = reverse("marketplace:pool_create", args=[m.service.pk])
    assert client_for(m.w.finance_officer).get(url).status_code == 403
    assert client_for(m.w.provider_staff).get(url).status_code == 403
    organiser = client_for(m.organiser)
    assert organiser.get(url).status_code == 200
    deadline = IN_TWO_WEEKS()
    response = organiser.post(
        url,
        {
            "purpose": "Learn to cook together",
            "split": "equal",
            "cost": "90.00",
            "minimum_members": "3",
            "deadline_day": str(deadline.day),
            "deadline_month": str(deadline.month),
            "deadline_year": str(deadline.year),
        },
    )
    pool = Pool.objects.get()
    assert response.status_code == 302
    assert (pool.cost_pence, pool.minimum_members, pool.deadline) == (90_00, 3, deadline)
    errors = organiser.post(url, {"split": "equal"})
    assert errors.status_code == 200
    body = errors.content.decode()
    assert "<title>Error: " in body
    assert "Enter the whole cost" in body
    assert "Say what the members want to achieve" in body
