"""Samples for the outcomes API and its FHIR views (``outcomes/api/``): the holder
instrument in use, and holder A's own answers to it."""

from __future__ import annotations

from typing import Any

from tests.matrix_samples import Sample
from tests.outcomes.factories import instrument, submitted_response


def _instrument(w: Any) -> dict[str, Any]:
    return {"pk": instrument("holder").pk}


def _response(w: Any) -> dict[str, Any]:
    # Given by the representative on holder A's behalf: both of them may read it.
    response = submitted_response(
        w.holder_a, {"physical_health": "better"}, answered_by="representative"
    )
    return {"pk": response.pk}


SAMPLES: dict[str, Sample] = {
    "api:outcome_instrument_detail": Sample(kwargs=_instrument),
    # POST only, and for applications only: no person in the walk may use it.
    "api:outcome_response_create": Sample(ok={405}),
    "api:fhir_questionnaire": Sample(kwargs=_instrument),
    # One person's answers: the holder and their representative; holder B finds nothing.
    "api:fhir_questionnaire_response": Sample(
        kwargs=_response, owners=lambda w: {"holder_a", "representative"}
    ),
}
