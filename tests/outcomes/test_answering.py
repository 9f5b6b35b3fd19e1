"""Answering a survey (outcomes/answering.py): the draft an invitation opens, saving as
you go with every value checked against its question, sending once (also when two
requests race), the report dimensions, declining and opting out, and who answered.

The invitations here are made directly (``an_invitation``), not by the scheduling job."""

from __future__ import annotations

import datetime
import threading
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from budgets.models import FundingContribution, ManagementOption
from core.exceptions import Conflict
from core.models import AuditEvent
from outcomes import answering
from outcomes.models import (
    Answer,
    BudgetBand,
    RespondentKind,
    SurveyInvitation,
    SurveyOptOut,
    SurveyResponse,
)
from tests.factories import RepresentationFactory, UserFactory
from tests.outcomes.factories import an_invitation, answers_of

# Opening -----------------------------------------------------------------------------


def test_opening_an_invitation_starts_a_draft_with_the_rounds_instrument(world):
    invitation = an_invitation(world.holder_a)
    response = answering.response_for(invitation=invitation, user=world.holder_a.user)

    invitation.refresh_from_db()
    assert response.state == SurveyResponse.State.DRAFT
    assert response.instrument == invitation.round.instrument
    assert response.holder == world.holder_a
    assert response.answered_by == SurveyResponse.AnsweredBy.SELF
    assert response.answered_by_user == world.holder_a.user
    assert response.source == SurveyResponse.Source.PLATFORM
    assert invitation.state == SurveyInvitation.State.STARTED
    assert invitation.opened_at is not None
    assert AuditEvent.objects.filter(action="survey_response.started").count() == 1


def test_opening_it_again_returns_the_same_draft_and_keeps_the_first_opening(world):
    invitation = an_invitation(world.holder_a)
    first = answering.response_for(invitation=invitation, user=world.holder_a.user)
    opened_at = SurveyInvitation.objects.get(pk=invitation.pk).opened_at
    again = answering.response_for(invitation=invitation, user=world.holder_a.user)

    assert again.pk == first.pk
    assert SurveyInvitation.objects.get(pk=invitation.pk).opened_at == opened_at
    assert SurveyResponse.objects.count() == 1


def test_the_draft_carries_the_holders_report_dimensions(world):
    response = answering.response_for(
        invitation=an_invitation(world.holder_a), user=world.holder_a.user
    )
    assert response.organisation == world.org_x
    assert response.eligibility_route == world.holder_a.eligibility_route
    assert response.management_option == ManagementOption.NOTIONAL
    assert response.budget_band == BudgetBand.FROM_10K  # £13,000 a year


def test_a_representative_is_recorded_as_answering_for_the_holder(world):
    response = answering.response_for(
        invitation=an_invitation(world.holder_a), user=world.representative
    )
    assert response.answered_by == SurveyResponse.AnsweredBy.REPRESENTATIVE
    assert response.answered_by_user == world.representative
    event = AuditEvent.objects.get(action="survey_response.started")
    assert event.acting_for_id == world.holder_a.pk


def test_a_representation_that_has_ended_gives_no_right_to_answer(world):
    former = RepresentationFactory(
        holder=world.holder_a,
        starts_on=timezone.localdate() - datetime.timedelta(days=90),
        ends_on=timezone.localdate() - datetime.timedelta(days=1),
    ).representative
    with pytest.raises(PermissionDenied):
        answering.response_for(invitation=an_invitation(world.holder_a), user=former)


@pytest.mark.parametrize(
    ("who", "whose"),
    [("holder_b", "holder_a"), ("staff_x", "holder_a"), ("representative", "holder_b")],
)
def test_nobody_else_may_answer_a_holders_survey(world, who, whose):
    user = world.holder_b.user if who == "holder_b" else getattr(world, who)
    with pytest.raises(PermissionDenied):
        answering.response_for(invitation=an_invitation(getattr(world, whose)), user=user)
    assert not SurveyResponse.objects.exists()


def test_staff_answer_their_own_invitation_and_no_one_elses(world):
    invitation = an_invitation(world.holder_a, RespondentKind.STAFF, user=world.staff_x)
    with pytest.raises(PermissionDenied):
        answering.response_for(invitation=invitation, user=world.commissioner)
    with pytest.raises(PermissionDenied):
        answering.response_for(invitation=invitation, user=world.holder_a.user)
    response = answering.response_for(invitation=invitation, user=world.staff_x)
    assert response.respondent_kind == RespondentKind.STAFF
    assert response.instrument.respondent_kind == RespondentKind.STAFF


