"""The budgets API (``budgets/api/views.py``): records of holder A, whose ICB is org X."""

from __future__ import annotations

import datetime

from budgets.models import AllocationRun
from tests.matrix_samples import ORG_X_STAFF, Sample

SAMPLES: dict[str, Sample] = {
    "api:holder_detail": Sample(
        kwargs=lambda w: {"pk": w.holder_a.pk}, owners=lambda w: ORG_X_STAFF
    ),
    "api:budget_detail": Sample(
        kwargs=lambda w: {"pk": w.budget_a.pk}, owners=lambda w: ORG_X_STAFF
    ),
    "api:transaction_list": Sample(
        kwargs=lambda w: {"pk": w.budget_a.pk}, owners=lambda w: ORG_X_STAFF
    ),
    # POST only, so a permitted caller's GET is 405. (The walk's bodiless POST is form
    # data, which the JSON-only API refuses with 415 before authenticating anyone.)
    "api:spend_create": Sample(kwargs=lambda w: {"pk": w.budget_a.pk}, ok={405}),
    # Runs are platform-wide: every permitted caller sees every run.
    "api:allocation_run_detail": Sample(
        kwargs=lambda w: {"pk": AllocationRun.objects.create(as_of=datetime.date(2025, 4, 1)).pk}
    ),
}
