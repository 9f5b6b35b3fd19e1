"""Answering an outcome survey: opening the draft response of an invitation, saving
answers as the person goes, sending them once, and declining or opting out.

Who answers is worked out from the invitation: a holder's own survey is answered by
the holder or by someone who currently represents them (recorded as the holder's
representative); a carer's or staff survey by the account it names, or through the
signed link (outcomes/links.py) by whoever holds it.

Audit events say who did what to which invitation, never what the answers were: the
answers are the person's own and reports only ever count them (outcomes/reports.py)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.exceptions import Conflict
from core.services import audit_record
from outcomes.dimensions import response_dimensions
from outcomes.models import (
    Answer,
    Change,
    Question,
    RespondentKind,
    SurveyInvitation,
    SurveyOptOut,
    SurveyResponse,
)
from users.models import Representation

# The longest free-text answer kept (about two pages of writing).
TEXT_LIMIT = 4000

ANSWERABLE = frozenset({SurveyInvitation.State.SENT, SurveyInvitation.State.STARTED})
LINK_LABEL = "survey link"


# Who is answering ------------------------------------------------------------------------


def represents(user: Any, holder: Any) -> bool:
    """Whether ``user`` currently represents ``holder`` (any scope)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return Representation.objects.current().filter(representative=user, holder=holder).exists()


def may_answer(user: Any, invitation: SurveyInvitation) -> bool:
    """A signed-in person may answer their own invitation; a holder's invitation also
    by the holder or a current representative of theirs."""
    if not getattr(user, "is_authenticated", False):
        return False
    if invitation.user_id is not None and invitation.user_id == user.pk:
        return True
    if invitation.respondent_kind != RespondentKind.HOLDER:
        return False
    return invitation.holder.user_id == user.pk or represents(user, invitation.holder)


def _answered_by(invitation: SurveyInvitation, user: Any) -> tuple[str, Any]:
    """(answered_by, answered_by_user) for ``user`` answering ``invitation``."""
    if user is None or not getattr(user, "is_authenticated", False):
        return SurveyResponse.AnsweredBy.SELF, None
    if (
        invitation.respondent_kind == RespondentKind.HOLDER
        and invitation.holder.user_id != user.pk
        and represents(user, invitation.holder)
    ):
        return SurveyResponse.AnsweredBy.REPRESENTATIVE, user
    return SurveyResponse.AnsweredBy.SELF, user


def _audit(
    *,
    by: Any,
    action: str,
    invitation: SurveyInvitation,
    changes: dict[str, Any] | None = None,
) -> None:
    holder = invitation.holder
    acting_for = None
    if (
        getattr(by, "is_authenticated", False)
        and holder.user_id != by.pk
        and invitation.respondent_kind == RespondentKind.HOLDER
    ):
        acting_for = holder
    audit_record(
        actor=by,
        action=action,
        obj=invitation,
        organisation=invitation.round.organisation,
        person=holder,
        acting_for=acting_for,
        changes={"respondent_kind": invitation.respondent_kind, **(changes or {})},
        actor_label="" if getattr(by, "is_authenticated", False) else LINK_LABEL,
    )


def _locked_invitation(invitation: SurveyInvitation) -> SurveyInvitation:
    return (
        SurveyInvitation.objects.select_for_update(of=("self",))
        .select_related("round", "round__organisation", "round__instrument", "holder")
        .get(pk=invitation.pk)
    )


def _check_open(invitation: SurveyInvitation) -> None:
    if invitation.state == SurveyInvitation.State.SUBMITTED:
        raise Conflict("These answers have already been sent.")
    if invitation.state == SurveyInvitation.State.DECLINED:
        raise Conflict("This survey was declined, so it can no longer be answered.")
    if (
        invitation.state == SurveyInvitation.State.EXPIRED
        or invitation.expires_at <= timezone.now()
    ):
        raise Conflict("This survey has closed, so it can no longer be answered.")


# Opening, saving and sending -------------------------------------------------------------