def test_a_carer_answering_through_a_link_is_recorded_as_a_link_answer(world):
    invitation = an_invitation(world.holder_a, RespondentKind.CARER, email="jo@example.test")
    response = answering.response_for(invitation=invitation, via_link=True)
    assert response.source == SurveyResponse.Source.LINK
    assert response.answered_by == SurveyResponse.AnsweredBy.SELF
    assert response.answered_by_user is None
    event = AuditEvent.objects.get(action="survey_response.started")
    assert event.actor_id is None
    assert event.actor_label == "survey link"


@pytest.mark.parametrize(
    ("state", "expires_in"),
    [
        (SurveyInvitation.State.DECLINED, datetime.timedelta(days=3)),
        (SurveyInvitation.State.EXPIRED, datetime.timedelta(days=3)),
        (SurveyInvitation.State.SENT, -datetime.timedelta(minutes=1)),
    ],
)
def test_a_closed_or_declined_invitation_cannot_be_opened(world, state, expires_in):
    invitation = an_invitation(world.holder_a, state=state, expires_in=expires_in)
    with pytest.raises(Conflict):
        answering.response_for(invitation=invitation, user=world.holder_a.user)
    assert not SurveyResponse.objects.exists()


# Saving as you go --------------------------------------------------------------------


@pytest.fixture
def draft(world) -> SurveyResponse:
    return answering.response_for(
        invitation=an_invitation(world.holder_a), user=world.holder_a.user
    )


def test_answers_of_every_kind_are_saved(world, draft):
    answering.answers_save(
        response=draft,
        data={
            "physical_health": "better",
            "paid_work": "not_applicable",
            "ease_getting": "fairly_easy",
            "who_helped": ["peer", "family_friends"],
            "anything_else": "  The budget let me choose my own carers.  ",
        },
        by=world.holder_a.user,
    )
    assert answers_of(draft) == {
        "physical_health": "better",
        "paid_work": "not_applicable",
        "ease_getting": "fairly_easy",
        # In the order the options are listed.
        "who_helped": ["family_friends", "peer"],
        "anything_else": "The budget let me choose my own carers.",
    }


def test_saving_again_changes_an_answer_keeps_others_and_clears_an_emptied_one(world, draft):
    by = world.holder_a.user
    answering.answers_save(
        response=draft,
        data={"physical_health": "better", "friends": "same", "who_helped": ["peer"]},
        by=by,
    )
    answering.answers_save(
        response=draft, data={"physical_health": "a_lot_better", "who_helped": []}, by=by
    )
    answering.answers_save(response=draft, data={"friends": ""}, by=by)
    assert answers_of(draft) == {"physical_health": "a_lot_better"}
    assert Answer.objects.filter(response=draft).count() == 1


@pytest.mark.parametrize(
    ("data", "question_text"),
    [
        ({"physical_health": "fantastic"}, "Your physical health"),
        ({"ease_getting": "better"}, "How easy or hard was it to get your personal health budget?"),
        ({"who_helped": ["peer", "the_cat"]}, "Who helped you plan?"),
        ({"who_helped": "the_cat"}, "Who helped you plan?"),
        ({"physical_health": ["better"]}, "Your physical health"),
        ({"anything_else": "x" * 4001}, "Is there anything else you would like to tell us?"),
        ({"anything_else": ["a list"]}, "Is there anything else you would like to tell us?"),
    ],
)
def test_a_wrong_answer_is_refused_naming_the_question_and_nothing_changes(
    world, draft, data, question_text
):
    by = world.holder_a.user
    answering.answers_save(response=draft, data={"friends": "same"}, by=by)
    with pytest.raises(ValidationError) as raised:
        answering.answers_save(response=draft, data={"family": "better", **data}, by=by)
    (code,) = data
    assert list(raised.value.message_dict) == [code]
    assert question_text in raised.value.message_dict[code][0]
    assert answers_of(draft) == {"friends": "same"}


def test_a_question_from_another_survey_is_refused(world, draft):
    with pytest.raises(ValidationError) as raised:
        answering.answers_save(response=draft, data={"carer_health": "better"}, by=None)
    assert "carer_health" in raised.value.message_dict


def test_the_longest_text_answer_is_kept_whole(world, draft):
    text = "y" * answering.TEXT_LIMIT
    answering.answers_save(response=draft, data={"anything_else": text}, by=None)
    assert answers_of(draft)["anything_else"] == text


