"""The home page tells people about surveys waiting for them, and keeps a commissioner's
improvement actions in view until they are done (core/views.py home)."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from outcomes.models import (
    ImprovementAction,
    ImprovementIssue,
    RespondentKind,
    SurveyInvitation,
    SurveyRound,
)
from tests.outcomes.factories import instrument


def _invitation(world: Any, **fields: Any) -> SurveyInvitation:
    today = timezone.localdate()
    round_ = SurveyRound.objects.create(
        organisation=world.org_x,
        respondent_kind=RespondentKind.HOLDER,
        instrument=instrument("holder"),
        period_start=today.replace(day=1),
        closes_on=today + datetime.timedelta(days=60),
    )
    return SurveyInvitation.objects.create(
        round=round_,
        respondent_kind=RespondentKind.HOLDER,
        holder=world.holder_a,
        respondent_key="holder",
        sequence=1,
        due_on=today,
        user=world.holder_a.user,
        sent_at=timezone.now(),
        expires_at=timezone.now() + datetime.timedelta(days=42),
        **fields,
    )


def test_a_holder_and_their_representative_see_a_survey_waiting(world: Any, client_for: Any):
    _invitation(world)
    for user in (world.holder_a.user, world.representative):
        page = client_for(user).get("/").content.decode()
        assert "Surveys to answer" in page
        assert "1 survey asks" in page
    assert "Surveys to answer" not in client_for(world.holder_b.user).get("/").content.decode()


def test_a_survey_answered_or_declined_is_no_longer_waiting(world: Any, client_for: Any):
    invitation = _invitation(world)
    for state in (SurveyInvitation.State.SUBMITTED, SurveyInvitation.State.DECLINED):
        SurveyInvitation.objects.filter(pk=invitation.pk).update(state=state)
        assert "Surveys to answer" not in client_for(world.holder_a.user).get("/").content.decode()


def test_a_commissioners_actions_stay_on_the_home_page_until_done(world: Any, client_for: Any):
    issue = ImprovementIssue.objects.create(
        organisation=world.org_x, title="Plans are hard to change", created_by=world.commissioner
    )
    action = ImprovementAction.objects.create(
        issue=issue,
        description="Let coordinators agree small changes",
        owner="Care team lead",
        due_on=timezone.localdate() - datetime.timedelta(days=1),
        created_by=world.commissioner,
    )
    page = client_for(world.commissioner).get("/").content.decode()
    assert "Let coordinators agree small changes" in page
    assert "overdue" in page
    # Staff who are not commissioners do not get the panel.
    assert "Let coordinators agree small changes" not in (
        client_for(world.staff_x).get("/").content.decode()
    )
    ImprovementAction.objects.filter(pk=action.pk).update(
        status=ImprovementAction.Status.DONE, done_at=timezone.now()
    )
    page = client_for(world.commissioner).get("/").content.decode()
    assert "Let coordinators agree small changes" not in page
    assert "No improvement actions are waiting" in page
