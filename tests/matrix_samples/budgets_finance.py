"""Matrix samples for the finance and monitoring pages (budgets/views/finance.py).
Each makes the record it names on holder A's budget, so org X's staff own it."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from budgets import services
from budgets.models import AllocationRun, MonitoringFlag, Spend
from tests.matrix_samples import ORG_X_STAFF, Sample

if TYPE_CHECKING:
    from tests.conftest import World


def _flag(w: World) -> dict[str, Any]:
    flag = MonitoringFlag.objects.create(
        budget=w.budget_a,
        kind=MonitoringFlag.Kind.SURPLUS,
        details={"balance_pence": 3_380_00, "threshold_pence": 2_000_00, "weeks": 8},
    )
    return {"pk": flag.pk}


def _run(w: World) -> dict[str, Any]:
    run = AllocationRun.objects.create(
        as_of=timezone.localdate(), status=AllocationRun.Status.SUCCEEDED
    )
    return {"pk": run.pk}


def _spend(w: World) -> dict[str, Any]:
    return {"pk": Spend.objects.get(budget=w.budget_a).pk}


def _spend_transaction(w: World) -> dict[str, Any]:
    return {"pk": Spend.objects.get(budget=w.budget_a).transaction_id}


def _contribution(w: World) -> dict[str, Any]:
    return {"pk": w.budget_a.contributions.get().pk}


def _recovery(w: World) -> dict[str, Any]:
    recovery = services.surplus_recovery_propose(
        contribution=w.budget_a.contributions.get(),
        amount_pence=100_00,
        reasons="Unspent for three months.",
        respond_by=timezone.localdate() + datetime.timedelta(days=14),
        proposed_by=w.finance_officer,
    )
    return {"pk": recovery.pk}


def _org_x(w: World) -> set[str]:
    return ORG_X_STAFF


SAMPLES: dict[str, Sample] = {
    "budgets:flag_move": Sample(kwargs=_flag, owners=_org_x),
    # Runs are platform-wide: anyone the matrix lets in sees the run.
    "budgets:allocation_run_detail": Sample(kwargs=_run),
    # Enqueued on commit, which never comes inside the test's transaction.
    "budgets:allocation_run_now": Sample(ok={302}, method="post"),
    "budgets:spend_verify": Sample(kwargs=_spend, owners=_org_x, ok={302}, method="post"),
    "budgets:spend_query": Sample(kwargs=_spend, owners=_org_x),
    "budgets:transaction_correct": Sample(kwargs=_spend_transaction, owners=_org_x),
    "budgets:recovery_propose": Sample(kwargs=_contribution, owners=_org_x),
    "budgets:recovery_decide": Sample(kwargs=_recovery, owners=_org_x),
}