def response_for(
    *, invitation: SurveyInvitation, user: Any = None, via_link: bool = False
) -> SurveyResponse:
    """The response of ``invitation``, creating its draft the first time it is opened
    (the invitation moves from sent to started and records when it was opened).

    A response that exists is returned whatever its state, so a page can show what was
    sent. ``user`` is the signed-in person answering (None through a link).

    Raises PermissionDenied if ``user`` may not answer this invitation, and Conflict if
    there is no response yet and the invitation can no longer be answered.
    """
    if user is not None and not via_link and not may_answer(user, invitation):
        raise PermissionDenied("You cannot answer this survey.")
    existing = SurveyResponse.objects.filter(invitation=invitation).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        locked = _locked_invitation(invitation)
        # Someone else (another tab, the representative) may have opened it meanwhile.
        existing = SurveyResponse.objects.filter(invitation=locked).first()
        if existing is not None:
            return existing
        _check_open(locked)
        answered_by, answered_by_user = _answered_by(locked, user)
        response = SurveyResponse(
            invitation=locked,
            instrument=locked.round.instrument,
            respondent_kind=locked.respondent_kind,
            holder=locked.holder,
            answered_by=answered_by,
            answered_by_user=answered_by_user,
            source=SurveyResponse.Source.LINK if via_link else SurveyResponse.Source.PLATFORM,
            **response_dimensions(holder=locked.holder),
        )
        response.full_clean()
        response.save()
        now = timezone.now()
        locked.state = SurveyInvitation.State.STARTED
        locked.opened_at = locked.opened_at or now
        locked.save(update_fields=["state", "opened_at"])
        _audit(
            by=user,
            action="survey_response.started",
            invitation=locked,
            changes={"answered_by": answered_by, "source": response.source},
        )
    invitation.state, invitation.opened_at = locked.state, locked.opened_at
    return response


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return not any(str(v).strip() for v in value)
    return False


def _answer_fields(question: Question, value: Any, codes: list[str]) -> dict[str, Any]:
    """The Answer columns for ``value``; raises ValueError with words for the person."""
    kind = question.kind
    if kind == Question.Kind.CHANGE:
        if not isinstance(value, str) or value not in Change.values:
            raise ValueError(f"Choose one of the answers for “{question.text}”")
        return {"choice": value, "choices": [], "text": ""}
    if kind == Question.Kind.CHOICE:
        if not isinstance(value, str) or value not in codes:
            raise ValueError(f"Choose one of the answers for “{question.text}”")
        return {"choice": value, "choices": [], "text": ""}
    if kind == Question.Kind.MULTIPLE:
        chosen = [value] if isinstance(value, str) else value
        if not isinstance(chosen, list | tuple) or any(
            not isinstance(v, str) or v not in codes for v in chosen
        ):
            raise ValueError(f"Choose from the answers given for “{question.text}”")
        # In the order the options are listed, each once.
        return {"choice": "", "choices": [c for c in codes if c in chosen], "text": ""}
    if not isinstance(value, str):
        raise ValueError(f"Write your answer to “{question.text}” as text")
    text = value.strip()
    if len(text) > TEXT_LIMIT:
        raise ValueError(
            f"Your answer to “{question.text}” must be {TEXT_LIMIT:,} characters or fewer "
            f"(it has {len(text):,})"
        )
    return {"choice": "", "choices": [], "text": text}


def answers_save(*, response: SurveyResponse, data: dict[str, Any], by: Any) -> SurveyResponse:
    """Save the answers in ``data`` (question code -> value) to a draft: a change
    answer or an option code (str), several option codes (list) for an 'any that
    apply' question, text for a text question. An empty value clears that answer.
    Questions not in ``data`` keep their answers.

    Raises ValidationError (keyed by question code, each message naming the question)
    when any value is not an answer to its question; nothing is saved then. Raises
    Conflict if the answers were already sent or the survey has closed.
    """
    with transaction.atomic():
        invitation = None
        if response.invitation_id is not None:
            invitation = _locked_invitation(response.invitation)  # type: ignore[arg-type]
        locked = SurveyResponse.objects.select_for_update().get(pk=response.pk)
        if locked.state != SurveyResponse.State.DRAFT:
            raise Conflict("These answers have already been sent, so they cannot be changed.")
        if invitation is not None:
            _check_open(invitation)
        questions = {
            q.code: q for q in locked.instrument.questions.prefetch_related("options").all()
        }
        errors: dict[str, list[str]] = {}
        rows: list[Answer] = []
        cleared: list[int] = []
        for code, value in data.items():
            question = questions.get(code)
            if question is None:
                errors[code] = [f"There is no question “{code}” in this survey"]
                continue
            if _is_empty(value):
                cleared.append(question.pk)
                continue
            codes = [option.code for option in question.options.all()]
            try:
                fields = _answer_fields(question, value, codes)
            except ValueError as error:
                errors[code] = [str(error)]
                continue
            rows.append(Answer(response=locked, question=question, **fields))
        if errors:
            raise ValidationError(errors)
        if rows:
            Answer.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["response", "question"],
                update_fields=["choice", "choices", "text"],
            )
        removed = 0
        if cleared:
            removed, _ = Answer.objects.filter(response=locked, question_id__in=cleared).delete()
        # Touch updated_at: the draft was worked on now.
        locked.save(update_fields=["updated_at"])
        if invitation is not None:
            _audit(
                by=by,
                action="survey_response.answers_saved",
                invitation=invitation,
                changes={"answered": len(rows), "cleared": removed},
            )
    response.updated_at = locked.updated_at
    return response


