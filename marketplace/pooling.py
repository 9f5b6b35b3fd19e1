"""Pooled purchasing: people with similar goals buy one service together, each paying a
share from their own budget.

A pool is open to join until its deadline; once enough members have joined, its
organiser (or a commissioner of its organisation) funds it, which posts every member's
share in one database transaction: every share or none. If the purchase then fails,
every share is refunded. Money moves only through ``budgets.services`` (``spend_record``,
``spend_refund``), with idempotency keys derived from the pool and the member, so a
retried or double-clicked action moves money once.

Errors: ``ValidationError`` for bad input (nothing changes), ``PermissionDenied`` for a
caller without the right, ``Conflict`` (409) for a wrong state or a member who cannot
pay."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from budgets import services as budget_services
from budgets.ledger import InsufficientFunds, format_pence
from budgets.models import (
    Budget,
    BudgetHolder,
    FundingContribution,
    FundingStream,
    LedgerAccount,
)
from budgets.permissions import can_manage_money
from core.exceptions import Conflict
from core.locks import sweep_lock
from core.models import AuditEvent
from core.services import audit_record, notification_send
from marketplace.buying import spend_category_for
from marketplace.models import Pool, PoolMember, Service
from marketplace.permissions import is_provider_staff
from users.models import Membership, Organisation, Representation, Role

# Staff of an ICB or council who may organise a pool for the people they serve.
ORGANISER_ROLES = frozenset({Role.SUPPORT_PLANNER, Role.CARE_COORDINATOR, Role.COMMISSIONER})
POOL_ORGANISATION_KINDS = frozenset({Organisation.Kind.ICB, Organisation.Kind.LOCAL_AUTHORITY})
MAX_MEMBERS = 100
MAX_DEADLINE_DAYS = 366
KEY_RE = re.compile(r"^[A-Za-z0-9_.:-]{8,100}$")

# Who may do what ------------------------------------------------------------------------


def _authenticated(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def money_holders(user: Any) -> QuerySet[BudgetHolder]:
    """Holders whose money the user may manage as the holder or a representative with
    the money scope."""
    if not _authenticated(user):
        return BudgetHolder.objects.none()
    represented = (
        Representation.objects.current()
        .filter(representative=user, scopes__contains=[Representation.Scope.MANAGE_MONEY])
        .values("holder_id")
    )
    return BudgetHolder.objects.filter(Q(user=user) | Q(pk__in=represented))


def _served_by(holder: BudgetHolder, organisation_id: int) -> bool:
    return organisation_id in (holder.organisation_id, holder.council_id)


def organisations_to_organise(user: Any) -> list[Organisation]:
    """The ICBs and councils the user may organise a pool for: where they are a
    support planner, care coordinator or commissioner; and the ICB of each holder
    whose money they manage."""
    if not _authenticated(user):
        return []
    ids = set(
        Membership.objects.filter(
            user=user, role__in=ORGANISER_ROLES, organisation__kind__in=POOL_ORGANISATION_KINDS
        ).values_list("organisation_id", flat=True)
    )
    ids.update(money_holders(user).values_list("organisation_id", flat=True))
    return list(Organisation.objects.filter(pk__in=ids).order_by("name"))


def may_organise(user: Any, organisation: Organisation) -> bool:
    return any(o.pk == organisation.pk for o in organisations_to_organise(user))


def is_pool_staff(user: Any, pool: Pool) -> bool:
    """Staff (any role) of the ICB or council the pool is for."""
    return (
        _authenticated(user)
        and Membership.objects.filter(user=user, organisation_id=pool.organisation_id).exists()
    )


def may_manage(user: Any, pool: Pool) -> bool:
    """Fund or cancel: the organiser, or a commissioner of the pool's organisation."""
    if not _authenticated(user):
        return False
    return (
        pool.organiser_id == user.pk
        or Membership.objects.filter(
            user=user, organisation_id=pool.organisation_id, role=Role.COMMISSIONER
        ).exists()
    )


def may_confirm(user: Any, pool: Pool) -> bool:
    """Say the purchase happened (or failed): those who manage the pool, and the
    provider's staff."""
    return may_manage(user, pool) or is_provider_staff(user, pool.service.provider)


def pools_visible(user: Any) -> QuerySet[Pool]:
    """The pools the user may see: their own (``Pool.objects.for_user``), and open
    pools for the ICB or council of a holder whose money they manage (to join)."""
    if not _authenticated(user):
        return Pool.objects.none()
    holders = money_holders(user)
    org_ids = set(holders.values_list("organisation_id", flat=True))
    org_ids.update(pk for pk in holders.values_list("council_id", flat=True) if pk)
    mine = Pool.objects.for_user(user).values("pk")
    return Pool.objects.filter(
        Q(pk__in=mine) | Q(state=Pool.State.OPEN, organisation_id__in=org_ids)
    ).select_related("service__provider", "organisation")


