"""Posting to the ledger: the one place that writes transactions and entries (apart from
the set-based allocation SQL in ``budgets/allocation.py``). Services call ``post`` inside
their own ``transaction.atomic`` block, after locking what they change."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum

from budgets.models import (
    FundingContribution,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
)
from core.exceptions import Conflict

# One spend, refund or recovery above this is refused as a likely typing error (pounds
# typed as pence, an extra nought). Far above any real single payment from a budget.
MAX_MOVEMENT_PENCE = 1_000_000_00
# A year's funding (a contribution, an indicative amount) may be larger than any one
# movement of money; the database allows up to £10m a year per contribution.
MAX_YEARLY_PENCE = 10_000_000_00


class InsufficientFunds(Conflict):
    """The budget account would go below its permitted overdraft."""


class IdempotencyKeyReused(Conflict):
    """The key was already used for a different request."""


@dataclass(frozen=True)
class Leg:
    account_id: int
    amount_pence: int


def format_pence(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}.{rest:02d}"


def funder_account(*, organisation: Any, stream: str) -> LedgerAccount:
    account, _ = LedgerAccount.objects.get_or_create(
        kind=LedgerAccount.Kind.FUNDER,
        organisation=organisation,
        stream=stream,
        defaults={"name": f"{organisation} ({stream})"},
    )
    return account


def recovery_account(*, organisation: Any, stream: str) -> LedgerAccount:
    account, _ = LedgerAccount.objects.get_or_create(
        kind=LedgerAccount.Kind.RECOVERY,
        organisation=organisation,
        stream=stream,
        defaults={"name": f"Recovered to {organisation} ({stream})"},
    )
    return account


def payee_account(*, name: str) -> LedgerAccount:
    """Free-text payees share an account per name. ``get_or_create`` inside a savepoint
    copes with two first spends to a new payee at once (one insert wins, the other
    re-reads)."""
    name = " ".join(name.split())
    try:
        with transaction.atomic():
            account, _ = LedgerAccount.objects.get_or_create(
                kind=LedgerAccount.Kind.PAYEE, name=name
            )
    except IntegrityError:
        account = LedgerAccount.objects.get(kind=LedgerAccount.Kind.PAYEE, name=name)
    return account


def lock_budget_account(contribution: FundingContribution) -> LedgerAccount:
    """Lock the contribution's budget account row. Every posting that takes money out of
    it holds this lock, so they run one at a time and each sees the last one's balance."""
    return LedgerAccount.objects.select_for_update().get(contribution=contribution)


def existing(idempotency_key: str) -> LedgerTransaction | None:
    return LedgerTransaction.objects.filter(idempotency_key=idempotency_key).first()


def require_funds(account: LedgerAccount, amount_pence: int) -> None:
    """Check a locked account can pay ``amount_pence``. The database check constraint
    would refuse it anyway; this gives the person a message with the figures."""
    available = account.balance_pence + account.overdraft_pence
    if amount_pence > available:
        raise InsufficientFunds(
            f"There is not enough money for this: {format_pence(amount_pence)} is more than "
            f"the {format_pence(max(available, 0))} available."
        )


def post(
    *,
    kind: str,
    idempotency_key: str,
    legs: Sequence[Leg],
    occurred_on: datetime.date,
    description: str = "",
    budget: Any = None,
    contribution: Any = None,
    created_by: Any = None,
    reverses: LedgerTransaction | None = None,
    due_on: datetime.date | None = None,
) -> LedgerTransaction:
    """Write one balanced transaction. Must run inside the caller's atomic block.

    Raises ``IdempotencyKeyReused`` if the key is taken (callers look for a replay with
    ``existing`` first, under their lock), ``InsufficientFunds`` if Postgres refuses the
    balance, and ``ValueError`` for legs that do not balance (a programming error: the
    database trigger would refuse them too)."""
    if len(legs) < 2 or sum(leg.amount_pence for leg in legs) != 0:
        raise ValueError("A ledger transaction needs two or more legs summing to zero.")
    try:
        with transaction.atomic():
            posted = LedgerTransaction.objects.create(
                kind=kind,
                idempotency_key=idempotency_key,
                budget=budget,
                contribution=contribution,
                occurred_on=occurred_on,
                description=description[:300],
                created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
                reverses=reverses,
                due_on=due_on,
            )
            LedgerEntry.objects.bulk_create(
                LedgerEntry(
                    transaction=posted, account_id=leg.account_id, amount_pence=leg.amount_pence
                )
                for leg in legs
            )
    except IntegrityError as error:
        constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", "")
        if constraint == "ledger_account_within_overdraft":
            raise InsufficientFunds("There is not enough money in the budget for this.") from error
        if existing(idempotency_key) is not None or "idempotency_key" in str(error):
            raise IdempotencyKeyReused(
                "This request was already made with different details. Start again to make a "
                "new one."
            ) from error
        raise
    return posted


def account_balance(account: LedgerAccount) -> int:
    """The balance as the sum of the account's entries (the cached figure's check)."""
    total: int = account.entries.aggregate(total=Sum("amount_pence", default=0))["total"]
    return total
