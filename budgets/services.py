"""Every write to holders, budgets, funding, spending, flags and recoveries. Each
function is one transaction, locks what it changes, checks who is asking, and writes its
audit event. Money moves only through ``budgets.ledger.post`` (and the allocation SQL).

Errors: ``ValidationError`` for bad input (nothing changes), ``PermissionDenied`` for a
caller without the right, ``Conflict`` (409) for a wrong state or too little money."""

from __future__ import annotations

import contextlib
import datetime
import uuid
from typing import Any

import filetype
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from budgets import ledger
from budgets.ledger import Leg, format_pence
from budgets.models import (
    Budget,
    BudgetHolder,
    BudgetNotice,
    FundingContribution,
    FundingStream,
    LedgerAccount,
    LedgerTransaction,
    MonitoringFlag,
    Spend,
    SpendCategory,
    SpendQuery,
    SurplusRecovery,
)
from budgets.permissions import (
    can_create_holder,
    can_manage_budget,
    can_manage_money,
    is_finance_for,
    is_staff_for,
)
from core.exceptions import Conflict
from core.prepared import Prepared
from core.services import audit_columns, audit_record, notification_send
from users.models import Organisation

SPEND_CATEGORIES = frozenset(SpendCategory.values)
PLAN_ITEM_NOT_ACTIVE = (
    'Choose an item from the support plan now in force for this budget, or "Not in my plan".'
)
PAYEE_MAX_LENGTH = 200  # Spend.payee and a payee ledger account's name
RECEIPT_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def money_checked(
    value: Any, field: str, *, allow_zero: bool = False, cap: int = ledger.MAX_MOVEMENT_PENCE
) -> int:
    """Amounts are whole pence. Refuse floats, fractions of a penny, and absurd sizes."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({field: "Enter the amount in whole pence."})
    if value < 0 or (value == 0 and not allow_zero):
        raise ValidationError({field: "The amount must be more than £0.00."})
    if value > cap:
        raise ValidationError({field: f"The amount must be {format_pence(cap)} or less."})
    return value


def _holder_people(holder: BudgetHolder) -> list[Any]:
    """Who hears about the holder's money: the holder and representatives who can see."""
    people = [holder.user] if holder.user_id else []
    people += [
        r.representative for r in holder.representations.current().select_related("representative")
    ]
    return people


def holder_notify(holder: BudgetHolder, *, subject: str, body: str, link: str) -> None:
    for person in _holder_people(holder):
        notification_send(user=person, subject=subject, body=body, link=link)


# Holders ----------------------------------------------------------------------------


@transaction.atomic
def holder_create(
    *,
    created_by: Any,
    nhs_number: str,
    name: str,
    date_of_birth: datetime.date,
    postcode: str,
    organisation: Organisation,
    eligibility_route: str,
    council: Organisation | None = None,
    user: Any = None,
) -> BudgetHolder:
    """Open a holder's record. Raises PermissionDenied unless the creator works for the
    responsible ICB or council; ValidationError for a bad NHS number, postcode or date,
    or an NHS number already on the platform."""
    if not (
        can_create_holder(created_by, organisation)
        or (council and can_create_holder(created_by, council))
    ):
        raise PermissionDenied
    if organisation.kind != Organisation.Kind.ICB:
        raise ValidationError({"organisation": "Choose the integrated care board responsible."})
    if council is not None and council.kind != Organisation.Kind.LOCAL_AUTHORITY:
        raise ValidationError({"council": "Choose a council (local authority)."})
    holder = BudgetHolder(
        nhs_number=nhs_number,
        name=name.strip(),
        date_of_birth=date_of_birth,
        postcode=postcode,
        organisation=organisation,
        council=council,
        eligibility_route=eligibility_route,
        user=user,
    )
    holder.full_clean()
    holder.save()
    audit_record(
        actor=created_by,
        action="holder.created",
        obj=holder,
        organisation=organisation,
        person=holder,
        changes={"eligibility_route": eligibility_route},
    )
    return holder


# Budgets and funding ------------------------------------------------------------------


@transaction.atomic
def budget_create(
    *,
    holder: BudgetHolder,
    period_start: datetime.date,
    period_end: datetime.date,
    created_by: Any,
    payment_schedule: str = "four_weekly",
    indicative_assessment: Any = None,
) -> Budget:
    """Start an indicative budget for a year. Raises PermissionDenied unless the
    creator is a commissioner or finance officer for the holder."""
    if not can_manage_budget(created_by, holder):
        raise PermissionDenied
    if period_end <= period_start:
        raise ValidationError({"period_end": "The end must be after the start."})
    if (period_end - period_start).days > 366:
        raise ValidationError({"period_end": "A budget covers one year at most."})
    if indicative_assessment is not None and indicative_assessment.holder_id != holder.pk:
        raise ValidationError({"indicative_assessment": "That assessment is for someone else."})
    budget = Budget(
        holder=holder,
        period_start=period_start,
        period_end=period_end,
        payment_schedule=payment_schedule,
        created_by=created_by,
        indicative_assessment=indicative_assessment,
        indicative_pence=indicative_assessment.indicative_pence if indicative_assessment else None,
    )
    budget.full_clean()
    budget.save()
    audit_record(
        actor=created_by,
        action="budget.created",
        obj=budget,
        organisation=holder.organisation,
        person=holder,
        changes={
            "period": [str(period_start), str(period_end)],
            "indicative_pence": budget.indicative_pence,
            "assessment": indicative_assessment.pk if indicative_assessment else None,
        },
    )
    return budget


@transaction.atomic
def contribution_add(
    *,
    budget: Budget,
    funder: Organisation,
    stream: str,
    yearly_pence: int,
    added_by: Any,
    management_option: str = "notional",
    managed_by: Organisation | None = None,
) -> FundingContribution:
    """Add a funder's share, with its own ledger account. Only before the budget is
    closed; a closed budget takes no new money."""
    budget = Budget.objects.select_for_update().select_related("holder").get(pk=budget.pk)
    if not can_manage_budget(added_by, budget.holder):
        raise PermissionDenied
    if budget.state == Budget.State.CLOSED:
        raise Conflict("This budget is closed.")
    if funder.kind not in (Organisation.Kind.ICB, Organisation.Kind.LOCAL_AUTHORITY):
        raise ValidationError({"funder": "A funder is an ICB or a council."})
    contribution = FundingContribution(
        budget=budget,
        funder=funder,
        stream=stream,
        yearly_pence=money_checked(yearly_pence, "yearly_pence", cap=ledger.MAX_YEARLY_PENCE),
        management_option=management_option,
        managed_by=managed_by,
    )
    contribution.full_clean()
    contribution.save()
    LedgerAccount.objects.create(
        kind=LedgerAccount.Kind.BUDGET,
        name=f"{budget.holder.name}: {contribution}",
        contribution=contribution,
        budget=budget,
    )
    ledger.funder_account(organisation=funder, stream=stream)
    audit_record(
        actor=added_by,
        action="budget.contribution_added",
        obj=budget,
        organisation=budget.holder.organisation,
        person=budget.holder,
        changes={
            "funder": funder.name,
            "stream": stream,
            "yearly_pence": yearly_pence,
            "management_option": management_option,
        },
    )
    return contribution