def joinable_funding(user: Any, pool: Pool) -> list[FundingContribution]:
    """The funding (of an active budget) the user may pay a share from: holders whose
    money they manage, served by the pool's organisation, not already members."""
    if not _authenticated(user):
        return []
    members = pool.members.current().values("holder_id")
    holders = (
        money_holders(user)
        .filter(Q(organisation_id=pool.organisation_id) | Q(council_id=pool.organisation_id))
        .exclude(pk__in=members)
    )
    funding = (
        FundingContribution.objects.filter(
            budget__holder__in=holders, budget__state=Budget.State.ACTIVE
        )
        .select_related("budget__holder", "funder", "managed_by")
        .order_by("budget__holder__name", "pk")
    )
    return [c for c in funding if can_manage_money(user, c.budget, c)]


def manageable_members(user: Any, pool: Pool) -> list[PoolMember]:
    """Current members whose place the user may give up (they manage that money)."""
    return [
        member
        for member in pool.members.current().select_related("budget__holder", "contribution")
        if can_manage_money(user, member.budget, member.contribution)
    ]


# Shares ---------------------------------------------------------------------------------


def split_equally(cost_pence: int, count: int) -> list[int]:
    """``count`` shares of ``cost_pence`` that sum to it exactly: the pennies left over
    go one each to the first members (in the order they joined)."""
    if count < 1:
        return []
    base, extra = divmod(cost_pence, count)
    return [base + 1 if i < extra else base for i in range(count)]


def shares(pool: Pool, members: list[PoolMember] | None = None) -> dict[int, int]:
    """Each current member's share now, by member id, in the order they joined."""
    if members is None:
        members = list(pool.members.current().order_by("joined_at", "pk"))
    if pool.split == Pool.Split.FIXED:
        return {m.pk: int(pool.share_pence or 0) for m in members}
    return dict(
        zip([m.pk for m in members], split_equally(pool.cost_pence, len(members)), strict=True)
    )


def total_pence(pool: Pool, count: int) -> int:
    """What the members pay in all: the cost, or for a fixed split each share."""
    if pool.split == Pool.Split.FIXED:
        return int(pool.share_pence or 0) * count
    return pool.cost_pence


@dataclass(frozen=True)
class ShareOutlook:
    """What someone joining now would pay, and the most it could become."""

    now_pence: int
    at_most_pence: int


