"""Every write to support plans: drafting, sign-off, versions, reviews. Each function is
one transaction, locks the plan it changes, checks who is asking, and writes its audit
event.

Errors: ``ValidationError`` for bad input (nothing changes), ``PermissionDenied`` for a
caller without the right, ``Conflict`` (409) for a plan in the wrong state."""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from budgets import services as budget_services
from budgets.ledger import format_pence
from budgets.models import Budget, FundingStream, ManagementOption, MonitoringFlag
from budgets.models.budgets import add_months
from core.exceptions import Conflict
from core.services import audit_record, notification_send
from plans import permissions
from plans.models import (
    CircleMember,
    LifeArea,
    MoneyArrangement,
    OutcomeProgress,
    PlanApproval,
    PlanComment,
    PlanOutcome,
    PlanReview,
    PlanRisk,
    PlanSettings,
    SupportItem,
    SupportPlan,
)
from users.models import Membership, Role

FIRST_REVIEW_MONTHS = 3
PLAN_FIELDS = ("what_matters", "if_support_fails", "carer_emergency")


def _audit(plan: SupportPlan, actor: Any, action: str, **changes: Any) -> None:
    holder = plan.holder
    audit_record(
        actor=actor,
        action=action,
        obj=plan,
        organisation=holder.organisation,
        person=holder,
        acting_for=holder if actor is not None and holder.user_id != actor.pk else None,
        changes=changes,
    )


def _locked(plan: SupportPlan) -> SupportPlan:
    return (
        SupportPlan.objects.select_for_update(of=("self",))
        .select_related("holder", "budget")
        .get(pk=plan.pk)
    )


def _editable(plan: SupportPlan, user: Any) -> SupportPlan:
    plan = _locked(plan)
    if not permissions.can_write(user, plan.holder):
        raise PermissionDenied
    if not plan.is_editable:
        raise Conflict(
            f"This plan is {plan.get_state_display().lower()}: it can no longer be changed. "
            "Start a new version to change it."
        )
    return plan


def _plan_link(plan: SupportPlan) -> str:
    return reverse("plans:plan_detail", args=[plan.pk])


def _notify_holder(plan: SupportPlan, subject: str, body: str) -> None:
    budget_services.holder_notify(plan.holder, subject=subject, body=body, link=_plan_link(plan))


def staff_notify(plan: SupportPlan, roles: Iterable[str], subject: str, body: str) -> None:
    """Tell the staff in ``roles`` at the holder's ICB or council about the plan."""
    holder = plan.holder
    orgs = [pk for pk in (holder.organisation_id, holder.council_id) if pk]
    users = {
        m.user
        for m in Membership.objects.filter(organisation_id__in=orgs, role__in=list(roles))
        .select_related("user")
        .order_by("pk")
    }
    for user in sorted(users, key=lambda u: u.pk):
        notification_send(user=user, subject=subject, body=body, link=_plan_link(plan))


# Starting and writing ------------------------------------------------------------------


@transaction.atomic
def plan_start(*, budget: Budget, started_by: Any) -> SupportPlan:
    """A new draft for the budget: the first version, or a copy of the active one to
    change (its outcomes, items, risks, circle and money arrangements come across).
    If a version is already being written (a draft, or one sent back for changes), that
    one is returned. Raises Conflict while a version is waiting for approval: it cannot
    be changed until a clinician asks for changes, and a second version beside it would
    leave two plans for the one budget."""
    budget = Budget.objects.select_for_update().select_related("holder").get(pk=budget.pk)
    if not permissions.can_write(started_by, budget.holder):
        raise PermissionDenied
    if budget.state == Budget.State.CLOSED:
        raise Conflict("This budget is closed: a plan cannot be started for it.")
    waiting = budget.plans.filter(
        state__in=[SupportPlan.State.SUBMITTED, SupportPlan.State.APPROVED]
    ).first()
    if waiting is not None:
        raise Conflict(
            f"Version {waiting.version} of the plan is waiting for approval. It can be "
            "changed if the clinician asks for changes, or once it is approved."
        )
    return _draft(budget, started_by)


def _draft(budget: Budget, by: Any, **audit: Any) -> SupportPlan:
    """The version being written for the budget, or a new one: the first, or a copy of
    the active version to change."""
    open_version = budget.plans.filter(
        state__in=[*SupportPlan.EDITABLE, SupportPlan.State.SUBMITTED, SupportPlan.State.APPROVED]
    ).first()
    if open_version is not None:
        return open_version
    active = budget.plans.filter(state=SupportPlan.State.ACTIVE).first()
    latest = budget.plans.order_by("-version").values_list("version", flat=True).first()
    copied: dict[str, Any] = {}
    if active is not None:
        copied = {name: getattr(active, name) for name in PLAN_FIELDS}
        copied["review_every_months"] = active.review_every_months
        copied["next_review_on"] = active.next_review_on
    plan = SupportPlan.objects.create(
        holder=budget.holder,
        budget=budget,
        version=(latest or 0) + 1,
        revises=active,
        created_by=by,
        **copied,
    )
    if active is not None:
        _copy_parts(active, plan)
    _audit(
        plan, by, "plan.started", version=plan.version, revises=getattr(active, "pk", None), **audit
    )
    return plan


