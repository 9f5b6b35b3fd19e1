"""Samples for the support plan pages (plans/views/): holder A's plan (org X's).

Writing pages answer 403 to people who may see the plan but not write it (a
representative without the plan scope, most staff), so their samples accept 200 or 403
for the record's owners; tests/plans/test_holder_views.py pins which."""

from __future__ import annotations

from typing import Any

from plans import services
from plans.models import SupportPlan
from tests.matrix_samples import ORG_X_STAFF, Sample


def _plan(w: Any) -> SupportPlan:
    # plan_start returns the version being written if there is one: one plan per walk.
    return services.plan_start(budget=w.budget_a, started_by=w.holder_a.user)


def _outcome(w: Any) -> Any:
    plan = _plan(w)
    return plan.outcomes.first() or services.outcome_save(
        plan=plan, saved_by=w.holder_a.user, goal="Walk to the park on my own"
    )


def _owners(w: Any) -> set[str]:
    return {"holder_a", "representative", *ORG_X_STAFF}


def _page(kwargs: Any, ok: set[int] | None = None, method: str = "get") -> Sample:
    return Sample(kwargs=kwargs, owners=_owners, ok=ok or {200, 403}, method=method)


PLAN = {"pk": lambda w: _plan(w).pk}

SAMPLES: dict[str, Sample] = {
    "plans:plan_start": _page(lambda w: {"budget_pk": w.budget_a.pk}),
    "plans:plan_detail": _page(lambda w: {"pk": _plan(w).pk}, ok={200}),
    "plans:plan_comment": _page(lambda w: {"pk": _plan(w).pk}, ok={200, 302, 403}, method="post"),
    "plans:plan_tasks": _page(lambda w: {"pk": _plan(w).pk}),
    "plans:plan_submit": _page(lambda w: {"pk": _plan(w).pk}),
    "plans:plan_money": _page(lambda w: {"pk": _plan(w).pk, "stream": "nhs_chc"}),
    "plans:plan_step": _page(lambda w: {"pk": _plan(w).pk, "step": "what-matters"}),
    "plans:plan_part": _page(
        lambda w: {"pk": _plan(w).pk, "step": "outcomes", "part_pk": _outcome(w).pk}
    ),
    "plans:plan_part_remove": _page(
        lambda w: {"pk": _plan(w).pk, "step": "outcomes", "part_pk": _outcome(w).pk}
    ),
    "plans:plan_print": _page(lambda w: {"pk": _plan(w).pk}, ok={200}),
    "plans:plan_pdf": _page(lambda w: {"pk": _plan(w).pk}, ok={200}),
    "plans:plan_compare": _page(lambda w: {"pk": _plan(w).pk}, ok={200}),
    # Staff: the commissioner is the only sign-off role in the walk's world.
    "plans:plan_signoff": Sample(
        kwargs=lambda w: {"pk": _plan(w).pk}, owners=lambda w: {"commissioner"}
    ),
    "plans:plan_approve": Sample(
        kwargs=lambda w: {"pk": _plan(w).pk}, owners=lambda w: {"commissioner"}, method="post"
    ),
    "plans:plan_request_changes": Sample(
        kwargs=lambda w: {"pk": _plan(w).pk}, owners=lambda w: {"commissioner"}, method="post"
    ),
    "plans:plan_review": Sample(kwargs=lambda w: {"pk": _plan(w).pk}, owners=lambda w: {"staff_x"}),
    "plans:plan_end": Sample(
        kwargs=lambda w: {"pk": _plan(w).pk}, owners=lambda w: {"commissioner"}, ok={200, 403}
    ),
}
