"""The plan services: every transition and every refused one, who may do what,
validation messages, the commissioner's threshold, setting the budget on approval,
versions and their comparison, comments and audit events."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from budgets.models import Budget, BudgetNotice, FundingStream, ManagementOption
from budgets.models.budgets import add_months
from core.exceptions import Conflict
from core.models import AuditEvent, Notification
from plans import document, permissions, services
from plans.models import (
    CircleMember,
    PlanApproval,
    PlanComment,
    PlanSettings,
    SupportItem,
    SupportPlan,
)
from tests.conftest import staff_user
from tests.factories import OrganisationFactory, RepresentationFactory, add_contribution
from tests.plans.conftest import PlanWorld, fill_plan, make_active
from users.models import Membership, Organisation, Representation, Role

State = SupportPlan.State


def _draft(pw: PlanWorld) -> SupportPlan:
    return services.plan_start(budget=pw.world.budget_a, started_by=pw.world.holder_a.user)


def _filled(pw: PlanWorld, weekly_pence: int = 250_00) -> SupportPlan:
    return fill_plan(_draft(pw), pw.world.holder_a.user, weekly_pence=weekly_pence)


def _submitted(pw: PlanWorld, weekly_pence: int = 250_00) -> SupportPlan:
    plan = _filled(pw, weekly_pence)
    return services.plan_submit(plan=plan, submitted_by=pw.world.holder_a.user, agree=True)


def _snapshot(plan: SupportPlan) -> tuple[Any, ...]:
    plan.refresh_from_db()
    return (
        plan.state,
        plan.what_matters,
        plan.yearly_cost_pence,
        plan.clinician_approved_by_id,
        plan.commissioner_approved_by_id,
        plan.approvals.count(),
        plan.items.count(),
        AuditEvent.objects.filter(action__startswith="plan.").count(),
    )


def _in_state(pw: PlanWorld, state: str) -> SupportPlan:
    """Holder A's latest plan version in ``state``, made through the services."""
    holder = pw.world.holder_a.user
    if state == State.DRAFT:
        return _draft(pw)
    if state == State.CHANGES_REQUESTED:
        return services.plan_request_changes(
            plan=_submitted(pw), requested_by=pw.clinician, what_and_why="Add a second outcome."
        )
    if state == State.SUBMITTED:
        return _submitted(pw)
    if state == State.ACTIVE:
        return make_active(_filled(pw), pw)
    if state == State.ENDED:
        return services.plan_end(plan=_draft(pw), ended_by=holder, reason="Not needed")
    if state == State.SUPERSEDED:
        first = make_active(_filled(pw), pw)
        second = services.plan_start(budget=pw.world.budget_a, started_by=holder)
        services.plan_submit(plan=second, submitted_by=holder, agree=True)
        services.plan_approve(plan=second, approved_by=pw.clinician, step="clinician")
        first.refresh_from_db()
        return first
    raise AssertionError(state)


# Transitions ------------------------------------------------------------------------------


def test_a_draft_is_submitted_approved_and_becomes_active(pw: PlanWorld) -> None:
    plan = _submitted(pw)
    assert plan.state == State.SUBMITTED
    assert plan.agreed_by == pw.world.holder_a.user
    plan = services.plan_approve(plan=plan, approved_by=pw.clinician, step="clinician")
    assert plan.state == State.ACTIVE
    assert plan.approved_at is not None
    assert plan.active_from is not None
    assert list(plan.approvals.values_list("step", flat=True)) == ["agreed", "clinician"]


def test_changes_requested_go_back_to_the_holder_who_revises_and_resubmits(pw: PlanWorld) -> None:
    holder = pw.world.holder_a.user
    plan = services.plan_request_changes(
        plan=_submitted(pw),
        requested_by=pw.clinician,
        what_and_why="The walks need a second person: say who.",
    )
    assert plan.state == State.CHANGES_REQUESTED
    assert plan.changes_requested == "The walks need a second person: say who."
    note = holder.notifications.order_by("-pk").first()
    assert note.subject == "Your support plan needs some changes"
    assert "say who" in note.body
    services.plan_update(plan=plan, updated_by=holder, what_matters="Walks with two people.")
    plan = services.plan_submit(plan=plan, submitted_by=holder, agree=True)
    assert plan.state == State.SUBMITTED
    plan = services.plan_approve(plan=plan, approved_by=pw.clinician, step="clinician")
    assert plan.state == State.ACTIVE


def test_a_draft_or_a_plan_sent_back_can_be_ended(pw: PlanWorld) -> None:
    plan = services.plan_end(plan=_draft(pw), ended_by=pw.world.holder_a.user, reason="Moving")
    assert plan.state == State.ENDED
    assert plan.ended_at is not None
    sent_back = _in_state(pw, State.CHANGES_REQUESTED)
    assert services.plan_end(plan=sent_back, ended_by=pw.planner, reason="x").state == State.ENDED


def test_an_active_plan_is_ended_by_a_clinician(pw: PlanWorld) -> None:
    plan = _in_state(pw, State.ACTIVE)
    plan = services.plan_end(plan=plan, ended_by=pw.clinician, reason="Moved to another area")
    assert plan.state == State.ENDED


