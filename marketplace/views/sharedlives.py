"""Shared Lives pages: a person's profile, the carers ranked for them (staff only: it
shows carers' household facts and who was left out), a match's steps and its next move,
and a carer's own profile for their provider staff.

Records are reached only through ``for_user``-style querysets (someone else's is a
404); who may change them is asked of marketplace/matching.py (403), and the services
check again. A move the match's state does not allow (``Conflict``) is shown as a
message and nothing changes. Every POST redirects, so a refresh never saves twice."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path

from budgets.models import BudgetHolder
from budgets.views.holders import add_service_errors
from core.exceptions import Conflict
from core.services import personal_record_viewed
from marketplace import matching
from marketplace.forms_sharedlives import (
    CarerProfileForm,
    MoveForm,
    ProposeForm,
    SeekerProfileForm,
    arrangement_choices,
)
from marketplace.models import CarerProfile, Match, Provider, ProviderKind, SeekerProfile
from marketplace.permissions import is_provider_staff

TEMPLATES = "marketplace/sharedlives/"
PART_NAMES = {
    "needs": "Support needs",
    "arrangements": "Kind of arrangement",
    "interests": "Interests",
    "distance": "Distance (by postcode)",
    "languages": "Languages",
    "culture_faith": "Culture and faith",
}


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    helpers = {
        "arrangement_label": matching.arrangement_label,
        "part_names": PART_NAMES,
        "weights": matching.WEIGHTS,
    }
    return render(request, TEMPLATES + template, {**helpers, **context}, status=status)


def _nothing_changed(request: HttpRequest, error: Conflict | ValidationError) -> None:
    text = error.message if isinstance(error, Conflict) else " ".join(error.messages)
    messages.error(request, f"Nothing was changed. {text}")


# A person's profile ----------------------------------------------------------------------


def seeker_profile(request: HttpRequest, holder_pk: int) -> HttpResponse:
    """The person's Shared Lives profile: a form for those who may edit it, otherwise
    what is recorded; and the person's matches."""
    user = request.user
    holder = get_object_or_404(
        BudgetHolder.objects.for_user(user).select_related("organisation"), pk=holder_pk
    )
    profile = SeekerProfile.objects.filter(holder=holder).first()
    can_edit = matching.can_edit_seeker_profile(user, holder)
    form = None
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        form = SeekerProfileForm(request.POST)
        if form.is_valid():
            try:
                matching.seeker_profile_save(holder=holder, saved_by=user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{holder.name}'s Shared Lives profile is saved.")
                return redirect("marketplace:seeker_profile", holder.pk)
    else:
        personal_record_viewed(viewer=user, person=holder, what="shared_lives_profile")
        if can_edit:
            form = SeekerProfileForm(initial=SeekerProfileForm.initial_for(profile, holder))
    matches = (
        Match.objects.for_user(user)
        .filter(seeker__holder=holder)
        .select_related("carer__provider")
        .order_by("-created_at")
    )
    return _render(
        request,
        "seeker_profile.html",
        {
            "holder": holder,
            "profile": profile,
            "form": form,
            "can_rank": matching.can_see_ranking(user, holder),
            "matches": list(matches),
        },
    )


# Carers ranked for a person (staff) ------------------------------------------------------


def seeker_matches(request: HttpRequest, holder_pk: int) -> HttpResponse:
    """The carers ranked for the person, with each score's reasons, those left out and
    why, and a button to propose a match (planners and care coordinators)."""
    user = request.user
    holder = get_object_or_404(BudgetHolder.objects.for_staff(user), pk=holder_pk)
    if not matching.can_see_ranking(user, holder):
        raise PermissionDenied
    profile = SeekerProfile.objects.filter(holder=holder).select_related("holder").first()
    can_propose = matching.can_propose(user, holder)
    if request.method == "POST":
        if not can_propose:
            raise PermissionDenied
        if profile is None:
            return redirect("marketplace:seeker_profile", holder.pk)
        return _propose(request, profile)
    personal_record_viewed(viewer=user, person=holder, what="shared_lives_matches")
    ranking = matching.rank_carers(profile) if profile is not None else None
    return _render(
        request,
        "seeker_matches.html",
        {
            "holder": holder,
            "profile": profile,
            "ranking": ranking,
            "can_propose": can_propose,
            "arrangement_choices": arrangement_choices,
        },
    )


def _propose(request: HttpRequest, profile: SeekerProfile) -> HttpResponse:
    holder = profile.holder
    form = ProposeForm(request.POST)
    back = redirect("marketplace:seeker_matches", holder.pk)
    if not form.is_valid():
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        messages.error(request, "Nothing was changed. " + " ".join(errors))
        return back
    carer = matching.market_carers(holder).filter(pk=form.cleaned_data["carer"]).first()
    if carer is None:
        messages.error(request, "Nothing was changed. That carer is not in the person's area.")
        return back
    try:
        match = matching.match_propose(
            seeker=profile,
            carer=carer,
            arrangement=form.cleaned_data["arrangement"],
            proposed_by=request.user,
        )
    except (Conflict, ValidationError) as error:
        _nothing_changed(request, error)
        return back
    messages.success(
        request,
        f"A match between {holder.name} and {carer.provider.name} is proposed. "
        "Both have been told; the next step is to meet.",
    )
    return redirect("marketplace:match_detail", match.pk)


# A match ---------------------------------------------------------------------------------


def _role_moves(user: Any, match: Match) -> list[str]:
    """The moves the user's role allows at all, whatever the state now: a form posted
    after someone else moved the match then gets the service's clear Conflict."""
    if matching.can_propose(user, match.seeker.holder):
        return [Match.State.TRIAL_VISITS, Match.State.ARRANGEMENT, Match.State.ENDED]
    if is_provider_staff(user, match.carer.provider):
        return [Match.State.TRIAL_VISITS, Match.State.ENDED]
    return []


def match_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    match = get_object_or_404(
        Match.objects.for_user(user).select_related(
            "seeker__holder", "carer__provider", "proposed_by"
        ),
        pk=pk,
    )
    form = None
    if request.method == "POST":
        role_moves = _role_moves(user, match)
        if not role_moves:
            raise PermissionDenied
        form = MoveForm(request.POST, moves=role_moves)
        if form.is_valid():
            data = form.cleaned_data
            try:
                match = matching.match_move(
                    match=match,
                    to_state=data["to_state"],
                    note=data["note"],
                    happened_on=data["happened_on"],
                    moved_by=user,
                )
            except Conflict as error:
                _nothing_changed(request, error)
                return redirect("marketplace:match_detail", match.pk)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request, f"Recorded: the match is now at {match.get_state_display().lower()}."
                )
                return redirect("marketplace:match_detail", match.pk)
        # Show the choices of the match's state now, keeping what was typed.
        form.fields["to_state"].choices = [  # type: ignore[attr-defined]
            (m, MoveForm.LABELS[Match.State(m)]) for m in matching.moves_allowed(user, match)
        ] or form.fields["to_state"].choices  # type: ignore[attr-defined]
    else:
        holder = match.seeker.holder
        if not is_provider_staff(user, match.carer.provider):
            personal_record_viewed(viewer=user, person=holder, what="shared_lives_match")
        moves = matching.moves_allowed(user, match)
        if moves:
            form = MoveForm(moves=moves)
    steps = match.steps.select_related("recorded_by").order_by("recorded_at", "id")
    return _render(
        request,
        "match_detail.html",
        {
            "match": match,
            "holder": match.seeker.holder,
            "carer": match.carer,
            "steps": list(steps),
            "form": form,
            # Provider staff go back to their own profile; everyone else to the person's.
            "back_to_carer": is_provider_staff(user, match.carer.provider)
            and not matching.can_see_ranking(user, match.seeker.holder),
        },
    )


