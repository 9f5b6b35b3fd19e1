"""Survey test data: instruments (seeded by migration 0002), and responses with known
answers, sent straight into the tables so report tests control every figure."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from outcomes.instruments import seed_instruments
from outcomes.models import (
    Answer,
    BudgetBand,
    Instrument,
    SurveyResponse,
)


def instrument(kind: str = "holder") -> Instrument:
    seed_instruments()
    found = Instrument.objects.current(kind)
    assert found is not None
    return found


def submitted_response(
    holder: Any,
    answers: dict[str, str | list[str]],
    *,
    kind: str = "holder",
    submitted_on: datetime.date | None = None,
    management_option: str = "direct_payment",
    budget_band: str = BudgetBand.FROM_10K,
    organisation: Any = None,
    eligibility_route: str | None = None,
    **fields: Any,
) -> SurveyResponse:
    """A sent response about ``holder`` with ``answers`` by question code: a string is
    a change answer or option code, a list the options of an 'any that apply' question,
    and for a text question the text."""
    version = instrument(kind)
    on = submitted_on or timezone.localdate()
    response = SurveyResponse.objects.create(
        instrument=version,
        respondent_kind=kind,
        holder=holder,
        state=SurveyResponse.State.SUBMITTED,
        submitted_at=timezone.now(),
        submitted_on=on,
        organisation=organisation or holder.organisation,
        council=holder.council,
        eligibility_route=eligibility_route or holder.eligibility_route,
        management_option=management_option,
        budget_band=budget_band,
        **fields,
    )
    questions = {q.code: q for q in version.questions.all()}
    rows = []
    for code, value in answers.items():
        question = questions[code]
        if isinstance(value, list):
            rows.append(Answer(response=response, question=question, choices=value))
        elif question.kind == question.Kind.TEXT:
            rows.append(Answer(response=response, question=question, text=value))
        else:
            rows.append(Answer(response=response, question=question, choice=value))
    Answer.objects.bulk_create(rows)
    return response
