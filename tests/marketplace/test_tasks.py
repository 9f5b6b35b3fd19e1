"""The marketplace's scheduled jobs are on beat's schedule and do their sweeps."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from marketplace import tasks
from marketplace.models import Pool
from tests.conftest import staff_user
from tests.marketplace.factories import ProviderFactory, ServiceFactory
from users.models import Role

pytestmark = pytest.mark.django_db


def test_beat_runs_the_marketplace_sweeps_daily() -> None:
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "marketplace.tasks.verification_expire_task",
        "marketplace.tasks.pool_expire_task",
    } <= scheduled


def test_the_pool_job_closes_a_pool_past_its_deadline(world) -> None:
    planner = staff_user(world.org_x, Role.SUPPORT_PLANNER)
    service = ServiceFactory(
        provider=ProviderFactory(organisation=world.provider_org, areas=[world.org_x]),
        price=(30_00, "session"),
    )
    late = Pool.objects.create(
        purpose="Cooking lessons",
        service=service,
        organisation=world.org_x,
        organiser=planner,
        cost_pence=300_00,
        deadline=timezone.localdate() - datetime.timedelta(days=1),
    )
    on_time = Pool.objects.create(
        purpose="Art classes",
        service=service,
        organisation=world.org_x,
        organiser=planner,
        cost_pence=300_00,
        deadline=timezone.localdate(),
    )
    assert tasks.pool_expire_task.apply().get() == 1
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert (late.state, on_time.state) == (Pool.State.EXPIRED, Pool.State.OPEN)
    assert tasks.pool_expire_task.apply().get() == 0  # a re-run changes nothing