# (service call, the states it may not act in)
REFUSED = [
    ("submit", [State.SUBMITTED, State.ACTIVE, State.SUPERSEDED, State.ENDED]),
    (
        "approve",
        [State.DRAFT, State.CHANGES_REQUESTED, State.ACTIVE, State.SUPERSEDED, State.ENDED],
    ),
    (
        "request_changes",
        [State.DRAFT, State.CHANGES_REQUESTED, State.ACTIVE, State.SUPERSEDED, State.ENDED],
    ),
    ("end", [State.SUBMITTED, State.SUPERSEDED, State.ENDED]),
    ("update", [State.SUBMITTED, State.ACTIVE, State.SUPERSEDED, State.ENDED]),
    ("item", [State.SUBMITTED, State.ACTIVE, State.SUPERSEDED, State.ENDED]),
    ("review", [State.DRAFT, State.SUBMITTED, State.SUPERSEDED, State.ENDED]),
]


def _act(action: str, plan: SupportPlan, pw: PlanWorld) -> Any:
    holder = pw.world.holder_a.user
    if action == "submit":
        return services.plan_submit(plan=plan, submitted_by=holder, agree=True)
    if action == "approve":
        return services.plan_approve(plan=plan, approved_by=pw.clinician, step="clinician")
    if action == "request_changes":
        return services.plan_request_changes(
            plan=plan, requested_by=pw.clinician, what_and_why="Why"
        )
    if action == "end":
        return services.plan_end(plan=plan, ended_by=pw.clinician, reason="Why")
    if action == "update":
        return services.plan_update(plan=plan, updated_by=holder, what_matters="New words")
    if action == "item":
        return services.item_save(
            plan=plan,
            saved_by=holder,
            description="Extra",
            provider_kind=SupportItem.ProviderKind.COMMUNITY,
            times=1,
            per=SupportItem.Per.YEAR,
            unit_cost_pence=0,
        )
    if action == "review":
        return services.review_record(
            plan=plan,
            recorded_by=pw.clinician,
            held_on=timezone.localdate(),
            progress={o.pk: ("progressing", "") for o in plan.outcomes.all()},
        )
    raise AssertionError(action)


@pytest.mark.parametrize(
    ("action", "state"), [(action, state) for action, states in REFUSED for state in states]
)
def test_a_disallowed_transition_is_a_conflict_and_changes_nothing(
    pw: PlanWorld, action: str, state: str
) -> None:
    plan = _in_state(pw, state)
    before = _snapshot(plan)
    with pytest.raises(Conflict):
        _act(action, plan, pw)
    assert _snapshot(plan) == before


# Permissions ------------------------------------------------------------------------------


def _people(pw: PlanWorld) -> dict[str, Any]:
    world = pw.world
    plan_rep = RepresentationFactory(
        holder=world.holder_a, scopes=[Representation.Scope.VIEW, Representation.Scope.MANAGE_PLAN]
    ).representative
    return {
        "holder": world.holder_a.user,
        "representative_with_plan_scope": plan_rep,
        "representative_without_plan_scope": world.representative,
        "planner": pw.planner,
        "clinician": pw.clinician,
        "commissioner": pw.commissioner,
        "stranger": world.holder_b.user,
        "staff_of_another_icb": pw.clinician_y,
        "planner_of_another_icb": staff_user(world.org_y, Role.SUPPORT_PLANNER),
    }


WRITERS = {"holder", "representative_with_plan_scope", "planner"}
SIGNERS = {"clinician", "commissioner"}
EVERYONE = [
    "holder",
    "representative_with_plan_scope",
    "representative_without_plan_scope",
    "planner",
    "clinician",
    "commissioner",
    "stranger",
    "staff_of_another_icb",
    "planner_of_another_icb",
]


@pytest.mark.parametrize("who", EVERYONE)
def test_who_may_start_and_write_a_draft(pw: PlanWorld, who: str) -> None:
    user = _people(pw)[who]
    if who not in WRITERS:
        with pytest.raises(PermissionDenied):
            services.plan_start(budget=pw.world.budget_a, started_by=user)
        plan = _draft(pw)
        before = _snapshot(plan)
        for call in (
            lambda: services.plan_update(plan=plan, updated_by=user, what_matters="Mine"),
            lambda: services.outcome_save(plan=plan, saved_by=user, goal="A goal"),
            lambda: services.money_save(
                plan=plan,
                saved_by=user,
                stream=FundingStream.NHS_CHC,
                management_option=ManagementOption.NOTIONAL,
            ),
            lambda: services.risk_save(
                plan=plan, saved_by=user, description="r", how_managed="m", agreed_by="a"
            ),
            lambda: services.circle_save(
                plan=plan, saved_by=user, name="X", relationship=CircleMember.Relationship.FRIEND
            ),
            lambda: services.plan_submit(
                plan=plan, submitted_by=user, agree=True, agreed_in_person="x"
            ),
        ):
            with pytest.raises(PermissionDenied):
                call()
        assert _snapshot(plan) == before
        return
    plan = services.plan_start(budget=pw.world.budget_a, started_by=user)
    plan = fill_plan(plan, user, weekly_pence=250_00)
    assert plan.what_matters
    event = AuditEvent.objects.filter(action="plan.started").get()
    assert event.actor == user


