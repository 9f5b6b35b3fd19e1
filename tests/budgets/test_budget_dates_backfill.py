"""The migration that added ``Budget.active_from`` and ``ended_on`` dates the budgets
made before it from their audit trail, or else from the budget year and the row's last
change; a budget that never became active gets no dates."""

from __future__ import annotations

import datetime
import importlib
from typing import Any

from django.db import connection
from django.utils import timezone

from budgets import services
from budgets.models import Budget
from tests.factories import make_budget

BACKFILL = importlib.import_module("budgets.migrations.0011_budget_active_dates").BACKFILL


def _forget_dates() -> None:
    Budget.objects.update(active_from=None, ended_on=None)


def _backfill() -> None:
    with connection.cursor() as cursor:
        cursor.execute(BACKFILL)


def test_the_backfill_takes_the_dates_from_the_audit_trail_else_the_budget(world: Any) -> None:
    today = timezone.localdate()
    start = today.replace(day=1) - datetime.timedelta(days=200)
    # Made through the service: the audit trail says when it became active and closed.
    audited = make_budget(world.holder_a, state=Budget.State.AGREED, period_start=start)
    services.budget_transition(
        budget=audited, to_state=Budget.State.ACTIVE, changed_by=world.commissioner
    )
    services.budget_transition(
        budget=audited,
        to_state=Budget.State.CLOSED,
        changed_by=world.commissioner,
        reason="Moved away",
    )
    # Made active with no trail (as data loaded before the audit trail existed).
    untracked = make_budget(world.holder_a, state=Budget.State.ACTIVE, period_start=start)
    never_active = make_budget(world.holder_a, state=Budget.State.INDICATIVE, period_start=start)
    closed_unused = make_budget(world.holder_a, state=Budget.State.CLOSED, period_start=start)
    _forget_dates()

    _backfill()

    for budget in (audited, untracked, never_active, closed_unused):
        budget.refresh_from_db()
    assert (audited.active_from, audited.ended_on) == (today, today)
    assert (untracked.active_from, untracked.ended_on) == (start, None)
    assert (never_active.active_from, never_active.ended_on) == (None, None)
    # Closed without ever having been active (no trail): the day it closed, but no start.
    assert closed_unused.active_from is None
    assert closed_unused.ended_on == closed_unused.updated_at.date()
