"""Budget services: holders, budgets and their states, funding changes with notices,
spending, queries, surplus recovery, and the Resource Allocation System."""

from __future__ import annotations

import datetime
from typing import Any
from unittest.mock import patch

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from budgets import ras, services
from budgets.ledger import InsufficientFunds
from budgets.models import (
    Budget,
    BudgetHolder,
    BudgetNotice,
    EligibilityRoute,
    FundingStream,
    LedgerTransaction,
    RasBand,
    RasDomain,
    RasOption,
    RasQuestion,
    RasQuestionnaire,
    Spend,
    SpendCategory,
    SurplusRecovery,
)
from budgets.monitoring import reconciliation_run
from core import request_context
from core.exceptions import Conflict
from core.models import AuditEvent, Notification
from tests.conftest import World
from tests.factories import (
    BudgetHolderFactory,
    OrganisationFactory,
    make_budget,
    next_test_nhs_number,
)
from users.models import Organisation

# Holders -------------------------------------------------------------------------------


def _holder_fields(world: World, **overrides: Any) -> dict[str, Any]:
    fields = {
        "created_by": world.staff_x,
        "nhs_number": next_test_nhs_number(),
        "name": "Kim Example",
        "date_of_birth": datetime.date(1970, 1, 2),
        "postcode": "ls1 4ap",
        "organisation": world.org_x,
        "eligibility_route": EligibilityRoute.S117_AFTERCARE,
    }
    return {**fields, **overrides}


def test_a_coordinator_opens_a_record_with_a_normalised_postcode_and_an_audit_event(
    world: World,
) -> None:
    holder = services.holder_create(**_holder_fields(world))

    assert holder.postcode == "LS1 4AP"
    assert holder.has_legal_right
    assert AuditEvent.objects.filter(action="holder.created", object_id=str(holder.pk)).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("nhs_number", "9990000019"),  # the check digit is wrong
        ("nhs_number", "12345"),
        ("postcode", "NOT A POSTCODE"),
        ("date_of_birth", timezone.localdate() + datetime.timedelta(days=1)),
        ("eligibility_route", "astrology"),
    ],
)
def test_a_record_with_bad_details_is_refused_and_nothing_is_saved(
    world: World, field: str, value: Any
) -> None:
    before = BudgetHolder.objects.count()
    with pytest.raises(ValidationError) as error:
        services.holder_create(**_holder_fields(world, **{field: value}))
    assert field in error.value.message_dict
    assert BudgetHolder.objects.count() == before


def test_an_nhs_number_already_on_the_platform_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as error:
        services.holder_create(**_holder_fields(world, nhs_number=world.holder_b.nhs_number))
    assert "nhs_number" in error.value.message_dict


