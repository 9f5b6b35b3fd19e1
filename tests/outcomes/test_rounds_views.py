"""The commissioner's survey pages (outcomes/views/rounds.py): only their own
organisations' schedule and rounds, counts and never names, the schedule form's
checks and its audit, and "run now"."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from budgets.models import BudgetHolder
from core.models import AuditEvent
from outcomes.models import RespondentKind, SurveyInvitation, SurveyRound, SurveySchedule
from outcomes.scheduling import add_months
from plans.models import SupportPlan
from tests.conftest import World, staff_user
from tests.matrix_samples.outcomes_rounds import _round
from tests.outcomes.test_scheduling import links, surveyed  # noqa: F401
from tests.plans.conftest import pw  # noqa: F401
from users.models import Representation, Role

VALID = {
    "active": "yes",
    "first_after_months": "3",
    "then_every_months": "6",
    "ask": ["holders", "carers"],
    "remind_after_days": "10",
    "answer_within_days": "30",
}


def _due_today(surveyed: Any) -> None:  # noqa: F811
    """Holder A's first survey falls due today: their plan was approved 6 months ago."""
    approved = add_months(timezone.localdate(), -6)
    SupportPlan.objects.filter(pk=surveyed.plan.pk).update(
        approved_at=timezone.make_aware(datetime.datetime.combine(approved, datetime.time(9)))
    )


@pytest.fixture
def commissioner_y(world: World) -> Any:
    return staff_user(world.org_y, Role.COMMISSIONER)