@pytest.mark.parametrize("who", EVERYONE)
def test_who_may_approve_and_send_back(pw: PlanWorld, who: str) -> None:
    user = _people(pw)[who]
    plan = _submitted(pw)
    if who == "commissioner":
        # Holds the role, but this plan needs no commissioner: a conflict, not a refusal.
        with pytest.raises(Conflict, match="does not need a commissioner"):
            services.plan_approve(plan=plan, approved_by=user, step="commissioner")
        assert services.plan_request_changes(
            plan=plan, requested_by=user, what_and_why="Why"
        ).state == (State.CHANGES_REQUESTED)
        return
    if who == "clinician":
        assert services.plan_approve(plan=plan, approved_by=user, step="clinician").state == (
            State.ACTIVE
        )
        return
    before = _snapshot(plan)
    for step in ("clinician", "commissioner"):
        with pytest.raises(PermissionDenied):
            services.plan_approve(plan=plan, approved_by=user, step=step)
    with pytest.raises(PermissionDenied):
        services.plan_request_changes(plan=plan, requested_by=user, what_and_why="Why")
    assert _snapshot(plan) == before


@pytest.mark.parametrize("who", EVERYONE)
def test_who_may_comment(pw: PlanWorld, who: str) -> None:
    user = _people(pw)[who]
    plan = _draft(pw)
    if who in WRITERS | SIGNERS:
        comment = services.comment_add(plan=plan, author=user, body="  Looks good.  ")
        assert comment.body == "Looks good."
        assert AuditEvent.objects.filter(action="plan.commented", actor=user).exists()
    else:
        with pytest.raises(PermissionDenied):
            services.comment_add(plan=plan, author=user, body="Hello")
        assert not PlanComment.objects.exists()


@pytest.mark.parametrize("who", EVERYONE)
def test_who_may_end_an_active_plan(pw: PlanWorld, who: str) -> None:
    user = _people(pw)[who]
    plan = _in_state(pw, State.ACTIVE)
    if who in SIGNERS:
        assert services.plan_end(plan=plan, ended_by=user, reason="Why").state == State.ENDED
        return
    with pytest.raises(PermissionDenied):
        services.plan_end(plan=plan, ended_by=user, reason="Why")
    plan.refresh_from_db()
    assert plan.state == State.ACTIVE


@pytest.mark.parametrize("who", EVERYONE)
def test_who_may_record_a_review(pw: PlanWorld, who: str) -> None:
    user = _people(pw)[who]
    plan = _in_state(pw, State.ACTIVE)
    progress = {o.pk: ("progressing", "") for o in plan.outcomes.all()}
    if who in {"planner", "clinician"}:
        services.review_record(
            plan=plan, recorded_by=user, held_on=timezone.localdate(), progress=progress
        )
        return
    with pytest.raises(PermissionDenied):
        services.review_record(
            plan=plan, recorded_by=user, held_on=timezone.localdate(), progress=progress
        )
    assert not plan.reviews.exists()


def test_a_representative_submits_for_the_person_and_a_planner_says_how_they_agreed(
    pw: PlanWorld,
) -> None:
    plan = _filled(pw)
    with pytest.raises(ValidationError) as error:
        services.plan_submit(plan=plan, submitted_by=pw.planner)
    assert error.value.message_dict == {
        "agreed_in_person": ["Say how and when the person (or their representative) agreed."]
    }
    with pytest.raises(ValidationError, match="Confirm that you agree"):
        services.plan_submit(plan=plan, submitted_by=pw.world.holder_a.user)
    plan = services.plan_submit(
        plan=plan, submitted_by=pw.planner, agreed_in_person="At home on Monday, with Jo."
    )
    assert plan.approvals.get(step="agreed").note == "Agreed in person: At home on Monday, with Jo."


# Sign-off by one person in two roles ------------------------------------------------------


def _also_at_the_council(pw: PlanWorld, user: Any, role: str) -> None:
    """One role per organisation: a second role is held at holder A's council."""
    council = OrganisationFactory(kind=Organisation.Kind.LOCAL_AUTHORITY)
    type(pw.world.holder_a).objects.filter(pk=pw.world.holder_a.pk).update(council=council)
    pw.world.holder_a.refresh_from_db()
    Membership.objects.create(user=user, organisation=council, role=role)


def test_one_person_never_gives_both_sign_offs(pw: PlanWorld) -> None:
    """Someone who is a clinician and a commissioner gives one of the two sign-offs; a
    different person must give the other (the commissioner's is an independent look)."""
    both = staff_user(pw.world.org_x, Role.CLINICIAN)
    _also_at_the_council(pw, both, Role.COMMISSIONER)
    PlanSettings.objects.create(organisation=pw.world.org_x, commissioner_over_pence=1_000_00)
    plan = _submitted(pw)
    assert plan.needs_commissioner is True
    plan = services.plan_approve(plan=plan, approved_by=both, step="clinician")
    assert plan.state == State.SUBMITTED
    assert permissions.can_approve_as(both, plan, "commissioner") is False
    before = _snapshot(plan)
    with pytest.raises(Conflict, match="a different person must give the commissioner's"):
        services.plan_approve(plan=plan, approved_by=both, step="commissioner")
    assert _snapshot(plan) == before
    plan = services.plan_approve(plan=plan, approved_by=pw.commissioner, step="commissioner")
    assert plan.state == State.ACTIVE