def share_if_joined(pool: Pool, current: int | None = None) -> ShareOutlook:
    if pool.split == Pool.Split.FIXED:
        fixed = int(pool.share_pence or 0)
        return ShareOutlook(fixed, fixed)
    if current is None:
        current = pool.members.current().count()
    # The newest member is last, so never gets a leftover penny; with fewer members
    # (as few as the minimum: it is never funded with fewer) a share is larger, the
    # first members paying the pennies.
    now = pool.cost_pence // max(current + 1, pool.minimum_members)
    at_most = -(-pool.cost_pence // pool.minimum_members)
    return ShareOutlook(now, max(now, at_most))


# Small helpers -----------------------------------------------------------------------------


def _text(value: Any, field: str, message: str, *, limit: int, required: bool = True) -> str:
    text = " ".join(str(value or "").split()) if field != "description" else str(value or "")
    text = text.strip()
    if required and not text:
        raise ValidationError({field: message})
    if len(text) > limit:
        raise ValidationError({field: f"Use {limit} characters or fewer."})
    return text


def _count(value: Any, field: str, message: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({field: message})
    return value


def _key(value: Any) -> str:
    if not isinstance(value, str) or not KEY_RE.match(value):
        raise ValidationError({"idempotency_key": "The request had no valid idempotency key."})
    return value


def _locked(pool: Pool) -> Pool:
    return (
        Pool.objects.select_for_update(of=("self",))
        .select_related("service__provider", "service__category", "organisation")
        .get(pk=pool.pk)
    )


def _wrong_state(pool: Pool, doing: str) -> Conflict:
    return Conflict(f"This pool is {pool.get_state_display().lower()}: it cannot be {doing}.")


def first_name(holder: BudgetHolder) -> str:
    parts = holder.name.split()
    return parts[0] if parts else "A member"


def _member_people(member: PoolMember) -> list[Any]:
    """Who hears about a member's place: the holder, representatives, and whoever
    joined for them."""
    holder = member.holder
    people: list[Any] = [holder.user] if holder.user_id else []
    people += [
        r.representative for r in holder.representations.current().select_related("representative")
    ]
    if member.joined_by_id and all(p.pk != member.joined_by_id for p in people):
        people.append(member.joined_by)
    return people


def _notify_member(member: PoolMember, *, subject: str, body: str) -> None:
    link = reverse("marketplace:pool_detail", args=[member.pool_id])
    for person in _member_people(member):
        notification_send(user=person, subject=subject, body=body, link=link)


def _notify_members(pool: Pool, members: list[PoolMember], *, subject: str, body: str) -> None:
    told: set[int] = set()
    link = reverse("marketplace:pool_detail", args=[pool.pk])
    for member in members:
        for person in _member_people(member):
            if person.pk not in told:
                told.add(person.pk)
                notification_send(user=person, subject=subject, body=body, link=link)
    if pool.organiser_id not in told:
        notification_send(user=pool.organiser, subject=subject, body=body, link=link)


def _audit(actor: Any, action: str, pool: Pool, *, person: Any = None, **changes: Any) -> None:
    acting_for = None
    if person is not None and getattr(person, "user_id", None) != getattr(actor, "pk", None):
        acting_for = person if _authenticated(actor) else None
    audit_record(
        actor=actor,
        action=action,
        obj=pool,
        organisation=pool.organisation,
        person=person,
        acting_for=acting_for,
        changes=changes,
    )


def money_user(member: PoolMember) -> Any:
    """Who a member's share is recorded (or refunded) by: someone who may manage that
    money now. Whoever joined for them first (they agreed to pay the share), then the
    holder, then a representative with the money scope; None if nobody may."""
    budget, contribution = member.budget, member.contribution
    candidates: list[Any] = [member.joined_by]
    if member.holder.user_id:
        candidates.append(member.holder.user)
    candidates += [
        r.representative
        for r in member.holder.representations.current()
        .filter(scopes__contains=[Representation.Scope.MANAGE_MONEY])
        .select_related("representative")
    ]
    for user in candidates:
        if can_manage_money(user, budget, contribution):
            return user
    return None


# Creating, joining, leaving, cancelling ---------------------------------------------------


@transaction.atomic
def pool_create(
    *,
    organiser: Any,
    service: Service,
    organisation: Organisation,
    purpose: str,
    description: str = "",
    cost_pence: int | None,
    split: str = Pool.Split.EQUAL,
    share_pence: int | None = None,
    minimum_members: int = 2,
    maximum_members: int | None = None,
    deadline: datetime.date,
) -> Pool:
    """Open a pool for the holders of an ICB or council to buy ``service`` together.

    The organiser is staff of that organisation (a support planner, care coordinator or
    commissioner), or a holder or representative with the money scope of a holder whose
    ICB it is; else PermissionDenied. With an equal split, ``cost_pence`` is the whole
    purchase, shared between however many join. With a fixed split, each member pays
    ``share_pence`` (a price per person) and the cost is that share for the minimum
    number of members (``cost_pence`` may be left None, or must match). ValidationError
    for bad input."""
    if not may_organise(organiser, organisation):
        raise PermissionDenied
    if organisation.kind not in POOL_ORGANISATION_KINDS:
        raise ValidationError(
            {"organisation": "A pool is for the people an ICB or council serves."}
        )
    if not Service.objects.listed().filter(pk=service.pk).exists():
        raise ValidationError({"service": "That service is not listed in the marketplace now."})
    if service.is_free:
        raise ValidationError({"service": "That service is free: there is nothing to pool."})
    purpose = _text(purpose, "purpose", "Say what the members want to achieve.", limit=200)
    description = _text(description, "description", "", limit=5000, required=False)
    if split not in Pool.Split.values:
        raise ValidationError({"split": "Choose how the cost is shared."})
    minimum = _count(minimum_members, "minimum_members", "Enter the fewest members, as a number.")
    if minimum < 2:
        raise ValidationError({"minimum_members": "A pool needs at least 2 members."})
    if minimum > MAX_MEMBERS:
        raise ValidationError(
            {"minimum_members": f"A pool can have at most {MAX_MEMBERS} members."}
        )
    maximum = None
    if maximum_members is not None:
        maximum = _count(maximum_members, "maximum_members", "Enter the most members, as a number.")
        if maximum < minimum:
            raise ValidationError(
                {"maximum_members": "The most members must be at least the fewest."}
            )
        if maximum > MAX_MEMBERS:
            raise ValidationError(
                {"maximum_members": f"A pool can have at most {MAX_MEMBERS} members."}
            )
    if split == Pool.Split.FIXED:
        share = budget_services.money_checked(share_pence, "share_pence")
        cost = share * minimum
        if cost_pence is not None and cost_pence != cost:
            raise ValidationError(
                {
                    "cost_pence": "With a fixed share, the cost is the share times the fewest "
                    f"members: {format_pence(cost)}."
                }
            )
        budget_services.money_checked(cost, "cost_pence")
    else:
        if share_pence is not None:
            raise ValidationError(
                {"share_pence": "With an equal split, the share comes from the cost."}
            )
        share = None
        cost = budget_services.money_checked(cost_pence, "cost_pence")
        if cost < (maximum or minimum):
            raise ValidationError(
                {"cost_pence": "The cost is too small to share: each member must pay at least 1p."}
            )
    if not isinstance(deadline, datetime.date) or isinstance(deadline, datetime.datetime):
        raise ValidationError({"deadline": "Enter a real date."})
    today = timezone.localdate()
    if deadline <= today:
        raise ValidationError({"deadline": "The deadline must be in the future."})
    if deadline > today + datetime.timedelta(days=MAX_DEADLINE_DAYS):
        raise ValidationError({"deadline": "The deadline must be within a year."})
    pool = Pool(
        purpose=purpose,
        description=description,
        service=service,
        organisation=organisation,
        organiser=organiser,
        cost_pence=cost,
        split=split,
        share_pence=share,
        minimum_members=minimum,
        maximum_members=maximum,
        deadline=deadline,
    )
    pool.full_clean()
    pool.save()
    _audit(
        organiser,
        "pool.created",
        pool,
        service=service.pk,
        cost_pence=cost,
        split=split,
        share_pence=share,
        minimum_members=minimum,
        maximum_members=maximum,
        deadline=str(deadline),
    )
    return pool


def _plan_item_checked(budget: Budget, contribution: FundingContribution, plan_item: Any) -> Any:
    """The plan item a share pays for, if any: an item of the budget's active support
    plan, paid from the share's funding stream (or free)."""
    from plans.models import SupportItem, SupportPlan

    item_id = budget_services.plan_item_id(plan_item)
    if item_id is None:
        return None
    item = SupportItem.objects.filter(
        pk=item_id, plan__budget_id=budget.pk, plan__state=SupportPlan.State.ACTIVE
    ).first()
    budget_services.plan_item_checked(
        (item.pk, item.stream) if item is not None else None, contribution
    )
    return item


@transaction.atomic
def pool_join(
    *,
    pool: Pool,
    budget: Budget,
    contribution: FundingContribution | None = None,
    plan_item: Any = None,
    show_name: bool = False,
    joined_by: Any,
) -> PoolMember:
    """Give a holder a place in an open pool, paid from one funding stream of their
    active budget (and, optionally, for one item of their support plan in force).

    PermissionDenied unless ``joined_by`` may manage that money and the holder is served
    by the pool's organisation. Conflict for a pool that is not open, past its deadline
    or full, a holder already in it, or a budget that is not active. ValidationError
    for funding or a plan item that does not fit."""
    pool = _locked(pool)
    budget = Budget.objects.select_related("holder").get(pk=budget.pk)
    holder = budget.holder
    if contribution is None:
        funding = list(budget.contributions.all()[:2])
        if len(funding) != 1:
            raise ValidationError({"contribution": "Choose which funding the share comes from."})
        contribution = funding[0]
    elif contribution.budget_id != budget.pk:
        raise ValidationError({"contribution": "That funding is not part of this budget."})
    if not can_manage_money(joined_by, budget, contribution):
        raise PermissionDenied
    if not _served_by(holder, pool.organisation_id):
        raise PermissionDenied
    if pool.state != Pool.State.OPEN:
        raise _wrong_state(pool, "joined")
    if pool.deadline < timezone.localdate():
        raise Conflict("The deadline to join this pool has passed.")
    if budget.state != Budget.State.ACTIVE:
        raise Conflict(
            "Only an active budget can pay a share; this one is "
            f"{budget.get_state_display().lower()}."
        )
    current = pool.members.current()
    if current.filter(holder=holder).exists():
        raise Conflict(f"{holder.name} is already a member of this pool.")
    count = current.count()
    if pool.maximum_members is not None and count >= pool.maximum_members:
        raise Conflict("This pool is full.")
    if pool.split == Pool.Split.EQUAL and pool.cost_pence // (count + 1) < 1:
        raise Conflict("This pool is full.")
    item = _plan_item_checked(budget, contribution, plan_item)
    member = PoolMember(
        pool=pool,
        holder=holder,
        budget=budget,
        contribution=contribution,
        plan_item=item,
        show_name=bool(show_name),
        joined_by=joined_by,
    )
    member.full_clean()
    member.save()
    outlook = share_if_joined(pool, count)
    _audit(
        joined_by,
        "pool.joined",
        pool,
        person=holder,
        member=member.pk,
        contribution=contribution.pk,
        plan_item=getattr(item, "pk", None),
        show_name=member.show_name,
        share_now_pence=outlook.now_pence,
    )
    who = first_name(holder) if member.show_name else "Someone"
    notification_send(
        user=pool.organiser,
        subject="A new member joined your pool",
        body=f"{who} joined “{pool.purpose}”. It now has {count + 1} of the "
        f"{pool.minimum_members} members it needs.",
        link=reverse("marketplace:pool_detail", args=[pool.pk]),
    )
    return member


@transaction.atomic
def pool_leave(*, member: PoolMember, left_by: Any) -> PoolMember:
    """Give up a place in an open pool (whoever may manage that member's money).
    Conflict once the pool is funded or closed, or for a place already given up."""
    pool = _locked(member.pool)
    member = (
        PoolMember.objects.select_for_update(of=("self",))
        .select_related("budget__holder", "contribution", "holder")
        .get(pk=member.pk, pool=pool)
    )
    if not can_manage_money(left_by, member.budget, member.contribution):
        raise PermissionDenied
    if member.left_at is not None:
        raise Conflict("This place in the pool was already given up.")
    if pool.state != Pool.State.OPEN:
        raise _wrong_state(pool, "left")
    member.left_at = timezone.now()
    member.save(update_fields=["left_at"])
    _audit(left_by, "pool.left", pool, person=member.holder, member=member.pk)
    who = first_name(member.holder) if member.show_name else "A member"
    notification_send(
        user=pool.organiser,
        subject="A member left your pool",
        body=f"{who} left “{pool.purpose}”.",
        link=reverse("marketplace:pool_detail", args=[pool.pk]),
    )
    return member


def _close(pool: Pool, state: str, reason: str) -> None:
    pool.state = state
    pool.closed_at = timezone.now()
    pool.close_reason = reason
    pool.save(update_fields=["state", "closed_at", "close_reason"])


def _current(pool: Pool) -> list[PoolMember]:
    return list(
        pool.members.current()
        .select_related("holder", "budget__holder", "contribution__funder", "joined_by")
        .order_by("joined_at", "pk")
    )


@transaction.atomic
def pool_cancel(*, pool: Pool, cancelled_by: Any, reason: str) -> Pool:
    """Call off an open pool (its organiser, or a commissioner of its organisation);
    nothing has been paid, so nothing moves. Members are told why."""
    pool = _locked(pool)
    if not may_manage(cancelled_by, pool):
        raise PermissionDenied
    if pool.state == Pool.State.CANCELLED:
        return pool
    if pool.state != Pool.State.OPEN:
        raise _wrong_state(pool, "cancelled")
    reason = _text(reason, "reason", "Say why the pool is being cancelled.", limit=2000)
    _close(pool, Pool.State.CANCELLED, reason)
    members = _current(pool)
    _audit(cancelled_by, "pool.cancelled", pool, state=["open", "cancelled"], reason=reason)
    _notify_members(
        pool,
        members,
        subject="A pool you joined was cancelled",
        body=f"“{pool.purpose}” was cancelled: {reason} Nothing was paid from any budget.",
    )
    return pool


# Funding ------------------------------------------------------------------------------------


class _MemberCannotPay(Exception):
    """Raised inside the funding transaction so that it rolls back; carries what to
    tell the funder (with the member's name only if they agreed) and the member."""

    def __init__(self, member: PoolMember, *, short: bool, detail: str, private: str) -> None:
        super().__init__(detail)
        self.member = member
        self.short = short
        self.detail = detail
        self.private = private

    def public_message(self) -> str:
        who = f"{first_name(self.member.holder)}'s" if self.member.show_name else "one member's"
        if self.short:
            why = f"{who} budget does not have enough money for their share"
        else:
            why = f"{who} budget cannot pay their share at the moment ({self.detail})"
        return (
            f"This pool cannot be funded because {why}. Nothing has been paid from anyone's "
            "budget. The member has been told privately."
        )


def _share_key(pool: Pool, member: PoolMember) -> str:
    return f"pool:{pool.uuid}:member:{member.pk}"


def _funded_with(pool: Pool, key: str) -> bool:
    return AuditEvent.objects.filter(
        action="pool.funded",
        object_type="marketplace.pool",
        object_id=str(pool.pk),
        changes__idempotency_key=key,
    ).exists()


def _short(member: PoolMember, share: int, available: int, pool: Pool) -> _MemberCannotPay:
    stream = FundingStream(member.contribution.stream).label
    return _MemberCannotPay(
        member,
        short=True,
        detail="not enough money",
        private=(
            f"The pool “{pool.purpose}” could not be funded because the {stream} funding of "
            f"your budget has {format_pence(max(available, 0))} available and your share is "
            f"{format_pence(share)}. Nothing has been paid from your budget. When there is "
            "enough, the organiser can try again; or you can leave the pool."
        ),
    )


def _blocked(member: PoolMember, pool: Pool, detail: str) -> _MemberCannotPay:
    return _MemberCannotPay(
        member,
        short=False,
        detail=detail,
        private=(
            f"The pool “{pool.purpose}” could not be funded because your share cannot be "
            f"paid from your budget now: {detail}. Nothing has been paid from your budget. "
            "Please contact the organiser, or leave the pool and join again."
        ),
    )


def _check_member(
    pool: Pool, member: PoolMember, share: int, account: LedgerAccount, today: datetime.date
) -> Any:
    """Everything a member's share needs, checked before anything is posted; returns
    who records the share. Raises _MemberCannotPay."""
    budget = member.budget
    if budget.state != Budget.State.ACTIVE:
        raise _blocked(member, pool, f"the budget is {budget.get_state_display().lower()}")
    if not budget.period_start <= today <= budget.period_end:
        raise _blocked(member, pool, "the budget year does not cover today")
    recorder = money_user(member)
    if recorder is None:
        raise _blocked(member, pool, "nobody may manage that budget's money now")
    if member.plan_item_id is not None:
        try:
            _plan_item_checked(budget, member.contribution, member.plan_item_id)
        except ValidationError:
            raise _blocked(
                member, pool, "the support plan item it pays for is no longer in the plan"
            ) from None
    available = account.balance_pence + account.overdraft_pence
    if share > available:
        raise _short(member, share, available, pool)
    return recorder


def pool_fund(*, pool: Pool, funded_by: Any, idempotency_key: str) -> Pool:
    """Pay for the pool: post every current member's share from their budget, all in
    one transaction, or none.

    The organiser (or a commissioner of the pool's organisation) may, once the
    minimum number of members have joined and on or before the deadline. The pool row
    is locked, then every member's budget account in ascending id order (as every
    posting locks accounts, so two pools sharing members, or a pool and spends, cannot
    deadlock); every share is checked against its balance before any is posted.

    If a member cannot pay (too little money, a budget that is not active, a plan item
    no longer in force), nothing is posted for anyone, that member is told privately
    with their own figures, and Conflict says the pool cannot be funded (naming the
    member only if they agreed to show their name). A spend that empties a budget after
    the check makes the database refuse the balance: the same happens.

    Each share is a ``spend_record`` keyed by the pool and the member, recorded by
    someone who may manage that money (``money_user``); the audit says who funded the
    pool. Sending ``idempotency_key`` again returns the funded pool and moves nothing.
    PermissionDenied for anyone else; ValidationError for a missing key."""
    key = _key(idempotency_key)
    try:
        with transaction.atomic():
            return _pool_fund(pool, funded_by, key)
    except _MemberCannotPay as refused:
        # Everything above rolled back; what is said about it is written afresh.
        with transaction.atomic():
            _funding_refused(pool, refused, funded_by)
        raise Conflict(refused.public_message()) from None


def _pool_fund(pool: Pool, funded_by: Any, key: str) -> Pool:
    pool = _locked(pool)
    if not may_manage(funded_by, pool):
        raise PermissionDenied
    if pool.state != Pool.State.OPEN:
        if pool.state != Pool.State.CANCELLED and _funded_with(pool, key):
            return pool  # a retry or a second click: it moved the money once
        if pool.state in (Pool.State.FUNDED, Pool.State.COMPLETED, Pool.State.REFUNDED):
            raise Conflict("This pool has already been funded.")
        raise _wrong_state(pool, "funded")
    today = timezone.localdate()
    if pool.deadline < today:
        raise Conflict("The deadline for this pool has passed: it can no longer be funded.")
    members = _current(pool)
    if len(members) < pool.minimum_members:
        raise Conflict(
            f"This pool needs {pool.minimum_members} members before it can be funded; "
            f"it has {len(members)}."
        )
    share_of = shares(pool, members)
    accounts = {
        account.contribution_id: account
        for account in LedgerAccount.objects.select_for_update()
        .filter(contribution_id__in=[m.contribution_id for m in members])
        .order_by("pk")
    }
    members.sort(key=lambda m: accounts[m.contribution_id].pk)
    recorders = {
        m.pk: _check_member(pool, m, share_of[m.pk], accounts[m.contribution_id], today)
        for m in members
    }
    payee = pool.service.provider.name
    category = spend_category_for(pool.service)
    note = f"Share of the pooled purchase “{pool.purpose}” (pool {pool.pk})"
    posted = []
    for member in members:
        share = share_of[member.pk]
        try:
            spend = budget_services.spend_record(
                budget=member.budget,
                contribution=member.contribution,
                payee=payee,
                spent_on=today,
                amount_pence=share,
                category=category,
                recorded_by=recorders[member.pk],
                idempotency_key=_share_key(pool, member),
                note=note,
                plan_item=member.plan_item_id,
            )
        except InsufficientFunds:
            # Another spend got there first: the database refused the balance.
            account = LedgerAccount.objects.get(pk=accounts[member.contribution_id].pk)
            raise _short(
                member, share, account.balance_pence + account.overdraft_pence, pool
            ) from None
        except (Conflict, ValidationError, PermissionDenied) as error:
            detail = getattr(error, "message", None) or "; ".join(
                getattr(error, "messages", [str(error)])
            )
            raise _blocked(member, pool, str(detail).rstrip(".")) from None
        member.spend = spend
        member.share_pence = share
        member.save(update_fields=["spend", "share_pence"])
        _audit(
            funded_by,
            "pool.share_paid",
            pool,
            person=member.holder,
            member=member.pk,
            spend=spend.pk,
            share_pence=share,
            recorded_by=recorders[member.pk].pk,
        )
        posted.append(member)
    pool.state = Pool.State.FUNDED
    pool.funded_at = timezone.now()
    pool.funded_by = funded_by
    pool.save(update_fields=["state", "funded_at", "funded_by"])
    _audit(
        funded_by,
        "pool.funded",
        pool,
        state=["open", "funded"],
        idempotency_key=key,
        members=[m.pk for m in posted],
        total_pence=sum(share_of.values()),
    )
    link = reverse("marketplace:pool_detail", args=[pool.pk])
    for member in posted:
        for person in _member_people(member):
            notification_send(
                user=person,
                subject="Your pooled purchase was paid for",
                body=f"“{pool.purpose}” was funded: {format_pence(share_of[member.pk])} was "
                f"paid from {member.holder.name}'s budget to {payee}.",
                link=link,
            )
    if all(pool.organiser_id != p.pk for m in posted for p in _member_people(m)):
        notification_send(
            user=pool.organiser,
            subject="Your pool was funded",
            body=f"Every member's share of “{pool.purpose}” was paid to {payee}.",
            link=link,
        )
    return pool


def _funding_refused(pool: Pool, refused: _MemberCannotPay, funded_by: Any) -> None:
    member = PoolMember.objects.select_related("holder", "pool__organisation", "joined_by").get(
        pk=refused.member.pk
    )
    _audit(
        funded_by,
        "pool.funding_refused",
        member.pool,
        person=member.holder,
        member=member.pk,
        reason="not enough money" if refused.short else refused.detail,
    )
    _notify_member(
        member, subject="Your share of a pooled purchase could not be paid", body=refused.private
    )


# After funding ---------------------------------------------------------------------------


@transaction.atomic
def pool_complete(*, pool: Pool, by: Any) -> Pool:
    """The purchase happened: the provider's staff, or those who manage the pool,
    confirm it. Confirming again changes nothing; Conflict before funding or after a
    refund."""
    pool = _locked(pool)
    if not may_confirm(by, pool):
        raise PermissionDenied
    if pool.state == Pool.State.COMPLETED:
        return pool
    if pool.state != Pool.State.FUNDED:
        raise _wrong_state(pool, "marked as bought")
    _close(pool, Pool.State.COMPLETED, "")
    _audit(by, "pool.completed", pool, state=["funded", "completed"])
    _notify_members(
        pool,
        list(pool.members.filter(spend__isnull=False).select_related("holder", "joined_by")),
        subject="Your pooled purchase was bought",
        body=f"{pool.service.provider.name} confirmed “{pool.purpose}” went ahead.",
    )
    return pool


@transaction.atomic
def pool_purchase_failed(*, pool: Pool, reason: str, by: Any, idempotency_key: str) -> Pool:
    """The purchase did not happen: refund every member's share in full, in one
    transaction, with ``spend_refund`` (keyed by the pool and the member, so it refunds
    once however often it is sent). The provider's staff or those who manage the pool
    may say so; a pool already refunded is returned as it is. Conflict unless funded."""
    _key(idempotency_key)
    pool = _locked(pool)
    if not may_confirm(by, pool):
        raise PermissionDenied
    if pool.state == Pool.State.REFUNDED:
        return pool
    if pool.state != Pool.State.FUNDED:
        raise _wrong_state(pool, "refunded")
    reason = _text(reason, "reason", "Say why the purchase did not go ahead.", limit=2000)
    members = list(
        pool.members.filter(spend__isnull=False)
        .select_related("holder", "budget__holder", "contribution", "joined_by", "spend")
        .order_by("contribution__account__id")
    )
    refunds = {}
    for member in members:
        spend = member.spend
        if spend is None:  # filtered out above; for the type checker
            continue
        remaining = spend.amount_pence - spend.refunded_pence
        if remaining <= 0:
            continue  # the provider already paid it back through the spend itself
        recorder = money_user(member)
        if recorder is None:
            raise Conflict(
                "A member's share cannot be refunded because nobody may manage that budget's "
                "money now. Ask the finance team to refund it."
            )
        refund = budget_services.spend_refund(
            spend=spend,
            amount_pence=remaining,
            reason=f"Pooled purchase “{pool.purpose}” did not go ahead: {reason}"[:2000],
            recorded_by=recorder,
            idempotency_key=_share_key(pool, member),
        )
        member.refund = refund
        member.save(update_fields=["refund"])
        refunds[member.pk] = remaining
        _audit(
            by,
            "pool.share_refunded",
            pool,
            person=member.holder,
            member=member.pk,
            refund=refund.pk,
            amount_pence=remaining,
        )
    _close(pool, Pool.State.REFUNDED, reason)
    _audit(
        by,
        "pool.purchase_failed",
        pool,
        state=["funded", "refunded"],
        reason=reason,
        idempotency_key=idempotency_key,
        refunds=refunds,
    )
    _notify_members(
        pool,
        members,
        subject="Your pooled purchase did not go ahead",
        body=f"“{pool.purpose}” did not go ahead: {reason} Your share has been paid back "
        "into your budget.",
    )
    return pool


# The daily sweep ----------------------------------------------------------------------------


def pool_expire_sweep() -> int:
    """Close open pools whose deadline has passed: those short of their minimum
    members become expired ("closed without enough members"); those with enough whose
    organiser did not fund them in time are cancelled, saying so. Members and the
    organiser are told. Returns how many were closed. Takes a lock, so two beats never
    sweep at once; each pool is closed in its own transaction, under its row lock."""
    closed = 0
    with sweep_lock("marketplace.pool_expire_sweep") as acquired:
        if not acquired:
            return 0
        today = timezone.localdate()
        due = list(
            Pool.objects.filter(state=Pool.State.OPEN, deadline__lt=today).values_list(
                "pk", flat=True
            )
        )
        for pk in due:
            with transaction.atomic():
                pool = _locked(Pool(pk=pk))
                if pool.state != Pool.State.OPEN or pool.deadline >= today:
                    continue
                members = _current(pool)
                if len(members) < pool.minimum_members:
                    reason = (
                        f"The deadline passed with {len(members)} of the "
                        f"{pool.minimum_members} members needed."
                    )
                    _close(pool, Pool.State.EXPIRED, reason)
                else:
                    reason = "The deadline passed before the pool was funded."
                    _close(pool, Pool.State.CANCELLED, reason)
                _audit(None, "pool.closed_at_deadline", pool, state=["open", pool.state])
                _notify_members(
                    pool,
                    members,
                    subject="A pool you joined has closed",
                    body=f"“{pool.purpose}” closed: {reason} Nothing was paid from any budget.",
                )
                closed += 1
    return closed


# Who sees whom -------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisibleMember:
    label: str
    mine: bool  # a holder whose money the viewer manages (or the viewer themselves)
    share_pence: int | None  # shown only to the member's own side and the pool's staff
    member_id: int


def pool_members_visible(pool: Pool, viewer: Any) -> list[VisibleMember]:
    """The current members (or, once funded, those who paid) as the viewer may see
    them. Staff of the pool's organisation see names and shares. Anyone else sees the
    members they manage the money of by name with their share, and other members only
    by first name and only if that member agreed, else "Another member"."""
    if pool.state in (Pool.State.FUNDED, Pool.State.COMPLETED, Pool.State.REFUNDED):
        members = list(
            pool.members.filter(spend__isnull=False)
            .select_related("holder", "budget__holder", "contribution")
            .order_by("joined_at", "pk")
        )
        share_of = {m.pk: int(m.share_pence or 0) for m in members}
    else:
        members = list(
            pool.members.current()
            .select_related("holder", "budget__holder", "contribution")
            .order_by("joined_at", "pk")
        )
        share_of = shares(pool, members)
    staff = is_pool_staff(viewer, pool)
    own_holders = set(money_holders(viewer).values_list("pk", flat=True))
    visible = []
    for member in members:
        mine = member.holder_id in own_holders
        if staff or mine:
            label = member.holder.name
        elif member.show_name:
            label = first_name(member.holder)
        else:
            label = "Another member"
        visible.append(
            VisibleMember(
                label=label,
                mine=mine,
                share_pence=share_of.get(member.pk) if (staff or mine) else None,
                member_id=member.pk,
            )
        )
    return visible
