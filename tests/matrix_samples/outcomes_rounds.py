"""Samples for the survey schedule and round pages (outcomes/views/rounds.py): org X's
schedule and one of its rounds, with an invitation in it.

Only org X's commissioner may see them; "run now" sweeps the commissioner's own
organisations and redirects (302) to the rounds page."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from outcomes.models import Instrument, RespondentKind, SurveyInvitation, SurveyRound
from tests.matrix_samples import Sample


def _round(w: Any) -> SurveyRound:
    today = timezone.localdate()
    survey_round = SurveyRound.objects.create(
        organisation=w.org_x,
        respondent_kind=RespondentKind.HOLDER,
        instrument=Instrument.objects.current(RespondentKind.HOLDER),
        period_start=today.replace(day=1),
        closes_on=today + datetime.timedelta(days=42),
    )
    SurveyInvitation.objects.create(
        round=survey_round,
        respondent_kind=RespondentKind.HOLDER,
        holder=w.holder_a,
        respondent_key="holder",
        sequence=1,
        due_on=today,
        user=w.holder_a.user,
        sent_at=timezone.now(),
        expires_at=timezone.now() + datetime.timedelta(days=42),
    )
    return survey_round


def _commissioner(w: Any) -> set[str]:
    return {"commissioner"}


SAMPLES: dict[str, Sample] = {
    "outcomes:round_detail": Sample(kwargs=lambda w: {"pk": _round(w).pk}, owners=_commissioner),
    "outcomes:schedule_edit": Sample(kwargs=lambda w: {"org_pk": w.org_x.pk}, owners=_commissioner),
    "outcomes:survey_sweep_run": Sample(ok={302}, method="post"),
}
