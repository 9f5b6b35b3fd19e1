"""The survey sweep on beat's schedule, run by a real Celery worker against Redis: the
task finds the survey due today, invites and tells each person once, and the worker
goes on to email the in-app notifications it made."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from core.models import Heartbeat, Notification
from core.tasks import beat_heartbeat
from outcomes.models import RespondentKind, SurveyInvitation
from outcomes.scheduling import add_months
from outcomes.tasks import survey_sweep_task
from plans.models import SupportPlan
from tests.outcomes.test_scheduling import links, surveyed  # noqa: F401
from tests.plans.conftest import pw  # noqa: F401
from tests.test_celery_worker import _wait_for, worker  # noqa: F401 (a fixture)


def test_beat_runs_the_survey_sweep_every_morning() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["outcomes-survey-sweep"]
    assert entry["task"] == survey_sweep_task.name
    assert entry["schedule"].hour == {6}
    assert entry["schedule"].minute == {0}


@pytest.mark.celery_worker
def test_a_real_worker_runs_the_survey_sweep(
    worker: Any,  # noqa: F811
    surveyed: Any,  # noqa: F811
) -> None:
    # transactional_db (the worker's fixture) commits, so the worker sees this plan,
    # approved six months ago today.
    approved = add_months(timezone.localdate(), -6)
    SupportPlan.objects.filter(pk=surveyed.plan.pk).update(
        approved_at=timezone.make_aware(datetime.datetime.combine(approved, datetime.time(9)))
    )
    holder_user = surveyed.world.holder_a.user

    survey_sweep_task.delay()
    sent = SurveyInvitation.objects.filter(sent_at__isnull=False)
    assert _wait_for(lambda: sent.count() == 3)
    assert set(sent.values_list("respondent_kind", flat=True)) == set(RespondentKind.values)
    surveys = Notification.objects.filter(link=reverse("outcomes:survey_list"))
    notes = surveys.filter(user=holder_user)
    assert _wait_for(lambda: notes.filter(emailed_at__isnull=False).count() == 1)

    # A second run (a retried or doubled beat) invites and tells nobody again. The
    # worker takes tasks in turn, so once the heartbeat after it has run, so has it.
    Heartbeat.objects.all().delete()
    survey_sweep_task.delay()
    beat_heartbeat.delay()
    assert _wait_for(lambda: Heartbeat.objects.filter(name="beat").exists())
    assert SurveyInvitation.objects.count() == 3
    assert notes.count() == 1
    assert surveys.filter(user=surveyed.world.representative).count() == 1
    assert surveys.count() == 3  # the holder, their representative, the clinician
