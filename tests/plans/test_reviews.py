"""Reviews: recording one (``review_record``) and the daily sweep (``review_sweep``):
reminders once per due date, overdue flags, spending outside the plan, the lock; and the
sweep's task run by a real Celery worker."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import psycopg2
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from budgets import services as budget_services
from budgets.models import MonitoringFlag, Spend, SpendCategory
from budgets.models.budgets import add_months
from core.locks import _lock_id
from core.models import Notification
from plans import services
from plans.models import OutcomeProgress, PlanSettings, ReviewReminder, SupportPlan
from plans.reviews import review_sweep
from plans.tasks import review_sweep_task
from tests.conftest import staff_user
from tests.factories import BudgetHolderFactory, make_budget
from tests.plans.conftest import PlanWorld, fill_plan, make_active
from tests.test_celery_worker import _wait_for, worker  # noqa: F401 (a fixture)
from users.models import Role

TODAY = timezone.localdate


def _progress(plan: SupportPlan, value: str = "progressing") -> dict[int, tuple[str, str]]:
    return {o.pk: (value, "Going well") for o in plan.outcomes.all()}


def _due_in(plan: SupportPlan, days: int) -> SupportPlan:
    SupportPlan.objects.filter(pk=plan.pk).update(
        next_review_on=TODAY() + datetime.timedelta(days=days)
    )
    plan.refresh_from_db()
    return plan


# Recording a review ---------------------------------------------------------------------


def test_a_review_records_progress_and_moves_the_next_date_on(
    pw: PlanWorld, active_plan: SupportPlan
) -> None:
    review = services.review_record(
        plan=active_plan,
        recorded_by=pw.planner,
        held_on=TODAY(),
        progress=_progress(active_plan),
        what_is_working="The walks",
        what_is_not_working="Rainy days",
    )
    active_plan.refresh_from_db()
    assert active_plan.next_review_on == add_months(TODAY(), 12)
    assert review.due_on == active_plan.first_review_on
    assert OutcomeProgress.objects.filter(review=review).count() == 1
    assert review.new_version is None
    assert active_plan.state == SupportPlan.State.ACTIVE


def test_the_next_review_follows_the_plans_interval(pw: PlanWorld) -> None:
    holder = pw.world.holder_a.user
    plan = fill_plan(
        services.plan_start(budget=pw.world.budget_a, started_by=holder),
        holder,
        weekly_pence=250_00,
    )
    services.plan_update(plan=plan, updated_by=holder, review_every_months=6)
    plan = make_active(plan, pw)
    held = TODAY()
    services.review_record(
        plan=plan, recorded_by=pw.clinician, held_on=held, progress=_progress(plan)
    )
    plan.refresh_from_db()
    assert plan.next_review_on == add_months(held, 6)


def test_progress_is_needed_for_every_outcome(pw: PlanWorld, active_plan: SupportPlan) -> None:
    for progress in ({}, {active_plan.outcomes.get().pk + 999: ("achieved", "")}):
        with pytest.raises(ValidationError) as error:
            services.review_record(
                plan=active_plan, recorded_by=pw.planner, held_on=TODAY(), progress=progress
            )
        assert error.value.message_dict == {
            "progress": ["Record progress on each of the plan's outcomes."]
        }
    with pytest.raises(ValidationError, match="Choose how each outcome is going"):
        services.review_record(
            plan=active_plan,
            recorded_by=pw.planner,
            held_on=TODAY(),
            progress=_progress(active_plan, "splendid"),
        )
    with pytest.raises(ValidationError, match="today or in the past"):
        services.review_record(
            plan=active_plan,
            recorded_by=pw.planner,
            held_on=TODAY() + datetime.timedelta(days=1),
            progress=_progress(active_plan),
        )
    assert not active_plan.reviews.exists()


def test_outcome_ids_may_come_as_strings_from_a_form(
    pw: PlanWorld, active_plan: SupportPlan
) -> None:
    outcome = active_plan.outcomes.get()
    review = services.review_record(
        plan=active_plan,
        recorded_by=pw.planner,
        held_on=TODAY(),
        progress={str(outcome.pk): ("achieved", "")},
    )
    assert review.progress.get().outcome == outcome


def test_a_review_resolves_the_overdue_flag(pw: PlanWorld, active_plan: SupportPlan) -> None:
    _due_in(active_plan, -1)
    assert review_sweep()["review_overdue"] == 1  # type: ignore[index]
    services.review_record(
        plan=active_plan, recorded_by=pw.planner, held_on=TODAY(), progress=_progress(active_plan)
    )
    flag = MonitoringFlag.objects.get(kind=MonitoringFlag.Kind.REVIEW_OVERDUE)
    assert flag.state == MonitoringFlag.State.RESOLVED
    assert flag.resolved_by == pw.planner
    assert review_sweep()["review_overdue"] == 0  # type: ignore[index]


def test_a_review_that_changes_the_plan_starts_a_new_draft_version(
    pw: PlanWorld, active_plan: SupportPlan
) -> None:
    review = services.review_record(
        plan=active_plan,
        recorded_by=pw.clinician,
        held_on=TODAY(),
        progress=_progress(active_plan),
        plan_changes=True,
    )
    new = review.new_version
    assert new is not None
    assert (new.state, new.version, new.revises) == (SupportPlan.State.DRAFT, 2, active_plan)
    assert list(new.outcomes.values_list("key", flat=True)) == list(
        active_plan.outcomes.values_list("key", flat=True)
    )


# The sweep ----------------------------------------------------------------------------------


def test_a_reminder_is_sent_once_per_due_date_even_when_run_twice(
    pw: PlanWorld, active_plan: SupportPlan
) -> None:
    _due_in(active_plan, 10)
    holder = pw.world.holder_a.user
    assert review_sweep()["reminded"] == 1  # type: ignore[index]
    assert review_sweep()["reminded"] == 0  # type: ignore[index]
    reminders = Notification.objects.filter(
        user=holder, subject="Your support plan review is coming up"
    )
    assert reminders.count() == 1
    assert (
        Notification.objects.filter(user=pw.planner, subject__startswith="Review due").count() == 1
    )
    assert ReviewReminder.objects.get().due_on == active_plan.next_review_on
    # A new due date gets its own reminder.
    _due_in(active_plan, 11)
    assert review_sweep()["reminded"] == 1  # type: ignore[index]


def test_reminders_honour_the_organisations_reminder_days(
    pw: PlanWorld, active_plan: SupportPlan
) -> None:
    _due_in(active_plan, 40)
    assert review_sweep()["reminded"] == 0  # type: ignore[index]  # default 28 days
    PlanSettings.objects.update_or_create(
        organisation=pw.world.org_x, defaults={"reminder_days": 45}
    )
    assert review_sweep()["reminded"] == 1  # type: ignore[index]
    _due_in(active_plan, 20)
    PlanSettings.objects.filter(organisation=pw.world.org_x).update(reminder_days=7)
    assert review_sweep()["reminded"] == 0  # type: ignore[index]


def test_an_overdue_review_is_flagged_once(pw: PlanWorld, active_plan: SupportPlan) -> None:
    _due_in(active_plan, 0)
    assert review_sweep()["review_overdue"] == 0  # type: ignore[index]  # due today
    _due_in(active_plan, -3)
    assert review_sweep()["review_overdue"] == 1  # type: ignore[index]
    assert review_sweep()["review_overdue"] == 0  # type: ignore[index]
    flag = MonitoringFlag.objects.get(kind=MonitoringFlag.Kind.REVIEW_OVERDUE)
    assert flag.details["plan"] == active_plan.pk


def _spend(pw: PlanWorld, **extra: Any) -> Any:
    return budget_services.spend_record(
        budget=pw.world.budget_a,
        payee="Corner shop",
        spent_on=TODAY(),
        amount_pence=15_00,
        category=SpendCategory.OTHER,
        recorded_by=pw.world.holder_a.user,
        idempotency_key=uuid.uuid4().hex,
        **extra,
    )


def test_spending_outside_the_plan_is_flagged_once_and_not_again_after_resolution(
    pw: PlanWorld, active_plan: SupportPlan
) -> None:
    # Each test runs in one transaction, where now() stands still: put the plan's start
    # an hour back and the world's spend a day back, before the plan came into force.
    now = timezone.now()
    Spend.objects.filter(budget=pw.world.budget_a).update(
        recorded_at=now - datetime.timedelta(days=1)
    )
    SupportPlan.objects.filter(pk=active_plan.pk).update(
        active_from=now - datetime.timedelta(hours=1)
    )
    assert review_sweep()["outside_plan"] == 0  # type: ignore[index]
    _spend(pw, plan_item=active_plan.items.get())
    assert review_sweep()["outside_plan"] == 0  # type: ignore[index]
    outside = _spend(pw)
    assert review_sweep()["outside_plan"] == 1  # type: ignore[index]
    assert review_sweep()["outside_plan"] == 0  # type: ignore[index]
    flag = MonitoringFlag.objects.get(kind=MonitoringFlag.Kind.OUTSIDE_PLAN)
    assert flag.details["spends"] == [outside.pk]
    assert flag.details["amount_pence"] == 15_00
    budget_services.flag_move(
        flag=flag, to_state=MonitoringFlag.State.RESOLVED, moved_by=pw.world.staff_x, note="OK"
    )
    # Resolved: the same spend does not raise it again; a new one does.
    assert review_sweep()["outside_plan"] == 0  # type: ignore[index]
    later = _spend(pw)
    assert review_sweep()["outside_plan"] == 1  # type: ignore[index]
    newest = MonitoringFlag.objects.unresolved().get(kind=MonitoringFlag.Kind.OUTSIDE_PLAN)
    assert newest.details["spends"] == [later.pk]


def test_a_second_sweep_while_one_runs_does_nothing(
    pw: PlanWorld, active_plan: SupportPlan
) -> None:
    _due_in(active_plan, -1)
    db = connection.settings_dict
    other = psycopg2.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        dbname=db["NAME"],
    )
    other.autocommit = True
    try:
        other.cursor().execute("SELECT pg_advisory_lock(%s)", [_lock_id("plans.review_sweep")])
        assert review_sweep() is None
        assert not MonitoringFlag.objects.filter(kind=MonitoringFlag.Kind.REVIEW_OVERDUE).exists()
        other.cursor().execute("SELECT pg_advisory_unlock(%s)", [_lock_id("plans.review_sweep")])
    finally:
        other.close()
    assert review_sweep()["review_overdue"] == 1  # type: ignore[index]


@pytest.mark.celery_worker
def test_a_real_worker_runs_the_review_sweep(worker: Any) -> None:  # noqa: F811
    # transactional_db (the worker's fixture) commits, so the worker sees this plan.
    holder = BudgetHolderFactory()
    budget = make_budget(holder, paid_in_pence=100_00)
    clinician = staff_user(holder.organisation, Role.CLINICIAN)
    plan = fill_plan(
        services.plan_start(budget=budget, started_by=holder.user), holder.user, weekly_pence=250_00
    )
    services.plan_submit(plan=plan, submitted_by=holder.user, agree=True)
    plan = services.plan_approve(plan=plan, approved_by=clinician, step="clinician")
    _due_in(plan, -2)

    review_sweep_task.delay()
    flags = MonitoringFlag.objects.filter(budget=budget, kind=MonitoringFlag.Kind.REVIEW_OVERDUE)
    assert _wait_for(flags.exists)
    assert flags.get().details["plan"] == plan.pk