def test_staff_of_another_icb_cannot_open_a_record_for_this_one(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.holder_create(**_holder_fields(world, created_by=world.staff_y))


# Budgets and their states ------------------------------------------------------------


def _indicative(world: World) -> Budget:
    start = timezone.localdate().replace(day=1)
    return services.budget_create(
        holder=world.holder_a,
        period_start=start,
        period_end=start.replace(year=start.year + 1) - datetime.timedelta(days=1),
        created_by=world.commissioner,
    )


def test_a_budget_moves_through_its_states_with_each_move_audited(world: World) -> None:
    budget = _indicative(world)
    services.contribution_add(
        budget=budget,
        funder=world.org_x,
        stream=FundingStream.NHS_CHC,
        yearly_pence=10_400_00,
        added_by=world.finance_officer,
    )
    for state in ("agreed", "active", "suspended", "active"):
        budget = services.budget_transition(
            budget=budget, to_state=state, changed_by=world.commissioner, reason="Review"
        )
    assert budget.state == "active"
    assert (
        AuditEvent.objects.filter(action="budget.state_changed", object_id=str(budget.pk)).count()
        == 4
    )


def test_a_budget_records_the_day_it_first_became_active_and_the_day_it_closed(
    world: World,
) -> None:
    budget = _indicative(world)
    services.contribution_add(
        budget=budget,
        funder=world.org_x,
        stream=FundingStream.NHS_CHC,
        yearly_pence=10_400_00,
        added_by=world.finance_officer,
    )
    today = timezone.localdate()
    budget = services.budget_transition(
        budget=budget, to_state="agreed", changed_by=world.commissioner
    )
    assert (budget.active_from, budget.ended_on) == (None, None)
    with patch("django.utils.timezone.localdate", return_value=today + datetime.timedelta(days=3)):
        budget = services.budget_transition(
            budget=budget, to_state="active", changed_by=world.commissioner
        )
    assert budget.active_from == today + datetime.timedelta(days=3)
    # Suspending and resuming keeps the first day; closing records the day.
    with patch("django.utils.timezone.localdate", return_value=today + datetime.timedelta(days=10)):
        for state in ("suspended", "active"):
            services.budget_transition(
                budget=budget, to_state=state, changed_by=world.commissioner, reason="Review"
            )
    with patch("django.utils.timezone.localdate", return_value=today + datetime.timedelta(days=20)):
        services.budget_transition(
            budget=budget, to_state="closed", changed_by=world.commissioner, reason="Moved away"
        )
    budget.refresh_from_db()
    assert budget.active_from == today + datetime.timedelta(days=3)
    assert budget.ended_on == today + datetime.timedelta(days=20)


DISALLOWED = [
    (frm, to)
    for frm, allowed in Budget.TRANSITIONS.items()
    for to in Budget.State.values
    if to != frm and to not in allowed
]


@pytest.mark.parametrize(("from_state", "to_state"), DISALLOWED)
def test_a_disallowed_move_is_a_conflict_and_changes_nothing(
    world: World, from_state: str, to_state: str
) -> None:
    budget = make_budget(world.holder_a, state=from_state)
    with pytest.raises(Conflict):
        services.budget_transition(
            budget=budget, to_state=to_state, changed_by=world.commissioner, reason="x"
        )
    budget.refresh_from_db()
    assert budget.state == from_state


def test_re_applying_the_current_state_is_a_no_op(world: World) -> None:
    before = AuditEvent.objects.count()
    services.budget_transition(
        budget=world.budget_a, to_state="active", changed_by=world.commissioner
    )
    assert AuditEvent.objects.count() == before


def test_a_budget_cannot_be_agreed_without_funding(world: World) -> None:
    with pytest.raises(Conflict, match="funding"):
        services.budget_transition(
            budget=_indicative(world), to_state="agreed", changed_by=world.commissioner
        )


def test_a_care_coordinator_cannot_change_a_budget_state(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.budget_transition(
            budget=world.budget_a, to_state="suspended", changed_by=world.staff_x, reason="x"
        )


def test_an_integrated_budget_keeps_each_funders_money_apart(world: World) -> None:
    council = OrganisationFactory(kind=Organisation.Kind.LOCAL_AUTHORITY)
    budget = _indicative(world)
    nhs = services.contribution_add(
        budget=budget,
        funder=world.org_x,
        stream="nhs_chc",
        yearly_pence=1_000_00,
        added_by=world.commissioner,
    )
    social = services.contribution_add(
        budget=budget,
        funder=council,
        stream="council_social_care",
        yearly_pence=500_00,
        added_by=world.commissioner,
    )
    assert nhs.account.pk != social.account.pk
    assert {c.funder for c in budget.contributions.all()} == {world.org_x, council}


@pytest.mark.parametrize(
    ("yearly_pence", "allowed"),
    [(2_500_000_00, True), (10_000_000_00, True), (10_000_000_01, False)],
)
def test_a_years_funding_may_exceed_a_single_payment_up_to_the_database_cap(
    world: World, yearly_pence: int, allowed: bool
) -> None:
    budget = _indicative(world)
    add = lambda: services.contribution_add(  # noqa: E731
        budget=budget,
        funder=world.org_x,
        stream="nhs_chc",
        yearly_pence=yearly_pence,
        added_by=world.commissioner,
    )
    if allowed:
        assert add().yearly_pence == yearly_pence
    else:
        with pytest.raises(ValidationError, match=r"£10,000,000\.00 or less"):
            add()
        assert not budget.contributions.exists()


def test_a_reduction_needs_reasons_and_sends_the_holder_a_notice(world: World) -> None:
    contribution = world.budget_a.contributions.get()
    with pytest.raises(ValidationError):
        services.contribution_change(
            contribution=contribution, yearly_pence=12_000_00, changed_by=world.commissioner
        )
    services.contribution_change(
        contribution=contribution,
        yearly_pence=12_000_00,
        changed_by=world.commissioner,
        reasons="Fewer hours of support are needed after the review.",
    )
    notice = BudgetNotice.objects.get(budget=world.budget_a, kind="reduction")
    assert notice.amount_pence == 1_000_00
    assert Notification.objects.filter(user=world.holder_a.user, subject=notice.subject).exists()


# Spending ------------------------------------------------------------------------------


def _spend(world: World, **overrides: Any) -> Spend:
    fields = {
        "budget": world.budget_a,
        "payee": "Hydrotherapy",
        "spent_on": timezone.localdate(),
        "amount_pence": 50_00,
        "category": SpendCategory.THERAPY,
        "recorded_by": world.holder_a.user,
        "idempotency_key": "k1",
    }
    return services.spend_record(**{**fields, **overrides})


def test_the_same_idempotency_key_records_one_spend(world: World) -> None:
    first = _spend(world)
    again = _spend(world)
    assert first.pk == again.pk
    assert Spend.objects.filter(budget=world.budget_a).count() == 2  # with the world's


def test_a_representative_needs_the_money_scope_to_spend(world: World) -> None:
    with pytest.raises(PermissionDenied):
        _spend(world, recorded_by=world.representative)
    representation = world.holder_a.representations.get()
    representation.scopes = ["view", "manage_money"]
    representation.save()
    assert _spend(world, recorded_by=world.representative).amount_pence == 50_00


def test_a_spend_writes_its_ledger_rows_and_one_audit_event_with_the_request(
    world: World,
) -> None:
    representation = world.holder_a.representations.get()
    representation.scopes = ["view", "manage_money"]
    representation.save()
    token = request_context.set_current(
        request_context.RequestContext(request_id="req-42", ip_address="192.0.2.7")
    )
    try:
        spend = _spend(world, recorded_by=world.representative, note="Six sessions")
        again = _spend(world, recorded_by=world.representative, note="Six sessions")
    finally:
        request_context.reset(token)
    assert again.pk == spend.pk
    stored = Spend.objects.select_related("transaction").get(pk=spend.pk)
    assert (stored.payee, stored.amount_pence, stored.note) == (
        "Hydrotherapy",
        50_00,
        "Six sessions",
    )
    assert (stored.state, stored.recorded_by, stored.refunded_pence) == (
        Spend.State.RECORDED,
        world.representative,
        0,
    )
    assert stored.transaction == spend.transaction
    assert stored.transaction.description == "Hydrotherapy: Six sessions"
    assert sorted(stored.transaction.entries.values_list("amount_pence", flat=True)) == [
        -50_00,
        50_00,
    ]
    event = AuditEvent.objects.get(action="spend.recorded", object_id=str(spend.pk))
    assert event.object_type == "budgets.spend"
    assert (event.actor, event.actor_label) == (world.representative, world.representative.email)
    assert event.person == event.acting_for == world.holder_a
    assert event.organisation == world.holder_a.organisation
    assert event.changes == {
        "amount_pence": 50_00,
        "payee": "Hydrotherapy",
        "transaction": spend.transaction.pk,
    }
    assert (event.request_id, event.ip_address) == ("req-42", "192.0.2.7")
    assert event.created_at == stored.recorded_at


def test_a_spend_by_the_holder_is_not_recorded_as_acting_for_anyone(world: World) -> None:
    spend = _spend(world)
    event = AuditEvent.objects.get(action="spend.recorded", object_id=str(spend.pk))
    assert (event.actor, event.acting_for, event.request_id, event.ip_address) == (
        world.holder_a.user,
        None,
        "",
        None,
    )


def test_an_over_long_payee_is_refused_and_nothing_is_written(world: World) -> None:
    before = Spend.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationError, match="200 characters"):
        _spend(world, payee="x" * 201)
    assert (Spend.objects.count(), AuditEvent.objects.count()) == before


def test_a_spend_over_the_balance_says_how_much_is_available(world: World) -> None:
    with pytest.raises(InsufficientFunds, match=r"£380\.00 available"):
        _spend(world, amount_pence=380_01)


def test_a_suspended_budget_takes_no_spending(world: World) -> None:
    Budget.objects.filter(pk=world.budget_a.pk).update(state="suspended")
    with pytest.raises(Conflict, match="active"):
        _spend(world)


def test_a_refund_puts_money_back_but_never_more_than_was_spent(world: World) -> None:
    spend = _spend(world)
    services.spend_refund(
        spend=spend,
        amount_pence=20_00,
        reason="Session cancelled",
        recorded_by=world.holder_a.user,
        idempotency_key="r1",
    )
    with pytest.raises(Conflict, match=r"£30\.00"):
        services.spend_refund(
            spend=spend,
            amount_pence=30_01,
            reason="x",
            recorded_by=world.holder_a.user,
            idempotency_key="r2",
        )
    spend.refresh_from_db()
    assert spend.refunded_pence == 20_00
    assert reconciliation_run().ok


def test_a_correction_reverses_a_spend_once(world: World) -> None:
    spend = _spend(world)
    services.transaction_correct(
        original=spend.transaction,
        reason="Recorded twice",
        corrected_by=world.finance_officer,
        idempotency_key="c1",
    )
    with pytest.raises(Conflict, match="already been corrected"):
        services.transaction_correct(
            original=spend.transaction,
            reason="again",
            corrected_by=world.finance_officer,
            idempotency_key="c2",
        )
    account = world.budget_a.contributions.get().account
    account.refresh_from_db()
    assert account.balance_pence == 380_00


def test_finance_queries_a_spend_and_the_holder_answers(world: World) -> None:
    spend = world.budget_a.spends.get()
    query = services.spend_query_raise(
        spend=spend, question="Timesheet?", asked_by=world.finance_officer
    )
    with pytest.raises(PermissionDenied):
        services.spend_query_answer(query=query, answer="x", answered_by=world.holder_b.user)
    services.spend_query_answer(query=query, answer="Attached.", answered_by=world.holder_a.user)
    spend.refresh_from_db()
    assert spend.state == "answered"
    assert services.spend_verify(spend=spend, verified_by=world.finance_officer).state == "verified"


# Surplus recovery --------------------------------------------------------------------


def _propose(world: World, **overrides: Any) -> SurplusRecovery:
    fields = {
        "contribution": world.budget_a.contributions.get(),
        "amount_pence": 100_00,
        "reasons": "Unspent for six months",
        "respond_by": timezone.localdate() + datetime.timedelta(days=28),
        "proposed_by": world.finance_officer,
    }
    return services.surplus_recovery_propose(**{**fields, **overrides})


def test_no_money_moves_until_finance_decides_after_reconsideration(world: World) -> None:
    recovery = _propose(world)
    assert not LedgerTransaction.objects.filter(kind="recovery").exists()
    with pytest.raises(Conflict, match="reconsideration"):
        services.surplus_recovery_decide(
            recovery=recovery, recover=True, reasons="x", decided_by=world.finance_officer
        )
    services.surplus_recovery_request_reconsideration(
        recovery=recovery,
        reasons="I am saving for a wheelchair-accessible holiday.",
        requested_by=world.holder_a.user,
    )
    services.surplus_recovery_decide(
        recovery=recovery,
        recover=True,
        amount_pence=60_00,
        reasons="Keeping £40 for the holiday",
        decided_by=world.finance_officer,
    )
    recovery.refresh_from_db()
    assert recovery.state == "recovered"
    assert recovery.transaction.entries.get(account__kind="recovery").amount_pence == 60_00
    with pytest.raises(Conflict):
        services.surplus_recovery_decide(
            recovery=recovery, recover=True, reasons="x", decided_by=world.finance_officer
        )
    assert LedgerTransaction.objects.filter(kind="recovery").count() == 1


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"amount_pence": 0}, ValidationError),
        ({"amount_pence": 380_01}, Conflict),
        ({"respond_by": timezone.localdate() + datetime.timedelta(days=3)}, ValidationError),
        ({"reasons": " "}, ValidationError),
    ],
)
def test_a_bad_recovery_proposal_is_refused(world: World, overrides: dict, error: type) -> None:
    with pytest.raises(error):
        _propose(world, **overrides)
    assert not SurplusRecovery.objects.exists()
    assert not BudgetNotice.objects.filter(kind="surplus_recovery").exists()


