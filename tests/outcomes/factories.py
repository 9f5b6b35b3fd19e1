"""Survey test data: instruments (seeded by migration 0002), and responses with known
answers, sent straight into the tables so report tests control every figure."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

from django.utils import timezone

from outcomes.instruments import seed_instruments
from outcomes.models import (
    Answer,
    BudgetBand,
    Instrument,
    RespondentKind,
    SurveyInvitation,
    SurveyResponse,
    SurveyRound,
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


_sequence = itertools.count(1)


def a_round(organisation: Any, kind: str = RespondentKind.HOLDER) -> SurveyRound:
    today = timezone.localdate()
    found, _ = SurveyRound.objects.get_or_create(
        organisation=organisation,
        respondent_kind=kind,
        period_start=today.replace(day=1),
        defaults={
            "instrument": instrument(kind),
            "closes_on": today + datetime.timedelta(days=60),
        },
    )
    return found


def an_invitation(
    holder: Any,
    kind: str = RespondentKind.HOLDER,
    *,
    user: Any = None,
    email: str = "",
    name: str = "",
    expires_in: datetime.timedelta = datetime.timedelta(days=30),
    state: str = SurveyInvitation.State.SENT,
) -> SurveyInvitation:
    """An invitation about ``holder``: the holder's own (answered by their account),
    a carer's (by ``email``) or a member of staff's (``user``)."""
    if kind == RespondentKind.HOLDER:
        key, user = "holder", user or holder.user
    elif kind == RespondentKind.CARER:
        key = f"carer:{email}"
    else:
        key = f"staff:{user.pk}"
    return SurveyInvitation.objects.create(
        round=a_round(holder.organisation, kind),
        respondent_kind=kind,
        holder=holder,
        respondent_key=key,
        sequence=next(_sequence),
        due_on=timezone.localdate(),
        user=user,
        name=name,
        email=email,
        state=state,
        sent_at=timezone.now(),
        expires_at=timezone.now() + expires_in,
    )


def answers_of(response: SurveyResponse) -> dict[str, Any]:
    return {
        a.question.code: a.choice or a.choices or a.text
        for a in Answer.objects.filter(response=response).select_related("question")
    }
