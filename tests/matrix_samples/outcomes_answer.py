"""Samples for answering outcome surveys (outcomes/views/answering.py): holder A's own
survey, which holder A and their representative may answer (everyone else signed in
gets 404, staff included); answers the representative sent for holder A, readable by
the same two; and a family carer's survey link, which anyone holding it may use."""

from __future__ import annotations

from typing import Any

from outcomes import answering
from outcomes.links import invitation_token
from outcomes.models import RespondentKind
from tests.matrix_samples import Sample
from tests.outcomes.factories import an_invitation


def _holder_a_side(w: Any) -> set[str]:
    return {"holder_a", "representative"}


def _open(w: Any) -> dict[str, Any]:
    return {"public_id": an_invitation(w.holder_a).public_id}


def _sent(w: Any) -> dict[str, Any]:
    """Answers the representative sent for holder A: both may read them."""
    invitation = an_invitation(w.holder_a)
    response = answering.response_for(invitation=invitation, user=w.representative)
    answering.answers_save(response=response, data={"friends": "better"}, by=w.representative)
    answering.response_submit(response=response, by=w.representative)
    return {"public_id": invitation.public_id}


def _carer_link(w: Any) -> dict[str, Any]:
    invitation = an_invitation(w.holder_a, RespondentKind.CARER, email="jo@example.test")
    return {"token": invitation_token(invitation)}


SAMPLES: dict[str, Sample] = {
    "outcomes:survey_list": Sample(),
    "outcomes:survey_answer": Sample(kwargs=_open, owners=_holder_a_side),
    "outcomes:survey_decline": Sample(kwargs=_open, owners=_holder_a_side),
    "outcomes:survey_opt_out": Sample(kwargs=_open, owners=_holder_a_side),
    "outcomes:response_detail": Sample(kwargs=_sent, owners=_holder_a_side),
    "outcomes:survey_link": Sample(kwargs=_carer_link),
    "outcomes:survey_link_decline": Sample(kwargs=_carer_link),
    "outcomes:survey_link_opt_out": Sample(kwargs=_carer_link),
}