# The Resource Allocation System ------------------------------------------------------


def _questionnaire(org: Organisation, *, cap: int | None = None) -> RasQuestionnaire:
    questionnaire = RasQuestionnaire.objects.create(
        organisation=org, stream="nhs_chc", name="CHC", price_per_point_pence=100_00, cap_pence=cap
    )
    domain = RasDomain.objects.create(questionnaire=questionnaire, title="Daily living")
    for text in ("Washing", "Eating"):
        question = RasQuestion.objects.create(domain=domain, text=text)
        RasOption.objects.create(question=question, label="None", points=0)
        RasOption.objects.create(question=question, label="A lot", points=10)
    return questionnaire


def _answers(questionnaire: RasQuestionnaire, label: str) -> dict[int, int]:
    return {
        q.pk: q.options.get(label=label).pk
        for q in RasQuestion.objects.filter(domain__questionnaire=questionnaire)
    }


def test_a_questionnaire_scores_into_an_amount_with_its_working(world: World) -> None:
    questionnaire = ras.ras_questionnaire_publish(
        questionnaire=_questionnaire(world.org_x, cap=1_500_00), published_by=world.commissioner
    )
    assessment = ras.ras_assess_questionnaire(
        holder=world.holder_a,
        questionnaire=questionnaire,
        answers=_answers(questionnaire, "A lot"),
        completed_by=world.staff_x,
    )
    assert assessment.total_points == 20
    assert assessment.calculated_pence == 1_500_00  # 20 x £100 = £2,000, capped
    assert [line["points"] for line in assessment.working["lines"]] == [10, 10]
    assert assessment.working["cap"]