def test_sent_answers_cannot_be_changed(world, draft):
    by = world.holder_a.user
    answering.answers_save(response=draft, data={"friends": "same"}, by=by)
    answering.response_submit(response=draft, by=by)
    with pytest.raises(Conflict):
        answering.answers_save(response=draft, data={"friends": "worse"}, by=by)
    assert answers_of(draft) == {"friends": "same"}


def test_a_draft_cannot_be_saved_once_the_survey_has_closed(world, draft):
    SurveyInvitation.objects.filter(pk=draft.invitation_id).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    with pytest.raises(Conflict):
        answering.answers_save(response=draft, data={"friends": "worse"}, by=None)
    assert not Answer.objects.exists()


def test_the_audit_says_how_many_answers_were_saved_never_what_they_were(world, draft):
    answering.answers_save(
        response=draft,
        data={"friends": "worse", "anything_else": "My private words"},
        by=world.holder_a.user,
    )
    answering.response_submit(response=draft, by=world.holder_a.user)
    events = AuditEvent.objects.filter(action__startswith="survey_")
    assert {e.action for e in events} == {
        "survey_response.started",
        "survey_response.answers_saved",
        "survey_response.submitted",
    }
    for event in events:
        assert event.person_id == world.holder_a.pk
        assert event.organisation_id == world.org_x.pk
        assert "worse" not in str(event.changes)
        assert "private" not in str(event.changes)
    saved = events.get(action="survey_response.answers_saved")
    assert saved.changes["answered"] == 2


# Sending -----------------------------------------------------------------------------


def test_sending_fixes_the_answers_and_answers_the_invitation(world, draft):
    by = world.holder_a.user
    answering.answers_save(response=draft, data={"friends": "better"}, by=by)
    sent = answering.response_submit(response=draft, by=by)

    invitation = SurveyInvitation.objects.get(pk=draft.invitation_id)
    assert sent.state == SurveyResponse.State.SUBMITTED
    assert sent.submitted_at is not None
    assert sent.submitted_on == timezone.localdate()
    assert invitation.state == SurveyInvitation.State.SUBMITTED
    assert invitation.answered_at == sent.submitted_at


def test_sending_refreshes_the_dimensions_from_the_record_then(world, draft):
    by = world.holder_a.user
    answering.answers_save(response=draft, data={"friends": "better"}, by=by)
    # Since the draft was started, the budget grew and is now a direct payment.
    FundingContribution.objects.filter(budget=world.budget_a).update(
        yearly_pence=60_000_00, management_option=ManagementOption.DIRECT_PAYMENT
    )
    sent = answering.response_submit(response=draft, by=by)
    sent.refresh_from_db()
    assert sent.budget_band == BudgetBand.FROM_50K
    assert sent.management_option == ManagementOption.DIRECT_PAYMENT


def test_sending_twice_records_once_and_returns_the_same_response(world, draft):
    by = world.holder_a.user
    answering.answers_save(response=draft, data={"friends": "better"}, by=by)
    first = answering.response_submit(response=draft, by=by)
    second = answering.response_submit(response=draft, by=by)

    assert second.pk == first.pk
    assert second.submitted_at == first.submitted_at
    assert AuditEvent.objects.filter(action="survey_response.submitted").count() == 1


def test_nothing_answered_cannot_be_sent(world, draft):
    with pytest.raises(ValidationError):
        answering.response_submit(response=draft, by=world.holder_a.user)
    draft.refresh_from_db()
    assert draft.state == SurveyResponse.State.DRAFT


def test_the_person_who_sends_is_recorded_as_answering(world, draft):
    answering.answers_save(response=draft, data={"friends": "better"}, by=world.holder_a.user)
    sent = answering.response_submit(response=draft, by=world.representative)
    assert sent.answered_by == SurveyResponse.AnsweredBy.REPRESENTATIVE
    assert sent.answered_by_user == world.representative


def test_a_declined_survey_cannot_be_sent(world, draft):
    answering.answers_save(response=draft, data={"friends": "better"}, by=None)
    SurveyInvitation.objects.filter(pk=draft.invitation_id).update(
        state=SurveyInvitation.State.EXPIRED
    )
    with pytest.raises(Conflict):
        answering.response_submit(response=draft, by=None)


