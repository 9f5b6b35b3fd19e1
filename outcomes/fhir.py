"""Outcome surveys as FHIR R4 resources: an instrument version as a ``Questionnaire``,
one person's answers as a ``QuestionnaireResponse``. Pure functions from records to
JSON-ready dicts; ``outcomes/api/views.py`` scopes and serves them.

- One canonical URL per kind of respondent (``.../Questionnaire/phb-outcomes-holder``);
  ``version`` tells the versions apart, and a response names the version it answered
  (``url|version``), so answers always line up with the wording that was asked.
- Questions are grouped by section (a ``group`` item per section, linkId
  ``section-<section>``); each question's linkId is its code, stable across versions.
- A "better, the same or worse" question is a ``choice`` coded with its outcome area,
  offering the change scale (``answerOption`` codings in the change-scale code system); a
  one-choice question a ``choice`` with its options (a code system per question, as
  option codes such as ``dont_know`` recur with different wording); an "any that apply"
  question the same with ``repeats``; free text a ``text`` item (FHIR's type for
  multi-line free text). A hint is a ``display`` item inside its question.
- Status: draft → ``draft``, in use → ``active``, retired → ``retired``. Responses:
  sent → ``completed``, still being answered → ``in-progress``.

FHIR forbids empty strings and lists: a blank field is left out, not sent empty.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from outcomes.models import (
    Answer,
    Change,
    Instrument,
    OutcomeArea,
    Question,
    RespondentKind,
    SurveyResponse,
)
from plans.fhir import NAMESPACE

QUESTIONNAIRE_URL = f"{NAMESPACE}/Questionnaire/phb-outcomes-{{kind}}"
CHANGE_SYSTEM = f"{NAMESPACE}/CodeSystem/outcome-change"
AREA_SYSTEM = f"{NAMESPACE}/CodeSystem/outcome-area"
OPTION_SYSTEM = f"{NAMESPACE}/CodeSystem/outcome-question/{{code}}"
RESPONDENT_KIND_EXTENSION = f"{NAMESPACE}/StructureDefinition/outcome-respondent-kind"
RESPONDENT_KIND_SYSTEM = f"{NAMESPACE}/CodeSystem/outcome-respondent-kind"
PARTNER_REFERENCE_SYSTEM = f"{NAMESPACE}/Id/partner-survey-response/{{application}}"

QUESTIONNAIRE_STATUS: dict[str, str] = {
    Instrument.Status.DRAFT: "draft",
    Instrument.Status.PUBLISHED: "active",
    Instrument.Status.RETIRED: "retired",
}
RESPONSE_STATUS: dict[str, str] = {
    SurveyResponse.State.DRAFT: "in-progress",
    SurveyResponse.State.SUBMITTED: "completed",
}
ITEM_TYPE: dict[str, str] = {
    Question.Kind.CHANGE: "choice",
    Question.Kind.CHOICE: "choice",
    Question.Kind.MULTIPLE: "choice",
    Question.Kind.TEXT: "text",
}


def _compact(resource: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in resource.items() if value not in ("", None, [], {})}


def questionnaire_url(kind: str) -> str:
    return QUESTIONNAIRE_URL.format(kind=kind)


def _section_link(section: str) -> str:
    return f"section-{section}"


def _change_coding(code: str) -> dict[str, str]:
    return {"system": CHANGE_SYSTEM, "code": code, "display": Change(code).label}


def _option_coding(question: Question, code: str, labels: dict[str, str]) -> dict[str, str]:
    return _compact(
        {
            "system": OPTION_SYSTEM.format(code=question.code),
            "code": code,
            "display": labels.get(code, ""),
        }
    )


def _question_item(question: Question) -> dict[str, Any]:
    if question.kind == Question.Kind.CHANGE:
        options = [{"valueCoding": _change_coding(code)} for code in Change.values]
        code = [
            {
                "system": AREA_SYSTEM,
                "code": question.area,
                "display": OutcomeArea(question.area).label,
            }
        ]
    else:
        labels = {o.code: o.label for o in question.options.all()}
        options = [
            {"valueCoding": _option_coding(question, o.code, labels)}
            for o in question.options.all()
        ]
        code = []
    hint = (
        [{"linkId": f"{question.code}-hint", "type": "display", "text": question.hint}]
        if question.hint
        else []
    )
    return _compact(
        {
            "linkId": question.code,
            "code": code,
            "text": question.text,
            "type": ITEM_TYPE[question.kind],
            "repeats": True if question.kind == Question.Kind.MULTIPLE else None,
            "answerOption": options if question.kind != Question.Kind.TEXT else [],
            "item": hint,
        }
    )


def questionnaire(instrument: Instrument) -> dict[str, Any]:
    """An instrument version as a Questionnaire. Expects ``questions`` prefetched with
    their ``options``."""
    sections: dict[str, list[Question]] = defaultdict(list)
    for question in instrument.questions.all():
        sections[question.section].append(question)
    when = instrument.published_at or instrument.created_at
    return _compact(
        {
            "resourceType": "Questionnaire",
            "id": str(instrument.pk),
            "url": questionnaire_url(instrument.respondent_kind),
            "version": str(instrument.version),
            "name": f"PhbOutcomes{instrument.respondent_kind.capitalize()}",
            "title": instrument.title,
            "status": QUESTIONNAIRE_STATUS[instrument.status],
            "subjectType": ["Patient"],
            "date": when.isoformat() if when else None,
            "description": instrument.introduction,
            "code": [
                {
                    "system": RESPONDENT_KIND_SYSTEM,
                    "code": instrument.respondent_kind,
                    "display": RespondentKind(instrument.respondent_kind).label,
                }
            ],
            "item": [
                {
                    "linkId": _section_link(section),
                    "text": Question.Section(section).label,
                    "type": "group",
                    "item": [_question_item(q) for q in questions],
                }
                for section, questions in sections.items()
            ],
        }
    )


def _answers(answer: Answer, labels: dict[str, str]) -> list[dict[str, Any]]:
    question = answer.question
    if question.kind == Question.Kind.CHANGE:
        return [{"valueCoding": _change_coding(answer.choice)}] if answer.choice else []
    if question.kind == Question.Kind.TEXT:
        return [{"valueString": answer.text}] if answer.text else []
    codes = answer.choices if question.kind == Question.Kind.MULTIPLE else [answer.choice]
    return [{"valueCoding": _option_coding(question, c, labels)} for c in codes if c]


def _author(response: SurveyResponse) -> dict[str, Any]:
    if response.respondent_kind == RespondentKind.HOLDER:
        if response.answered_by == SurveyResponse.AnsweredBy.SELF:
            return {"reference": f"Patient/{response.holder_id}"}
        return {"display": SurveyResponse.AnsweredBy(response.answered_by).label}
    return {"display": RespondentKind(response.respondent_kind).label}


def questionnaire_response(response: SurveyResponse) -> dict[str, Any]:
    """One person's answers as a QuestionnaireResponse about the holder (``subject``).
    Expects ``instrument``, and ``answers`` with their question and its options,
    loaded. Only questions answered appear; groups mirror the questionnaire's."""
    by_question = {a.question_id: a for a in response.answers.all()}
    sections: dict[str, list[dict[str, Any]]] = defaultdict(list)
    questions = sorted((a.question for a in by_question.values()), key=lambda q: (q.position, q.pk))
    for question in questions:
        labels = {o.code: o.label for o in question.options.all()}
        answers = _answers(by_question[question.pk], labels)
        if answers:
            sections[question.section].append(
                {"linkId": question.code, "text": question.text, "answer": answers}
            )
    authored = response.submitted_at or response.updated_at
    instrument = response.instrument
    identifier = (
        {
            "system": PARTNER_REFERENCE_SYSTEM.format(application=response.partner_application_id),
            "value": response.external_reference,
        }
        if response.external_reference and response.partner_application_id
        else None
    )
    return _compact(
        {
            "resourceType": "QuestionnaireResponse",
            "id": str(response.pk),
            "extension": [
                {
                    "url": RESPONDENT_KIND_EXTENSION,
                    "valueCoding": {
                        "system": RESPONDENT_KIND_SYSTEM,
                        "code": response.respondent_kind,
                        "display": RespondentKind(response.respondent_kind).label,
                    },
                }
            ],
            "identifier": identifier,
            "questionnaire": (
                f"{questionnaire_url(instrument.respondent_kind)}|{instrument.version}"
            ),
            "status": RESPONSE_STATUS[response.state],
            "subject": {"reference": f"Patient/{response.holder_id}"},
            "authored": authored.isoformat() if authored else None,
            "author": _author(response),
            "item": [
                {
                    "linkId": _section_link(section),
                    "text": Question.Section(section).label,
                    "item": items,
                }
                for section, items in sections.items()
            ],
        }
    )