def test_nobody_approves_a_plan_they_sent_themselves(pw: PlanWorld) -> None:
    _also_at_the_council(pw, pw.planner, Role.CLINICIAN)
    plan = fill_plan(
        services.plan_start(budget=pw.world.budget_a, started_by=pw.planner),
        pw.planner,
        weekly_pence=250_00,
    )
    plan = services.plan_submit(plan=plan, submitted_by=pw.planner, agreed_in_person="Today")
    with pytest.raises(Conflict, match="You sent this plan for approval"):
        services.plan_approve(plan=plan, approved_by=pw.planner, step="clinician")
    assert services.plan_approve(plan=plan, approved_by=pw.clinician, step="clinician").state == (
        State.ACTIVE
    )


def test_a_sign_off_already_given_is_a_conflict(pw: PlanWorld) -> None:
    PlanSettings.objects.create(organisation=pw.world.org_x, commissioner_over_pence=1_000_00)
    plan = services.plan_approve(plan=_submitted(pw), approved_by=pw.clinician, step="clinician")
    other = staff_user(pw.world.org_x, Role.CLINICIAN)
    with pytest.raises(Conflict, match="already has the clinician's approval"):
        services.plan_approve(plan=plan, approved_by=other, step="clinician")


def test_an_unknown_step_is_refused(pw: PlanWorld) -> None:
    with pytest.raises(ValidationError, match="Approve as a clinician or a commissioner"):
        services.plan_approve(plan=_submitted(pw), approved_by=pw.clinician, step="planner")


# Validation -------------------------------------------------------------------------------


def _problems(plan: SupportPlan) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as error:
        services.plan_submit(plan=plan, submitted_by=plan.holder.user, agree=True)
    plan.refresh_from_db()
    assert plan.state == State.DRAFT
    return error.value.message_dict


def test_a_plan_over_the_budget_says_by_how_much(pw: PlanWorld) -> None:
    plan = _filled(pw, weekly_pence=260_00)  # £13,520 against £13,000
    found = _problems(plan)
    assert (
        "The plan costs £13,520.00 a year, £520.00 more than the budget of £13,000.00."
        in found["items"]
    )
    assert (
        "Support paid from NHS continuing healthcare costs £13,520.00 a year, £520.00 more "
        "than the £13,000.00 that stream provides." in found["items"]
    )


def test_a_stream_over_its_funding_is_named_even_when_the_total_fits(pw: PlanWorld) -> None:
    council = OrganisationFactory(kind=Organisation.Kind.LOCAL_AUTHORITY)
    add_contribution(
        pw.world.budget_a,
        funder=council,
        stream=FundingStream.COUNCIL_SOCIAL_CARE,
        yearly_pence=5_000_00,
    )
    plan = _filled(pw, weekly_pence=260_00)  # £13,520 of £18,000, but NHS pays £13,000
    found = _problems(plan)
    assert found["items"] == [
        "Support paid from NHS continuing healthcare costs £13,520.00 a year, £520.00 more "
        "than the £13,000.00 that stream provides."
    ]


def test_a_plan_needs_a_contingency(pw: PlanWorld) -> None:
    plan = _filled(pw)
    services.plan_update(plan=plan, updated_by=plan.holder.user, if_support_fails="")
    assert _problems(plan) == {"contingency": ["Say what happens if your support fails."]}


def test_a_family_carer_needs_a_back_up_other_than_themself(pw: PlanWorld) -> None:
    plan = _filled(pw)
    neighbour = plan.circle.get(name="Chris Neighbour")
    services.part_remove(plan=plan, removed_by=plan.holder.user, part=neighbour)
    # Jo, the family carer, is named as back-up: she cannot step in for herself.
    assert _problems(plan) == {
        "contingency": [
            "Name a back-up person who can step in if Jo Sister cannot, with their contact "
            "details, in your circle of support."
        ]
    }
    services.plan_update(plan=plan, updated_by=plan.holder.user, carer_emergency="")
    assert (
        "Say what your family carer does, and who steps in, in an emergency."
        in (_problems(plan)["contingency"])
    )


def test_a_back_up_person_needs_a_way_to_be_reached(pw: PlanWorld) -> None:
    plan = _draft(pw)
    with pytest.raises(ValidationError) as error:
        services.circle_save(
            plan=plan,
            saved_by=plan.holder.user,
            name="Chris",
            relationship=CircleMember.Relationship.FRIEND,
            is_backup=True,
        )
    assert error.value.message_dict == {
        "phone": ["A back-up person needs a phone number or an email address."]
    }
    assert not plan.circle.exists()


def test_the_first_review_must_be_within_three_months(pw: PlanWorld) -> None:
    plan = _draft(pw)
    latest = add_months(timezone.localdate(), 3)
    with pytest.raises(ValidationError) as error:
        services.plan_update(
            plan=plan,
            updated_by=plan.holder.user,
            first_review_on=latest + datetime.timedelta(days=1),
        )
    assert error.value.message_dict == {
        "first_review_on": [
            "The first review must be within 3 months of agreeing the plan: on or before "
            f"{latest:%-d %B %Y}."
        ]
    }
    with pytest.raises(ValidationError, match="must be in the future"):
        services.plan_update(
            plan=plan,
            updated_by=plan.holder.user,
            first_review_on=timezone.localdate() - datetime.timedelta(days=1),
        )
    plan.refresh_from_db()
    assert plan.first_review_on is None


