"""Pages for answering outcome surveys: the surveys a signed-in person has to answer and
has sent, one section of a survey per page (every POST saves, so people can stop and
come back), a check-your-answers page, sending, and a confirmation; declining and
opting out; and a read-only view of answers sent.

The same pages work through the signed link in an invitation email, for people without
an account: the token stays in the address of every step and is checked on every
request (``outcomes.links.invitation_from_token``), so a link stops working the moment
the answers are sent or the survey is declined or closes.

Signed-in people reach invitations only through ``SurveyInvitation.objects.for_user``
(their own, and the holders they represent), so anyone else's survey is a 404. Staff
never read a person's answers one by one here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone

from core.exceptions import Conflict
from outcomes import answering
from outcomes.forms_answering import SectionForm, change_choices
from outcomes.links import LinkRefused, invitation_from_token
from outcomes.models import (
    Answer,
    Question,
    RespondentKind,
    SurveyInvitation,
    SurveyResponse,
)

SECTIONS = [
    Question.Section.OUTCOMES,
    Question.Section.PROCESS,
    Question.Section.WIDER,
    Question.Section.ABOUT,
]
CHECK = "check"
SAVED = "saved"

# What each section asks, as the person reads it (the holder's wording; carers and
# staff have their own).
SECTION_INTROS: dict[str, dict[str, str]] = {
    RespondentKind.HOLDER: {
        Question.Section.OUTCOMES: (
            "Since you have had your personal health budget, how have these parts of "
            "your life changed?"
        ),
        Question.Section.PROCESS: "How getting and using your budget has gone.",
        Question.Section.WIDER: "Other ways your budget may have made a difference.",
        Question.Section.ABOUT: "Anything else you would like to say.",
    },
    RespondentKind.CARER: {
        Question.Section.OUTCOMES: (
            "Since the person you care for has had their personal health budget, how "
            "have these things changed?"
        ),
        Question.Section.PROCESS: "How getting the budget has gone, from where you stand.",
        Question.Section.WIDER: "Support for you as a carer.",
        Question.Section.ABOUT: "Anything else you would like to say.",
    },
    RespondentKind.STAFF: {
        Question.Section.OUTCOMES: (
            "Since the person has had their personal health budget, how have these parts "
            "of their life changed?"
        ),
        Question.Section.PROCESS: "How getting and using the budget has gone for them.",
        Question.Section.WIDER: "Other ways the budget may have made a difference.",
        Question.Section.ABOUT: "Anything else you would like to say.",
    },
}


def first_name(holder: Any) -> str:
    parts = holder.name.split()
    return parts[0] if parts else "the person"


@dataclass
class Flow:
    """One person answering one invitation, signed in or through a link."""

    invitation: SurveyInvitation
    response: SurveyResponse
    user: Any  # None through a link
    token: str | None = None

    @property
    def via_link(self) -> bool:
        return self.token is not None

    def url(self, section: str | None = None) -> str:
        if self.token is not None:
            base = reverse("outcomes:survey_link", args=[self.token])
        else:
            base = reverse("outcomes:survey_answer", args=[self.invitation.public_id])
        return f"{base}?section={section}" if section else base

    @property
    def decline_url(self) -> str:
        if self.token is not None:
            return reverse("outcomes:survey_link_decline", args=[self.token])
        return reverse("outcomes:survey_decline", args=[self.invitation.public_id])

    @property
    def opt_out_url(self) -> str:
        if self.token is not None:
            return reverse("outcomes:survey_link_opt_out", args=[self.token])
        return reverse("outcomes:survey_opt_out", args=[self.invitation.public_id])

    @property
    def for_holder(self) -> str:
        """The holder's first name when someone else answers the holder's own survey."""
        invitation = self.invitation
        if invitation.respondent_kind != RespondentKind.HOLDER or self.user is None:
            return ""
        if invitation.holder.user_id == self.user.pk:
            return ""
        return first_name(invitation.holder)

    def context(self) -> dict[str, Any]:
        invitation = self.invitation
        kind = invitation.respondent_kind
        about = ""
        if kind == RespondentKind.STAFF:
            about = invitation.holder.name
        elif kind == RespondentKind.CARER:
            about = first_name(invitation.holder)
        return {
            "flow": self,
            "invitation": invitation,
            "instrument": invitation.round.instrument,
            "kind": kind,
            "for_holder": self.for_holder,
            "about": about,
        }


def _questions(flow: Flow) -> list[Question]:
    return list(flow.response.instrument.questions.prefetch_related("options").all())


def _sections(questions: list[Question]) -> list[str]:
    present = {q.section for q in questions}
    return [s for s in SECTIONS if s in present]


def _answers(response: SurveyResponse) -> dict[int, Answer]:
    return {a.question_id: a for a in response.answers.all()}


def _gone(request: HttpRequest, reason: str, *, status: int = 410, **extra: Any) -> HttpResponse:
    heading = extra.pop("heading", "This survey cannot be answered")
    return render(
        request,
        "outcomes/answer/refused.html",
        {"reason": reason, "heading": heading, **extra},
        status=status,
    )


def _answer_text(question: Question, answer: Answer | None, kind: str) -> str:
    """An answer in words, as the person chose it."""
    if answer is None:
        return ""
    if question.kind == Question.Kind.CHANGE:
        return dict(change_choices(kind)).get(answer.choice, answer.choice)
    labels = {o.code: o.label for o in question.options.all()}
    if question.kind == Question.Kind.CHOICE:
        return labels.get(answer.choice, answer.choice)
    if question.kind == Question.Kind.MULTIPLE:
        return ", ".join(labels.get(c, c) for c in answer.choices)
    return answer.text


def _summary(
    questions: list[Question], answers: dict[int, Answer], kind: str
) -> list[dict[str, Any]]:
    """Sections with each question and its answer in words, for the check and answers
    pages."""
    sections = []
    for section in _sections(questions):
        rows = [
            {"question": q, "answer": _answer_text(q, answers.get(q.pk), kind)}
            for q in questions
            if q.section == section
        ]
        sections.append({"code": section, "title": Question.Section(section).label, "rows": rows})
    return sections


def _sent(request: HttpRequest, flow: Flow) -> HttpResponse:
    may_read = flow.user is not None and readable(flow.user, flow.response)
    return render(request, "outcomes/answer/sent.html", {**flow.context(), "readable": may_read})


def _check(request: HttpRequest, flow: Flow) -> HttpResponse:
    questions = _questions(flow)
    answers = _answers(flow.response)
    error = ""
    if request.method == "POST":
        try:
            answering.response_submit(response=flow.response, by=flow.user)
        except ValidationError as refused:
            error = " ".join(refused.messages)
        except Conflict as conflict:
            return _gone(request, conflict.message)
        else:
            if flow.via_link:
                # The link no longer works, so the confirmation is this answer.
                return _sent(request, flow)
            return redirect(flow.url())
    sections = _sections(questions)
    return render(
        request,
        "outcomes/answer/check.html",
        {
            **flow.context(),
            "summary": _summary(questions, answers, flow.invitation.respondent_kind),
            "answered": len(answers),
            "error": error,
            "back_url": flow.url(sections[-1]),
        },
        status=200,
    )


def _section(request: HttpRequest, flow: Flow, section: str) -> HttpResponse:
    questions = _questions(flow)
    sections = _sections(questions)
    if section not in sections:
        raise Http404("No such part of this survey.")
    in_section = [q for q in questions if q.section == section]
    kind = flow.invitation.respondent_kind
    form = SectionForm(
        request.POST if request.method == "POST" else None,
        questions=in_section,
        respondent_kind=kind,
        answers=_answers(flow.response),
    )
    if request.method == "POST" and form.is_valid():
        try:
            answering.answers_save(response=flow.response, data=form.section_data(), by=flow.user)
        except ValidationError as error:
            form.add_service_errors(error)
        except Conflict as conflict:
            return _gone(request, conflict.message)
        else:
            if request.POST.get("action") == "later":
                if flow.via_link:
                    return redirect(flow.url(SAVED))
                closes = timezone.localtime(flow.invitation.expires_at)
                messages.success(
                    request,
                    "Your answers are saved. You can come back and finish the survey "
                    f"until {closes:%-d %B %Y}.",
                )
                return redirect("outcomes:survey_list")
            index = sections.index(section)
            following = sections[index + 1] if index + 1 < len(sections) else CHECK
            return redirect(flow.url(following))
    index = sections.index(section)
    return render(
        request,
        "outcomes/answer/section.html",
        {
            **flow.context(),
            "form": form,
            "section": section,
            "section_title": Question.Section(section).label,
            "section_intro": SECTION_INTROS[kind][section],
            "number": index + 1,
            "count": len(sections),
            "first": index == 0,
            "back_url": flow.url(sections[index - 1]) if index else None,
            "fields": [(form[q.code], q) for q in in_section],
        },
        status=200,
    )


def _answer(request: HttpRequest, flow: Flow) -> HttpResponse:
    if flow.response.state == SurveyResponse.State.SUBMITTED:
        return _sent(request, flow)
    section = request.GET.get("section") or ""
    if section == CHECK:
        return _check(request, flow)
    if section == SAVED and flow.via_link and request.method == "GET":
        return render(request, "outcomes/answer/saved.html", flow.context())
    if not section:
        section = _sections(_questions(flow))[0]
    return _section(request, flow, section)


# Signed in ------------------------------------------------------------------------------


def _invitation(request: HttpRequest, public_id: UUID) -> SurveyInvitation:
    return get_object_or_404(
        SurveyInvitation.objects.for_user(request.user).select_related(
            "round", "round__instrument", "round__organisation", "holder"
        ),
        public_id=public_id,
    )


def _closed_reason(invitation: SurveyInvitation) -> str:
    if invitation.state == SurveyInvitation.State.DECLINED:
        return "This survey was declined, so it can no longer be answered."
    return "This survey has closed, so it can no longer be answered."


def survey_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    invitations = list(
        SurveyInvitation.objects.for_user(request.user)
        .select_related("round__instrument", "holder", "response", "response__holder")
        .order_by("expires_at", "pk")
    )
    to_answer = [i for i in invitations if i.state in answering.ANSWERABLE and i.expires_at > now]
    sent = sorted(
        (i for i in invitations if i.state == SurveyInvitation.State.SUBMITTED),
        key=lambda i: i.answered_at or now,
        reverse=True,
    )
    user = request.user

    def who(invitation: SurveyInvitation) -> str:
        if invitation.respondent_kind == RespondentKind.STAFF:
            return f"About {invitation.holder.name}"
        if invitation.respondent_kind == RespondentKind.CARER:
            return f"About caring for {first_name(invitation.holder)}"
        if invitation.holder.user_id != user.pk:
            return f"For {first_name(invitation.holder)}"
        return ""

    return render(
        request,
        "outcomes/answer/survey_list.html",
        {
            "to_answer": [{"invitation": i, "who": who(i)} for i in to_answer],
            "sent": [
                {
                    "invitation": i,
                    "who": who(i),
                    "readable": readable(user, getattr(i, "response", None)),
                }
                for i in sent
            ],
        },
    )


def survey_answer(request: HttpRequest, public_id: UUID) -> HttpResponse:
    invitation = _invitation(request, public_id)
    if invitation.state != SurveyInvitation.State.SUBMITTED and (
        invitation.state not in answering.ANSWERABLE or invitation.expires_at <= timezone.now()
    ):
        return _gone(request, _closed_reason(invitation), back=True)
    try:
        response = answering.response_for(invitation=invitation, user=request.user)
    except PermissionDenied as error:
        raise Http404 from error
    except Conflict as conflict:
        return _gone(request, conflict.message, back=True)
    return _answer(request, Flow(invitation=invitation, response=response, user=request.user))


def _confirm(
    request: HttpRequest, invitation: SurveyInvitation, template: str, *, token: str | None
) -> HttpResponse:
    holder = invitation.holder
    return render(
        request,
        template,
        {
            "invitation": invitation,
            "kind": invitation.respondent_kind,
            "token": token,
            "holder_first_name": first_name(holder),
            "is_holder": getattr(request.user, "pk", None) == holder.user_id and token is None,
            "back_url": (
                reverse("outcomes:survey_link", args=[token])
                if token
                else reverse("outcomes:survey_answer", args=[invitation.public_id])
            ),
        },
    )


def _signed_in_action(request: HttpRequest, public_id: UUID, *, opt_out: bool) -> HttpResponse:
    invitation = _invitation(request, public_id)
    if not answering.may_answer(request.user, invitation):
        raise Http404
    template = "outcomes/answer/opt_out.html" if opt_out else "outcomes/answer/decline.html"
    if request.method != "POST":
        if not opt_out and invitation.state not in answering.ANSWERABLE:
            return _gone(request, _closed_reason(invitation), back=True)
        return _confirm(request, invitation, template, token=None)
    try:
        if opt_out:
            answering.survey_opt_out(invitation=invitation, by=request.user)
        else:
            answering.invitation_decline(invitation=invitation, by=request.user)
    except Conflict as conflict:
        messages.error(request, conflict.message)
        return redirect("outcomes:survey_list")
    messages.success(
        request,
        "You will not be sent these surveys again."
        if opt_out
        else "You have declined this survey. You will not be reminded about it.",
    )
    return redirect("outcomes:survey_list")


def survey_decline(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _signed_in_action(request, public_id, opt_out=False)


def survey_opt_out(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _signed_in_action(request, public_id, opt_out=True)


def readable(user: Any, response: SurveyResponse | None) -> bool:
    """Whether ``user`` may read these sent answers one by one: the holder their own
    (whoever gave them), a representative those given on the holder's behalf, a carer
    with an account their own. Staff surveys are never shown one by one, even to the
    member of staff who answered."""
    if response is None or response.state != SurveyResponse.State.SUBMITTED:
        return False
    if response.respondent_kind == RespondentKind.STAFF:
        return False
    if response.respondent_kind == RespondentKind.HOLDER and response.holder.user_id != user.pk:
        return response.answered_by == SurveyResponse.AnsweredBy.REPRESENTATIVE
    return True


def response_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The answers a person sent (or a representative sent for them)."""
    response = get_object_or_404(
        SurveyResponse.objects.for_user(request.user)
        .submitted()
        .select_related(
            "invitation", "invitation__holder", "holder", "instrument", "answered_by_user"
        ),
        invitation__public_id=public_id,
    )
    if not readable(request.user, response):
        raise Http404
    questions = list(response.instrument.questions.prefetch_related("options").all())
    invitation = response.invitation
    if invitation is None:  # answers a partner collected have no invitation to show
        raise Http404
    return render(
        request,
        "outcomes/answer/response_detail.html",
        {
            "response": response,
            "invitation": invitation,
            "instrument": response.instrument,
            "summary": _summary(questions, _answers(response), response.respondent_kind),
            "for_holder": (
                first_name(invitation.holder)
                if invitation.holder.user_id != request.user.pk
                and response.respondent_kind == RespondentKind.HOLDER
                else ""
            ),
        },
    )


