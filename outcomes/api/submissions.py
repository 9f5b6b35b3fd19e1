"""Survey answers a partner system collected elsewhere (on paper, by phone, in its own
case system), recorded as a sent response with source ``partner``.

The answers are checked whole before anything is written: every question code must
belong to the version named, every answer must be one the question offers. A response
carries the report dimensions of the holder's record at the moment it is recorded
(``outcomes.dimensions.response_dimensions``), as a response sent on the platform does;
``collected_on`` is the day the person answered, and is the day reports count it on.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from budgets.models import BudgetHolder
from core import request_context
from core.exceptions import Conflict
from core.services import audit_record
from outcomes.dimensions import response_dimensions
from outcomes.models import Answer, Change, Instrument, Question, RespondentKind, SurveyResponse

MAX_TEXT = 5000


def _answer_rows(instrument: Instrument, answers: dict[str, Any]) -> list[Answer]:
    """Unsaved Answer rows for ``answers`` (question code → answer), or ValidationError
    naming every code that is wrong and why."""
    if not answers:
        raise ValidationError({"answers": ["Send at least one answer."]})
    questions = {q.code: q for q in instrument.questions.prefetch_related("options")}
    errors: dict[str, str] = {}
    rows: list[Answer] = []
    for code, value in answers.items():
        question = questions.get(code)
        if question is None:
            errors[code] = f"Version {instrument.version} of this survey has no question '{code}'."
            continue
        options = [o.code for o in question.options.all()]
        if question.kind == Question.Kind.CHANGE:
            if not isinstance(value, str) or value not in Change.values:
                errors[code] = f"Answer with one of: {', '.join(Change.values)}."
                continue
            rows.append(Answer(question=question, choice=value))
        elif question.kind == Question.Kind.CHOICE:
            if not isinstance(value, str) or value not in options:
                errors[code] = f"Answer with one of: {', '.join(options)}."
                continue
            rows.append(Answer(question=question, choice=value))
        elif question.kind == Question.Kind.MULTIPLE:
            if (
                not isinstance(value, list)
                or not value
                or not all(isinstance(v, str) and v in options for v in value)
                or len(set(value)) != len(value)
            ):
                errors[code] = (
                    f"Answer with a list of one or more different options of: {', '.join(options)}."
                )
                continue
            rows.append(Answer(question=question, choices=list(value)))
        else:
            if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
                errors[code] = f"Answer with text of 1 to {MAX_TEXT} characters."
                continue
            rows.append(Answer(question=question, text=value.strip()))
    if errors:
        raise ValidationError(
            {"answers": [f"{code}: {message}" for code, message in errors.items()]}
        )
    return rows


@transaction.atomic
def partner_response_record(
    *,
    application: Any,
    holder: BudgetHolder,
    instrument: Instrument,
    respondent_kind: str,
    answers: dict[str, Any],
    collected_on: datetime.date,
    answered_by: str = SurveyResponse.AnsweredBy.SELF,
    external_reference: str = "",
) -> SurveyResponse:
    """Record answers a partner application collected about ``holder``.

    The caller has already checked that the holder is one the application's
    organisation serves. Raises ValidationError (nothing written) for a draft version,
    a respondent kind other than the version's, a future date, or any wrong answer;
    Conflict when the application already sent a response with this
    ``external_reference``."""
    errors: dict[str, list[str]] = {}
    if instrument.status == Instrument.Status.DRAFT:
        errors["instrument"] = ["This version is a draft: answers go to a version in use."]
    if respondent_kind != instrument.respondent_kind:
        errors["respondent_kind"] = [
            f"This version is the {instrument.get_respondent_kind_display().lower()} survey: "
            f"send respondent_kind '{instrument.respondent_kind}'."
        ]
    if collected_on > timezone.localdate():
        errors["collected_on"] = ["The day the answers were collected cannot be in the future."]
    if (
        answered_by == SurveyResponse.AnsweredBy.REPRESENTATIVE
        and respondent_kind != RespondentKind.HOLDER
    ):
        errors["answered_by"] = ["Only a holder's survey is answered by a representative."]
    try:
        rows = _answer_rows(instrument, answers)
    except ValidationError as error:
        errors.update(error.message_dict)
        rows = []
    if errors:
        raise ValidationError(errors)
    if (
        external_reference
        and SurveyResponse.objects.filter(
            partner_application=application, external_reference=external_reference
        ).exists()
    ):
        raise Conflict("This application already sent a response with this external_reference.")
    now = timezone.now()
    try:
        with transaction.atomic():
            response = SurveyResponse.objects.create(
                instrument=instrument,
                respondent_kind=respondent_kind,
                holder=holder,
                state=SurveyResponse.State.SUBMITTED,
                answered_by=answered_by,
                source=SurveyResponse.Source.PARTNER,
                partner_application=application,
                external_reference=external_reference,
                submitted_at=now,
                submitted_on=collected_on,
                **response_dimensions(holder=holder),
            )
    except IntegrityError:
        # Another request with the same external reference won the race.
        raise Conflict(
            "This application already sent a response with this external_reference."
        ) from None
    for row in rows:
        row.response = response
    Answer.objects.bulk_create(rows)
    audit_record(
        actor=None,
        actor_label=request_context.application_label(application),
        action="survey_response.recorded",
        obj=response,
        organisation=response.organisation,
        person=holder,
        changes={
            "source": SurveyResponse.Source.PARTNER,
            "instrument_version": instrument.version,
            "respondent_kind": respondent_kind,
            "questions_answered": len(rows),
            "external_reference": external_reference,
        },
    )
    return response