def test_a_band_gives_its_fixed_amount(world: World) -> None:
    questionnaire = _questionnaire(world.org_x)
    RasBand.objects.create(
        questionnaire=questionnaire, min_points=0, max_points=5, amount_pence=300_00
    )
    questionnaire = ras.ras_questionnaire_publish(
        questionnaire=questionnaire, published_by=world.commissioner
    )
    assessment = ras.ras_assess_questionnaire(
        holder=world.holder_a,
        questionnaire=questionnaire,
        answers=_answers(questionnaire, "None"),
        completed_by=world.staff_x,
    )
    assert assessment.calculated_pence == 300_00


def test_an_unanswered_question_is_refused(world: World) -> None:
    questionnaire = ras.ras_questionnaire_publish(
        questionnaire=_questionnaire(world.org_x), published_by=world.commissioner
    )
    answers = _answers(questionnaire, "None")
    answers.popitem()
    with pytest.raises(ValidationError):
        ras.ras_assess_questionnaire(
            holder=world.holder_a,
            questionnaire=questionnaire,
            answers=answers,
            completed_by=world.staff_x,
        )


def test_only_a_commissioner_overrides_and_must_give_a_reason(world: World) -> None:
    assessment = ras.ras_assess_package(
        holder=world.holder_a,
        package_pence=9_000_00,
        description="Agency care 10h a week",
        completed_by=world.staff_x,
    )
    with pytest.raises(PermissionDenied):
        ras.ras_override(
            assessment=assessment, override_pence=1, reason="x", overridden_by=world.staff_x
        )
    with pytest.raises(ValidationError):
        ras.ras_override(
            assessment=assessment, override_pence=1, reason="", overridden_by=world.commissioner
        )
    ras.ras_override(
        assessment=assessment,
        override_pence=10_000_00,
        reason="Night support needed",
        overridden_by=world.commissioner,
    )
    assessment.refresh_from_db()
    assert assessment.indicative_pence == 10_000_00
    assert assessment.calculated_pence == 9_000_00