def _copy_parts(source: SupportPlan, target: SupportPlan) -> None:
    outcomes = {}
    for outcome in source.outcomes.all():
        old_pk = outcome.pk
        outcome.pk = None
        outcome.plan = target
        outcome.save()
        outcomes[old_pk] = outcome
    circle = {}
    for member in source.circle.all():
        old_pk = member.pk
        member.pk = None
        member.plan = target
        member.save()
        circle[old_pk] = member
    for item in source.items.prefetch_related("outcomes"):
        served = [outcomes[o.pk] for o in item.outcomes.all()]
        item.pk = None
        item.plan = target
        item.carer = circle.get(item.carer_id) if item.carer_id else None
        item.save()
        item.outcomes.set(served)
    for risk in source.risks.all():
        risk.pk = None
        risk.plan = target
        risk.save()
    for money in source.money.all():
        money.pk = None
        money.plan = target
        money.save()
    target.yearly_cost_pence = source.yearly_cost_pence
    target.save(update_fields=["yearly_cost_pence"])


@transaction.atomic
def plan_update(*, plan: SupportPlan, updated_by: Any, **fields: Any) -> SupportPlan:
    """Change the plan's own text and review dates (``what_matters``,
    ``if_support_fails``, ``carer_emergency``, ``first_review_on``,
    ``review_every_months``). Dates may be ``date`` objects or ISO strings
    ("2026-03-27"), months an int or a string of digits (as a form or the API sends
    them); anything else is a ValidationError and nothing changes."""
    plan = _editable(plan, updated_by)
    allowed = {*PLAN_FIELDS, "first_review_on", "review_every_months"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This cannot be changed here."))
    cleaned = {name: _plan_field(name, value) for name, value in fields.items()}
    if cleaned.get("first_review_on") is not None:
        _check_first_review(cleaned["first_review_on"], timezone.localdate())
    changes = {}
    for name, value in cleaned.items():
        if getattr(plan, name) != value:
            changes[name] = value.isoformat() if isinstance(value, datetime.date) else value
            setattr(plan, name, value)
    if changes:
        plan.full_clean(exclude=["holder", "budget", "revises", "created_by"])
        plan.save()
        _audit(plan, updated_by, "plan.updated", fields=sorted(changes))
    return plan


def _plan_field(name: str, value: Any) -> Any:
    """One of ``plan_update``'s fields as the model holds it, or a ValidationError."""
    if name in PLAN_FIELDS:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ValidationError({name: "Enter text."})
        return value.strip()
    if name == "first_review_on":
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                value = datetime.date.fromisoformat(value.strip())
            except ValueError:
                raise ValidationError(
                    {name: "Enter the first review date as a real date, like 27 3 2026."}
                ) from None
        # A datetime is a date too, but "when" in a zone is not a day: refuse it.
        if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
            raise ValidationError(
                {name: "Enter the first review date as a real date, like 27 3 2026."}
            )
        return value
    # review_every_months
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 12:
        raise ValidationError(
            {name: "Reviews must be at least once a year: enter a number of months, 1 to 12."}
        )
    return value


def _check_first_review(first: datetime.date, start: datetime.date) -> None:
    latest = add_months(start, FIRST_REVIEW_MONTHS)
    if first < start:
        raise ValidationError({"first_review_on": "The first review must be in the future."})
    if first > latest:
        raise ValidationError(
            {
                "first_review_on": "The first review must be within 3 months of agreeing the "
                f"plan: on or before {latest:%-d %B %Y}."
            }
        )


def _next_position(queryset: Any) -> int:
    top = queryset.order_by("-position").values_list("position", flat=True).first()
    return (top or 0) + 1


@transaction.atomic
def outcome_save(
    *,
    plan: SupportPlan,
    saved_by: Any,
    goal: str,
    how_we_know: str = "",
    by_when: datetime.date | None = None,
    life_areas: Iterable[str] = (),
    outcome: PlanOutcome | None = None,
) -> PlanOutcome:
    """Add an outcome, or change one (``outcome``)."""
    plan = _editable(plan, saved_by)
    areas = list(dict.fromkeys(life_areas))
    if any(area not in LifeArea.values for area in areas):
        raise ValidationError({"life_areas": "Choose areas of life from the list."})
    if not goal.strip():
        raise ValidationError({"goal": "Say what you want to achieve."})
    if by_when is not None and by_when < timezone.localdate():
        raise ValidationError({"by_when": "The date must be today or in the future."})
    if outcome is None:
        outcome = PlanOutcome(plan=plan, position=_next_position(plan.outcomes), key=uuid.uuid4())
    elif outcome.plan_id != plan.pk:
        raise PermissionDenied
    outcome.goal, outcome.how_we_know = goal.strip(), how_we_know.strip()
    outcome.by_when, outcome.life_areas = by_when, areas
    outcome.full_clean(exclude=["plan"])
    outcome.save()
    _audit(plan, saved_by, "plan.outcome_saved", outcome=outcome.pk)
    return outcome


def _item_stream_check(plan: SupportPlan, stream: str, unit_cost_pence: int) -> None:
    if unit_cost_pence == 0 and not stream:
        return
    streams = set(plan.budget.contributions.values_list("stream", flat=True))
    if stream not in FundingStream.values:
        raise ValidationError({"stream": "Choose which funding pays for this."})
    if streams and stream not in streams:
        names = ", ".join(sorted(FundingStream(s).label for s in streams))
        raise ValidationError({"stream": f"This budget is funded by {names}. Choose one of those."})


@transaction.atomic
def item_save(
    *,
    plan: SupportPlan,
    saved_by: Any,
    description: str,
    provider_kind: str,
    times: int,
    per: str,
    unit_cost_pence: int,
    stream: str = "",
    provider_name: str = "",
    outcome_ids: Iterable[int] = (),
    carer: CircleMember | None = None,
    carer_support: str = "",
    item: SupportItem | None = None,
) -> SupportItem:
    """Add a support item, or change one (``item``). Its yearly cost is worked out from
    how often and the cost each time; the plan's yearly cost follows."""
    plan = _editable(plan, saved_by)
    if not description.strip():
        raise ValidationError({"description": "Say what the support is."})
    if provider_kind not in SupportItem.ProviderKind.values:
        raise ValidationError({"provider_kind": "Choose who provides it."})
    if per not in SupportItem.Per.values:
        raise ValidationError({"per": "Choose how often: a week, a month or a year."})
    if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= 1000:
        raise ValidationError({"times": "Enter how many times, from 1 to 1000."})
    cost = budget_services.money_checked(unit_cost_pence, "unit_cost_pence", allow_zero=True)
    _item_stream_check(plan, stream, cost)
    if (carer is None) != (not carer_support):
        raise ValidationError(
            {"carer_support": "Support for a carer needs both the carer and the kind of support."}
        )
    if carer is not None:
        if carer.plan_id != plan.pk or not carer.is_family_carer:
            raise ValidationError({"carer": "Choose a family carer from the circle of support."})
        if carer_support not in SupportItem.CarerSupport.values:
            raise ValidationError({"carer_support": "Choose training, a break or back-up."})
    ids = _ids(outcome_ids, "outcome_ids", "Choose outcomes from this plan.")
    outcomes = list(plan.outcomes.filter(pk__in=ids))
    if len(outcomes) != len(ids):
        raise ValidationError({"outcome_ids": "Choose outcomes from this plan."})
    if item is None:
        item = SupportItem(plan=plan, position=_next_position(plan.items), key=uuid.uuid4())
    elif item.plan_id != plan.pk:
        raise PermissionDenied
    item.description, item.provider_kind = description.strip(), provider_kind
    item.provider_name, item.times, item.per = provider_name.strip(), times, per
    item.unit_cost_pence, item.stream = cost, stream
    item.carer, item.carer_support = carer, carer_support
    item.yearly_cost_pence = SupportItem.yearly_pence(times=times, per=per, unit_cost_pence=cost)
    item.full_clean(exclude=["plan", "carer", "outcomes"])
    item.save()
    item.outcomes.set(outcomes)
    _recost(plan)
    _audit(
        plan,
        saved_by,
        "plan.item_saved",
        item=item.pk,
        yearly_cost_pence=item.yearly_cost_pence,
        stream=stream,
    )
    return item


def _ids(values: Iterable[Any], field: str, message: str) -> list[int]:
    """Record ids as given by a form or the API (ints or strings of digits), once each,
    in order. The iterable is read once, so a generator works too."""
    ids: list[int] = []
    for value in values or ():
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
            raise ValidationError({field: message})
        if value not in ids:
            ids.append(value)
    return ids


def _recost(plan: SupportPlan) -> None:
    total = plan.items.aggregate(total=Sum("yearly_cost_pence", default=0))["total"]
    plan.yearly_cost_pence = total
    plan.save(update_fields=["yearly_cost_pence", "updated_at"])


@transaction.atomic
def money_save(
    *, plan: SupportPlan, saved_by: Any, stream: str, management_option: str, managed_by: str = ""
) -> MoneyArrangement:
    """How one funding stream's money is managed, and by whom."""
    plan = _editable(plan, saved_by)
    if stream not in FundingStream.values:
        raise ValidationError({"stream": "Choose a funding stream."})
    if management_option not in ManagementOption.values:
        raise ValidationError({"management_option": "Choose how the money is managed."})
    if management_option != ManagementOption.NOTIONAL and not managed_by.strip():
        raise ValidationError(
            {"managed_by": "Say who manages the money (the person, a family member or a body)."}
        )
    arrangement, _ = MoneyArrangement.objects.update_or_create(
        plan=plan,
        stream=stream,
        defaults={"management_option": management_option, "managed_by": managed_by.strip()},
    )
    _audit(plan, saved_by, "plan.money_saved", stream=stream, option=management_option)
    return arrangement


@transaction.atomic
def risk_save(
    *,
    plan: SupportPlan,
    saved_by: Any,
    description: str,
    how_managed: str,
    agreed_by: str,
    positive_risk: bool = False,
    risk: PlanRisk | None = None,
) -> PlanRisk:
    plan = _editable(plan, saved_by)
    errors = {}
    if not description.strip():
        errors["description"] = "Describe the risk."
    if not how_managed.strip():
        errors["how_managed"] = "Say how the risk is managed."
    if not agreed_by.strip():
        errors["agreed_by"] = "Say who agreed how it is managed."
    if errors:
        raise ValidationError(errors)
    if risk is None:
        risk = PlanRisk(plan=plan, position=_next_position(plan.risks), key=uuid.uuid4())
    elif risk.plan_id != plan.pk:
        raise PermissionDenied
    risk.description, risk.how_managed = description.strip(), how_managed.strip()
    risk.agreed_by, risk.positive_risk = agreed_by.strip(), positive_risk
    risk.save()
    _audit(plan, saved_by, "plan.risk_saved", risk=risk.pk, positive_risk=positive_risk)
    return risk


@transaction.atomic
def circle_save(
    *,
    plan: SupportPlan,
    saved_by: Any,
    name: str,
    relationship: str,
    role: str = "",
    is_backup: bool = False,
    phone: str = "",
    email: str = "",
    member: CircleMember | None = None,
) -> CircleMember:
    """Someone in the circle of support; a named back-up person needs a phone number or
    an email address."""
    plan = _editable(plan, saved_by)
    if not name.strip():
        raise ValidationError({"name": "Enter their name."})
    if relationship not in CircleMember.Relationship.values:
        raise ValidationError({"relationship": "Choose how they know the person."})
    if is_backup and not (phone.strip() or email.strip()):
        raise ValidationError(
            {"phone": "A back-up person needs a phone number or an email address."}
        )
    if member is None:
        member = CircleMember(plan=plan, position=_next_position(plan.circle), key=uuid.uuid4())
    elif member.plan_id != plan.pk:
        raise PermissionDenied
    member.name, member.relationship, member.role = name.strip(), relationship, role.strip()
    member.is_backup, member.phone, member.email = is_backup, phone.strip(), email.strip()
    member.full_clean(exclude=["plan"])
    member.save()
    _audit(plan, saved_by, "plan.circle_saved", member=member.pk, backup=is_backup)
    return member


@transaction.atomic
def part_remove(*, plan: SupportPlan, removed_by: Any, part: Any) -> None:
    """Remove an outcome, item, risk, money arrangement or circle member from a draft."""
    plan = _editable(plan, removed_by)
    kinds = (PlanOutcome, SupportItem, PlanRisk, MoneyArrangement, CircleMember)
    if not isinstance(part, kinds) or part.plan_id != plan.pk:
        raise PermissionDenied
    label = part._meta.model_name
    pk = part.pk
    part.delete()
    if isinstance(part, SupportItem | CircleMember):
        _recost(plan)
    _audit(plan, removed_by, "plan.part_removed", part=label, id=pk)


@transaction.atomic
def comment_add(*, plan: SupportPlan, author: Any, body: str) -> PlanComment:
    plan = _locked(plan)
    if not permissions.can_comment(author, plan):
        raise PermissionDenied
    if not body.strip():
        raise ValidationError({"body": "Write your comment."})
    if len(body) > 5000:
        raise ValidationError({"body": "Keep the comment to 5,000 characters or fewer."})
    comment = PlanComment.objects.create(plan=plan, author=author, body=body.strip())
    _audit(plan, author, "plan.commented", comment=comment.pk)
    return comment


# Checks ---------------------------------------------------------------------------------


def budget_pence_by_stream(budget: Budget) -> dict[str, int]:
    return {
        row["stream"]: row["total"]
        for row in budget.contributions.values("stream").annotate(total=Sum("yearly_pence"))
    }


def plan_pence_by_stream(plan: SupportPlan) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for stream, cost in plan.items.values_list("stream", "yearly_cost_pence"):
        if cost:
            totals[stream] += cost
    return dict(totals)


def budget_total_pence(budget: Budget) -> int:
    funded = sum(budget_pence_by_stream(budget).values())
    return funded or (budget.indicative_pence or 0)


def problems(plan: SupportPlan) -> dict[str, list[str]]:
    """What stops the plan being submitted, by the part of the plan it is about, each in
    words the person can act on. Empty when the plan is ready."""
    found: dict[str, list[str]] = defaultdict(list)
    if not plan.what_matters.strip():
        found["what_matters"].append("Say what matters to you.")
    if not plan.outcomes.exists():
        found["outcomes"].append("Add at least one outcome: something you want to achieve.")
    budget = plan.budget
    total = budget_total_pence(budget)
    if plan.yearly_cost_pence > total:
        found["items"].append(
            f"The plan costs {format_pence(plan.yearly_cost_pence)} a year, "
            f"{format_pence(plan.yearly_cost_pence - total)} more than the budget of "
            f"{format_pence(total)}."
        )
    funded = budget_pence_by_stream(budget)
    if funded:
        for stream, cost in sorted(plan_pence_by_stream(plan).items()):
            available = funded.get(stream, 0)
            if cost > available:
                found["items"].append(
                    f"Support paid from {FundingStream(stream).label} costs {format_pence(cost)} "
                    f"a year, {format_pence(cost - available)} more than the "
                    f"{format_pence(available)} that stream provides."
                )
    if not plan.if_support_fails.strip():
        found["contingency"].append("Say what happens if your support fails.")
    circle = list(plan.circle.all())
    carers = [m for m in circle if m.is_family_carer]
    if carers:
        if not plan.carer_emergency.strip():
            found["contingency"].append(
                "Say what your family carer does, and who steps in, in an emergency."
            )
        # The back-up steps in when the carer cannot: a carer is no back-up for themself.
        backups = [m for m in circle if m.is_backup]
        uncovered = [c for c in carers if not any(b.pk != c.pk for b in backups)]
        if uncovered:
            names = " and ".join(c.name for c in uncovered)
            found["contingency"].append(
                f"Name a back-up person who can step in if {names} cannot, with their "
                "contact details, in your circle of support."
            )
    paid_streams = set(plan_pence_by_stream(plan))
    arranged = set(plan.money.values_list("stream", flat=True))
    for stream in sorted(paid_streams - arranged):
        found["money"].append(
            f"Say how the {FundingStream(stream).label} money is managed, and by whom."
        )
    if plan.first_review_on is not None:
        try:
            _check_first_review(plan.first_review_on, timezone.localdate())
        except ValidationError as error:
            found["reviews"].extend(error.messages)
    return dict(found)


# Agreeing ---------------------------------------------------------------------------------


def _needs_commissioner(plan: SupportPlan) -> bool:
    settings_, _ = PlanSettings.objects.get_or_create(organisation_id=plan.holder.organisation_id)
    if plan.yearly_cost_pence > settings_.commissioner_over_pence:
        return True
    previous = (
        SupportPlan.objects.filter(budget__holder=plan.holder, approved_at__isnull=False)
        .exclude(pk=plan.pk)
        .order_by("-approved_at")
        .first()
    )
    return previous is not None and (
        plan.yearly_cost_pence - previous.yearly_cost_pence
        > settings_.commissioner_increase_over_pence
    )


def _move(plan: SupportPlan, to_state: str) -> str:
    if not plan.can_move_to(to_state):
        raise Conflict(
            f"A plan that is {plan.get_state_display().lower()} cannot become "
            f"{SupportPlan.State(to_state).label.lower()}."
        )
    old = plan.state
    plan.state = to_state
    return old


@transaction.atomic
def plan_submit(
    *, plan: SupportPlan, submitted_by: Any, agree: bool = False, agreed_in_person: str = ""
) -> SupportPlan:
    """Send the plan for approval. The holder or their representative confirms they
    agree (``agree``); a planner submitting says how and when the person agreed
    (``agreed_in_person``), which is recorded."""
    plan = _locked(plan)
    if not permissions.can_write(submitted_by, plan.holder):
        raise PermissionDenied
    if plan.state not in SupportPlan.EDITABLE:
        _move(plan, SupportPlan.State.SUBMITTED)  # raises the Conflict with the states
    holder_side = permissions.is_holder_side(submitted_by, plan.holder)
    if holder_side and not agree:
        raise ValidationError({"agree": "Confirm that you agree with the plan to send it."})
    if not holder_side and not agreed_in_person.strip():
        raise ValidationError(
            {"agreed_in_person": "Say how and when the person (or their representative) agreed."}
        )
    found = problems(plan)
    if found:
        raise ValidationError(dict(found))
    old = _move(plan, SupportPlan.State.SUBMITTED)
    now = timezone.now()
    plan.submitted_at = now
    plan.agreed_by, plan.agreed_at = submitted_by, now
    plan.needs_commissioner = _needs_commissioner(plan)
    plan.clinician_approved_by = plan.clinician_approved_at = None
    plan.commissioner_approved_by = plan.commissioner_approved_at = None
    plan.save()
    PlanApproval.objects.create(
        plan=plan,
        step=PlanApproval.Step.AGREED,
        by=submitted_by,
        note="" if holder_side else f"Agreed in person: {agreed_in_person.strip()}",
    )
    _audit(
        plan,
        submitted_by,
        "plan.submitted",
        state=[old, plan.state],
        needs_commissioner=plan.needs_commissioner,
        yearly_cost_pence=plan.yearly_cost_pence,
    )
    roles = [Role.CLINICIAN] + ([Role.COMMISSIONER] if plan.needs_commissioner else [])
    staff_notify(
        plan,
        roles,
        "A support plan is waiting for approval",
        f"{plan.holder.name}'s support plan (version {plan.version}) has been sent for approval.",
    )
    _notify_holder(
        plan,
        "Your support plan has been sent for approval",
        "A clinician will look at it next. We will tell you when it is approved or if "
        "anything needs to change.",
    )
    return plan


@transaction.atomic
def plan_request_changes(*, plan: SupportPlan, requested_by: Any, what_and_why: str) -> SupportPlan:
    plan = _locked(plan)
    if not permissions.can_request_changes(requested_by, plan):
        raise PermissionDenied
    if not what_and_why.strip():
        raise ValidationError({"what_and_why": "Say what needs to change, and why."})
    old = _move(plan, SupportPlan.State.CHANGES_REQUESTED)
    plan.changes_requested = what_and_why.strip()
    plan.save()
    PlanApproval.objects.create(
        plan=plan, step=PlanApproval.Step.CHANGES, by=requested_by, note=plan.changes_requested
    )
    _audit(plan, requested_by, "plan.changes_requested", state=[old, plan.state])
    _notify_holder(
        plan,
        "Your support plan needs some changes",
        f"What needs to change, and why: {plan.changes_requested}",
    )
    return plan


@transaction.atomic
def plan_approve(
    *, plan: SupportPlan, approved_by: Any, step: str, reduction_reasons: str = ""
) -> SupportPlan:
    """Sign off as ``step`` ("clinician" or "commissioner"). When every sign-off the
    plan needs is in, it is approved: the budget is set from its cost (a reduction
    sends the person a notice with ``reduction_reasons``), the plan becomes active and
    the version it revises is superseded."""
    plan = _locked(plan)
    if step not in ("clinician", "commissioner"):
        raise ValidationError({"step": "Approve as a clinician or a commissioner."})
    if not permissions.has_sign_off_role(approved_by, plan, step):
        raise PermissionDenied
    if plan.state != SupportPlan.State.SUBMITTED:
        _move(plan, SupportPlan.State.APPROVED)  # raises the Conflict
    if step == "commissioner" and not plan.needs_commissioner:
        raise Conflict("This plan does not need a commissioner's approval.")
    already = plan.clinician_approved_at if step == "clinician" else plan.commissioner_approved_at
    if already is not None:
        raise Conflict(f"This plan already has the {step}'s approval.")
    reason = permissions.sign_off_refused(approved_by, plan, step)
    if reason:
        raise Conflict(reason)
    now = timezone.now()
    setattr(plan, f"{step}_approved_by", approved_by)
    setattr(plan, f"{step}_approved_at", now)
    PlanApproval.objects.create(plan=plan, step=step, by=approved_by)
    complete = plan.clinician_approved_at is not None and (
        not plan.needs_commissioner or plan.commissioner_approved_at is not None
    )
    if not complete:
        plan.save()
        _audit(plan, approved_by, "plan.signed_off", step=step)
        return plan
    _set_budget(plan, approved_by, reduction_reasons)
    _move(plan, SupportPlan.State.APPROVED)
    plan.approved_at = now
    today = timezone.localdate()
    latest_first = add_months(today, FIRST_REVIEW_MONTHS)
    # The first review is within 3 months of approval: a date chosen while drafting
    # that is now further off, or has passed while the plan waited, becomes 3 months.
    if plan.first_review_on is None or not today <= plan.first_review_on <= latest_first:
        plan.first_review_on = latest_first
    if plan.revises_id is None or plan.next_review_on is None:
        plan.next_review_on = plan.first_review_on
    else:
        plan.next_review_on = min(plan.next_review_on, plan.first_review_on)
    previous = plan.budget.plans.filter(state=SupportPlan.State.ACTIVE).first()
    if previous is not None:
        _move(previous, SupportPlan.State.SUPERSEDED)
        previous.ended_at = now
        previous.save()
    _move(plan, SupportPlan.State.ACTIVE)
    plan.active_from = now
    plan.save()
    _audit(
        plan,
        approved_by,
        "plan.approved",
        step=step,
        state=["submitted", plan.state],
        yearly_cost_pence=plan.yearly_cost_pence,
        supersedes=getattr(previous, "pk", None),
    )
    _notify_holder(
        plan,
        "Your support plan is approved",
        f"Version {plan.version} of your plan is now in place. Your first review is due by "
        f"{plan.next_review_on:%-d %B %Y}.",
    )
    return plan


def _set_budget(plan: SupportPlan, approved_by: Any, reduction_reasons: str) -> None:
    """Set the budget from the plan's cost: each funding stream the plan pays from goes
    to the plan's cost for it. A stream the plan does not use is left as it is (finance
    removes funding). An indicative budget becomes agreed.

    Approval confirms or reduces a budget, never raises it: the plan was checked
    against the budget when it was sent, and if funding has shrunk since, a Conflict
    says by how much (raising funding is for those who set budgets, not approvers)."""
    budget = Budget.objects.select_for_update().get(pk=plan.budget_id)
    costs = plan_pence_by_stream(plan)
    contributions = list(budget.contributions.select_for_update().order_by("pk"))
    if not contributions:
        raise Conflict(
            "The budget has no funding yet: finance sets up its funding before the plan "
            "can be approved."
        )
    by_stream: dict[str, list[Any]] = defaultdict(list)
    for contribution in contributions:
        by_stream[contribution.stream].append(contribution)
    short = []
    for stream, cost in sorted(costs.items()):
        funded = sum(c.yearly_pence for c in by_stream[stream])
        if cost > funded:
            short.append(
                f"{FundingStream(stream).label} pays {format_pence(funded)} a year but the "
                f"plan needs {format_pence(cost)} from it, {format_pence(cost - funded)} more"
            )
    if short:
        raise Conflict(
            "The budget no longer covers the plan: " + "; ".join(short) + ". Ask the "
            "commissioner or finance to change the funding, or ask for changes to the plan."
        )
    shares = {stream: _shares(cost, by_stream[stream]) for stream, cost in costs.items()}
    reduces = any(amount < c.yearly_pence for split in shares.values() for c, amount in split)
    if reduces and budget.state != Budget.State.INDICATIVE and not reduction_reasons.strip():
        raise ValidationError(
            {
                "reduction_reasons": "The plan costs less than the budget, so the budget will "
                "be reduced to the plan's cost. Give the reasons: the person is sent them."
            }
        )
    for split in shares.values():
        for contribution, amount in split:
            if amount != contribution.yearly_pence:
                budget_services.contribution_change(
                    contribution=contribution,
                    yearly_pence=amount,
                    changed_by=approved_by,
                    reasons=reduction_reasons,
                    plan=plan,
                )
    if budget.state == Budget.State.INDICATIVE:
        budget_services.budget_transition(
            budget=budget, to_state=Budget.State.AGREED, changed_by=approved_by, plan=plan
        )


def _shares(cost: int, contributions: list[Any]) -> list[tuple[Any, int]]:
    """Split one stream's cost between its funders in proportion to what each pays now,
    in whole pence that add up to the cost exactly: each gets the whole pence of its
    share, and the pence left over go to the largest fractions (ties: the first added).
    A funder whose share would be nothing cannot be set to nothing here."""
    total = sum(c.yearly_pence for c in contributions)
    floors = [cost * c.yearly_pence // total for c in contributions]
    rests = [cost * c.yearly_pence % total for c in contributions]
    order = sorted(range(len(contributions)), key=lambda i: (-rests[i], i))
    for i in order[: cost - sum(floors)]:
        floors[i] += 1
    if any(amount == 0 for amount in floors):
        raise Conflict(
            "The plan's cost from one funding stream is too small to share between its "
            "funders: finance should remove the funding that is no longer needed first."
        )
    return list(zip(contributions, floors, strict=True))


@transaction.atomic
def plan_end(*, plan: SupportPlan, ended_by: Any, reason: str) -> SupportPlan:
    """End a plan: a version being written that is no longer wanted (those who write
    it, or a clinician or commissioner), or an active plan the person no longer has (a
    clinician or commissioner only: the money follows the active plan, so ending it is
    a decision for those who sign plans off)."""
    plan = _locked(plan)
    if not permissions.can_end(ended_by, plan):
        raise PermissionDenied
    old = _move(plan, SupportPlan.State.ENDED)
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for ending the plan."})
    plan.ended_at = timezone.now()
    plan.save()
    _audit(plan, ended_by, "plan.ended", state=[old, plan.state], reason=reason.strip())
    return plan


# Reviews ------------------------------------------------------------------------------------


@transaction.atomic
def review_record(
    *,
    plan: SupportPlan,
    recorded_by: Any,
    held_on: datetime.date,
    progress: dict[int, tuple[str, str]],
    what_is_working: str = "",
    what_is_not_working: str = "",
    plan_changes: bool = False,
) -> PlanReview:
    """Record a review of the active plan: progress on every outcome (outcome id →
    (progress, note)). The next review falls due ``review_every_months`` after it; an
    overdue flag is resolved; if the plan changes, a new draft version is started."""
    plan = _locked(plan)
    if not permissions.can_review(recorded_by, plan.holder):
        raise PermissionDenied
    if plan.state != SupportPlan.State.ACTIVE:
        raise Conflict("Only an active plan can be reviewed.")
    today = timezone.localdate()
    if isinstance(held_on, datetime.datetime) or not isinstance(held_on, datetime.date):
        raise ValidationError({"held_on": "Enter the date of the review, like 27 3 2026."})
    progress = _progress(progress)
    if held_on > today:
        raise ValidationError({"held_on": "The review date must be today or in the past."})
    if plan.active_from and held_on < timezone.localdate(plan.active_from):
        raise ValidationError({"held_on": "The review cannot be before the plan started."})
    outcomes = {o.pk: o for o in plan.outcomes.all()}
    missing = set(outcomes) - set(progress)
    if missing or set(progress) - set(outcomes):
        raise ValidationError({"progress": "Record progress on each of the plan's outcomes."})
    for value, _note in progress.values():
        if value not in OutcomeProgress.Progress.values:
            raise ValidationError({"progress": "Choose how each outcome is going."})
    review = PlanReview.objects.create(
        plan=plan,
        due_on=plan.next_review_on or held_on,
        held_on=held_on,
        what_is_working=what_is_working.strip(),
        what_is_not_working=what_is_not_working.strip(),
        plan_changes=plan_changes,
        recorded_by=recorded_by,
    )
    OutcomeProgress.objects.bulk_create(
        OutcomeProgress(review=review, outcome=outcomes[pk], progress=value, note=note.strip())
        for pk, (value, note) in progress.items()
    )
    plan.next_review_on = add_months(held_on, plan.review_every_months)
    plan.save(update_fields=["next_review_on", "updated_at"])
    MonitoringFlag.objects.filter(
        budget_id=plan.budget_id, kind=MonitoringFlag.Kind.REVIEW_OVERDUE
    ).unresolved().update(
        state=MonitoringFlag.State.RESOLVED,
        resolved_by=recorded_by,
        resolved_at=timezone.now(),
        note=f"Review held on {held_on:%-d %B %Y}.",
    )
    if plan_changes:
        review.new_version = _new_version_for_review(plan, recorded_by)
        review.save(update_fields=["new_version"])
    _audit(
        plan,
        recorded_by,
        "plan.reviewed",
        review=review.pk,
        held_on=held_on.isoformat(),
        plan_changes=plan_changes,
    )
    return review


def _progress(progress: Any) -> dict[int, tuple[str, str]]:
    """Progress as outcome id -> (progress, note); ids may come as strings from a form,
    a note may be left out. Anything else is a ValidationError."""
    message = {"progress": "Record progress on each of the plan's outcomes."}
    if not isinstance(progress, dict):
        raise ValidationError(message)
    cleaned: dict[int, tuple[str, str]] = {}
    for key, value in progress.items():
        (pk,) = _ids([key], "progress", message["progress"])
        if isinstance(value, str):
            value = (value, "")
        if not isinstance(value, tuple | list) or len(value) != 2:
            raise ValidationError(message)
        if not all(isinstance(part, str) for part in value):
            raise ValidationError({"progress": "Choose how each outcome is going."})
        if pk in cleaned:
            raise ValidationError(message)
        cleaned[pk] = (value[0], value[1])
    return cleaned


def _new_version_for_review(plan: SupportPlan, by: Any) -> SupportPlan:
    """A review that changes the plan starts the new version; a care coordinator or
    clinician may do that for the person, so this does not ask ``can_write``."""
    return _draft(plan.budget, by, from_review=True)