@pytest.mark.parametrize("months", [0, 13, -1, True, "twelve", 6.5, None])
def test_reviews_must_be_at_least_yearly(pw: PlanWorld, months: Any) -> None:
    plan = _draft(pw)
    with pytest.raises(ValidationError) as error:
        services.plan_update(plan=plan, updated_by=plan.holder.user, review_every_months=months)
    assert error.value.message_dict == {
        "review_every_months": [
            "Reviews must be at least once a year: enter a number of months, 1 to 12."
        ]
    }
    plan.refresh_from_db()
    assert plan.review_every_months == 12


def test_plan_update_takes_dates_and_months_as_a_form_or_the_api_sends_them(
    pw: PlanWorld,
) -> None:
    plan = _draft(pw)
    first = timezone.localdate() + datetime.timedelta(days=30)
    plan = services.plan_update(
        plan=plan,
        updated_by=plan.holder.user,
        first_review_on=first.isoformat(),
        review_every_months="6",
    )
    plan.refresh_from_db()
    assert (plan.first_review_on, plan.review_every_months) == (first, 6)
    with pytest.raises(ValidationError, match="real date"):
        services.plan_update(plan=plan, updated_by=plan.holder.user, first_review_on="31/02/2026")
    with pytest.raises(ValidationError, match="real date"):
        services.plan_update(plan=plan, updated_by=plan.holder.user, first_review_on=timezone.now())
    with pytest.raises(ValidationError, match="cannot be changed here"):
        services.plan_update(plan=plan, updated_by=plan.holder.user, state="active")


def test_an_old_first_review_date_does_not_block_changing_the_text(pw: PlanWorld) -> None:
    plan = _draft(pw)
    SupportPlan.objects.filter(pk=plan.pk).update(
        first_review_on=timezone.localdate() - datetime.timedelta(days=3)
    )
    services.plan_update(plan=plan, updated_by=plan.holder.user, what_matters="My garden")
    plan.refresh_from_db()
    assert plan.what_matters == "My garden"


def test_item_outcomes_are_read_once_each_whatever_they_come_as(pw: PlanWorld) -> None:
    plan = _filled(pw)
    outcome = plan.outcomes.get()
    kwargs = {
        "plan": plan,
        "saved_by": plan.holder.user,
        "description": "Gym",
        "provider_kind": SupportItem.ProviderKind.OTHER,
        "times": 1,
        "per": SupportItem.Per.YEAR,
        "unit_cost_pence": 0,
    }
    item = services.item_save(**kwargs, outcome_ids=(pk for pk in [outcome.pk, outcome.pk]))
    assert list(item.outcomes.all()) == [outcome]
    item = services.item_save(**kwargs, outcome_ids=[str(outcome.pk), outcome.pk], item=item)
    assert list(item.outcomes.all()) == [outcome]
    for bad in (["abc"], [outcome.pk + 1000], [True]):
        with pytest.raises(ValidationError, match="Choose outcomes from this plan"):
            services.item_save(**kwargs, outcome_ids=bad)


def test_an_item_costs_its_yearly_amount_and_the_plan_adds_them_up(pw: PlanWorld) -> None:
    plan = _filled(pw, weekly_pence=100_00)
    assert plan.yearly_cost_pence == 5_200_00
    services.item_save(
        plan=plan,
        saved_by=plan.holder.user,
        description="Physio",
        provider_kind=SupportItem.ProviderKind.OTHER,
        times=2,
        per=SupportItem.Per.MONTH,
        unit_cost_pence=45_00,
        stream=FundingStream.NHS_CHC,
    )
    plan.refresh_from_db()
    assert plan.yearly_cost_pence == 5_200_00 + 2 * 12 * 45_00


def test_an_item_from_a_stream_the_budget_lacks_is_refused(pw: PlanWorld) -> None:
    plan = _draft(pw)
    with pytest.raises(ValidationError) as error:
        services.item_save(
            plan=plan,
            saved_by=plan.holder.user,
            description="Club",
            provider_kind=SupportItem.ProviderKind.COMMUNITY,
            times=1,
            per=SupportItem.Per.WEEK,
            unit_cost_pence=5_00,
            stream=FundingStream.COUNCIL_SOCIAL_CARE,
        )
    assert error.value.message_dict == {
        "stream": ["This budget is funded by NHS continuing healthcare. Choose one of those."]
    }
    assert not plan.items.exists()


# The commissioner's threshold -------------------------------------------------------------


def test_a_plan_over_the_organisations_amount_needs_a_commissioner_too(pw: PlanWorld) -> None:
    PlanSettings.objects.create(organisation=pw.world.org_x, commissioner_over_pence=12_999_99)
    plan = _submitted(pw)
    assert plan.needs_commissioner is True
    staff = {n.user for n in Notification.objects.all()}
    assert pw.commissioner in staff
    plan = services.plan_approve(plan=plan, approved_by=pw.clinician, step="clinician")
    assert plan.state == State.SUBMITTED
    assert AuditEvent.objects.filter(action="plan.signed_off").exists()
    plan = services.plan_approve(plan=plan, approved_by=pw.commissioner, step="commissioner")
    assert plan.state == State.ACTIVE


