"""FHIR R4 views of outcome surveys (``outcomes/fhir.py``, ``outcomes/api/views.py``):
an instrument version as a Questionnaire and one person's answers as a
QuestionnaireResponse, each checked against the R4B models of ``fhir.resources``, and
served only to those who may see them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from core.models import AuditEvent
from outcomes import fhir, instruments
from outcomes.models import Change, Instrument, Question, SurveyResponse
from tests.api.partners import ALL_SCOPES, assert_problem, bearer_client, request_token
from tests.factories import PartnerApplicationFactory
from tests.outcomes.factories import instrument, submitted_response

pytestmark = pytest.mark.django_db

FHIR_JSON = "application/fhir+json"
OUTCOME_SCOPES = {"outcomes:read", "outcomes:write", "responses:read"}
# Every other scope a partner may hold: none of them opens the outcomes API.
OTHER_SCOPES = " ".join(s for s in ALL_SCOPES.split() if s not in OUTCOME_SCOPES)
SCOPES = f"{OTHER_SCOPES} outcomes:read outcomes:write responses:read"
ANSWERS: dict[str, str | list[str]] = {
    "physical_health": "better",
    "mental_wellbeing": "a_lot_worse",
    "ease_planning": "fairly_easy",
    "who_helped": ["family_friends", "nobody"],
    "anything_else": "My PA helps me get to the allotment.",
}


def _api(organisation: Any, scopes: str = SCOPES) -> Client:
    app: Any = PartnerApplicationFactory(organisation=organisation, scopes=scopes)
    response = request_token(app.client_id)
    assert response.status_code == 200, response.content
    return bearer_client(response.json()["access_token"])


def _fhir(client: Client, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == FHIR_JSON
    return dict(response.json())


def _items(resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Question items by linkId, from inside the section groups."""
    return {item["linkId"]: item for group in resource["item"] for item in group["item"]}


# Questionnaire ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["holder", "carer", "staff"])
def test_each_instrument_in_use_is_a_valid_active_questionnaire(world: Any, kind: str) -> None:
    version = instrument(kind)

    body = _fhir(_api(world.org_x), f"/api/v1/fhir/Questionnaire/{version.pk}")

    Questionnaire.model_validate(body)
    assert body["resourceType"] == "Questionnaire"
    assert body["id"] == str(version.pk)
    assert body["url"] == fhir.questionnaire_url(kind)
    assert body["version"] == str(version.version)
    assert body["status"] == "active"
    assert body["title"] == version.title
    assert [g["type"] for g in body["item"]] == ["group"] * len(body["item"])
    items = _items(body)
    assert list(items) == list(version.questions.values_list("code", flat=True))


def test_questions_are_typed_and_offer_their_answers(world: Any) -> None:
    version = instrument("holder")
    items = _items(_fhir(_api(world.org_x), f"/api/v1/fhir/Questionnaire/{version.pk}"))

    change = items["physical_health"]
    assert change["type"] == "choice"
    assert change["code"] == [
        {"system": fhir.AREA_SYSTEM, "code": "physical_health", "display": "Physical health"}
    ]
    assert [o["valueCoding"]["code"] for o in change["answerOption"]] == Change.values
    assert {o["valueCoding"]["system"] for o in change["answerOption"]} == {fhir.CHANGE_SYSTEM}

    choice = items["ease_planning"]
    question = version.questions.get(code="ease_planning")
    assert choice["type"] == "choice"
    assert "repeats" not in choice
    assert [o["valueCoding"]["code"] for o in choice["answerOption"]] == list(
        question.options.values_list("code", flat=True)
    )
    assert choice["answerOption"][0]["valueCoding"]["display"] == "Very easy"

    assert items["who_helped"]["repeats"] is True
    assert items["anything_else"]["type"] == "text"
    assert "answerOption" not in items["anything_else"]
    hinted = version.questions.exclude(hint="").first()
    if hinted is not None:
        (hint,) = items[hinted.code]["item"]
        assert hint == {"linkId": f"{hinted.code}-hint", "type": "display", "text": hinted.hint}


def test_a_retired_version_is_a_retired_questionnaire_and_a_draft_is_not_served(
    world: Any,
) -> None:
    first = instrument("staff")
    draft = instruments.instrument_new_version(instrument=first, by=world.platform_admin)
    api = _api(world.org_x)

    assert_problem(api.get(f"/api/v1/fhir/Questionnaire/{draft.pk}"), 404)
    Questionnaire.model_validate(fhir.questionnaire(draft))  # valid, but not served
    assert fhir.questionnaire(draft)["status"] == "draft"

    instruments.instrument_publish(instrument=draft, by=world.platform_admin)
    retired = _fhir(api, f"/api/v1/fhir/Questionnaire/{first.pk}")
    current = _fhir(api, f"/api/v1/fhir/Questionnaire/{draft.pk}")
    Questionnaire.model_validate(retired)
    assert retired["status"] == "retired"
    assert current["status"] == "active"
    assert retired["url"] == current["url"]
    assert (retired["version"], current["version"]) == ("1", "2")


def test_a_questionnaire_needs_the_outcomes_scope(world: Any) -> None:
    api = _api(world.org_x, scopes=OTHER_SCOPES)

    assert_problem(api.get(f"/api/v1/fhir/Questionnaire/{instrument('holder').pk}"), 403)


# QuestionnaireResponse ----------------------------------------------------------------------


