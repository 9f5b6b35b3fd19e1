"""The known data set tells the story its docstring promises, for any day."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from budgets.models import Budget, LedgerTransaction, SurplusRecovery
from core.reporting.periods import Period
from tests.reporting.dataset import build_dataset

DAYS = [datetime.date(2026, 11, 20), datetime.date(2026, 4, 3), datetime.date(2027, 3, 30)]


@pytest.mark.parametrize("today", DAYS)
def test_the_dataset_builds_its_story_for_any_day(db: Any, today: datetime.date) -> None:
    ds = build_dataset(today)
    b = ds.budgets
    assert b["b7"].state == Budget.State.INDICATIVE
    assert b["b7"].active_from is None
    assert b["b6"].state == Budget.State.SUSPENDED
    assert b["b5a"].state == Budget.State.CLOSED
    assert b["b5b"].state == Budget.State.ACTIVE
    assert b["b5a"].holder_id == b["b5b"].holder_id
    assert b["b4"].ended_on < Period.year_of(today).start
    assert b["b2"].contributions.values("funder").distinct().count() == 2
    states = set(SurplusRecovery.objects.values_list("state", flat=True))
    assert states == {"recovered", "notice_sent", "reconsideration_requested"}
    kinds = set(LedgerTransaction.objects.values_list("kind", flat=True))
    assert kinds == {"allocation", "spend", "refund", "recovery", "correction"}


def test_on_a_day_well_inside_a_year_every_state_has_its_date(db: Any) -> None:
    today = datetime.date(2026, 11, 20)
    ds = build_dataset(today)
    b = ds.budgets
    assert Period.quarter_containing(today).start <= b["b10"].ended_on <= today
    assert Period.year_of(today).start <= b["b5a"].ended_on
    assert ds.spends["b1_recent"].refunded_pence == 50_00
    assert ds.spends["b9_wrong"].refunded_pence == ds.spends["b9_wrong"].amount_pence