def test_a_plan_at_the_amount_needs_only_a_clinician(pw: PlanWorld) -> None:
    PlanSettings.objects.create(organisation=pw.world.org_x, commissioner_over_pence=13_000_00)
    assert _submitted(pw).needs_commissioner is False


def test_an_increase_over_the_last_agreed_version_needs_a_commissioner(pw: PlanWorld) -> None:
    PlanSettings.objects.create(
        organisation=pw.world.org_x, commissioner_increase_over_pence=1_000_00
    )
    holder = pw.world.holder_a.user
    first = services.plan_submit(
        plan=_filled(pw, weekly_pence=200_00), submitted_by=holder, agree=True
    )
    services.plan_approve(  # £10,400 agreed
        plan=first, approved_by=pw.clinician, step="clinician", reduction_reasons="Less needed"
    )
    budget_contribution = pw.world.budget_a.contributions.get()
    budget_contribution.refresh_from_db()
    # Funding back up to £13,000 so the next version can cost more.
    budget_contribution.yearly_pence = 13_000_00
    budget_contribution.save()
    second = services.plan_start(budget=pw.world.budget_a, started_by=holder)
    item = second.items.get()
    services.item_save(
        plan=second,
        saved_by=holder,
        description=item.description,
        provider_kind=item.provider_kind,
        times=1,
        per=SupportItem.Per.WEEK,
        unit_cost_pence=221_00,  # £11,492: £1,092 more
        stream=item.stream,
        outcome_ids=list(item.outcomes.values_list("pk", flat=True)),
        item=item,
    )
    second = services.plan_submit(plan=second, submitted_by=holder, agree=True)
    assert second.needs_commissioner is True


# Approval sets the budget ------------------------------------------------------------------


def test_a_plan_costing_the_budget_confirms_it(pw: PlanWorld) -> None:
    make_active(_filled(pw), pw)
    assert pw.world.budget_a.contributions.get().yearly_pence == 13_000_00
    assert not BudgetNotice.objects.exists()


def test_a_cheaper_plan_on_an_active_budget_needs_reasons_and_sends_a_notice(
    pw: PlanWorld,
) -> None:
    plan = _submitted(pw, weekly_pence=200_00)  # £10,400 of £13,000
    before = _snapshot(plan)
    with pytest.raises(ValidationError) as error:
        services.plan_approve(plan=plan, approved_by=pw.clinician, step="clinician")
    assert "reduction_reasons" in error.value.message_dict
    assert _snapshot(plan) == before
    assert pw.world.budget_a.contributions.get().yearly_pence == 13_000_00
    plan = services.plan_approve(
        plan=plan,
        approved_by=pw.clinician,
        step="clinician",
        reduction_reasons="The plan needs less: the walks are now weekly.",
    )
    assert plan.state == State.ACTIVE
    assert pw.world.budget_a.contributions.get().yearly_pence == 10_400_00
    notice = BudgetNotice.objects.get(budget=pw.world.budget_a)
    assert notice.kind == BudgetNotice.Kind.REDUCTION
    assert notice.amount_pence == 2_600_00
    assert notice.reasons == "The plan needs less: the walks are now weekly."
    assert pw.world.holder_a.user.notifications.filter(subject=notice.subject).exists()
    assert AuditEvent.objects.get(action="budget.contribution_changed").changes["plan"] == plan.pk


def test_an_indicative_budget_becomes_agreed_at_the_plans_cost(pw: PlanWorld) -> None:
    Budget.objects.filter(pk=pw.world.budget_a.pk).update(state=Budget.State.INDICATIVE)
    plan = _submitted(pw, weekly_pence=200_00)
    plan = services.plan_approve(plan=plan, approved_by=pw.clinician, step="clinician")
    budget = Budget.objects.get(pk=pw.world.budget_a.pk)
    assert budget.state == Budget.State.AGREED
    assert budget.contributions.get().yearly_pence == 10_400_00
    assert not BudgetNotice.objects.exists()  # nothing agreed was reduced


def test_approval_never_raises_funding_that_shrank_after_submission(pw: PlanWorld) -> None:
    plan = _submitted(pw)
    pw.world.budget_a.contributions.update(yearly_pence=12_000_00)
    before = _snapshot(plan)
    with pytest.raises(Conflict) as error:
        services.plan_approve(plan=plan, approved_by=pw.clinician, step="clinician")
    assert "NHS continuing healthcare pays £12,000.00 a year but the plan needs £13,000.00" in (
        error.value.message
    )
    assert "£1,000.00 more" in error.value.message
    assert _snapshot(plan) == before
    assert pw.world.budget_a.contributions.get().yearly_pence == 12_000_00