def response_submit(*, response: SurveyResponse, by: Any) -> SurveyResponse:
    """Send the answers: the response is fixed with today's report dimensions and the
    invitation is answered. Sending again (a double click, a second tab, a retried
    request) changes nothing and returns the response as it was sent.

    Raises ValidationError if no question has been answered, and Conflict if the
    survey was declined or has closed.
    """
    with transaction.atomic():
        # Lock the invitation first, then the response, in the same order as every
        # other writer here, so that two sends queue and the second sees the first.
        invitation = None
        if response.invitation_id is not None:
            invitation = _locked_invitation(response.invitation)  # type: ignore[arg-type]
        locked = (
            SurveyResponse.objects.select_for_update(of=("self",))
            .select_related("holder")
            .get(pk=response.pk)
        )
        if locked.state == SurveyResponse.State.SUBMITTED:
            return locked
        if invitation is not None:
            _check_open(invitation)
        answered = locked.answers.count()
        if not answered:
            raise ValidationError("Answer at least one question before you send your answers.")
        now = timezone.now()
        if invitation is not None and by is not None:
            locked.answered_by, locked.answered_by_user = _answered_by(invitation, by)
        for field, value in response_dimensions(holder=locked.holder).items():
            setattr(locked, field, value)
        locked.state = SurveyResponse.State.SUBMITTED
        locked.submitted_at = now
        locked.submitted_on = timezone.localdate(now)
        locked.full_clean()
        locked.save()
        if invitation is not None:
            invitation.state = SurveyInvitation.State.SUBMITTED
            invitation.answered_at = now
            invitation.save(update_fields=["state", "answered_at"])
            _audit(
                by=by,
                action="survey_response.submitted",
                invitation=invitation,
                changes={"answered_by": locked.answered_by, "answers": answered},
            )
    return locked


# Declining and opting out ----------------------------------------------------------------


def _decline(invitation: SurveyInvitation, by: Any) -> bool:
    """Decline a locked invitation; False if it was declined already."""
    if invitation.state == SurveyInvitation.State.DECLINED:
        return False
    if invitation.state == SurveyInvitation.State.SUBMITTED:
        raise Conflict("These answers have already been sent, so the survey cannot be declined.")
    if invitation.state == SurveyInvitation.State.EXPIRED:
        raise Conflict("This survey has already closed.")
    # Answers half given to a survey the person declined are not kept.
    draft = SurveyResponse.objects.filter(
        invitation=invitation, state=SurveyResponse.State.DRAFT
    ).first()
    if draft is not None:
        draft.delete()
    invitation.state = SurveyInvitation.State.DECLINED
    invitation.declined_at = timezone.now()
    invitation.save(update_fields=["state", "declined_at"])
    _audit(by=by, action="survey_invitation.declined", invitation=invitation)
    return True


def invitation_decline(*, invitation: SurveyInvitation, by: Any = None) -> SurveyInvitation:
    """Decline this survey: it is not sent reminders and cannot be answered; any
    answers saved in its draft are deleted. Declining twice changes nothing.

    Raises Conflict if the answers were already sent or the survey has closed.
    """
    with transaction.atomic():
        locked = _locked_invitation(invitation)
        _decline(locked, by)
    invitation.state, invitation.declined_at = locked.state, locked.declined_at
    return locked


def survey_opt_out(*, invitation: SurveyInvitation, by: Any = None) -> SurveyOptOut:
    """Ask not to be sent surveys again, and decline this one if it is still open.

    A holder's survey opts the holder out (whoever answers for them); a carer opts out
    by their email address (for every person they care for), or by their account if
    the invitation has no address; staff by their account. Opting out twice changes
    nothing.
    """
    with transaction.atomic():
        locked = _locked_invitation(invitation)
        kind = locked.respondent_kind
        who: dict[str, Any]
        if kind == RespondentKind.HOLDER:
            who = {"holder": locked.holder}
        elif kind == RespondentKind.CARER and locked.email:
            who = {"email": locked.email}
        elif locked.user_id is not None:
            who = {"user_id": locked.user_id}
        else:
            who = {"email": locked.email}
        recorded_by = by if getattr(by, "is_authenticated", False) else None
        opt_out, created = SurveyOptOut.objects.get_or_create(
            respondent_kind=kind, **who, defaults={"recorded_by": recorded_by}
        )
        if created:
            _audit(by=by, action="survey.opted_out", invitation=locked)
        if locked.state in ANSWERABLE:
            _decline(locked, by)
    invitation.state, invitation.declined_at = locked.state, locked.declined_at
    return opt_out