def test_the_rounds_page_shows_counts_and_the_response_rate_but_no_names(
    world: World, client_for: Any
) -> None:
    survey_round = _round(world)
    SurveyInvitation.objects.filter(round=survey_round).update(
        state=SurveyInvitation.State.SUBMITTED, answered_at=timezone.now()
    )
    page = client_for(world.commissioner).get(reverse("outcomes:round_list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-round="{survey_round.pk}"' in html
    assert "100%" in html
    assert "does not send outcome surveys yet" in html
    assert world.holder_a.name not in html
    detail = client_for(world.commissioner).get(
        reverse("outcomes:round_detail", args=[survey_round.pk])
    )
    assert detail.status_code == 200
    assert world.holder_a.name not in detail.content.decode()
    assert "Budget holder survey" in detail.content.decode()


def test_a_commissioner_of_another_organisation_sees_nothing_of_it(
    world: World, client_for: Any, commissioner_y: Any
) -> None:
    survey_round = _round(world)
    client = client_for(commissioner_y)
    assert client.get(reverse("outcomes:round_detail", args=[survey_round.pk])).status_code == 404
    assert client.get(reverse("outcomes:schedule_edit", args=[world.org_x.pk])).status_code == 404
    response = client.post(reverse("outcomes:schedule_edit", args=[world.org_x.pk]), VALID)
    assert response.status_code == 404
    assert not SurveySchedule.objects.exists()
    page = client.get(reverse("outcomes:round_list")).content.decode()
    assert f'data-round="{survey_round.pk}"' not in page
    assert "South ICB" in page
    # Their own organisation's schedule is theirs to set.
    assert client.get(reverse("outcomes:schedule_edit", args=[world.org_y.pk])).status_code == 200


def test_staff_of_the_organisation_who_are_not_commissioners_are_refused(
    world: World, client_for: Any
) -> None:
    survey_round = _round(world)
    client = client_for(world.staff_x)
    assert client.get(reverse("outcomes:round_list")).status_code == 403
    assert client.get(reverse("outcomes:round_detail", args=[survey_round.pk])).status_code == 403
    assert client.get(reverse("outcomes:schedule_edit", args=[world.org_x.pk])).status_code == 403
    assert client.post(reverse("outcomes:survey_sweep_run")).status_code == 403


def test_a_commissioner_sets_up_the_schedule_and_it_is_audited(
    world: World, client_for: Any
) -> None:
    client = client_for(world.commissioner)
    form = client.get(reverse("outcomes:schedule_edit", args=[world.org_x.pk]))
    assert form.status_code == 200
    assert 'value="6"' in form.content.decode()  # the defaults to start from

    response = client.post(reverse("outcomes:schedule_edit", args=[world.org_x.pk]), VALID)
    assert response.status_code == 302
    assert response["Location"] == reverse("outcomes:round_list")
    schedule = SurveySchedule.objects.get(organisation=world.org_x)
    assert (schedule.active, schedule.first_after_months, schedule.then_every_months) == (
        True,
        3,
        6,
    )
    assert (schedule.ask_holders, schedule.ask_carers, schedule.ask_staff) == (True, True, False)
    assert (schedule.remind_after_days, schedule.answer_within_days) == (10, 30)
    assert schedule.updated_by == world.commissioner
    event = AuditEvent.objects.get(action="outcomes.schedule_saved")
    assert event.actor == world.commissioner
    assert event.organisation == world.org_x
    assert event.changes["first_after_months"] == [None, 3]

    # A change records only what changed.
    client.post(
        reverse("outcomes:schedule_edit", args=[world.org_x.pk]),
        {**VALID, "active": "no", "ask": ["holders", "carers", "staff"]},
    )
    schedule.refresh_from_db()
    assert not schedule.active
    assert schedule.ask_staff
    latest = AuditEvent.objects.filter(action="outcomes.schedule_saved").latest("pk")
    assert latest.changes == {"active": [True, False], "ask_staff": [False, True]}
    page = client.get(reverse("outcomes:round_list")).content.decode()
    assert "No, stopped" in page
    assert "First 3 months after a person&#39;s first plan is approved, then every 6 months" in page


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"remind_after_days": "30"},
            "remind_after_days",
            "The reminder must go before the time to answer ends",
        ),
        ({"first_after_months": "0"}, "first_after_months", "must be a whole number from 1"),
        ({"then_every_months": "often"}, "then_every_months", "must be a whole number from 1"),
        ({"answer_within_days": ""}, "answer_within_days", "Enter the days to answer"),
        ({"ask": []}, "ask", "Select who is asked"),
        ({"active": ""}, "active", "Choose whether to send surveys"),
    ],
)
def test_a_schedule_with_a_mistake_is_shown_again_and_not_saved(
    world: World, client_for: Any, change: dict[str, Any], field: str, message: str
) -> None:
    data = {k: v for k, v in {**VALID, **change}.items() if v not in ("", [])}
    response = client_for(world.commissioner).post(
        reverse("outcomes:schedule_edit", args=[world.org_x.pk]), data
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Error: " in html
    assert message in html
    assert f'href="#id_{field}' in html  # the error summary links to the field
    assert not SurveySchedule.objects.exists()
    assert not AuditEvent.objects.filter(action="outcomes.schedule_saved").exists()


def test_run_now_sends_the_surveys_due_for_the_commissioners_organisation_once(
    surveyed: Any,  # noqa: F811
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    world = surveyed.world
    _due_today(surveyed)
    client = client_for(world.commissioner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("outcomes:survey_sweep_run"), follow=True)
    assert "Surveys checked: 3 invitations and 0 reminders sent." in response.content.decode()
    assert SurveyInvitation.objects.count() == 3
    assert AuditEvent.objects.filter(
        action="outcomes.survey_sweep_run", actor=world.commissioner, organisation=world.org_x
    ).exists()
    again = client.post(reverse("outcomes:survey_sweep_run"), follow=True)
    assert "Surveys checked: 0 invitations and 0 reminders sent." in again.content.decode()
    assert SurveyInvitation.objects.count() == 3
    page = again.content.decode()
    for survey_round in SurveyRound.objects.all():
        assert f'data-round="{survey_round.pk}"' in page


def test_run_now_by_another_organisations_commissioner_invites_nobody_here(
    surveyed: Any,  # noqa: F811
    client_for: Any,
    commissioner_y: Any,
) -> None:
    _due_today(surveyed)
    response = client_for(commissioner_y).post(reverse("outcomes:survey_sweep_run"))
    assert response.status_code == 302
    assert not SurveyInvitation.objects.exists()


def test_run_now_says_how_many_people_due_a_survey_nobody_can_answer_for(
    surveyed: Any,  # noqa: F811
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    world = surveyed.world
    _due_today(surveyed)
    BudgetHolder.objects.filter(pk=world.holder_a.pk).update(user=None)
    Representation.objects.filter(holder=world.holder_a).delete()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.commissioner).post(
            reverse("outcomes:survey_sweep_run"), follow=True
        )
    assert (
        "Surveys checked: 2 invitations and 0 reminders sent. 1 person due a survey could "
        "not be asked: they have no account and no representative on the platform."
    ) in response.content.decode()


def test_run_now_is_a_post(world: World, client_for: Any) -> None:
    assert client_for(world.commissioner).get(reverse("outcomes:survey_sweep_run")).status_code == (
        405
    )


def test_run_now_says_so_when_a_sweep_is_already_running(
    world: World, client_for: Any, monkeypatch: Any
) -> None:
    from outcomes import scheduling

    monkeypatch.setattr(scheduling, "survey_sweep", lambda **kwargs: None)
    response = client_for(world.commissioner).post(
        reverse("outcomes:survey_sweep_run"), follow=True
    )
    assert "Surveys are being sent at the moment" in response.content.decode()


def test_a_closed_round_says_when_it_closed(world: World, client_for: Any) -> None:
    survey_round = _round(world)
    SurveyRound.objects.filter(pk=survey_round.pk).update(
        state=SurveyRound.State.CLOSED, closed_at=timezone.now() - datetime.timedelta(days=1)
    )
    html = (
        client_for(world.commissioner)
        .get(reverse("outcomes:round_detail", args=[survey_round.pk]))
        .content.decode()
    )
    assert "Closed" in html
    assert RespondentKind.HOLDER.label in html
