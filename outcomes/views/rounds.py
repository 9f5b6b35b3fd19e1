"""Commissioners' pages for surveying: their organisation's survey schedule, the rounds
it has sent (counts and the response rate, never names), and "run now" for the sweep
that beat runs every morning.

Only a commissioner's own ICBs and councils (``scheduling.commissioned_organisations``)
are reachable: any other organisation's schedule or round answers 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from outcomes import scheduling
from outcomes.forms_rounds import ScheduleForm, SweepRunForm
from outcomes.models import SurveyInvitation, SurveySchedule


def _with_rate(rounds: list[Any]) -> list[Any]:
    for survey_round in rounds:
        survey_round.rate = scheduling.response_rate(survey_round.answered, survey_round.invited)
    return rounds


def round_list(request: HttpRequest) -> HttpResponse:
    organisations = list(scheduling.commissioned_organisations(request.user).order_by("name"))
    schedules = {
        s.organisation_id: s for s in SurveySchedule.objects.filter(organisation__in=organisations)
    }
    rounds = _with_rate(
        list(
            scheduling.rounds_with_counts(organisations).order_by(
                "-period_start", "organisation__name", "respondent_kind"
            )
        )
    )
    return render(
        request,
        "outcomes/rounds/round_list.html",
        {
            "organisations": [(o, schedules.get(o.pk)) for o in organisations],
            "rounds": rounds,
            "run_form": SweepRunForm(),
            "many": len(organisations) > 1,
        },
    )


def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organisations = scheduling.commissioned_organisations(request.user)
    survey_round: Any = get_object_or_404(scheduling.rounds_with_counts(organisations), pk=pk)
    _with_rate([survey_round])
    sequences = (
        survey_round.invitations.order_by("sequence").values("sequence").annotate(count=Count("pk"))
    )
    state = SurveyInvitation.State
    return render(
        request,
        "outcomes/rounds/round_detail.html",
        {
            "round": survey_round,
            "states": [
                (state.SENT.label, "Invited, not opened yet", survey_round.invited_not_started),
                (state.STARTED.label, "Started answering", survey_round.started),
                (state.SUBMITTED.label, "Sent their answers", survey_round.answered),
                (state.DECLINED.label, "Said no", survey_round.declined),
                (state.EXPIRED.label, "Did not answer in time", survey_round.expired),
            ],
            "sequences": list(sequences),
        },
    )


def schedule_edit(request: HttpRequest, org_pk: int) -> HttpResponse:
    organisation = get_object_or_404(scheduling.commissioned_organisations(request.user), pk=org_pk)
    schedule = scheduling.schedule_for(organisation)
    form = ScheduleForm(request.POST or None, schedule=schedule)
    if request.method == "POST" and form.is_valid():
        try:
            scheduling.schedule_save(
                organisation=organisation, saved_by=request.user, **form.schedule_fields()
            )
        except ValidationError as error:
            for name, errors in error.message_dict.items():
                for message in errors:
                    form.add_error(name if name in form.fields else None, message)
        else:
            messages.success(request, f"The survey schedule of {organisation.name} is saved.")
            return redirect("outcomes:round_list")
    return render(
        request,
        "outcomes/rounds/schedule_form.html",
        {"organisation": organisation, "schedule": schedule, "form": form},
    )


@require_POST
def survey_sweep_run(request: HttpRequest) -> HttpResponse:
    """Run the sweep now for the commissioner's own organisations (invitations due today,
    sending, reminders; expiry and closing for everyone). It is the same idempotent
    sweep as the morning's, so running it twice, or alongside beat, invites nobody
    twice."""
    organisations = list(scheduling.commissioned_organisations(request.user))
    counts = scheduling.survey_sweep(organisations=organisations, run_by=request.user)
    if counts is None:
        messages.info(request, "Surveys are being sent at the moment. Try again in a few minutes.")
    else:
        invited = sum(v for k, v in counts.items() if k.startswith("invited_"))
        reminded = counts.get("reminded", 0)
        message = (
            f"Surveys checked: {invited} {'invitation' if invited == 1 else 'invitations'} "
            f"and {reminded} {'reminder' if reminded == 1 else 'reminders'} sent."
        )
        unreachable = counts.get("not_reachable", 0)
        if unreachable:
            message += (
                f" {unreachable} {'person' if unreachable == 1 else 'people'} due a survey "
                "could not be asked: they have no account and no representative on the "
                "platform."
            )
        messages.success(request, message)
    return redirect("outcomes:round_list")


urlpatterns = [
    path("outcomes/rounds/", round_list, name="round_list"),
    path("outcomes/rounds/<int:pk>/", round_detail, name="round_detail"),
    path("outcomes/rounds/run/", survey_sweep_run, name="survey_sweep_run"),
    path("outcomes/schedule/<int:org_pk>/", schedule_edit, name="schedule_edit"),
]
