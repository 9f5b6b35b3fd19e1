"""Posting to the ledger: the one place that writes transactions and entries (apart from
the set-based allocation SQL in ``budgets/allocation.py``). Services call ``post`` inside
their own ``transaction.atomic`` block, after locking what they change."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection
from django.db.models.base import ModelState

from budgets.models import (
    FundingContribution,
    LedgerAccount,
    LedgerTransaction,
)
from core.exceptions import Conflict
from core.prepared import Prepared

# One spend, refund or recovery above this is refused as a likely typing error (pounds
# typed as pence, an extra nought). Far above any real single payment from a budget.
MAX_MOVEMENT_PENCE = 1_000_000_00
# A year's funding (a contribution, an indicative amount) may be larger than any one
# movement of money; the database allows up to £10m a year per contribution.
MAX_YEARLY_PENCE = 10_000_000_00


class InsufficientFunds(Conflict):
    """The budget account would go below its permitted overdraft."""

    def __init__(self, message: str, *, account_id: int | None = None) -> None:
        super().__init__(message)
        self.account_id = account_id


class IdempotencyKeyReused(Conflict):
    """The key was already used for a different request."""

    def __init__(
        self,
        message: str = (
            "This request was already made with different details. Start again to make a new one."
        ),
    ) -> None:
        super().__init__(message)


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


PAYEE_SQL = "SELECT id FROM budgets_ledgeraccount WHERE kind = 'payee' AND name = %s"
PAYEE_INSERT_SQL = """
INSERT INTO budgets_ledgeraccount (kind, name, stream, balance_pence, overdraft_pence)
VALUES ('payee', %s, '', 0, 0)
ON CONFLICT (name) WHERE kind = 'payee' DO NOTHING
RETURNING id
"""


def payee_account_id(*, name: str) -> int:
    """The account of a free-text payee (one per name), made on first use. One statement
    when the payee is known; two first spends to a new payee at once both get the one
    account (``ON CONFLICT DO NOTHING`` waits for the other insert, then re-reads)."""
    name = " ".join(name.split())
    with connection.cursor() as cursor:
        for statement in (PAYEE_SQL, PAYEE_INSERT_SQL, PAYEE_SQL):
            cursor.execute(statement, [name])
            row = cursor.fetchone()
            if row is not None:
                return int(row[0])
    raise LedgerAccount.DoesNotExist(name)  # unreachable: the insert or a re-read finds it


def payee_account(*, name: str) -> LedgerAccount:
    return LedgerAccount.objects.get(pk=payee_account_id(name=name))


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


# One statement writes the header and its legs. ``ON CONFLICT DO NOTHING`` on the
# idempotency key makes a replay write nothing (and no error, so no savepoint is
# needed); the entries' statement trigger then moves the cached balances, and the
# balance check constraint refuses an overdraft, even under concurrent postings.
# ``POSTING_CTE`` ends open, so a caller may add its own rows (a spend, its audit event)
# to the same statement, each selecting ``FROM header`` so that a replay writes none;
# ``POSTING_TYPES`` gives its parameters' types for a ``Prepared`` statement.
POSTING_CTE = """
WITH header AS (
    INSERT INTO budgets_ledgertransaction
        (kind, idempotency_key, budget_id, contribution_id, occurred_on, description,
         created_by_id, reverses_id, due_on)
    VALUES (%(kind)s, %(key)s, %(budget)s, %(contribution)s, %(occurred_on)s,
            %(description)s, %(created_by)s, %(reverses)s, %(due_on)s)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, posted_at
), legs AS (
    INSERT INTO budgets_ledgerentry (transaction_id, account_id, amount_pence)
    SELECT header.id, leg.account_id, leg.amount_pence
      FROM header, unnest(%(accounts)s::bigint[], %(amounts)s::bigint[])
           AS leg (account_id, amount_pence)
)"""
POST_SQL = POSTING_CTE + "\nSELECT id, posted_at FROM header"
POSTING_TYPES = {
    "kind": "text",
    "key": "text",
    "budget": "bigint",
    "contribution": "bigint",
    "occurred_on": "date",
    "description": "text",
    "created_by": "bigint",
    "reverses": "bigint",
    "due_on": "date",
    "accounts": "bigint[]",
    "amounts": "bigint[]",
}


@functools.cache
def _attnames(model: Any) -> frozenset[str]:
    return frozenset(field.attname for field in model._meta.concrete_fields)


def loaded(model: Any, values: dict[str, Any], related: dict[str, Any] | None = None) -> Any:
    """A model instance as ``Model.from_db`` makes it from the columns in ``values`` (by
    attname: ``budget_id``, not ``budget``), with ``related`` objects already in its
    cache (by field name; each must match its ``_id`` in ``values``). Columns not given
    load from the database if touched, as deferred fields do. Cheaper than the model's
    ``__init__``, which walks every field and sets relations through their descriptors:
    the spend path makes several instances per spend from the row it read or wrote."""
    unknown = values.keys() - _attnames(model)
    if unknown:
        raise ValueError(f"Not columns of {model.__name__}: {sorted(unknown)}")
    instance = model.__new__(model)
    state = ModelState()
    state.adding = False
    state.db = DEFAULT_DB_ALIAS
    instance._state = state
    instance.__dict__.update(values)
    if related:
        state.fields_cache.update(related)
    return instance


@dataclass(frozen=True)
class Posting:
    """One transaction about to be written: its model fields and the SQL parameters."""

    fields: dict[str, Any]
    params: dict[str, Any]
    legs: Sequence[Leg]

    def transaction(self, transaction_id: int, posted_at: datetime.datetime) -> LedgerTransaction:
        """The transaction as written: every column, and the objects it was given."""
        fields = self.fields
        links = ("budget", "contribution", "created_by", "reverses")
        transaction: LedgerTransaction = loaded(
            LedgerTransaction,
            {
                "id": transaction_id,
                "posted_at": posted_at,
                "kind": fields["kind"],
                "idempotency_key": fields["idempotency_key"],
                "occurred_on": fields["occurred_on"],
                "description": fields["description"],
                "due_on": fields["due_on"],
                "allocation_run_id": None,
                **{f"{name}_id": getattr(fields[name], "pk", None) for name in links},
            },
            {name: fields[name] for name in links if fields[name] is not None},
        )
        return transaction


def posting(
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
) -> Posting:
    """Check the legs and gather what ``POSTING_CTE`` needs. Raises ``ValueError`` for
    legs that do not balance (a programming error: the database trigger would refuse
    them too)."""
    if len(legs) < 2 or sum(leg.amount_pence for leg in legs) != 0:
        raise ValueError("A ledger transaction needs two or more legs summing to zero.")
    user = created_by if getattr(created_by, "is_authenticated", False) else None
    fields = {
        "kind": kind,
        "idempotency_key": idempotency_key,
        "budget": budget,
        "contribution": contribution,
        "occurred_on": occurred_on,
        "description": description[:300],
        "created_by": user,
        "reverses": reverses,
        "due_on": due_on,
    }
    params = {
        **fields,
        "key": idempotency_key,
        "budget": getattr(budget, "pk", None),
        "contribution": getattr(contribution, "pk", None),
        "created_by": getattr(user, "pk", None),
        "reverses": getattr(reverses, "pk", None),
        "accounts": [leg.account_id for leg in legs],
        "amounts": [leg.amount_pence for leg in legs],
    }
    return Posting(fields=fields, params=params, legs=legs)


def execute(
    statement: str | Prepared, params: dict[str, Any], legs: Sequence[Leg]
) -> tuple[Any, ...] | None:
    """Run a statement built on ``POSTING_CTE``; its one row, or None on a replay.
    Raises ``InsufficientFunds`` if Postgres refuses a budget account's balance (the
    transaction is then unusable: the caller's atomic block rolls back)."""
    try:
        with connection.cursor() as cursor:
            if isinstance(statement, Prepared):
                statement.execute(cursor, params)
            else:
                cursor.execute(statement, params)
            row: tuple[Any, ...] | None = cursor.fetchone()
    except IntegrityError as error:
        constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", "")
        if constraint == "ledger_account_within_overdraft":
            budget_legs = [leg.account_id for leg in legs if leg.amount_pence < 0]
            raise InsufficientFunds(
                "There is not enough money in the budget for this.",
                account_id=budget_legs[0] if len(budget_legs) == 1 else None,
            ) from error
        raise
    return row


def post_once(**kwargs: Any) -> LedgerTransaction | None:
    """Write one balanced transaction (the arguments of ``posting``), or nothing if the
    idempotency key was used before (then None: the caller looks up the first one with
    ``existing``). Must run inside the caller's atomic block; raises as ``posting`` and
    ``execute`` do."""
    planned = posting(**kwargs)
    row = execute(POST_SQL, planned.params, planned.legs)
    return None if row is None else planned.transaction(row[0], row[1])


def post(**kwargs: Any) -> LedgerTransaction:
    """``post_once``, for callers that looked for a replay first (under their lock):
    a key already taken is someone else's request, so ``IdempotencyKeyReused``."""
    posted = post_once(**kwargs)
    if posted is None:
        raise IdempotencyKeyReused()
    return posted