def test_a_holders_answers_are_a_valid_completed_response(world: Any) -> None:
    response = submitted_response(world.holder_a, ANSWERS)
    version = response.instrument

    body = _fhir(_api(world.org_x), f"/api/v1/fhir/QuestionnaireResponse/{response.pk}")

    QuestionnaireResponse.model_validate(body)
    assert body["resourceType"] == "QuestionnaireResponse"
    assert body["id"] == str(response.pk)
    assert body["questionnaire"] == f"{fhir.questionnaire_url('holder')}|{version.version}"
    assert body["status"] == "completed"
    assert body["subject"] == {"reference": f"Patient/{world.holder_a.pk}"}
    assert body["author"] == {"reference": f"Patient/{world.holder_a.pk}"}
    assert "authored" in body
    items = _items(body)
    assert set(items) == set(ANSWERS)
    assert items["physical_health"]["answer"] == [
        {"valueCoding": {"system": fhir.CHANGE_SYSTEM, "code": "better", "display": "Better"}}
    ]
    assert items["ease_planning"]["answer"][0]["valueCoding"]["code"] == "fairly_easy"
    assert [a["valueCoding"]["code"] for a in items["who_helped"]["answer"]] == [
        "family_friends",
        "nobody",
    ]
    assert items["anything_else"]["answer"] == [
        {"valueString": "My PA helps me get to the allotment."}
    ]
    # Groups mirror the Questionnaire's, so a FHIR client can line them up.
    questionnaire = _fhir(_api(world.org_x), f"/api/v1/fhir/Questionnaire/{version.pk}")
    assert {g["linkId"] for g in body["item"]} <= {g["linkId"] for g in questionnaire["item"]}


def test_a_draft_answered_by_a_representative_is_in_progress(world: Any) -> None:
    response = submitted_response(
        world.holder_a,
        {"physical_health": "same"},
        answered_by=SurveyResponse.AnsweredBy.REPRESENTATIVE,
    )
    SurveyResponse.objects.filter(pk=response.pk).update(state=SurveyResponse.State.DRAFT)
    response.refresh_from_db()

    body = fhir.questionnaire_response(response)

    QuestionnaireResponse.model_validate(body)
    assert body["status"] == "in-progress"
    assert body["author"] == {"display": "A representative on the holder's behalf"}


def test_an_application_reading_answers_is_audited(world: Any) -> None:
    response = submitted_response(world.holder_a, ANSWERS)

    _fhir(_api(world.org_x), f"/api/v1/fhir/QuestionnaireResponse/{response.pk}")

    event = AuditEvent.objects.get(action="personal_record.viewed", person=world.holder_a)
    assert event.changes == {"page": "api:fhir_questionnaire_response"}


def test_the_holder_reads_their_answers_and_a_representative_those_they_gave(
    world: Any, client_for: Any
) -> None:
    own = submitted_response(world.holder_a, ANSWERS)
    given = submitted_response(
        world.holder_a, ANSWERS, answered_by=SurveyResponse.AnsweredBy.REPRESENTATIVE
    )
    own_path = f"/api/v1/fhir/QuestionnaireResponse/{own.pk}"
    given_path = f"/api/v1/fhir/QuestionnaireResponse/{given.pk}"

    for path in (own_path, given_path):
        QuestionnaireResponse.model_validate(_fhir(client_for(world.holder_a.user), path))
        assert_problem(client_for(world.holder_b.user).get(path), 404)
    QuestionnaireResponse.model_validate(_fhir(client_for(world.representative), given_path))
    # The holder's own answers are theirs: not their representative's to read.
    assert_problem(client_for(world.representative).get(own_path), 404)


@pytest.mark.parametrize("who", ["staff_x", "commissioner", "finance_officer", "platform_admin"])
def test_staff_never_see_one_persons_answers(world: Any, client_for: Any, who: str) -> None:
    response = submitted_response(world.holder_a, ANSWERS)

    answer = client_for(world.users()[who]).get(f"/api/v1/fhir/QuestionnaireResponse/{response.pk}")

    assert_problem(answer, 403)


def test_other_organisations_and_other_peoples_answers_are_not_found(world: Any) -> None:
    holder_b = submitted_response(world.holder_b, ANSWERS)
    carer = submitted_response(world.holder_a, {"carer_health": "worse"}, kind="carer")
    api = _api(world.org_x)

    assert_problem(api.get(f"/api/v1/fhir/QuestionnaireResponse/{holder_b.pk}"), 404)
    # A carer's answers about holder A are the carer's, not the organisation's to read.
    assert_problem(api.get(f"/api/v1/fhir/QuestionnaireResponse/{carer.pk}"), 404)


def test_answers_need_the_responses_scope(world: Any) -> None:
    response = submitted_response(world.holder_a, ANSWERS)
    api = _api(world.org_x, scopes=f"{OTHER_SCOPES} outcomes:read outcomes:write")

    assert_problem(api.get(f"/api/v1/fhir/QuestionnaireResponse/{response.pk}"), 403)


def test_every_code_sent_is_in_its_fhir_value_set() -> None:
    """fhir.resources checks structure, not required bindings: the codes are checked
    here against the R4 value sets they must come from."""
    publication_status = {"draft", "active", "retired", "unknown"}
    response_status = {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
    item_type = {
        "group",
        "display",
        "boolean",
        "decimal",
        "integer",
        "date",
        "dateTime",
        "time",
        "string",
        "text",
        "url",
        "choice",
        "open-choice",
        "attachment",
        "reference",
        "quantity",
    }

    assert set(fhir.QUESTIONNAIRE_STATUS) == set(Instrument.Status.values)
    assert set(fhir.QUESTIONNAIRE_STATUS.values()) <= publication_status
    assert set(fhir.RESPONSE_STATUS) == set(SurveyResponse.State.values)
    assert set(fhir.RESPONSE_STATUS.values()) <= response_status
    assert set(fhir.ITEM_TYPE) == set(Question.Kind.values)
    assert set(fhir.ITEM_TYPE.values()) <= item_type