def test_a_new_version_copies_the_questionnaire_and_publishing_retires_the_old(
    world: World,
) -> None:
    first = ras.ras_questionnaire_publish(
        questionnaire=_questionnaire(world.org_x), published_by=world.commissioner
    )
    second = ras.ras_questionnaire_new_version(questionnaire=first, created_by=world.commissioner)
    assert second.version == 2
    assert RasOption.objects.filter(question__domain__questionnaire=second).count() == 4
    ras.ras_questionnaire_publish(questionnaire=second, published_by=world.commissioner)
    first.refresh_from_db()
    assert first.status == "retired"


def test_a_budget_shows_the_assessment_its_amount_came_from(world: World) -> None:
    assessment = ras.ras_assess_package(
        holder=world.holder_a,
        package_pence=9_000_00,
        description="Current care",
        completed_by=world.staff_x,
    )
    start = timezone.localdate()
    budget = services.budget_create(
        holder=world.holder_a,
        period_start=start,
        period_end=start + datetime.timedelta(days=364),
        created_by=world.commissioner,
        indicative_assessment=assessment,
    )
    assert budget.indicative_pence == 9_000_00
    assert budget.indicative_assessment == assessment
    other = BudgetHolderFactory(organisation=world.org_x)
    with pytest.raises(ValidationError):
        services.budget_create(
            holder=other,
            period_start=start,
            period_end=start + datetime.timedelta(days=30),
            created_by=world.commissioner,
            indicative_assessment=assessment,
        )