def test_several_funders_of_one_stream_share_the_cost_in_exact_pence(pw: PlanWorld) -> None:
    budget = pw.world.budget_a
    first = budget.contributions.get()
    first.yearly_pence = 1_000_00
    first.save()
    funders = [first] + [
        add_contribution(
            budget,
            funder=OrganisationFactory(kind=Organisation.Kind.ICB),
            stream=FundingStream.NHS_CHC,
            yearly_pence=1_000_00,
        )
        for _ in range(2)
    ]
    # £3,000 between three equal funders; the plan costs £2,000.00 and 1p, which does
    # not split into equal whole pence.
    plan = _draft(pw)
    fill_plan(plan, plan.holder.user, weekly_pence=100_00)
    item = plan.items.get()
    services.item_save(
        plan=plan,
        saved_by=plan.holder.user,
        description=item.description,
        provider_kind=item.provider_kind,
        times=1,
        per=SupportItem.Per.YEAR,
        unit_cost_pence=2_000_01,
        stream=item.stream,
        item=item,
    )
    plan = services.plan_submit(plan=plan, submitted_by=plan.holder.user, agree=True)
    services.plan_approve(
        plan=plan, approved_by=pw.clinician, step="clinician", reduction_reasons="Costs less"
    )
    amounts = [budget.contributions.get(pk=f.pk).yearly_pence for f in funders]
    assert amounts == [666_67, 666_67, 666_67]
    assert sum(amounts) == 2_000_01


def test_a_new_version_copies_every_part_and_supersedes_the_old_on_approval(
    pw: PlanWorld,
) -> None:
    holder = pw.world.holder_a.user
    first = make_active(_filled(pw), pw)
    second = services.plan_start(budget=pw.world.budget_a, started_by=holder)
    assert (second.version, second.revises, second.state) == (2, first, State.DRAFT)
    assert second.what_matters == first.what_matters
    for part in ("outcomes", "items", "circle", "risks"):
        old_keys = set(getattr(first, part).values_list("key", flat=True))
        assert set(getattr(second, part).values_list("key", flat=True)) == old_keys
        assert not set(getattr(second, part).values_list("pk", flat=True)) & set(
            getattr(first, part).values_list("pk", flat=True)
        )
    assert list(second.money.values_list("stream", flat=True)) == [FundingStream.NHS_CHC]
    # The copied item serves the copied outcome; the old item keeps the old one.
    assert list(second.items.get().outcomes.all()) == list(second.outcomes.all())
    assert list(first.items.get().outcomes.all()) == list(first.outcomes.all())
    assert second.yearly_cost_pence == first.yearly_cost_pence
    # Starting again returns the same draft.
    assert services.plan_start(budget=pw.world.budget_a, started_by=holder) == second
    services.plan_submit(plan=second, submitted_by=holder, agree=True)
    # While it waits for approval, no third version can start beside it.
    with pytest.raises(Conflict, match="Version 2 of the plan is waiting for approval"):
        services.plan_start(budget=pw.world.budget_a, started_by=holder)
    second = services.plan_approve(plan=second, approved_by=pw.clinician, step="clinician")
    first.refresh_from_db()
    assert (first.state, second.state) == (State.SUPERSEDED, State.ACTIVE)
    assert first.ended_at is not None
    assert (
        AuditEvent.objects.get(action="plan.approved", object_id=str(second.pk)).changes[
            "supersedes"
        ]
        == first.pk
    )


def test_a_closed_budget_takes_no_new_plan(pw: PlanWorld) -> None:
    Budget.objects.filter(pk=pw.world.budget_a.pk).update(state=Budget.State.CLOSED)
    with pytest.raises(Conflict, match="closed"):
        _draft(pw)
    assert not SupportPlan.objects.exists()


def test_a_first_review_date_that_passed_while_waiting_becomes_three_months(
    pw: PlanWorld,
) -> None:
    plan = _submitted(pw)
    SupportPlan.objects.filter(pk=plan.pk).update(
        first_review_on=timezone.localdate() - datetime.timedelta(days=2)
    )
    plan = services.plan_approve(plan=plan, approved_by=pw.clinician, step="clinician")
    expected = add_months(timezone.localdate(), 3)
    assert (plan.first_review_on, plan.next_review_on) == (expected, expected)


# Versions can never be edited ----------------------------------------------------------------


def test_the_database_refuses_changes_to_an_approved_version(pw: PlanWorld) -> None:
    plan = make_active(_filled(pw), pw)
    outcome, item = plan.outcomes.get(), plan.items.get()
    attempts = [
        lambda: SupportPlan.objects.filter(pk=plan.pk).update(what_matters="Changed"),
        lambda: SupportPlan.objects.filter(pk=plan.pk).update(yearly_cost_pence=1),
        lambda: type(outcome).objects.filter(pk=outcome.pk).update(goal="Changed"),
        lambda: SupportItem.objects.filter(pk=item.pk).update(unit_cost_pence=1),
        lambda: plan.risks.all().delete(),
        lambda: item.outcomes.clear(),
        lambda: CircleMember.objects.create(
            plan=plan,
            name="New",
            relationship=CircleMember.Relationship.FRIEND,
            key=uuid.uuid4(),
        ),
    ]
    for attempt in attempts:
        with pytest.raises(IntegrityError, match="no longer a draft"), transaction.atomic():
            attempt()
    plan.refresh_from_db()
    assert plan.what_matters.startswith("Being at home")
    # Its state and review dates still move, through the services.
    services.plan_end(plan=plan, ended_by=pw.clinician, reason="Moved away")