@transaction.atomic
def contribution_change(
    *,
    contribution: FundingContribution,
    yearly_pence: int,
    changed_by: Any,
    reasons: str = "",
    plan: Any = None,
) -> FundingContribution:
    """Change a funder's yearly amount. Reducing an agreed or running budget needs
    written reasons: they go to the holder as a notice, kept on their record.

    ``plan``: the support plan whose approval sets the budget (``plans.services``),
    which has checked the approver's rights itself; recorded in the audit event."""
    contribution = (
        FundingContribution.objects.select_for_update()
        .select_related("budget__holder", "funder")
        .get(pk=contribution.pk)
    )
    budget = contribution.budget
    if plan is None and not can_manage_budget(changed_by, budget.holder):
        raise PermissionDenied
    if budget.state == Budget.State.CLOSED:
        raise Conflict("This budget is closed.")
    new = money_checked(yearly_pence, "yearly_pence", cap=ledger.MAX_YEARLY_PENCE)
    old = contribution.yearly_pence
    if new == old:
        return contribution
    reduction = new < old and budget.state != Budget.State.INDICATIVE
    if reduction and not reasons.strip():
        raise ValidationError(
            {"reasons": "Give the reasons for the reduction: the person will be sent them."}
        )
    contribution.yearly_pence = new
    contribution.full_clean()
    contribution.save(update_fields=["yearly_pence"])
    if reduction:
        notice = BudgetNotice.objects.create(
            budget=budget,
            kind=BudgetNotice.Kind.REDUCTION,
            subject=f"Your budget from {contribution.funder.name} is being reduced",
            reasons=reasons.strip(),
            amount_pence=old - new,
            issued_by=changed_by,
        )
        holder_notify(
            budget.holder,
            subject=notice.subject,
            body=(
                f"The yearly amount goes from {format_pence(old)} to {format_pence(new)}. "
                f"Reasons: {notice.reasons}"
            ),
            link=reverse("budgets:notice_list"),
        )
    audit_record(
        actor=changed_by,
        action="budget.contribution_changed",
        obj=budget,
        organisation=budget.holder.organisation,
        person=budget.holder,
        changes={
            "contribution": contribution.pk,
            "yearly_pence": [old, new],
            "reasons": reasons,
            **({"plan": plan.pk} if plan is not None else {}),
        },
    )
    return contribution


@transaction.atomic
def budget_transition(
    *, budget: Budget, to_state: str, changed_by: Any, reason: str = "", plan: Any = None
) -> Budget:
    """Move a budget through indicative → agreed → active ⇄ suspended → closed.
    Re-applying the current state is a no-op; any other disallowed move raises
    Conflict. Agreeing needs at least one funding contribution. ``plan``: as for
    ``contribution_change`` (an approved plan agrees an indicative budget)."""
    budget = Budget.objects.select_for_update().select_related("holder").get(pk=budget.pk)
    if plan is None and not can_manage_budget(changed_by, budget.holder):
        raise PermissionDenied
    if to_state not in Budget.State.values:
        raise ValidationError({"state": "Choose a state from the list."})
    if budget.state == to_state:
        return budget
    if not budget.can_move_to(to_state):
        raise Conflict(
            f"A budget that is {budget.get_state_display().lower()} cannot become "
            f"{Budget.State(to_state).label.lower()}."
        )
    if to_state == Budget.State.AGREED and not budget.contributions.exists():
        raise Conflict("Add at least one funding contribution before agreeing the budget.")
    if to_state in (Budget.State.SUSPENDED, Budget.State.CLOSED) and not reason.strip():
        raise ValidationError({"reason": "Give the reason for this change."})
    old = budget.state
    budget.state = to_state
    fields = ["state", "updated_at"]
    if to_state == Budget.State.ACTIVE and budget.active_from is None:
        budget.active_from = timezone.localdate()
        fields.append("active_from")
    if to_state == Budget.State.CLOSED:
        budget.ended_on = timezone.localdate()
        fields.append("ended_on")
    budget.save(update_fields=fields)
    if to_state == Budget.State.ACTIVE:
        BudgetHolder.objects.filter(pk=budget.holder_id).update(status=BudgetHolder.Status.ACTIVE)
    audit_record(
        actor=changed_by,
        action="budget.state_changed",
        obj=budget,
        organisation=budget.holder.organisation,
        person=budget.holder,
        changes={
            "state": [old, to_state],
            "reason": reason,
            **({"plan": plan.pk} if plan is not None else {}),
        },
    )
    return budget


# Spending -----------------------------------------------------------------------------


def _check_receipt(receipt: UploadedFile) -> tuple[str, str]:
    """The receipt's real type from its first bytes (a renamed .exe stays an .exe)."""
    if receipt.size is not None and receipt.size > settings.RECEIPT_MAX_BYTES:
        limit = settings.RECEIPT_MAX_BYTES // (1024 * 1024)
        raise ValidationError({"receipt": f"The receipt must be smaller than {limit} MB."})
    if not receipt.size:
        raise ValidationError({"receipt": "The receipt file is empty."})
    receipt.seek(0)
    head = receipt.read(8192)
    receipt.seek(0)
    kind = filetype.guess(head)
    mime = kind.mime if kind else ""
    if mime not in RECEIPT_TYPES:
        raise ValidationError({"receipt": "The receipt must be a PDF, JPEG or PNG file."})
    return mime, RECEIPT_TYPES[mime]


# The spend path runs for every spend in the country, so its lookup is one hand-written
# query (an ORM select_related over five tables cost more to compile and plan than to
# run). It reads the funding, its budget account, the budget, the holder, the payee's
# account (made on first use, when this finds none) and, when the spend names a support
# plan item, that item if it belongs to the budget's active plan (so linking a spend to
# the plan costs no extra round trip).
SPEND_FUNDING = Prepared(
    "phb_spend_funding",
    """
SELECT c.id, c.managed_by_id, c.funder_id, c.stream,
       a.id, a.balance_pence, a.overdraft_pence,
       b.id, b.state, b.period_start, b.period_end,
       h.id, h.user_id, h.organisation_id, h.council_id, h.name,
       (SELECT p.id FROM budgets_ledgeraccount AS p
         WHERE p.kind = 'payee' AND p.name = %(payee)s) AS payee_account_id,
       item.id, item.stream
  FROM budgets_fundingcontribution AS c
  JOIN budgets_ledgeraccount AS a ON a.contribution_id = c.id
  JOIN budgets_budget AS b ON b.id = c.budget_id
  JOIN budgets_budgetholder AS h ON h.id = b.holder_id
  LEFT JOIN LATERAL (
      SELECT i.id, i.stream FROM plans_supportitem AS i
        JOIN plans_supportplan AS sp ON sp.id = i.plan_id
       WHERE i.id = %(plan_item)s AND sp.budget_id = c.budget_id AND sp.state = 'active'
  ) AS item ON true
 WHERE c.budget_id = %(budget)s AND (%(contribution)s::bigint IS NULL OR c.id = %(contribution)s)
 ORDER BY c.id
 LIMIT 2
""",
    {"budget": "bigint", "contribution": "bigint", "payee": "text", "plan_item": "bigint"},
)