@pytest.mark.django_db(transaction=True)
def test_two_sends_at_the_same_moment_record_once(world):
    """Two requests (a double click that reached two workers) send the same draft at
    once: both lock the invitation first, so the second waits and then finds it sent."""
    draft = answering.response_for(
        invitation=an_invitation(world.holder_a), user=world.holder_a.user
    )
    answering.answers_save(response=draft, data={"friends": "better"}, by=None)
    barrier = threading.Barrier(4)
    results: list[Any] = []

    def send() -> None:
        try:
            barrier.wait()
            results.append(answering.response_submit(response=draft, by=None).submitted_at)
        except Exception as error:  # reported by the assertion below
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1, results
    assert AuditEvent.objects.filter(action="survey_response.submitted").count() == 1
    assert SurveyResponse.objects.get().state == SurveyResponse.State.SUBMITTED


# Declining and opting out ------------------------------------------------------------


def test_declining_stops_the_survey_and_drops_its_draft(world, draft):
    answering.answers_save(response=draft, data={"friends": "better"}, by=None)
    invitation = SurveyInvitation.objects.get(pk=draft.invitation_id)
    answering.invitation_decline(invitation=invitation, by=world.holder_a.user)

    invitation.refresh_from_db()
    assert invitation.state == SurveyInvitation.State.DECLINED
    assert invitation.declined_at is not None
    assert not SurveyResponse.objects.exists()
    assert not Answer.objects.exists()
    assert not SurveyInvitation.objects.filter(pk=invitation.pk).answerable().exists()


def test_declining_twice_changes_nothing(world):
    invitation = an_invitation(world.holder_a)
    answering.invitation_decline(invitation=invitation)
    declined_at = SurveyInvitation.objects.get(pk=invitation.pk).declined_at
    answering.invitation_decline(invitation=invitation)
    assert SurveyInvitation.objects.get(pk=invitation.pk).declined_at == declined_at
    assert AuditEvent.objects.filter(action="survey_invitation.declined").count() == 1


def test_sent_answers_cannot_be_declined(world, draft):
    answering.answers_save(response=draft, data={"friends": "better"}, by=None)
    answering.response_submit(response=draft, by=None)
    with pytest.raises(Conflict):
        answering.invitation_decline(
            invitation=SurveyInvitation.objects.get(pk=draft.invitation_id)
        )


def test_a_holder_opts_out_by_their_record(world):
    invitation = an_invitation(world.holder_a)
    opt_out = answering.survey_opt_out(invitation=invitation, by=world.representative)
    assert opt_out.holder == world.holder_a
    assert opt_out.respondent_kind == RespondentKind.HOLDER
    assert opt_out.recorded_by == world.representative
    assert SurveyInvitation.objects.get(pk=invitation.pk).state == SurveyInvitation.State.DECLINED


def test_a_carer_opts_out_by_email_and_twice_is_once(world):
    invitation = an_invitation(world.holder_a, RespondentKind.CARER, email="jo@example.test")
    answering.survey_opt_out(invitation=invitation)
    answering.survey_opt_out(invitation=invitation)
    opt_out = SurveyOptOut.objects.get()
    assert opt_out.email == "jo@example.test"
    assert opt_out.holder is None
    assert opt_out.recorded_by is None
    assert AuditEvent.objects.filter(action="survey.opted_out").count() == 1


def test_staff_opt_out_by_their_account(world):
    invitation = an_invitation(world.holder_a, RespondentKind.STAFF, user=world.staff_x)
    answering.survey_opt_out(invitation=invitation, by=world.staff_x)
    opt_out = SurveyOptOut.objects.get()
    assert (opt_out.respondent_kind, opt_out.user) == (RespondentKind.STAFF, world.staff_x)


def test_opting_out_after_sending_keeps_the_answers(world, draft):
    answering.answers_save(response=draft, data={"friends": "better"}, by=None)
    answering.response_submit(response=draft, by=None)
    invitation = SurveyInvitation.objects.get(pk=draft.invitation_id)
    answering.survey_opt_out(invitation=invitation, by=world.holder_a.user)
    invitation.refresh_from_db()
    assert invitation.state == SurveyInvitation.State.SUBMITTED
    assert SurveyOptOut.objects.filter(holder=world.holder_a).exists()
    assert SurveyResponse.objects.submitted().count() == 1


def test_may_answer_follows_the_invitation(world):
    carer = UserFactory()
    invitation = an_invitation(world.holder_a, RespondentKind.CARER, email=carer.email, user=carer)
    assert answering.may_answer(carer, invitation)
    assert not answering.may_answer(world.holder_a.user, invitation)
    assert not answering.may_answer(world.representative, invitation)
