"""Samples for the improvement loop pages (outcomes/views/improvement.py): an issue of
org X found in a report, with one action, agreed at one engagement session.

Only commissioners pass the matrix; of them, only org X's commissioner sees these
records (everyone else allowed by the matrix would get 404). tests/outcomes/
test_improvement_views.py pins the pages' answers."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from outcomes import improvement
from outcomes.models import EngagementSession, ImprovementAction, ImprovementIssue
from tests.matrix_samples import Sample


def _issue(w: Any) -> ImprovementIssue:
    return improvement.issue_create(
        organisation=w.org_x,
        created_by=w.commissioner,
        title="Fewer carers have emergency back-up",
        report_filters={"kind": "carer"},
    )


def _action(w: Any) -> ImprovementAction:
    return improvement.action_create(
        issue=_issue(w),
        created_by=w.commissioner,
        description="Ask every carer about back-up at review",
        owner="Care coordination team",
        due_on=timezone.localdate() + datetime.timedelta(days=30),
    )


def _session(w: Any) -> EngagementSession:
    action = _action(w)
    return improvement.session_record(
        organisation=w.org_x,
        recorded_by=w.commissioner,
        held_on=timezone.localdate(),
        title="Carers' forum",
        carers=6,
        staff=2,
        issues=[action.issue],
        actions=[action],
    )


def _owners(w: Any) -> set[str]:
    return {"commissioner"}


SAMPLES: dict[str, Sample] = {
    "outcomes:improvement_home": Sample(),
    "outcomes:issue_create": Sample(),
    "outcomes:issue_detail": Sample(kwargs=lambda w: {"pk": _issue(w).pk}, owners=_owners),
    "outcomes:issue_edit": Sample(kwargs=lambda w: {"pk": _issue(w).pk}, owners=_owners),
    "outcomes:action_create": Sample(kwargs=lambda w: {"pk": _issue(w).pk}, owners=_owners),
    "outcomes:action_edit": Sample(kwargs=lambda w: {"pk": _action(w).pk}, owners=_owners),
    "outcomes:session_create": Sample(),
    "outcomes:session_detail": Sample(kwargs=lambda w: {"pk": _session(w).pk}, owners=_owners),
}
