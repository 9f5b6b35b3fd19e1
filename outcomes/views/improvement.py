"""Pages of the improvement loop, for commissioners: the open actions (overdue first),
issues and engagement sessions of their organisations; recording an issue found in a
report (the report's filters come in the query string and are kept with the issue);
an issue's page with its actions and the sessions that agreed them; adding and changing
an action; recording a session.

Records come only through ``improvement.issues_for`` and its siblings (organisations
where the user is a commissioner), so another organisation's record is a 404. Each view
validates its form and calls one service; a status move the action's status does not
allow is shown as a message and nothing changes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone

from core.exceptions import Conflict
from outcomes import improvement
from outcomes.forms_improvement import ActionEditForm, ActionForm, IssueForm, SessionForm
from outcomes.models import (
    ImprovementAction,
    ImprovementIssue,
    OutcomeArea,
    RespondentKind,
)
from users.models import Organisation


def _organisations(request: HttpRequest) -> list[Organisation]:
    organisations = list(improvement.commissioner_organisations(request.user))
    if not organisations:
        raise PermissionDenied
    return organisations


def _report_link(filters: dict[str, str]) -> dict[str, str] | None:
    """The report an issue was found in: its description and, once the report page
    exists, its address with the same filters."""
    if not filters:
        return None
    try:
        query = urlencode(improvement.report_query(filters))
        href = reverse("outcomes:report") + (f"?{query}" if query else "")
    except NoReverseMatch:
        href = ""
    return {"text": improvement.report_description(filters), "href": href}


def improvement_home(request: HttpRequest) -> HttpResponse:
    organisations = _organisations(request)
    issues = (
        improvement.issues_for(request.user)
        .annotate(
            open_actions=Count("actions", filter=~Q(actions__status=ImprovementAction.Status.DONE)),
            all_actions=Count("actions"),
        )
        .order_by("-created_at", "-pk")
    )
    return render(
        request,
        "outcomes/improvement/home.html",
        {
            "organisations": organisations,
            "actions": list(improvement.open_actions_for(request.user)),
            "issues": list(issues),
            "sessions": list(improvement.sessions_for(request.user).order_by("-held_on", "-pk")),
        },
    )


def issue_create(request: HttpRequest) -> HttpResponse:
    organisations = _organisations(request)
    filters = improvement.report_filters_clean(request.GET)
    initial: dict[str, Any] = {}
    if filters.get("kind") in RespondentKind.values:
        initial["respondent_kind"] = filters["kind"]
    if filters.get("area") in OutcomeArea.values:
        initial["area"] = filters["area"]
    if any(str(o.pk) == filters.get("organisation") for o in organisations):
        initial["organisation"] = filters["organisation"]
    form = IssueForm(request.POST or None, organisations=organisations, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            issue = improvement.issue_create(
                organisation=form.chosen_organisation(),
                created_by=request.user,
                title=data["title"],
                description=data["description"],
                respondent_kind=data["respondent_kind"],
                area=data["area"],
                report_filters=filters,
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, "The issue is recorded. Now add what will be done about it.")
            return redirect("outcomes:issue_detail", issue.pk)
    return render(
        request,
        "outcomes/improvement/issue_form.html",
        {
            "form": form,
            "found_in": _report_link(filters),
            "action_url": request.get_full_path(),
        },
    )


def _marked_overdue(actions: Iterable[ImprovementAction]) -> list[ImprovementAction]:
    """The actions, each with ``is_overdue`` (as ``open_actions_for`` gives it)."""
    today = timezone.localdate()
    marked = list(actions)
    for action in marked:
        action.is_overdue = (  # type: ignore[attr-defined]
            action.status != ImprovementAction.Status.DONE and action.due_on < today
        )
    return marked


def _issue(request: HttpRequest, pk: int) -> ImprovementIssue:
    return get_object_or_404(improvement.issues_for(request.user), pk=pk)


def issue_detail(request: HttpRequest, pk: int) -> HttpResponse:
    issue = _issue(request, pk)
    actions = _marked_overdue(issue.actions.order_by("due_on", "pk"))
    return render(
        request,
        "outcomes/improvement/issue_detail.html",
        {
            "issue": issue,
            "actions": actions,
            "sessions": list(improvement.session_agreed(issue)),
            "found_in": _report_link(issue.report_filters),
        },
    )


def issue_edit(request: HttpRequest, pk: int) -> HttpResponse:
    issue = _issue(request, pk)
    form = IssueForm(
        request.POST or None,
        organisations=[issue.organisation],
        initial={
            "title": issue.title,
            "description": issue.description,
            "respondent_kind": issue.respondent_kind,
            "area": issue.area,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            improvement.issue_update(
                issue=issue,
                updated_by=request.user,
                title=data["title"],
                description=data["description"],
                respondent_kind=data["respondent_kind"],
                area=data["area"],
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, "The issue is changed.")
            return redirect("outcomes:issue_detail", issue.pk)
    return render(
        request,
        "outcomes/improvement/issue_form.html",
        {
            "form": form,
            "issue": issue,
            "found_in": _report_link(issue.report_filters),
            "action_url": reverse("outcomes:issue_edit", args=[issue.pk]),
        },
    )


def action_create(request: HttpRequest, pk: int) -> HttpResponse:
    issue = _issue(request, pk)
    form = ActionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            improvement.action_create(
                issue=issue,
                created_by=request.user,
                description=data["description"],
                owner=data["owner"],
                due_on=data["due_on"],
                note=data["note"],
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, "The action is added.")
            return redirect("outcomes:issue_detail", issue.pk)
    return render(
        request,
        "outcomes/improvement/action_form.html",
        {"form": form, "issue": issue, "action": None},
    )


def action_edit(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_object_or_404(improvement.actions_for(request.user), pk=pk)
    form = ActionEditForm(request.POST or None, action=action)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            updated = improvement.action_update(
                action=action,
                updated_by=request.user,
                status=data["status"],
                description=data["description"],
                owner=data["owner"],
                due_on=data["due_on"],
                note=data["note"],
            )
        except ValidationError as error:
            form.add_service_errors(error)
        except Conflict as error:
            messages.error(request, error.message)
            return redirect("outcomes:action_edit", action.pk)
        else:
            if updated.status == ImprovementAction.Status.DONE:
                messages.success(request, "The action is done. It no longer shows as open.")
            else:
                messages.success(request, "The action is updated.")
            return redirect("outcomes:issue_detail", action.issue_id)
    return render(
        request,
        "outcomes/improvement/action_form.html",
        {
            "form": form,
            "issue": action.issue,
            "action": _marked_overdue([action])[0],
            "notes": improvement.note_entries(action.notes),
        },
    )


def session_create(request: HttpRequest) -> HttpResponse:
    organisations = _organisations(request)
    about = None
    raw = request.GET.get("issue", "")
    if raw.isdigit():
        about = improvement.issues_for(request.user).filter(pk=int(raw)).first()
    if about is not None:
        organisations = [about.organisation]
    issues = improvement.issues_for(request.user).filter(organisation__in=organisations)
    actions = improvement.actions_for(request.user).filter(issue__organisation__in=organisations)
    initial: dict[str, Any] = {}
    if about is not None:
        # As strings: the checkboxes compare them with their values, which are.
        initial["issues"] = [str(about.pk)]
        initial["actions"] = [str(pk) for pk in about.actions.values_list("pk", flat=True)]
    form = SessionForm(
        request.POST or None,
        organisations=organisations,
        issues=issues.order_by("-created_at", "-pk"),
        actions=actions.order_by("due_on", "pk"),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = improvement.session_record(
                organisation=form.chosen_organisation(),
                recorded_by=request.user,
                held_on=data["held_on"],
                title=data["title"],
                people_using_services=data["people_using_services"],
                carers=data["carers"],
                staff=data["staff"],
                notes=data["notes"],
                issues=data.get("issues") or [],
                actions=data.get("actions") or [],
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, "The engagement session is recorded.")
            return redirect("outcomes:session_detail", session.pk)
    return render(
        request,
        "outcomes/improvement/session_form.html",
        {"form": form, "about": about, "action_url": request.get_full_path()},
    )


def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    session = get_object_or_404(improvement.sessions_for(request.user), pk=pk)
    return render(
        request,
        "outcomes/improvement/session_detail.html",
        {
            "session": session,
            "issues": list(session.issues.order_by("-created_at", "-pk")),
            "actions": _marked_overdue(
                session.actions.select_related("issue").order_by("due_on", "pk")
            ),
        },
    )


urlpatterns = [
    path("outcomes/improvement/", improvement_home, name="improvement_home"),
    path("outcomes/improvement/issues/new/", issue_create, name="issue_create"),
    path("outcomes/improvement/issues/<int:pk>/", issue_detail, name="issue_detail"),
    path("outcomes/improvement/issues/<int:pk>/change/", issue_edit, name="issue_edit"),
    path("outcomes/improvement/issues/<int:pk>/actions/new/", action_create, name="action_create"),
    path("outcomes/improvement/actions/<int:pk>/", action_edit, name="action_edit"),
    path("outcomes/improvement/sessions/new/", session_create, name="session_create"),
    path("outcomes/improvement/sessions/<int:pk>/", session_detail, name="session_detail"),
]
