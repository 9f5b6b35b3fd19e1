"""Answering outcome surveys in the browser: a budget holder finds their survey, answers
part of it, comes back later, finishes it (a too-long answer first), checks and sends
it, and reads what they sent; a family carer answers through the emailed link, which
then no longer works; a representative answers for the holder on a 320px phone. Every
page ends with the axe check."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from outcomes.links import invitation_token
from outcomes.models import RespondentKind, SurveyInvitation, SurveyResponse
from tests.e2e.browser import record_of
from tests.e2e.steps import (
    given_i_am_signed_in_as,
    given_i_open,
    then_each_error_link_moves_focus_to_its_field,
    then_i_see_the_heading,
    then_i_see_the_text,
    then_nothing_scrolls_sideways,
    then_the_error_summary_lists,
    then_the_page_is_accessible,
    then_the_title_starts_with,
    when_i_follow_the_link,
    when_i_press,
)
from tests.outcomes.factories import an_invitation

pytestmark = pytest.mark.e2e

HOLDER_SURVEY = "Your personal health budget: what has changed"


def when_i_answer(page: Page, question: str, answer: str) -> None:
    page.get_by_role("group", name=question, exact=True).get_by_label(answer, exact=True).check()


def test_a_holder_answers_their_survey_over_two_visits_and_sends_it(page, world):
    invitation = an_invitation(world.holder_a)

    given_i_am_signed_in_as(page, world.holder_a.user)
    given_i_open(page, "/surveys/")
    then_i_see_the_heading(page, "Surveys")
    then_i_see_the_text(page, "Not started")
    then_the_page_is_accessible(page, "survey-list")

    # First visit: a few outcomes, then stop.
    when_i_follow_the_link(page, HOLDER_SURVEY)
    then_i_see_the_heading(page, "What has changed")
    then_i_see_the_text(page, "part 1 of 4")
    then_the_page_is_accessible(page, "survey-outcomes")
    when_i_answer(page, "Your physical health", "Better")
    when_i_answer(page, "Getting or keeping paid work", "Does not apply to me")
    when_i_press(page, "Save and come back later")
    then_i_see_the_heading(page, "Surveys")
    then_i_see_the_text(page, "Your answers are saved")
    then_i_see_the_text(page, "Started")
    then_the_page_is_accessible(page, "survey-list-started")

    # Second visit: the answers are still there; carry on.
    when_i_follow_the_link(page, HOLDER_SURVEY)
    expect(
        page.get_by_role("group", name="Your physical health", exact=True).get_by_label(
            "Better", exact=True
        )
    ).to_be_checked()
    then_the_page_is_accessible(page, "survey-outcomes-again")
    when_i_answer(page, "Your life as a whole", "A lot better")
    when_i_press(page, "Save and continue")

    then_i_see_the_heading(page, "Getting and using the budget")
    when_i_answer(
        page, "How easy or hard was it to get your personal health budget?", "Fairly hard"
    )
    page.get_by_role("group", name="Who helped you plan?").get_by_label(
        "Someone who has a budget of their own"
    ).check()
    then_the_page_is_accessible(page, "survey-process")
    when_i_press(page, "Save and continue")

    then_i_see_the_heading(page, "Wider effects")
    then_the_page_is_accessible(page, "survey-wider")
    when_i_press(page, "Save and continue")

    then_i_see_the_heading(page, "About you")
    then_the_page_is_accessible(page, "survey-about")
    page.get_by_label("Is there anything else you would like to tell us?").fill("x" * 4001)
    when_i_press(page, "Save and continue")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(
        page,
        "Your answer to “Is there anything else you would like to tell us?” must be 4,000 "
        "characters or fewer",
    )
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "survey-about-error")
    page.get_by_label("Is there anything else you would like to tell us?").fill(
        "Choosing my own personal assistants changed everything."
    )
    when_i_press(page, "Save and continue")

    then_i_see_the_heading(page, "Check your answers before sending them")
    then_i_see_the_text(page, "You have answered 6 questions")
    then_the_page_is_accessible(page, "survey-check")
    page.get_by_role("link", name="Change Your life as a whole").click()
    then_i_see_the_heading(page, "What has changed")
    when_i_answer(page, "Your life as a whole", "Better")
    then_the_page_is_accessible(page, "survey-outcomes-change")
    when_i_press(page, "Save and continue")
    for step in ("process", "wider", "about"):
        then_the_page_is_accessible(page, f"survey-{step}-again")
        when_i_press(page, "Save and continue")
    then_i_see_the_heading(page, "Check your answers before sending them")
    then_the_page_is_accessible(page, "survey-check-again")
    when_i_press(page, "Send answers")

    then_i_see_the_heading(page, "Answers sent")
    then_the_page_is_accessible(page, "survey-sent")
    invitation.refresh_from_db()
    assert invitation.state == SurveyInvitation.State.SUBMITTED

    when_i_follow_the_link(page, "See the answers you sent")
    then_i_see_the_heading(page, "Your answers")
    then_i_see_the_text(page, "Choosing my own personal assistants changed everything.")
    then_the_page_is_accessible(page, "survey-answers")

    when_i_follow_the_link(page, "Back to your surveys")
    then_i_see_the_text(page, "You have no surveys to answer at the moment.")
    then_the_page_is_accessible(page, "survey-list-answered")


def test_a_carer_answers_through_the_emailed_link_which_then_stops_working(page, world):
    invitation = an_invitation(
        world.holder_a, RespondentKind.CARER, email="jo@example.test", name="Jo"
    )
    link = f"/surveys/link/{invitation_token(invitation)}/"

    given_i_open(page, link)
    then_i_see_the_heading(page, "What has changed")
    then_i_see_the_text(page, "This survey is about caring for Alex.")
    then_the_page_is_accessible(page, "survey-link-outcomes")
    when_i_answer(page, "Being able to carry on caring", "Better")
    when_i_answer(page, "The stress of day-to-day life", "About the same")
    when_i_press(page, "Save and come back later")
    then_i_see_the_heading(page, "Your answers are saved")
    then_the_page_is_accessible(page, "survey-link-saved")

    given_i_open(page, link)
    for number, heading in enumerate(
        ("What has changed", "Getting and using the budget", "Wider effects")
    ):
        then_i_see_the_heading(page, heading)
        then_the_page_is_accessible(page, f"survey-link-part-{number + 1}")
        when_i_press(page, "Save and continue")
    then_i_see_the_heading(page, "About you")
    then_the_page_is_accessible(page, "survey-link-about")
    when_i_press(page, "Save and continue")
    then_i_see_the_heading(page, "Check your answers before sending them")
    assert link in page.url
    then_the_page_is_accessible(page, "survey-link-check")
    when_i_press(page, "Send answers")

    then_i_see_the_heading(page, "Answers sent")
    then_i_see_the_text(page, "The survey link will not work again.")
    then_the_page_is_accessible(page, "survey-link-sent")
    response = SurveyResponse.objects.get()
    assert (response.respondent_kind, response.source) == ("carer", "link")

    given_i_open(page, link)
    then_i_see_the_heading(page, "This survey link no longer works")
    then_i_see_the_text(page, "This link has been used")
    then_the_page_is_accessible(page, "survey-link-used")


def test_a_carer_declines_through_the_link(page, world):
    invitation = an_invitation(world.holder_a, RespondentKind.CARER, email="jo@example.test")
    given_i_open(page, f"/surveys/link/{invitation_token(invitation)}/")
    then_the_page_is_accessible(page, "survey-link-start")
    when_i_follow_the_link(page, "I do not want to answer this survey")
    then_i_see_the_heading(page, "Decline this survey")
    then_the_page_is_accessible(page, "survey-link-decline")
    when_i_follow_the_link(page, "stop being sent these surveys")
    then_i_see_the_heading(page, "Stop being sent these surveys")
    then_the_page_is_accessible(page, "survey-link-opt-out")
    when_i_press(page, "Stop sending these surveys")
    then_i_see_the_heading(page, "You will not be sent these surveys again")
    then_the_page_is_accessible(page, "survey-link-opted-out")
    invitation.refresh_from_db()
    assert invitation.state == SurveyInvitation.State.DECLINED


def test_a_representative_answers_for_the_holder_on_a_small_phone(page, world):
    an_invitation(world.holder_a)
    page.set_viewport_size({"width": 320, "height": 640})
    given_i_am_signed_in_as(page, world.representative)
    given_i_open(page, "/surveys/")
    then_i_see_the_text(page, "For Alex")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "survey-list-320")

    page.get_by_role("link", name=f"{HOLDER_SURVEY} (For Alex)").click()
    then_i_see_the_heading(page, "What has changed")
    then_i_see_the_text(page, "You are answering for Alex.")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "survey-outcomes-320")
    when_i_answer(page, "Your friendships", "A lot worse")
    when_i_press(page, "Save and continue")
    then_i_see_the_heading(page, "Getting and using the budget")
    then_nothing_scrolls_sideways(page)
    then_the_page_is_accessible(page, "survey-process-320")
    assert SurveyResponse.objects.get().answered_by == SurveyResponse.AnsweredBy.REPRESENTATIVE


def test_the_survey_pages_work_under_the_content_security_policy(strict_page, world):
    invitation = an_invitation(world.holder_a, RespondentKind.CARER, email="jo@example.test")
    given_i_open(strict_page, f"/surveys/link/{invitation_token(invitation)}/")
    then_i_see_the_heading(strict_page, "What has changed")
    then_the_page_is_accessible(strict_page, "survey-link-strict")
    when_i_answer(strict_page, "Your own life as a whole", "Better")
    when_i_press(strict_page, "Save and continue")
    then_i_see_the_heading(strict_page, "Getting and using the budget")
    then_the_page_is_accessible(strict_page, "survey-link-strict-process")
    assert record_of(strict_page).csp_violations == []
    assert "nhsuk-frontend-supported" in strict_page.evaluate("document.body.className")