def test_a_submitted_version_cannot_be_changed_in_the_database_either(pw: PlanWorld) -> None:
    plan = _submitted(pw)
    with pytest.raises(IntegrityError), transaction.atomic():
        SupportItem.objects.filter(plan=plan).update(times=7)


# Versions and their comparison -----------------------------------------------------------------


def test_compare_shows_added_removed_and_changed_entries_with_word_runs(pw: PlanWorld) -> None:
    holder = pw.world.holder_a.user
    first = make_active(_filled(pw), pw)
    second = services.plan_start(budget=pw.world.budget_a, started_by=holder)
    outcome = second.outcomes.get()
    services.outcome_save(
        plan=second,
        saved_by=holder,
        outcome=outcome,
        goal="Walk to the big park on my own",
        how_we_know=outcome.how_we_know,
        life_areas=outcome.life_areas,
    )
    services.outcome_save(plan=second, saved_by=holder, goal="Join a choir")
    services.part_remove(plan=second, removed_by=holder, part=second.risks.get())
    changes = {
        s.key: s
        for s in document.compare(document.plan_document(first), document.plan_document(second))
    }
    outcomes = {e.title: e for e in changes["outcomes"].entries}
    assert outcomes["Walk to the big park on my own"].status == "changed"
    assert outcomes["Walk to the big park on my own"].old_title == "Walk to the park on my own"
    assert outcomes["Join a choir"].status == "added"
    assert [e.status for e in changes["risks"].entries] == ["removed"]
    assert changes["circle"].changed is False
    summary = changes["summary"].entries[0]
    version = next(line for line in summary.lines if line.label == "Version")
    assert (version.old, version.new) == ("1", "2")
    words = document.LineChange("Goal", "Walk to the park", "Walk to the big park").words()
    assert words == [("same", "Walk to the"), ("added", "big"), ("same", "park")]
    removed = document.LineChange("x", "Twice a week", "Once a week").words()
    assert removed == [("removed", "Twice"), ("added", "Once"), ("same", "a week")]


# Audit -----------------------------------------------------------------------------------------


def test_every_service_writes_its_audit_event(pw: PlanWorld) -> None:
    holder = pw.world.holder_a.user
    plan = _draft(pw)
    fill_plan(plan, holder, weekly_pence=250_00)
    services.comment_add(plan=plan, author=pw.planner, body="Nice")
    extra = services.risk_save(
        plan=plan, saved_by=holder, description="d", how_managed="h", agreed_by="a"
    )
    services.part_remove(plan=plan, removed_by=holder, part=extra)
    plan = services.plan_submit(plan=plan, submitted_by=holder, agree=True)
    plan = services.plan_request_changes(plan=plan, requested_by=pw.clinician, what_and_why="x")
    plan = services.plan_submit(plan=plan, submitted_by=holder, agree=True)
    plan = services.plan_approve(plan=plan, approved_by=pw.clinician, step="clinician")
    services.review_record(
        plan=plan,
        recorded_by=pw.planner,
        held_on=timezone.localdate(),
        progress={o.pk: ("progressing", "") for o in plan.outcomes.all()},
        plan_changes=True,
    )
    services.plan_end(plan=plan, ended_by=pw.clinician, reason="Moved")
    actions = set(
        AuditEvent.objects.filter(action__startswith="plan.").values_list("action", flat=True)
    )
    assert actions == {
        "plan.started",
        "plan.updated",
        "plan.outcome_saved",
        "plan.item_saved",
        "plan.money_saved",
        "plan.risk_saved",
        "plan.circle_saved",
        "plan.commented",
        "plan.part_removed",
        "plan.submitted",
        "plan.changes_requested",
        "plan.approved",
        "plan.reviewed",
        "plan.ended",
    }
    event = AuditEvent.objects.get(action="plan.approved")
    assert (event.actor, event.person) == (pw.clinician, pw.world.holder_a)
    assert PlanApproval.objects.filter(plan=plan).count() == 4


# Demo data -----------------------------------------------------------------------------------


def test_the_demo_plans_are_built_through_the_services_once(db: Any, settings: Any) -> None:
    from core.demo import load_demo_data

    settings.DEMO_PASSWORD = "demo-password-123"
    settings.DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    load_demo_data()

    def shape() -> list[tuple[Any, ...]]:
        return sorted(
            (p.holder.name, p.version, p.state, p.yearly_cost_pence, p.items.count())
            for p in SupportPlan.objects.select_related("holder")
        )

    first = shape()
    states = {name: state for name, _, state, _, _ in first}
    assert states == {
        "Alex Morgan": State.ACTIVE,
        "Bernadette Quinn": State.SUBMITTED,
        "Chidi Eze": State.DRAFT,
    }
    alex = SupportPlan.objects.get(holder__name="Alex Morgan")
    assert alex.outcomes.count() == 2
    assert alex.circle.filter(relationship=CircleMember.Relationship.CARER).exists()
    assert alex.circle.filter(is_backup=True).exclude(relationship="carer").exists()
    assert alex.items.filter(carer__isnull=False).exists()
    events = AuditEvent.objects.filter(action__startswith="plan.").count()
    load_demo_data()
    assert shape() == first
    assert AuditEvent.objects.filter(action__startswith="plan.").count() == events