# Through a link -------------------------------------------------------------------------


def _link(request: HttpRequest, token: str) -> SurveyInvitation | HttpResponse:
    try:
        return invitation_from_token(token)
    except LinkRefused as refused:
        heading = (
            "This survey link does not work"
            if refused.status == 404
            else "This survey link no longer works"
        )
        return _gone(request, refused.reason, status=refused.status, heading=heading)


def survey_link(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _link(request, token)
    if isinstance(invitation, HttpResponse):
        return invitation
    try:
        response = answering.response_for(invitation=invitation, via_link=True)
    except Conflict as conflict:
        return _gone(request, conflict.message)
    return _answer(request, Flow(invitation=invitation, response=response, user=None, token=token))


def _link_action(request: HttpRequest, token: str, *, opt_out: bool) -> HttpResponse:
    invitation = _link(request, token)
    if isinstance(invitation, HttpResponse):
        return invitation
    template = "outcomes/answer/opt_out.html" if opt_out else "outcomes/answer/decline.html"
    if request.method != "POST":
        return _confirm(request, invitation, template, token=token)
    try:
        if opt_out:
            answering.survey_opt_out(invitation=invitation)
        else:
            answering.invitation_decline(invitation=invitation)
    except Conflict as conflict:
        return _gone(request, conflict.message)
    return render(
        request,
        "outcomes/answer/declined.html",
        {"opt_out": opt_out, "kind": invitation.respondent_kind},
    )


def survey_link_decline(request: HttpRequest, token: str) -> HttpResponse:
    return _link_action(request, token, opt_out=False)


def survey_link_opt_out(request: HttpRequest, token: str) -> HttpResponse:
    return _link_action(request, token, opt_out=True)


urlpatterns = [
    path("surveys/", survey_list, name="survey_list"),
    path("surveys/link/<str:token>/", survey_link, name="survey_link"),
    path("surveys/link/<str:token>/decline/", survey_link_decline, name="survey_link_decline"),
    path("surveys/link/<str:token>/opt-out/", survey_link_opt_out, name="survey_link_opt_out"),
    path("surveys/<uuid:public_id>/", survey_answer, name="survey_answer"),
    path("surveys/<uuid:public_id>/decline/", survey_decline, name="survey_decline"),
    path("surveys/<uuid:public_id>/opt-out/", survey_opt_out, name="survey_opt_out"),
    path("surveys/<uuid:public_id>/answers/", response_detail, name="response_detail"),
]