def _partial(model: Any, **values: Any) -> Any:
    """A model instance from the columns read; any other field loads if touched. The
    same instance ``Model.from_db`` makes for those columns, without running
    ``Model.__init__`` over every field (the spend path makes several per spend).
    ``values`` are column attnames (``budget_id``, not ``budget``)."""
    return ledger.loaded(model, values)


def _spend_funding(
    budget: Budget,
    contribution: FundingContribution | None,
    payee: str,
    plan_item: int | None = None,
) -> tuple[FundingContribution, int | None]:
    """The funding a spend comes from, with its budget account, budget and holder, and
    the payee's account id if the payee is known. The funding's ``plan_item_found`` is
    (id, stream) of ``plan_item`` if that is an item of the budget's active support
    plan, else None."""
    with connection.cursor() as cursor:
        SPEND_FUNDING.execute(
            cursor,
            {
                "budget": budget.pk,
                "contribution": getattr(contribution, "pk", None),
                "payee": payee,
                "plan_item": plan_item,
            },
        )
        rows = cursor.fetchall()
    if contribution is not None and not rows:
        raise ValidationError({"contribution": "That funding is not part of this budget."})
    if not rows and not Budget.objects.filter(pk=budget.pk).exists():
        raise Budget.DoesNotExist("No such budget.")
    if len(rows) != 1:
        raise ValidationError({"contribution": "Choose which funding the spend comes from."})
    found, payee_id = _funding_from_row(rows[0])
    return found, payee_id


def _funding_from_row(row: tuple[Any, ...]) -> tuple[FundingContribution, int | None]:
    """The objects of one row of ``SPEND_FUNDING`` (or ``SPEND_AT_ONCE``): the funding
    with its account, budget and holder cached, and the payee's account id."""
    (c_id, managed_by, funder, stream, a_id, balance, overdraft) = row[:7]
    (b_id, state, start, end, h_id, user, organisation, council, name, payee_id) = row[7:17]
    item_id, item_stream = row[17:]
    organisation_ = _partial(Organisation, id=organisation)
    holder = ledger.loaded(
        BudgetHolder,
        {
            "id": h_id,
            "user_id": user,
            "organisation_id": organisation,
            "council_id": council,
            "name": name,
        },
        {"organisation": organisation_},
    )
    budget_ = ledger.loaded(
        Budget,
        {"id": b_id, "holder_id": h_id, "state": state, "period_start": start, "period_end": end},
        {"holder": holder},
    )
    account = _partial(
        LedgerAccount,
        id=a_id,
        kind=LedgerAccount.Kind.BUDGET,
        contribution_id=c_id,
        budget_id=b_id,
        balance_pence=balance,
        overdraft_pence=overdraft,
    )
    found = ledger.loaded(
        FundingContribution,
        {
            "id": c_id,
            "budget_id": b_id,
            "managed_by_id": managed_by,
            "funder_id": funder,
            "stream": stream,
        },
        {"budget": budget_, "account": account},
    )
    account._state.fields_cache["contribution"] = found
    found.plan_item_found = (item_id, item_stream) if item_id is not None else None
    return found, payee_id


