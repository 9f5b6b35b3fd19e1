"""Matrix samples for finding and opening holders' records and setting budgets up
(budgets/views/holders.py and setup.py). Records are holder A's, at org X."""

from __future__ import annotations

from typing import Any

from budgets.models import RasAssessment
from tests.matrix_samples import ORG_X_STAFF, Sample


def _assessment(w: Any) -> int:
    return RasAssessment.objects.create(
        holder=w.holder_a,
        method=RasAssessment.Method.CURRENT_PACKAGE,
        calculated_pence=10_000_00,
        package_description="Home care",
        completed_by=w.staff_x,
    ).pk


MANAGERS_X = {"commissioner", "finance_officer"}

SAMPLES: dict[str, Sample] = {
    "budgets:budget_create": Sample(
        kwargs=lambda w: {"pk": w.holder_a.pk}, owners=lambda w: MANAGERS_X
    ),
    "budgets:contribution_add": Sample(
        kwargs=lambda w: {"pk": w.budget_a.pk}, owners=lambda w: MANAGERS_X
    ),
    "budgets:contribution_change": Sample(
        kwargs=lambda w: {"pk": w.budget_a.contributions.get().pk}, owners=lambda w: MANAGERS_X
    ),
    "budgets:budget_transition": Sample(
        kwargs=lambda w: {"pk": w.budget_a.pk}, owners=lambda w: MANAGERS_X
    ),
    "budgets:ras_assess": Sample(
        kwargs=lambda w: {"pk": w.holder_a.pk}, owners=lambda w: ORG_X_STAFF
    ),
    "budgets:ras_assessment_detail": Sample(
        kwargs=lambda w: {"pk": _assessment(w)},
        owners=lambda w: {"holder_a", "representative", *ORG_X_STAFF},
    ),
    "budgets:ras_override": Sample(
        kwargs=lambda w: {"pk": _assessment(w)}, owners=lambda w: {"commissioner"}
    ),
}
