"""The survey pages (outcomes/views/answering.py) as plain form posts, the way a browser
without JavaScript uses them: who sees which survey and which answers, saving each
section, checking and sending, and the emailed link refusing what it must."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from outcomes import answering
from outcomes.links import invitation_token
from outcomes.models import (
    Answer,
    RespondentKind,
    SurveyInvitation,
    SurveyOptOut,
    SurveyResponse,
)
from tests.outcomes.factories import an_invitation, answers_of


def answer_url(invitation: SurveyInvitation, section: str = "") -> str:
    path = reverse("outcomes:survey_answer", args=[invitation.public_id])
    return f"{path}?section={section}" if section else path


_tokens: dict[Any, str] = {}


def link_url(invitation: SurveyInvitation, section: str = "", token: str = "") -> str:
    """The link's address; one token per invitation (a token made a second later differs,
    as it carries the time it was made)."""
    token = token or _tokens.setdefault(invitation.public_id, invitation_token(invitation))
    path = reverse("outcomes:survey_link", args=[token])
    return f"{path}?section={section}" if section else path


def sent(invitation: SurveyInvitation, by: Any) -> SurveyResponse:
    response = answering.response_for(invitation=invitation, user=by)
    answering.answers_save(
        response=response,
        data={"friends": "better", "ease_getting": "very_hard", "anything_else": "Thanks"},
        by=by,
    )
    return answering.response_submit(response=response, by=by)


# The list of surveys -----------------------------------------------------------------


def test_the_list_shows_a_holder_their_own_surveys_only(world, client_for):
    mine = an_invitation(world.holder_a)
    theirs = an_invitation(world.holder_b)
    page = client_for(world.holder_a.user).get(reverse("outcomes:survey_list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert answer_url(mine) in html
    assert str(theirs.public_id) not in html
    assert "Not started" in html


def test_a_representative_sees_the_survey_of_the_holder_they_act_for(world, client_for):
    invitation = an_invitation(world.holder_a)
    html = client_for(world.representative).get(reverse("outcomes:survey_list")).content.decode()
    assert answer_url(invitation) in html
    assert "For Alex" in html


def test_staff_see_their_own_staff_surveys_and_not_the_holders(world, client_for):
    own = an_invitation(world.holder_a, RespondentKind.STAFF, user=world.staff_x)
    holders = an_invitation(world.holder_a)
    html = client_for(world.staff_x).get(reverse("outcomes:survey_list")).content.decode()
    assert answer_url(own) in html
    assert "About Alex Holder" in html
    assert str(holders.public_id) not in html


def test_sent_surveys_are_listed_with_a_link_to_the_answers(world, client_for):
    invitation = an_invitation(world.holder_a)
    sent(invitation, world.holder_a.user)
    html = client_for(world.holder_a.user).get(reverse("outcomes:survey_list")).content.decode()
    assert reverse("outcomes:response_detail", args=[invitation.public_id]) in html
    assert "You have no surveys to answer" in html


def test_closed_and_declined_surveys_are_not_offered(world, client_for):
    closed = an_invitation(world.holder_a, expires_in=-datetime.timedelta(hours=1))
    declined = an_invitation(world.holder_a, state=SurveyInvitation.State.DECLINED)
    html = client_for(world.holder_a.user).get(reverse("outcomes:survey_list")).content.decode()
    assert str(closed.public_id) not in html
    assert str(declined.public_id) not in html


# Who may open a survey ---------------------------------------------------------------


@pytest.mark.parametrize("who", ["holder_b", "staff_x", "commissioner", "platform_admin"])
def test_someone_elses_survey_is_not_found(world, client_for, who):
    invitation = an_invitation(world.holder_a)
    user = world.holder_b.user if who == "holder_b" else getattr(world, who)
    client = client_for(user)
    for url in (
        answer_url(invitation),
        reverse("outcomes:survey_decline", args=[invitation.public_id]),
        reverse("outcomes:survey_opt_out", args=[invitation.public_id]),
    ):
        assert client.get(url).status_code == 404
        assert client.post(url, {"friends": "better"}).status_code == 404
    assert not SurveyResponse.objects.exists()
    assert SurveyInvitation.objects.get(pk=invitation.pk).state == SurveyInvitation.State.SENT


def test_signing_in_is_needed_for_the_survey_pages(world, client_for):
    invitation = an_invitation(world.holder_a)
    page = client_for(None).get(answer_url(invitation))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("account_login"))


# Answering, section by section -------------------------------------------------------


def test_the_first_section_asks_each_area_as_a_radio_group(world, client_for):
    invitation = an_invitation(world.holder_a)
    page = client_for(world.holder_a.user).get(answer_url(invitation))
    html = page.content.decode()
    assert page.status_code == 200
    assert "part 1 of 4" in html
    assert html.count("<fieldset") == 17
    assert "Your physical health" in html
    assert 'name="physical_health" type="radio" value="not_applicable"' in html
    assert "Does not apply to me" in html
    assert "Save and continue" in html
    assert "Save and come back later" in html
    assert "You are answering for" not in html
    assert SurveyInvitation.objects.get(pk=invitation.pk).state == SurveyInvitation.State.STARTED


def test_a_representative_is_told_who_they_answer_for_in_the_holders_words(world, client_for):
    invitation = an_invitation(world.holder_a)
    html = client_for(world.representative).get(answer_url(invitation)).content.decode()
    assert "You are answering for Alex" in html
    assert "Your physical health" in html
    assert SurveyResponse.objects.get().answered_by == SurveyResponse.AnsweredBy.REPRESENTATIVE


def test_staff_are_asked_about_the_person_without_to_me(world, client_for):
    invitation = an_invitation(world.holder_a, RespondentKind.STAFF, user=world.staff_x)
    html = client_for(world.staff_x).get(answer_url(invitation)).content.decode()
    assert "Their physical health" in html
    assert "about <strong>Alex Holder</strong>" in html
    assert "Does not apply to me" not in html


def test_save_and_continue_saves_and_goes_to_the_next_section(world, client_for):
    invitation = an_invitation(world.holder_a)
    client = client_for(world.holder_a.user)
    page = client.post(
        answer_url(invitation, "outcomes"),
        {"physical_health": "better", "paid_work": "not_applicable", "action": "continue"},
    )
    assert page.status_code == 302
    assert page["Location"] == answer_url(invitation, "process")
    response = SurveyResponse.objects.get()
    assert answers_of(response) == {"physical_health": "better", "paid_work": "not_applicable"}

    page = client.post(
        answer_url(invitation, "process"),
        {"ease_getting": "fairly_hard", "who_helped": ["peer", "nhs_staff"], "action": "continue"},
    )
    assert page["Location"] == answer_url(invitation, "wider")
    page = client.post(answer_url(invitation, "about"), {"anything_else": "More hours, please"})
    assert page["Location"] == answer_url(invitation, "check")
    assert answers_of(response)["who_helped"] == ["nhs_staff", "peer"]


def test_saved_answers_are_ticked_when_the_section_is_opened_again(world, client_for):
    invitation = an_invitation(world.holder_a)
    client = client_for(world.holder_a.user)
    client.post(answer_url(invitation, "process"), {"who_helped": ["peer"], "action": "continue"})
    html = client.get(answer_url(invitation, "process")).content.decode()
    assert 'name="who_helped" type="checkbox" value="peer" checked' in html


def test_save_and_come_back_later_saves_and_returns_to_the_list(world, client_for):
    invitation = an_invitation(world.holder_a)
    client = client_for(world.holder_a.user)
    page = client.post(
        answer_url(invitation, "wider"), {"understand_condition": "more", "action": "later"}
    )
    assert page.status_code == 302
    assert page["Location"] == reverse("outcomes:survey_list")
    assert answers_of(SurveyResponse.objects.get()) == {"understand_condition": "more"}
    html = client.get(page["Location"]).content.decode()
    assert "Your answers are saved" in html
    assert "Started" in html


def test_a_wrong_answer_is_shown_with_an_error_and_nothing_is_saved(world, client_for):
    invitation = an_invitation(world.holder_a)
    client = client_for(world.holder_a.user)
    page = client.post(
        answer_url(invitation, "outcomes"),
        {"physical_health": "marvellous", "friends": "better", "action": "continue"},
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "<title>Error: " in html
    assert "There is a problem" in html
    assert 'href="#id_physical_health"' in html
    assert 'id="id_physical_health"' in html
    assert not Answer.objects.exists()


def test_a_text_answer_over_the_limit_is_refused(world, client_for):
    invitation = an_invitation(world.holder_a)
    page = client_for(world.holder_a.user).post(
        answer_url(invitation, "about"), {"anything_else": "z" * (answering.TEXT_LIMIT + 1)}
    )
    assert "must be 4,000 characters or fewer" in page.content.decode()
    assert not Answer.objects.exists()


def test_an_unknown_section_is_not_found(world, client_for):
    invitation = an_invitation(world.holder_a)
    assert client_for(world.holder_a.user).get(answer_url(invitation, "money")).status_code == 404


# Checking and sending ----------------------------------------------------------------


def test_check_your_answers_then_send_once(world, client_for):
    invitation = an_invitation(world.holder_a)
    client = client_for(world.holder_a.user)
    client.post(answer_url(invitation, "outcomes"), {"friends": "a_lot_better"})
    client.post(answer_url(invitation, "process"), {"who_helped": ["peer", "provider"]})

    check = client.get(answer_url(invitation, "check")).content.decode()
    assert "Check your answers before sending them" in check
    assert "A lot better" in check
    assert "Someone who has a budget of their own, A support provider" in check
    assert "Not answered" in check
    assert answer_url(invitation, "outcomes") + "#id_friends" in check

    page = client.post(answer_url(invitation, "check"))
    assert page.status_code == 302
    assert page["Location"] == answer_url(invitation)
    confirmation = client.get(page["Location"]).content.decode()
    assert "Answers sent" in confirmation
    invitation.refresh_from_db()
    assert invitation.state == SurveyInvitation.State.SUBMITTED

    # A second press of the button (or the back button and send again) sends nothing more.
    again = client.post(answer_url(invitation, "check"))
    assert "Answers sent" in again.content.decode()
    assert AuditEvent.objects.filter(action="survey_response.submitted").count() == 1
    # And a section posted after sending changes nothing.
    client.post(answer_url(invitation, "outcomes"), {"friends": "worse"})
    assert answers_of(SurveyResponse.objects.get())["friends"] == "a_lot_better"


def test_sending_nothing_is_refused_with_a_message(world, client_for):
    invitation = an_invitation(world.holder_a)
    page = client_for(world.holder_a.user).post(answer_url(invitation, "check"))
    assert page.status_code == 200
    assert "Answer at least one question" in page.content.decode()
    assert SurveyResponse.objects.get().state == SurveyResponse.State.DRAFT


def test_a_closed_survey_shows_why_it_cannot_be_answered(world, client_for):
    invitation = an_invitation(world.holder_a, expires_in=-datetime.timedelta(minutes=5))
    page = client_for(world.holder_a.user).get(answer_url(invitation))
    assert page.status_code == 410
    assert "This survey has closed" in page.content.decode()


# Reading answers sent ----------------------------------------------------------------


def test_a_holder_reads_their_own_sent_answers(world, client_for):
    invitation = an_invitation(world.holder_a)
    sent(invitation, world.holder_a.user)
    url = reverse("outcomes:response_detail", args=[invitation.public_id])
    html = client_for(world.holder_a.user).get(url).content.decode()
    assert "Your answers" in html
    assert "Very hard" in html
    assert "Thanks" in html
    # The holder answered for themself: their representative does not read it.
    assert client_for(world.representative).get(url).status_code == 404


def test_answers_a_representative_sent_are_read_by_them_and_by_the_holder(world, client_for):
    invitation = an_invitation(world.holder_a)
    sent(invitation, world.representative)
    url = reverse("outcomes:response_detail", args=[invitation.public_id])
    representative = client_for(world.representative).get(url)
    assert representative.status_code == 200
    assert "Answers for Alex" in representative.content.decode()
    holder = client_for(world.holder_a.user).get(url).content.decode()
    assert "Your answers" in holder
    assert ", answering for Alex." in holder
    listed = client_for(world.representative).get(reverse("outcomes:survey_list"))
    assert url in listed.content.decode()


@pytest.mark.parametrize("who", ["holder_b", "staff_x", "commissioner", "platform_admin"])
def test_nobody_else_reads_a_holders_answers(world, client_for, who):
    invitation = an_invitation(world.holder_a)
    sent(invitation, world.holder_a.user)
    user = world.holder_b.user if who == "holder_b" else getattr(world, who)
    url = reverse("outcomes:response_detail", args=[invitation.public_id])
    assert client_for(user).get(url).status_code == 404


def test_staff_do_not_read_staff_answers_one_by_one_even_their_own(world, client_for):
    invitation = an_invitation(world.holder_a, RespondentKind.STAFF, user=world.staff_x)
    sent(invitation, world.staff_x)
    url = reverse("outcomes:response_detail", args=[invitation.public_id])
    assert client_for(world.staff_x).get(url).status_code == 404


def test_a_draft_is_not_shown_as_sent_answers(world, client_for):
    invitation = an_invitation(world.holder_a)
    answering.response_for(invitation=invitation, user=world.holder_a.user)
    url = reverse("outcomes:response_detail", args=[invitation.public_id])
    assert client_for(world.holder_a.user).get(url).status_code == 404


# Declining and opting out, signed in -------------------------------------------------


def test_declining_asks_first_then_declines(world, client_for):
    invitation = an_invitation(world.holder_a)
    client = client_for(world.holder_a.user)
    url = reverse("outcomes:survey_decline", args=[invitation.public_id])
    assert "Decline this survey" in client.get(url).content.decode()
    assert SurveyInvitation.objects.get(pk=invitation.pk).state == SurveyInvitation.State.SENT
    page = client.post(url)
    assert page["Location"] == reverse("outcomes:survey_list")
    assert SurveyInvitation.objects.get(pk=invitation.pk).state == SurveyInvitation.State.DECLINED
    assert client.get(answer_url(invitation)).status_code == 410


def test_a_representative_opts_the_holder_out(world, client_for):
    invitation = an_invitation(world.holder_a)
    url = reverse("outcomes:survey_opt_out", args=[invitation.public_id])
    client = client_for(world.representative)
    assert "surveys about Alex's personal health budget" in client.get(url).content.decode()
    client.post(url)
    assert SurveyOptOut.objects.get().holder == world.holder_a
    assert SurveyInvitation.objects.get(pk=invitation.pk).state == SurveyInvitation.State.DECLINED


# Through the emailed link ------------------------------------------------------------


@pytest.fixture
def carer_invitation(world) -> SurveyInvitation:
    return an_invitation(world.holder_a, RespondentKind.CARER, email="jo@example.test", name="Jo")


def test_a_carer_answers_through_the_link_with_the_token_in_every_step(
    world, client_for, carer_invitation
):
    client = client_for(None)
    first = client.get(link_url(carer_invitation))
    html = first.content.decode()
    assert first.status_code == 200
    assert "This survey is about caring for Alex" in html
    assert "Your own health and wellbeing" in html
    assert f'action="{link_url(carer_invitation, "outcomes")}"' in html

    page = client.post(link_url(carer_invitation, "outcomes"), {"keep_caring": "better"})
    assert page["Location"] == link_url(carer_invitation, "process")
    page = client.post(link_url(carer_invitation, "about"), {"anything_else": "Respite helps"})
    assert page["Location"] == link_url(carer_invitation, "check")
    assert "Better" in client.get(page["Location"]).content.decode()

    done = client.post(link_url(carer_invitation, "check"))
    assert done.status_code == 200
    assert "Answers sent" in done.content.decode()
    response = SurveyResponse.objects.get()
    assert response.state == SurveyResponse.State.SUBMITTED
    assert response.source == SurveyResponse.Source.LINK
    assert response.respondent_kind == RespondentKind.CARER

    # The link has been used: every step of it now answers 410.
    for url in (link_url(carer_invitation), link_url(carer_invitation, "check")):
        used = client.get(url)
        assert used.status_code == 410
        assert "This link has been used" in used.content.decode()
    assert client.post(link_url(carer_invitation, "outcomes"), {}).status_code == 410


def test_a_carer_saves_and_comes_back_later_through_the_link(client_for, carer_invitation):
    client = client_for(None)
    page = client.post(
        link_url(carer_invitation, "outcomes"), {"daily_stress": "worse", "action": "later"}
    )
    assert page["Location"] == link_url(carer_invitation, "saved")
    html = client.get(page["Location"]).content.decode()
    assert "Your answers are saved" in html
    again = client.get(link_url(carer_invitation)).content.decode()
    assert 'value="worse" checked' in again


def test_a_tampered_link_is_not_found(client_for, carer_invitation):
    token = invitation_token(carer_invitation)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    client = client_for(None)
    for name in ("survey_link", "survey_link_decline", "survey_link_opt_out"):
        page = client.get(reverse(f"outcomes:{name}", args=[tampered]))
        assert page.status_code == 404
        assert "This survey link does not work" in page.content.decode()
    assert client.post(link_url(carer_invitation, token=tampered), {}).status_code == 404
    assert not SurveyResponse.objects.exists()


def test_an_expired_link_is_gone(world, client_for):
    invitation = an_invitation(
        world.holder_a,
        RespondentKind.CARER,
        email="jo@example.test",
        expires_in=-datetime.timedelta(seconds=1),
    )
    page = client_for(None).get(link_url(invitation))
    assert page.status_code == 410
    assert "This survey has closed" in page.content.decode()


def test_a_link_expiring_while_answering_stops_saving(client_for, carer_invitation):
    client = client_for(None)
    client.get(link_url(carer_invitation))
    SurveyInvitation.objects.filter(pk=carer_invitation.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    page = client.post(link_url(carer_invitation, "outcomes"), {"keep_caring": "better"})
    assert page.status_code == 410
    assert not Answer.objects.exists()


def test_declining_through_the_link_then_the_link_is_gone(client_for, carer_invitation):
    client = client_for(None)
    url = reverse("outcomes:survey_link_decline", args=[invitation_token(carer_invitation)])
    assert "Decline this survey" in client.get(url).content.decode()
    done = client.post(url)
    assert done.status_code == 200
    assert "You have declined this survey" in done.content.decode()
    gone = client.get(link_url(carer_invitation))
    assert gone.status_code == 410
    assert "declined" in gone.content.decode()
    assert client.post(url).status_code == 410


def test_a_carer_opts_out_through_the_link_by_email(client_for, carer_invitation):
    client = client_for(None)
    url = reverse("outcomes:survey_link_opt_out", args=[invitation_token(carer_invitation)])
    assert "to your email address" in client.get(url).content.decode()
    done = client.post(url)
    assert "You will not be sent these surveys again" in done.content.decode()
    opt_out = SurveyOptOut.objects.get()
    assert (opt_out.respondent_kind, opt_out.email) == (RespondentKind.CARER, "jo@example.test")
    assert client.get(link_url(carer_invitation)).status_code == 410


def test_a_holder_survey_link_works_for_a_holder_without_signing_in(world, client_for):
    invitation = an_invitation(world.holder_a)
    page = client_for(None).get(link_url(invitation))
    assert page.status_code == 200
    assert "Your physical health" in page.content.decode()
    response = SurveyResponse.objects.get()
    assert response.source == SurveyResponse.Source.LINK


def test_a_section_and_the_check_page_take_the_same_few_queries_however_many_answers(
    world, client_for, django_assert_max_num_queries
):
    """The questions, their options and the answers are read once each (no query per
    question): a full survey costs what an empty one does."""
    invitation = an_invitation(world.holder_a)
    by = world.holder_a.user
    response = answering.response_for(invitation=invitation, user=by)
    answering.answers_save(
        response=response,
        data={
            **{q.code: "better" for q in response.instrument.questions.filter(kind="change")},
            "who_helped": ["peer", "provider"],
            "anything_else": "All of it",
        },
        by=by,
    )
    client = client_for(by)
    for section in ("outcomes", "process", "check"):
        with django_assert_max_num_queries(20):
            assert client.get(answer_url(invitation, section)).status_code == 200