# A carer's own profile -------------------------------------------------------------------


def carer_profile(request: HttpRequest, provider_pk: int) -> HttpResponse:
    user = request.user
    provider = get_object_or_404(
        Provider.objects.managed_by(user).filter(kind=ProviderKind.SHARED_LIVES_CARER),
        pk=provider_pk,
    )
    profile = CarerProfile.objects.filter(provider=provider).first()
    if request.method == "POST":
        form = CarerProfileForm(request.POST)
        if form.is_valid():
            try:
                matching.carer_profile_save(provider=provider, saved_by=user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Your Shared Lives profile is saved.")
                return redirect("marketplace:carer_profile", provider.pk)
    else:
        form = CarerProfileForm(initial=CarerProfileForm.initial_for(profile, provider))
    matches = (
        Match.objects.for_user(user)
        .filter(carer__provider=provider)
        .select_related("seeker__holder")
        .order_by("-created_at")
    )
    return _render(
        request,
        "carer_profile.html",
        {"provider": provider, "profile": profile, "form": form, "matches": list(matches)},
    )


urlpatterns = [
    path("shared-lives/people/<int:holder_pk>/", seeker_profile, name="seeker_profile"),
    path("shared-lives/people/<int:holder_pk>/matches/", seeker_matches, name="seeker_matches"),
    path("shared-lives/matches/<int:pk>/", match_detail, name="match_detail"),
    path("shared-lives/carers/<int:provider_pk>/", carer_profile, name="carer_profile"),
]