def plan_item_id(value: Any) -> int | None:
    """A support plan item as a spend names it: an item, its id, or None."""
    if value is None or value == "":
        return None
    value = getattr(value, "pk", value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise ValidationError({"plan_item": PLAN_ITEM_NOT_ACTIVE})
    return value


def plan_item_checked(item: tuple[int, str] | None, contribution: FundingContribution) -> None:
    """The item (id, stream) found in the budget's active plan, if one was asked for, must
    be paid from the spend's funding stream (or be free of any)."""
    if item is None:
        raise ValidationError({"plan_item": PLAN_ITEM_NOT_ACTIVE})
    _, stream = item
    if stream and stream != contribution.stream:
        raise ValidationError(
            {
                "plan_item": f"That support is paid from {FundingStream(stream).label}, "
                f"not from the {FundingStream(contribution.stream).label} funding this "
                "spend comes from."
            }
        )


# The spend, its ledger transaction and legs, and its audit event, in one statement (each
# part reads ``header``, so a replayed idempotency key writes none of them).
SPEND_WRITE = Prepared(
    "phb_spend_record",
    ledger.POSTING_CTE  # noqa: S608 (two constant strings, no input)
    + """, spend AS (
    INSERT INTO budgets_spend
        (budget_id, contribution_id, transaction_id, payee, spent_on, amount_pence, category,
         note, receipt, receipt_content_type, receipt_extension, state, recorded_by_id,
         recorded_at, refunded_pence, plan_item_id)
    SELECT %(budget)s, %(contribution)s, header.id, %(payee)s, %(occurred_on)s, %(amount)s,
           %(category)s, %(note)s, '', %(receipt_content_type)s, %(receipt_extension)s,
           'recorded', %(created_by)s, now(), 0, %(plan_item)s
      FROM header
    RETURNING id, transaction_id, recorded_at
), audit AS (
    INSERT INTO core_auditevent
        (created_at, actor_id, actor_label, acting_for_id, person_id, organisation_id, action,
         object_type, object_id, changes, request_id, ip_address)
    SELECT now(), %(actor_id)s, %(actor_label)s, %(acting_for_id)s, %(person_id)s,
           %(organisation_id)s, %(action)s, 'budgets.spend', spend.id::text,
           jsonb_strip_nulls(jsonb_build_object(
               'amount_pence', %(amount)s::bigint, 'payee', %(payee)s::text,
               'transaction', spend.transaction_id, 'plan_item', %(plan_item)s::bigint)),
           %(request_id)s, %(ip_address)s::inet
      FROM spend
)
SELECT spend.id, spend.recorded_at, header.id, header.posted_at FROM spend, header
""",
    {
        **ledger.POSTING_TYPES,
        "payee": "text",
        "amount": "bigint",
        "category": "text",
        "note": "text",
        "receipt_content_type": "text",
        "receipt_extension": "text",
        "actor_id": "bigint",
        "actor_label": "text",
        "acting_for_id": "bigint",
        "person_id": "bigint",
        "organisation_id": "bigint",
        "action": "text",
        "request_id": "text",
        "ip_address": "inet",
        "plan_item": "bigint",
    },
)


# The usual spend (the holder's own, no receipt, a payee seen before, the funding clear,
# the date in the budget year, the money there as read, and any plan item named one of
# the active plan's, paid from the spend's funding stream or from none) in ONE round
# trip: the lookup of ``SPEND_FUNDING`` and the writes of ``SPEND_WRITE`` in one
# statement. ``fits`` keeps the funding row only if every one of those holds, so
# anything else writes nothing and returns no row, and ``spend_record`` takes the full
# path, which finds and explains what does not hold. The guarantees are the same rows
# and the same database rules: the idempotency key (``ON CONFLICT DO NOTHING``), the
# ledger triggers (zero sum, balances, the overdraft check constraint) and the audit
# event in the same statement.
SPEND_AT_ONCE = Prepared(
    "phb_spend_at_once",
    """
WITH funding AS (
    SELECT c.id AS contribution_id, c.managed_by_id, c.funder_id, c.stream,
           a.id AS account_id, a.balance_pence, a.overdraft_pence,
           b.id AS budget_id, b.state, b.period_start, b.period_end,
           h.id AS holder_id, h.user_id, h.organisation_id, h.council_id, h.name,
           (SELECT p.id FROM budgets_ledgeraccount AS p
             WHERE p.kind = 'payee' AND p.name = %(payee)s) AS payee_account_id,
           item.id AS item_id, item.stream AS item_stream,
           count(*) OVER () AS choices
      FROM budgets_fundingcontribution AS c
      JOIN budgets_ledgeraccount AS a ON a.contribution_id = c.id
      JOIN budgets_budget AS b ON b.id = c.budget_id
      JOIN budgets_budgetholder AS h ON h.id = b.holder_id
      LEFT JOIN LATERAL (
          SELECT i.id, i.stream FROM plans_supportitem AS i
            JOIN plans_supportplan AS sp ON sp.id = i.plan_id
           WHERE i.id = %(plan_item)s AND sp.budget_id = c.budget_id AND sp.state = 'active'
      ) AS item ON true
     WHERE c.budget_id = %(budget)s
       AND (%(contribution)s::bigint IS NULL OR c.id = %(contribution)s)
), fits AS (
    SELECT * FROM funding
     WHERE choices = 1 AND state = 'active' AND user_id = %(actor_id)s
       AND %(occurred_on)s BETWEEN period_start AND period_end
       AND payee_account_id IS NOT NULL
       AND balance_pence + overdraft_pence >= %(amount)s
       AND (%(plan_item)s::bigint IS NULL
            OR (item_id IS NOT NULL AND coalesce(item_stream, '') IN ('', stream)))
), header AS (
    INSERT INTO budgets_ledgertransaction
        (kind, idempotency_key, budget_id, contribution_id, occurred_on, description,
         created_by_id, reverses_id, due_on)
    SELECT 'spend', %(key)s, fits.budget_id, fits.contribution_id, %(occurred_on)s,
           %(description)s, %(actor_id)s, NULL, NULL
      FROM fits
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, posted_at
), legs AS (
    INSERT INTO budgets_ledgerentry (transaction_id, account_id, amount_pence)
    SELECT header.id, leg.account_id, leg.amount_pence
      FROM header, fits,
           LATERAL (VALUES (fits.account_id, -%(amount)s),
                           (fits.payee_account_id, %(amount)s)) AS leg (account_id, amount_pence)
), spend AS (
    INSERT INTO budgets_spend
        (budget_id, contribution_id, transaction_id, payee, spent_on, amount_pence, category,
         note, receipt, receipt_content_type, receipt_extension, state, recorded_by_id,
         recorded_at, refunded_pence, plan_item_id)
    SELECT fits.budget_id, fits.contribution_id, header.id, %(payee)s, %(occurred_on)s,
           %(amount)s, %(category)s, %(note)s, '', '', '', 'recorded', %(actor_id)s, now(), 0,
           %(plan_item)s
      FROM header, fits
    RETURNING id, transaction_id, recorded_at
), audit AS (
    INSERT INTO core_auditevent
        (created_at, actor_id, actor_label, acting_for_id, person_id, organisation_id, action,
         object_type, object_id, changes, request_id, ip_address)
    SELECT now(), %(actor_id)s, %(actor_label)s, NULL, fits.holder_id, fits.organisation_id,
           'spend.recorded', 'budgets.spend', spend.id::text,
           jsonb_strip_nulls(jsonb_build_object(
               'amount_pence', %(amount)s, 'payee', %(payee)s,
               'transaction', spend.transaction_id, 'plan_item', %(plan_item)s)),
           %(request_id)s, %(ip_address)s::inet
      FROM spend, fits
)
SELECT fits.contribution_id, fits.managed_by_id, fits.funder_id, fits.stream,
       fits.account_id, fits.balance_pence, fits.overdraft_pence,
       fits.budget_id, fits.state, fits.period_start, fits.period_end,
       fits.holder_id, fits.user_id, fits.organisation_id, fits.council_id, fits.name,
       fits.payee_account_id, fits.item_id, fits.item_stream,
       spend.id, spend.recorded_at, header.id, header.posted_at
  FROM fits, spend, header
""",
    {
        "budget": "bigint",
        "contribution": "bigint",
        "payee": "text",
        "actor_id": "bigint",
        "occurred_on": "date",
        "amount": "bigint",
        "key": "text",
        "description": "text",
        "category": "text",
        "note": "text",
        "actor_label": "text",
        "request_id": "text",
        "ip_address": "inet",
        "plan_item": "bigint",
    },
)


def _spend_at_once(
    *,
    budget: Budget,
    payee: str,
    spent_on: datetime.date,
    amount_pence: int,
    category: str,
    recorded_by: Any,
    idempotency_key: str,
    contribution: FundingContribution | None,
    note: str,
    plan_item: int | None,
) -> Spend | None:
    """The usual spend in one statement (``SPEND_AT_ONCE``), or None if it is not the
    usual case (then nothing was written, and the full path decides). Raises
    ``InsufficientFunds`` if a concurrent spend took the money between the statement's
    read and its write (nothing written either). The caller has checked the input."""
    key = f"spend:{idempotency_key}"
    description = f"{payee}: {note}"[:300] if note else payee
    audit = audit_columns(actor=recorded_by, action="spend.recorded")
    row = ledger.execute(
        SPEND_AT_ONCE,
        {
            "budget": budget.pk,
            "contribution": getattr(contribution, "pk", None),
            "payee": payee,
            "actor_id": recorded_by.pk,
            "occurred_on": spent_on,
            "amount": amount_pence,
            "key": key,
            "description": description,
            "category": category,
            "note": note,
            "actor_label": audit["actor_label"],
            "request_id": audit["request_id"],
            "ip_address": audit["ip_address"],
            "plan_item": plan_item,
        },
        (),
    )
    if row is None:
        return None
    found, _ = _funding_from_row(row[:19])
    planned = ledger.posting(
        kind=LedgerTransaction.Kind.SPEND,
        idempotency_key=key,
        legs=[Leg(found.account.pk, -amount_pence), Leg(row[16], amount_pence)],
        occurred_on=spent_on,
        description=description,
        budget=found.budget,
        contribution=found,
        created_by=recorded_by,
    )
    return _spend_built(
        row[19:],
        planned,
        contribution=found,
        payee=payee,
        spent_on=spent_on,
        amount_pence=amount_pence,
        category=category,
        note=note,
        receipt_type=("", ""),
        recorded_by=recorded_by,
        plan_item=plan_item,
    )


def _spend_usual(
    *,
    payee: str,
    spent_on: Any,
    amount_pence: Any,
    category: str,
    recorded_by: Any,
    receipt: UploadedFile | None,
    plan_item: Any,
) -> bool:
    """Whether a spend may try ``_spend_at_once``: input that the full path would take
    as it is, from a signed-in person, without a receipt. Anything else goes the full
    path, which checks in its own order and says what is wrong."""
    try:
        plan_item_id(plan_item)
    except ValidationError:
        return False
    return (
        receipt is None
        and getattr(recorded_by, "is_authenticated", False)
        and isinstance(amount_pence, int)
        and not isinstance(amount_pence, bool)
        and 0 < amount_pence <= ledger.MAX_MOVEMENT_PENCE
        and category in SPEND_CATEGORIES
        and 0 < len(payee) <= PAYEE_MAX_LENGTH
        and isinstance(spent_on, datetime.date)
        and spent_on <= timezone.localdate()
    )


def spend_record(
    *,
    budget: Budget,
    payee: str,
    spent_on: datetime.date,
    amount_pence: int,
    category: str,
    recorded_by: Any,
    idempotency_key: str,
    contribution: FundingContribution | None = None,
    note: str = "",
    receipt: UploadedFile | None = None,
    plan_item: Any = None,
) -> Spend:
    """Record money spent from an active budget, and post it to the ledger.

    ``plan_item`` (a support plan item or its id, optional) says which part of the
    support plan the spend pays for: it must be an item of the budget's active plan,
    paid from the spend's funding stream (or free), else ValidationError. A spend
    linked to none is flagged by the plan sweep as spending outside the plan.

    The same ``idempotency_key`` returns the first spend and moves nothing more (a
    double-submitted form, a retried API call). Raises ValidationError for bad input,
    PermissionDenied for someone who may not manage this money, Conflict for a budget
    that is not active, InsufficientFunds when it would go below its overdraft.

    The spend, its ledger transaction and its audit event are written by one statement,
    which Postgres runs as one transaction; so without a receipt no transaction block
    is opened around it (a round trip each way saved on the busiest write there is).
    The usual spend (the holder's own, a payee seen before: ``_spend_usual``) is that
    one statement alone, lookup included (``SPEND_AT_ONCE``); any other case, or one
    that statement finds does not fit, writes nothing there and takes the full path: a
    lookup, the checks in order with their messages, then the write. Neither lookup
    takes a lock: the balance is guarded by the database constraint, not by what was
    read. A receipt (a file and a second write), or a caller's own block (a savepoint,
    so that a refusal leaves the caller's transaction usable), gets an atomic block."""
    block = receipt is not None or connection.in_atomic_block
    payee = " ".join((payee or "").split())
    if _spend_usual(
        payee=payee,
        spent_on=spent_on,
        amount_pence=amount_pence,
        category=category,
        recorded_by=recorded_by,
        receipt=receipt,
        plan_item=plan_item,
    ):
        try:
            with transaction.atomic() if block else contextlib.nullcontext():
                spend = _spend_at_once(
                    budget=budget,
                    payee=payee,
                    spent_on=spent_on,
                    amount_pence=amount_pence,
                    category=category,
                    recorded_by=recorded_by,
                    idempotency_key=idempotency_key,
                    contribution=contribution,
                    note=note,
                    plan_item=plan_item_id(plan_item),
                )
        except ledger.InsufficientFunds:
            spend = None  # a concurrent spend took the money: the full path says so
        if spend is not None:
            return spend
    try:
        with transaction.atomic() if block else contextlib.nullcontext():
            return _spend_record(
                budget=budget,
                payee=payee,
                spent_on=spent_on,
                amount_pence=amount_pence,
                category=category,
                recorded_by=recorded_by,
                idempotency_key=idempotency_key,
                contribution=contribution,
                note=note,
                receipt=receipt,
                plan_item=plan_item,
            )
    except ledger.InsufficientFunds as error:
        # Postgres refused the balance (a concurrent spend got there first). Nothing
        # was written; read the balance afresh to say why.
        if error.account_id is None:
            raise
        ledger.require_funds(LedgerAccount.objects.get(pk=error.account_id), amount_pence)
        raise


def _spend_record(
    *,
    budget: Budget,
    payee: str,
    spent_on: datetime.date,
    amount_pence: int,
    category: str,
    recorded_by: Any,
    idempotency_key: str,
    contribution: FundingContribution | None,
    note: str,
    receipt: UploadedFile | None,
    plan_item: Any,
) -> Spend:
    payee = " ".join((payee or "").split())
    item_id = plan_item_id(plan_item)
    contribution, payee_id = _spend_funding(budget, contribution, payee, item_id)
    budget = contribution.budget
    if not can_manage_money(recorded_by, budget, contribution):
        raise PermissionDenied
    if item_id is not None:
        plan_item_checked(getattr(contribution, "plan_item_found", None), contribution)
    key = f"spend:{idempotency_key}"
    amount_pence = money_checked(amount_pence, "amount_pence")
    if category not in SPEND_CATEGORIES:
        raise ValidationError({"category": "Choose a category from the list."})
    if not payee:
        raise ValidationError({"payee": "Enter who was paid."})
    if len(payee) > PAYEE_MAX_LENGTH:
        raise ValidationError(
            {"payee": f"Enter who was paid in {PAYEE_MAX_LENGTH} characters or fewer."}
        )
    if not isinstance(spent_on, datetime.date):
        raise ValidationError({"spent_on": "Enter a real date."})
    if spent_on > timezone.localdate():
        raise ValidationError({"spent_on": "The date of the spend must be today or in the past."})
    if not budget.period_start <= spent_on <= budget.period_end:
        raise ValidationError(
            {
                "spent_on": "The date must be within the budget year, "
                f"{budget.period_start:%-d %B %Y} to {budget.period_end:%-d %B %Y}."
            }
        )
    receipt_type = _check_receipt(receipt) if receipt else ("", "")

    # No lock is taken here: the ledger's own statement moves the balance, and its check
    # constraint refuses an overdraft however many spends race. This check (on the
    # balance as just read) only gives the usual case a message with the figures.
    account = contribution.account
    if budget.state != Budget.State.ACTIVE:
        return _spend_replay(key, budget, amount_pence)
    try:
        ledger.require_funds(account, amount_pence)
    except ledger.InsufficientFunds:
        if ledger.existing(key) is None:
            raise
        return _spend_replay(key, budget, amount_pence)  # a retry of a spend that fitted
    if payee_id is None:
        payee_id = ledger.payee_account_id(name=payee)
    planned = ledger.posting(
        kind=LedgerTransaction.Kind.SPEND,
        idempotency_key=key,
        legs=[Leg(account.pk, -amount_pence), Leg(payee_id, amount_pence)],
        occurred_on=spent_on,
        description=f"{payee}: {note}"[:300] if note else payee,
        budget=budget,
        contribution=contribution,
        created_by=recorded_by,
    )
    holder = budget.holder
    audit = audit_columns(
        actor=recorded_by,
        action="spend.recorded",
        organisation=holder.organisation,
        person=holder,
        acting_for=holder if holder.user_id != recorded_by.pk else None,
    )
    row = ledger.execute(
        SPEND_WRITE,
        {
            **planned.params,
            **audit,
            "payee": payee,
            "amount": amount_pence,
            "category": category,
            "note": note,
            "receipt_content_type": receipt_type[0],
            "receipt_extension": receipt_type[1],
            "plan_item": item_id,
        },
        planned.legs,
    )
    if row is None:
        return _spend_replay(key, budget, amount_pence)
    spend = _spend_built(
        row,
        planned,
        contribution=contribution,
        payee=payee,
        spent_on=spent_on,
        amount_pence=amount_pence,
        category=category,
        note=note,
        receipt_type=receipt_type,
        recorded_by=recorded_by,
        plan_item=item_id,
    )
    if receipt is not None:
        # Stored under the transaction's id, so only once it is written. If the
        # transaction then rolls back, an unlinked file is left in private storage,
        # which is safer than a spend whose receipt is lost.
        spend.receipt.save("receipt", receipt, save=False)
        Spend.objects.filter(pk=spend.pk).update(receipt=spend.receipt.name)
    return spend


def _spend_built(
    row: tuple[Any, ...],
    planned: ledger.Posting,
    *,
    contribution: FundingContribution,
    payee: str,
    spent_on: datetime.date,
    amount_pence: int,
    category: str,
    note: str,
    receipt_type: tuple[str, str],
    recorded_by: Any,
    plan_item: int | None,
) -> Spend:
    """The spend as written, from the write's (spend id, recorded at, transaction id,
    posted at), with its budget, funding, transaction and recorder cached."""
    budget = contribution.budget
    spend_id, recorded_at, transaction_id, posted_at = row
    posted = planned.transaction(transaction_id, posted_at)
    spend: Spend = ledger.loaded(
        Spend,
        {
            "id": spend_id,
            "budget_id": budget.pk,
            "contribution_id": contribution.pk,
            "transaction_id": transaction_id,
            "payee": payee,
            "spent_on": spent_on,
            "amount_pence": amount_pence,
            "category": category,
            "note": note,
            "receipt": "",
            "receipt_content_type": receipt_type[0],
            "receipt_extension": receipt_type[1],
            "state": Spend.State.RECORDED,
            "recorded_by_id": recorded_by.pk,
            "recorded_at": recorded_at,
            "verified_by_id": None,
            "verified_at": None,
            "refunded_pence": 0,
            "plan_item_id": plan_item,
        },
        {
            "budget": budget,
            "contribution": contribution,
            "transaction": posted,
            "recorded_by": recorded_by,
        },
    )
    Spend.transaction.field.remote_field.set_cached_value(posted, spend)
    return spend


def _spend_replay(key: str, budget: Budget, amount_pence: int) -> Spend:
    """A spend key seen before returns the first spend, even if the budget has since
    been suspended; otherwise a budget that is not active takes no spending."""
    replay = ledger.existing(key)
    if replay is None:
        raise Conflict(
            "Spending can only be recorded on an active budget; this one is "
            f"{budget.get_state_display().lower()}."
        )
    spend = Spend.objects.filter(transaction=replay).first()
    if spend is None or spend.amount_pence != amount_pence or spend.budget_id != budget.pk:
        raise ledger.IdempotencyKeyReused()
    return spend


@transaction.atomic
def spend_refund(
    *, spend: Spend, amount_pence: int, reason: str, recorded_by: Any, idempotency_key: str
) -> LedgerTransaction:
    """Money back from a payee into the budget, up to what was spent."""
    spend = (
        Spend.objects.select_for_update()
        .select_related("budget__holder", "contribution")
        .get(pk=spend.pk)
    )
    if not (
        can_manage_money(recorded_by, spend.budget, spend.contribution)
        or is_finance_for(recorded_by, spend.budget.holder)
    ):
        raise PermissionDenied
    amount_pence = money_checked(amount_pence, "amount_pence")
    key = f"refund:{idempotency_key}"
    replay = ledger.existing(key)
    if replay is not None:
        if replay.reverses_id != spend.transaction_id:
            raise ledger.IdempotencyKeyReused()
        return replay
    if not reason.strip():
        raise ValidationError({"reason": "Say what the refund is for."})
    if spend.refunded_pence + amount_pence > spend.amount_pence:
        raise Conflict(
            f"A refund cannot be more than was spent: at most "
            f"{format_pence(spend.amount_pence - spend.refunded_pence)} can still be refunded."
        )
    account = ledger.lock_budget_account(spend.contribution)
    payee_account_id = ledger.payee_account_id(name=spend.payee)
    posted = ledger.post(
        kind=LedgerTransaction.Kind.REFUND,
        idempotency_key=key,
        legs=[Leg(payee_account_id, -amount_pence), Leg(account.pk, amount_pence)],
        occurred_on=timezone.localdate(),
        description=f"Refund from {spend.payee}: {reason}",
        budget=spend.budget,
        contribution=spend.contribution,
        created_by=recorded_by,
        reverses=spend.transaction,
    )
    Spend.objects.filter(pk=spend.pk).update(refunded_pence=F("refunded_pence") + amount_pence)
    audit_record(
        actor=recorded_by,
        action="spend.refunded",
        obj=spend,
        organisation=spend.budget.holder.organisation,
        person=spend.budget.holder,
        changes={"amount_pence": amount_pence, "reason": reason, "transaction": posted.pk},
    )
    return posted


@transaction.atomic
def transaction_correct(
    *, original: LedgerTransaction, reason: str, corrected_by: Any, idempotency_key: str
) -> LedgerTransaction:
    """Undo a payment in or a spend posted in error, with a reversing transaction (the
    original stays, as the ledger is append-only). Finance only; once per transaction."""
    original = LedgerTransaction.objects.select_related("budget__holder").get(pk=original.pk)
    if original.budget is None or not is_finance_for(corrected_by, original.budget.holder):
        raise PermissionDenied
    key = f"correction:{idempotency_key}"
    replay = ledger.existing(key)
    if replay is not None:
        if replay.reverses_id != original.pk:
            raise ledger.IdempotencyKeyReused()
        return replay
    if original.kind not in (LedgerTransaction.Kind.ALLOCATION, LedgerTransaction.Kind.SPEND):
        raise Conflict("Only a payment in or a spend can be corrected.")
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for the correction."})
    # Lock the original so two corrections of it cannot both pass the check below.
    LedgerTransaction.objects.select_for_update().filter(pk=original.pk).first()
    if LedgerTransaction.objects.filter(
        reverses=original, kind=LedgerTransaction.Kind.CORRECTION
    ).exists():
        raise Conflict("This transaction has already been corrected.")
    spend = Spend.objects.select_for_update().filter(transaction=original).first()
    if spend is not None and spend.refunded_pence:
        raise Conflict("This spend has been refunded in part; correct it with a further refund.")
    if original.contribution is not None:
        account = ledger.lock_budget_account(original.contribution)
        budget_leg = original.entries.get(account=account)
        if budget_leg.amount_pence > 0:
            ledger.require_funds(account, budget_leg.amount_pence)
    posted = ledger.post(
        kind=LedgerTransaction.Kind.CORRECTION,
        idempotency_key=key,
        legs=[Leg(entry.account_id, -entry.amount_pence) for entry in original.entries.all()],
        occurred_on=timezone.localdate(),
        description=f"Correction of {original.get_kind_display().lower()} {original.pk}: {reason}",
        budget=original.budget,
        contribution=original.contribution,
        created_by=corrected_by,
        reverses=original,
    )
    if spend is not None:
        Spend.objects.filter(pk=spend.pk).update(refunded_pence=F("amount_pence"))
    audit_record(
        actor=corrected_by,
        action="ledger.corrected",
        obj=original,
        organisation=original.budget.holder.organisation,
        person=original.budget.holder,
        changes={"correction": posted.pk, "reason": reason},
    )
    return posted


def _spend_move(spend: Spend, to_state: str) -> Spend:
    spend = Spend.objects.select_for_update().select_related("budget__holder").get(pk=spend.pk)
    if spend.state == to_state:
        return spend
    if to_state not in Spend.TRANSITIONS[spend.state]:
        raise Conflict(
            f"A spend that is {spend.get_state_display().lower()} cannot be "
            f"{Spend.State(to_state).label.lower()}."
        )
    return spend


@transaction.atomic
def spend_verify(*, spend: Spend, verified_by: Any) -> Spend:
    """Finance confirms a spend is in order."""
    spend = _spend_move(spend, Spend.State.VERIFIED)
    if not is_finance_for(verified_by, spend.budget.holder):
        raise PermissionDenied
    if spend.state == Spend.State.VERIFIED:
        return spend
    old = spend.state
    spend.state, spend.verified_by, spend.verified_at = (
        Spend.State.VERIFIED,
        verified_by,
        timezone.now(),
    )
    spend.save(update_fields=["state", "verified_by", "verified_at"])
    audit_record(
        actor=verified_by,
        action="spend.verified",
        obj=spend,
        organisation=spend.budget.holder.organisation,
        person=spend.budget.holder,
        changes={"state": [old, spend.state]},
    )
    return spend


@transaction.atomic
def spend_query_raise(*, spend: Spend, question: str, asked_by: Any) -> SpendQuery:
    """Finance asks about a spend; the holder and representatives are told."""
    spend = _spend_move(spend, Spend.State.QUERIED)
    if not is_finance_for(asked_by, spend.budget.holder):
        raise PermissionDenied
    if spend.state == Spend.State.QUERIED:
        raise Conflict("This spend already has a question waiting for an answer.")
    if not question.strip():
        raise ValidationError({"question": "Enter the question."})
    query = SpendQuery.objects.create(spend=spend, question=question.strip(), asked_by=asked_by)
    old = spend.state
    spend.state = Spend.State.QUERIED
    spend.save(update_fields=["state"])
    audit_record(
        actor=asked_by,
        action="spend.queried",
        obj=spend,
        organisation=spend.budget.holder.organisation,
        person=spend.budget.holder,
        changes={"state": [old, spend.state], "question": query.question},
    )
    holder_notify(
        spend.budget.holder,
        subject="A question about your spending",
        body=f"Finance asked about {spend.payee} on {spend.spent_on:%-d %B %Y}: {query.question}",
        link=reverse("budgets:spend_detail", args=[spend.pk]),
    )
    return query


@transaction.atomic
def spend_query_answer(*, query: SpendQuery, answer: str, answered_by: Any) -> SpendQuery:
    """The holder (or whoever manages the money) answers finance's question."""
    query = (
        SpendQuery.objects.select_for_update()
        .select_related("spend__budget__holder")
        .get(pk=query.pk)
    )
    spend = query.spend
    if not can_manage_money(answered_by, spend.budget, spend.contribution):
        raise PermissionDenied
    if query.answered_at is not None:
        raise Conflict("This question has already been answered.")
    if not answer.strip():
        raise ValidationError({"answer": "Enter your answer."})
    _spend_move(spend, Spend.State.ANSWERED)
    query.answer, query.answered_by, query.answered_at = answer.strip(), answered_by, timezone.now()
    query.save(update_fields=["answer", "answered_by", "answered_at"])
    Spend.objects.filter(pk=spend.pk).update(state=Spend.State.ANSWERED)
    audit_record(
        actor=answered_by,
        action="spend.query_answered",
        obj=spend,
        organisation=spend.budget.holder.organisation,
        person=spend.budget.holder,
        changes={"state": [Spend.State.QUERIED, Spend.State.ANSWERED]},
    )
    for finance in [query.asked_by]:
        notification_send(
            user=finance,
            subject="A spending question was answered",
            body=f"{spend.budget.holder.name}: {query.answer}",
            link=reverse("budgets:spend_detail", args=[spend.pk]),
        )
    return query


@transaction.atomic
def spend_plan_item_link(*, spend: Spend, plan_item: Any, linked_by: Any) -> Spend:
    """Say which item of the support plan a spend paid for (``plan_item``: an item or
    its id), or with None that it paid for none. The item must be in the plan now in
    force for the spend's budget and paid from the spend's funding stream (or free):
    else ValidationError. Those who manage the money, or finance, may do it (else
    PermissionDenied). Linking to the item already linked changes nothing."""
    from plans.models import SupportItem, SupportPlan

    spend = (
        Spend.objects.select_for_update()
        .select_related("budget__holder", "contribution")
        .get(pk=spend.pk)
    )
    holder = spend.budget.holder
    if not (
        can_manage_money(linked_by, spend.budget, spend.contribution)
        or is_finance_for(linked_by, holder)
    ):
        raise PermissionDenied
    item_id = plan_item_id(plan_item)
    if item_id == spend.plan_item_id:
        return spend
    if item_id is not None:
        found = (
            SupportItem.objects.filter(
                pk=item_id, plan__budget_id=spend.budget_id, plan__state=SupportPlan.State.ACTIVE
            )
            .values_list("id", "stream")
            .first()
        )
        plan_item_checked(found, spend.contribution)
    old = spend.plan_item_id
    spend.plan_item_id = item_id
    spend.save(update_fields=["plan_item"])
    audit_record(
        actor=linked_by,
        action="spend.plan_item_linked",
        obj=spend,
        organisation=holder.organisation,
        person=holder,
        acting_for=holder if holder.user_id != getattr(linked_by, "pk", None) else None,
        changes={"plan_item": [old, item_id]},
    )
    return spend


# Flags ----------------------------------------------------------------------------------


@transaction.atomic
def flag_move(
    *, flag: MonitoringFlag, to_state: str, moved_by: Any, note: str = ""
) -> MonitoringFlag:
    """Acknowledge or resolve a monitoring flag (staff of the holder's organisations)."""
    flag = (
        MonitoringFlag.objects.select_for_update().select_related("budget__holder").get(pk=flag.pk)
    )
    if not is_staff_for(moved_by, flag.budget.holder):
        raise PermissionDenied
    if flag.state == to_state:
        return flag
    if to_state not in MonitoringFlag.TRANSITIONS[flag.state]:
        raise Conflict(f"A flag that is {flag.get_state_display().lower()} cannot change.")
    old = flag.state
    flag.state = to_state
    now = timezone.now()
    if to_state == MonitoringFlag.State.ACKNOWLEDGED:
        flag.acknowledged_by, flag.acknowledged_at = moved_by, now
    else:
        flag.resolved_by, flag.resolved_at = moved_by, now
    if note.strip():
        flag.note = note.strip()
    flag.save()
    audit_record(
        actor=moved_by,
        action="flag.state_changed",
        obj=flag,
        organisation=flag.budget.holder.organisation,
        person=flag.budget.holder,
        changes={"state": [old, to_state], "note": note},
    )
    return flag


# Surplus recovery -------------------------------------------------------------------------


@transaction.atomic
def surplus_recovery_propose(
    *,
    contribution: FundingContribution,
    amount_pence: int,
    reasons: str,
    respond_by: datetime.date,
    proposed_by: Any,
) -> SurplusRecovery:
    """Finance proposes taking back unspent money: a written notice with the amount,
    the reasons and the date to ask for reconsideration by goes to the holder. No
    money moves until finance decides (``surplus_recovery_decide``)."""
    contribution = FundingContribution.objects.select_related("budget__holder", "funder").get(
        pk=contribution.pk
    )
    budget = contribution.budget
    if not is_finance_for(proposed_by, budget.holder):
        raise PermissionDenied
    amount_pence = money_checked(amount_pence, "amount_pence")
    if not reasons.strip():
        raise ValidationError({"reasons": "Give the reasons: the person will be sent them."})
    if respond_by < timezone.localdate() + datetime.timedelta(days=14):
        raise ValidationError({"respond_by": "Give the person at least 14 days to respond."})
    account = ledger.lock_budget_account(contribution)
    if SurplusRecovery.objects.filter(
        contribution=contribution,
        state__in=[
            SurplusRecovery.State.NOTICE_SENT,
            SurplusRecovery.State.RECONSIDERATION_REQUESTED,
        ],
    ).exists():
        raise Conflict("A recovery from this funding is already in progress.")
    if amount_pence > account.balance_pence:
        raise Conflict(f"The balance is only {format_pence(account.balance_pence)}.")
    notice = BudgetNotice.objects.create(
        budget=budget,
        kind=BudgetNotice.Kind.SURPLUS_RECOVERY,
        subject=f"We propose to take back {format_pence(amount_pence)} of unspent money",
        reasons=reasons.strip(),
        amount_pence=amount_pence,
        respond_by=respond_by,
        issued_by=proposed_by,
    )
    recovery = SurplusRecovery.objects.create(
        budget=budget,
        contribution=contribution,
        amount_pence=amount_pence,
        reasons=reasons.strip(),
        respond_by=respond_by,
        notice=notice,
        proposed_by=proposed_by,
    )
    audit_record(
        actor=proposed_by,
        action="recovery.proposed",
        obj=recovery,
        organisation=budget.holder.organisation,
        person=budget.holder,
        changes={"amount_pence": amount_pence, "respond_by": str(respond_by)},
    )
    holder_notify(
        budget.holder,
        subject=notice.subject,
        body=(
            f"Reasons: {notice.reasons} If you think this is wrong, ask us to reconsider by "
            f"{respond_by:%-d %B %Y}."
        ),
        link=reverse("budgets:notice_list"),
    )
    return recovery


@transaction.atomic
def surplus_recovery_request_reconsideration(
    *, recovery: SurplusRecovery, reasons: str, requested_by: Any
) -> SurplusRecovery:
    recovery = (
        SurplusRecovery.objects.select_for_update()
        .select_related("budget__holder")
        .get(pk=recovery.pk)
    )
    if not can_manage_money(requested_by, recovery.budget, None):
        raise PermissionDenied
    if recovery.state != SurplusRecovery.State.NOTICE_SENT:
        raise Conflict("Reconsideration can only be asked for once, while the notice is open.")
    if timezone.localdate() > recovery.respond_by:
        raise Conflict(
            f"The date to ask for reconsideration, {recovery.respond_by:%-d %B %Y}, has passed."
        )
    if not reasons.strip():
        raise ValidationError({"reasons": "Tell us why the money should not be taken back."})
    recovery.state = SurplusRecovery.State.RECONSIDERATION_REQUESTED
    recovery.reconsideration_reasons = reasons.strip()
    recovery.reconsideration_requested_by = requested_by
    recovery.reconsideration_requested_at = timezone.now()
    recovery.save()
    audit_record(
        actor=requested_by,
        action="recovery.reconsideration_requested",
        obj=recovery,
        organisation=recovery.budget.holder.organisation,
        person=recovery.budget.holder,
        changes={"state": [SurplusRecovery.State.NOTICE_SENT, recovery.state]},
    )
    return recovery


@transaction.atomic
def surplus_recovery_decide(
    *,
    recovery: SurplusRecovery,
    recover: bool,
    reasons: str,
    decided_by: Any,
    amount_pence: int | None = None,
) -> SurplusRecovery:
    """Finance decides. Recovering posts one transaction from the budget account to
    the funder's recovery account, for the proposed amount or less. Before the notice's
    date passes, finance can decide only on a reconsideration the holder asked for."""
    recovery = (
        SurplusRecovery.objects.select_for_update()
        .select_related("budget__holder", "contribution__funder")
        .get(pk=recovery.pk)
    )
    if not is_finance_for(decided_by, recovery.budget.holder):
        raise PermissionDenied
    to_state = SurplusRecovery.State.RECOVERED if recover else SurplusRecovery.State.WITHDRAWN
    if to_state not in SurplusRecovery.TRANSITIONS[recovery.state]:
        raise Conflict("This recovery has already been decided.")
    if (
        recover
        and recovery.state == SurplusRecovery.State.NOTICE_SENT
        and timezone.localdate() <= recovery.respond_by
    ):
        raise Conflict(
            f"The person has until {recovery.respond_by:%-d %B %Y} to ask for reconsideration."
        )
    if not reasons.strip():
        raise ValidationError({"reasons": "Give the reasons for the decision."})
    amount = (
        recovery.amount_pence
        if amount_pence is None
        else money_checked(amount_pence, "amount_pence")
    )
    if amount > recovery.amount_pence:
        raise ValidationError({"amount_pence": "The amount cannot be more than the notice said."})
    old = recovery.state
    if recover:
        account = ledger.lock_budget_account(recovery.contribution)
        ledger.require_funds(account, amount)
        target = ledger.recovery_account(
            organisation=recovery.contribution.funder, stream=recovery.contribution.stream
        )
        recovery.transaction = ledger.post(
            kind=LedgerTransaction.Kind.RECOVERY,
            idempotency_key=f"recovery:{recovery.pk}",
            legs=[Leg(account.pk, -amount), Leg(target.pk, amount)],
            occurred_on=timezone.localdate(),
            description=f"Recovery of unspent money: {reasons}",
            budget=recovery.budget,
            contribution=recovery.contribution,
            created_by=decided_by,
        )
        recovery.recovered_pence = amount
    recovery.state = to_state
    recovery.decided_by, recovery.decided_at = decided_by, timezone.now()
    recovery.decision_reasons = reasons.strip()
    recovery.save()
    notice = BudgetNotice.objects.create(
        budget=recovery.budget,
        kind=BudgetNotice.Kind.RECOVERY_DECISION,
        subject=(
            f"We have taken back {format_pence(amount)} of unspent money"
            if recover
            else "We will not take back your unspent money"
        ),
        reasons=reasons.strip(),
        amount_pence=amount if recover else None,
        issued_by=decided_by,
    )
    audit_record(
        actor=decided_by,
        action="recovery.decided",
        obj=recovery,
        organisation=recovery.budget.holder.organisation,
        person=recovery.budget.holder,
        changes={"state": [old, to_state], "recovered_pence": recovery.recovered_pence},
    )
    holder_notify(
        recovery.budget.holder,
        subject=notice.subject,
        body=notice.reasons,
        link=reverse("budgets:notice_list"),
    )
    return recovery


def new_idempotency_key() -> str:
    """For forms: a key made when the page is drawn, so a second submit is a replay."""
    return uuid.uuid4().hex
