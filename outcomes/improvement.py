"""The improvement loop: what a report showed that an organisation means to improve
(issues), what it will do about them (actions, with an owner, a due date and a status),
and the engagement sessions where people who use services, carers and staff looked at
the results and agreed them.

Only commissioners of an organisation record and change its issues, actions and
sessions; everyone else, including the organisation's other staff, is refused
(PermissionDenied), and the pages reach records only through ``issues_for`` and its
siblings, so another organisation's record is a 404.

An action moves forward (not started, in progress, done; it may go straight to done)
and a done action can be reopened (back to in progress) with a note saying why; it
never goes back to not started. Notes are a dated log: each change appends an entry
saying who wrote it and when, so the history is never overwritten.

Errors: ``ValidationError`` for bad input (nothing changes), ``PermissionDenied`` for a
caller who is not a commissioner of the organisation, ``Conflict`` for a status move
the action's current status does not allow."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.utils import timezone

from budgets.models import EligibilityRoute
from core.exceptions import Conflict
from core.services import audit_record
from outcomes.models import (
    MANAGEMENT_CHOICES,
    BudgetBand,
    EngagementSession,
    ImprovementAction,
    ImprovementActionQuerySet,
    ImprovementIssue,
    OutcomeArea,
    RespondentKind,
)
from users.models import Membership, Organisation, Role

# The report's filters an issue keeps (the query string of outcomes:report).
REPORT_FILTER_KEYS: tuple[str, ...] = (
    "kind",
    "organisation",
    "council",
    "route",
    "management",
    "band",
    "period",
    "period_from",
    "period_to",
    "breakdown",
    "area",
)
# The report page's own filters (outcomes/forms_reports.py), for the link back to it.
REPORT_PAGE_KEYS: tuple[str, ...] = (
    "kind",
    "organisation",
    "route",
    "management",
    "band",
    "period",
    "breakdown",
)
MAX_FILTER_VALUE = 100
MAX_NOTE = 5000
MAX_ATTENDEES = 10_000
# A date further out than this is a typing mistake, not a plan.
MAX_DUE_DAYS = 5 * 366
MAX_SESSION_AGE_DAYS = 5 * 366

Status = ImprovementAction.Status
# Forward moves, and reopening a done action. Re-applying the current status is a no-op.
ALLOWED_MOVES: dict[str, frozenset[str]] = {
    Status.NOT_STARTED: frozenset({Status.IN_PROGRESS, Status.DONE}),
    Status.IN_PROGRESS: frozenset({Status.DONE}),
    Status.DONE: frozenset({Status.IN_PROGRESS}),
}


# Who may see and change what ---------------------------------------------------------


def _authenticated(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def commissioner_organisations(user: Any) -> QuerySet[Organisation]:
    """The organisations where the user is a commissioner."""
    if not _authenticated(user):
        return Organisation.objects.none()
    return Organisation.objects.filter(
        pk__in=Membership.objects.filter(user=user, role=Role.COMMISSIONER).values(
            "organisation_id"
        )
    ).order_by("name")


def is_commissioner_of(user: Any, organisation_id: int) -> bool:
    return (
        _authenticated(user)
        and Membership.objects.filter(
            user=user, organisation_id=organisation_id, role=Role.COMMISSIONER
        ).exists()
    )


def issues_for(user: Any) -> QuerySet[ImprovementIssue]:
    """Issues of the organisations where the user is a commissioner."""
    return ImprovementIssue.objects.filter(
        organisation__in=commissioner_organisations(user)
    ).select_related("organisation", "created_by")


def actions_for(user: Any) -> ImprovementActionQuerySet:
    return ImprovementAction.objects.filter(
        issue__organisation__in=commissioner_organisations(user)
    ).select_related("issue", "issue__organisation")


def sessions_for(user: Any) -> QuerySet[EngagementSession]:
    return EngagementSession.objects.filter(
        organisation__in=commissioner_organisations(user)
    ).select_related("organisation")


def open_actions_for(user: Any) -> QuerySet[ImprovementAction]:
    """Actions not yet done of the organisations where the user is a commissioner,
    overdue first (then by due date), each with ``is_overdue``."""
    today = timezone.localdate()
    return (
        actions_for(user)
        .open()
        .annotate(
            is_overdue=Case(
                When(due_on__lt=today, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by("-is_overdue", "due_on", "pk")
    )


# Report filters ------------------------------------------------------------------------


def report_filters_clean(filters: Mapping[str, Any]) -> dict[str, str]:
    """The report filters an issue keeps: only the known keys, each a short string as
    the report's query string gave it (empty values dropped)."""
    kept: dict[str, str] = {}
    for key in REPORT_FILTER_KEYS:
        value = filters.get(key)
        if isinstance(value, list | tuple):
            value = value[-1] if value else None
        if value is None or isinstance(value, dict):
            continue
        text = " ".join(str(value).split())[:MAX_FILTER_VALUE]
        if text:
            kept[key] = text
    return kept


def _period_code(start: str, end: str) -> str:
    """The report's period code (a financial year or quarter) with exactly these dates,
    or "" when there is none."""
    from outcomes.reports import period_bounds

    try:
        first, last = datetime.date.fromisoformat(start), datetime.date.fromisoformat(end)
    except ValueError:
        return ""
    year = first.year if first.month >= 4 else first.year - 1
    for code in (f"fy{year}", *(f"fy{year}q{quarter}" for quarter in (1, 2, 3, 4))):
        if period_bounds(code) == (first, last):
            return code
    return ""


def report_query(filters: Mapping[str, str]) -> dict[str, str]:
    """The report page's query string for an issue's filters: its own keys, and the
    period named by its dates when the report link gave dates."""
    query = {key: filters[key] for key in REPORT_PAGE_KEYS if filters.get(key)}
    start, end = filters.get("period_from"), filters.get("period_to")
    if "period" not in query and start and end and (code := _period_code(start, end)):
        query["period"] = code
    return query


def _label(choices: Iterable[tuple[str, str]], value: str) -> str:
    return dict(choices).get(value, value)


def _day(value: str) -> str:
    try:
        return f"{datetime.date.fromisoformat(value):%-d %B %Y}"
    except ValueError:
        return value


def report_description(filters: Mapping[str, str]) -> str:
    """The report an issue was found in, in words: "Budget holder survey, North ICB,
    NHS continuing healthcare, from 1 April 2026 to 31 March 2027"."""
    if not filters:
        return ""
    parts: list[str] = []
    if kind := filters.get("kind"):
        parts.append(f"{_label(RespondentKind.choices, kind)} survey")
    for key in ("organisation", "council"):
        if value := filters.get(key):
            name = (
                Organisation.objects.filter(pk=int(value)).values_list("name", flat=True).first()
                if value.isdigit()
                else None
            )
            parts.append(name or value)
    if route := filters.get("route"):
        parts.append(_label(EligibilityRoute.choices, route))
    if management := filters.get("management"):
        parts.append(f"managed as: {_label(MANAGEMENT_CHOICES, management).lower()}")
    if band := filters.get("band"):
        parts.append(f"budget {_label(BudgetBand.choices, band)}")
    if area := filters.get("area"):
        parts.append(f"area: {_label(OutcomeArea.choices, area).lower()}")
    start, end = filters.get("period_from"), filters.get("period_to")
    if not (start or end) and (period := filters.get("period")):
        from outcomes.reports import period_bounds

        try:
            start, end = (day.isoformat() for day in period_bounds(period))
        except ValueError:
            parts.append(f"period {period}")
    if start and end:
        parts.append(f"from {_day(start)} to {_day(end)}")
    elif start:
        parts.append(f"from {_day(start)}")
    elif end:
        parts.append(f"up to {_day(end)}")
    text = ", ".join(parts) or "the outcomes report"
    return text[0].upper() + text[1:]


# Checks --------------------------------------------------------------------------------


def _text(value: Any, field: str, message: str, *, limit: int, required: bool = True) -> str:
    text = str(value or "").strip()
    if limit <= 200:
        text = " ".join(text.split())
    if required and not text:
        raise ValidationError({field: message})
    if len(text) > limit:
        raise ValidationError({field: f"Use {limit} characters or fewer."})
    return text


def _date(value: Any, field: str) -> datetime.date:
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise ValidationError({field: "Enter a real date."})
    return value


def _due_on(value: Any) -> datetime.date:
    due_on = _date(value, "due_on")
    today = timezone.localdate()
    if due_on < today:
        raise ValidationError({"due_on": "The due date must be today or in the future."})
    if due_on > today + datetime.timedelta(days=MAX_DUE_DAYS):
        raise ValidationError({"due_on": "The due date must be within 5 years."})
    return due_on


def _choice(value: Any, field: str, choices: Iterable[str], message: str) -> str:
    text = str(value or "")
    if text and text not in set(choices):
        raise ValidationError({field: message})
    return text


def _count(value: Any, field: str, who: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({field: f"Enter how many {who} came, as a number."})
    if value < 0:
        raise ValidationError({field: f"The number of {who} cannot be below 0."})
    if value > MAX_ATTENDEES:
        raise ValidationError({field: f"The number of {who} must be {MAX_ATTENDEES:,} or fewer."})
    return value


def _commissioner(user: Any, organisation_id: int) -> None:
    if not is_commissioner_of(user, organisation_id):
        raise PermissionDenied


def _who(user: Any) -> str:
    return str(getattr(user, "name", "") or getattr(user, "email", "") or "Someone")


def note_entry(*, by: Any, at: datetime.datetime, text: str, heading: str = "") -> str:
    """One entry of an action's notes: a line saying when, who (and what changed),
    then the note. Blank lines inside a note are closed up, since a blank line
    separates entries."""
    when = timezone.localtime(at)
    first = f"{when:%-d %B %Y} at {when:%H:%M}, {_who(by)}"
    if heading:
        first += f": {heading}"
    body = "\n".join(line.rstrip() for line in text.strip().splitlines() if line.strip())
    return f"{first}\n{body}" if body else first


def note_entries(notes: str) -> list[dict[str, str]]:
    """An action's notes as entries, oldest first: {"heading", "text"}."""
    entries = []
    for block in notes.strip().split("\n\n"):
        if not block.strip():
            continue
        heading, _, text = block.strip().partition("\n")
        entries.append({"heading": heading, "text": text})
    return entries


def _append(notes: str, entry: str) -> str:
    return f"{notes.rstrip()}\n\n{entry}" if notes.strip() else entry


# Issues --------------------------------------------------------------------------------


@transaction.atomic
def issue_create(
    *,
    organisation: Organisation,
    created_by: Any,
    title: str,
    description: str = "",
    respondent_kind: str = "",
    area: str = "",
    report_filters: Mapping[str, Any] | None = None,
) -> ImprovementIssue:
    """Record an issue a report showed. ``report_filters`` is the report's query
    string; only the known filter keys are kept. PermissionDenied unless the user is a
    commissioner of ``organisation``; ValidationError for bad input."""
    _commissioner(created_by, organisation.pk)
    issue = ImprovementIssue(
        organisation=organisation,
        created_by=created_by,
        title=_text(title, "title", "Say what the issue is.", limit=200),
        description=_text(description, "description", "", limit=MAX_NOTE, required=False),
        respondent_kind=_choice(
            respondent_kind,
            "respondent_kind",
            RespondentKind.values,
            "Choose whose answers showed it.",
        ),
        area=_choice(area, "area", OutcomeArea.values, "Choose an area of life from the list."),
        report_filters=report_filters_clean(report_filters or {}),
    )
    issue.full_clean()
    issue.save()
    audit_record(
        actor=created_by,
        action="improvement_issue.created",
        obj=issue,
        organisation=organisation,
        changes={
            "title": issue.title,
            "respondent_kind": issue.respondent_kind,
            "area": issue.area,
            "report_filters": issue.report_filters,
        },
    )
    return issue


@transaction.atomic
def issue_update(
    *,
    issue: ImprovementIssue,
    updated_by: Any,
    title: str | None = None,
    description: str | None = None,
    respondent_kind: str | None = None,
    area: str | None = None,
) -> ImprovementIssue:
    """Change an issue's wording, whose answers and which area it is about (the report
    it was found in stays as it was). None leaves a field as it is. PermissionDenied
    unless the user is a commissioner of the issue's organisation."""
    issue = ImprovementIssue.objects.select_for_update().get(pk=issue.pk)
    _commissioner(updated_by, issue.organisation_id)
    new: dict[str, str] = {}
    if title is not None:
        new["title"] = _text(title, "title", "Say what the issue is.", limit=200)
    if description is not None:
        new["description"] = _text(description, "description", "", limit=MAX_NOTE, required=False)
    if respondent_kind is not None:
        new["respondent_kind"] = _choice(
            respondent_kind,
            "respondent_kind",
            RespondentKind.values,
            "Choose whose answers showed it.",
        )
    if area is not None:
        new["area"] = _choice(
            area, "area", OutcomeArea.values, "Choose an area of life from the list."
        )
    changes = {
        name: [getattr(issue, name), value]
        for name, value in new.items()
        if getattr(issue, name) != value
    }
    if not changes:
        return issue
    for name, value in new.items():
        setattr(issue, name, value)
    issue.full_clean()
    issue.save()
    audit_record(
        actor=updated_by,
        action="improvement_issue.changed",
        obj=issue,
        organisation=issue.organisation,
        changes=changes,
    )
    return issue


# Actions -------------------------------------------------------------------------------


@transaction.atomic
def action_create(
    *,
    issue: ImprovementIssue,
    created_by: Any,
    description: str,
    owner: str,
    due_on: datetime.date,
    note: str = "",
) -> ImprovementAction:
    """Add an action to an issue: what will be done, who will do it (a person or team)
    and by when (today or later). It starts as not started. PermissionDenied unless
    the user is a commissioner of the issue's organisation; ValidationError for bad
    input."""
    _commissioner(created_by, issue.organisation_id)
    description = _text(description, "description", "Say what will be done.", limit=MAX_NOTE)
    owner = _text(owner, "owner", "Say who will do it.", limit=200)
    due_on = _due_on(due_on)
    note = _text(note, "note", "", limit=MAX_NOTE, required=False)
    now = timezone.now()
    action = ImprovementAction(
        issue=issue,
        created_by=created_by,
        description=description,
        owner=owner,
        due_on=due_on,
        notes=note_entry(by=created_by, at=now, text=note) if note else "",
    )
    action.full_clean()
    action.save()
    audit_record(
        actor=created_by,
        action="improvement_action.created",
        obj=action,
        organisation=issue.organisation,
        changes={
            "issue": issue.pk,
            "description": description,
            "owner": owner,
            "due_on": str(due_on),
        },
    )
    return action


@transaction.atomic
def action_update(
    *,
    action: ImprovementAction,
    updated_by: Any,
    status: str | None = None,
    owner: str | None = None,
    due_on: datetime.date | None = None,
    description: str | None = None,
    note: str = "",
) -> ImprovementAction:
    """Change an action: its status, owner, due date or wording, and add a note. None
    leaves a field as it is; the note is appended to the log with who and when (and
    what changed), never written over. Done records when; reopening a done action
    (back to in progress) needs a note saying why.

    Raises PermissionDenied unless the user is a commissioner of the action's
    organisation, Conflict for a status move not allowed from the current status (an
    action never goes back to not started), ValidationError for bad input (a new due
    date in the past, for one)."""
    action = (
        ImprovementAction.objects.select_for_update()
        .select_related("issue__organisation")
        .get(pk=action.pk)
    )
    _commissioner(updated_by, action.issue.organisation_id)
    changes: dict[str, list[str]] = {}
    said: list[str] = []
    if status is not None and status != action.status:
        if status not in Status.values:
            raise ValidationError({"status": "Choose a status from the list."})
        if status not in ALLOWED_MOVES[action.status]:
            raise Conflict(
                f"This action is {action.get_status_display().lower()}: it cannot go back "
                f"to {Status(status).label.lower()}."
            )
        reopening = action.status == Status.DONE
        if reopening and not str(note or "").strip():
            raise ValidationError({"note": "Say why the action is being reopened."})
        changes["status"] = [action.status, status]
        said.append(f"status {Status(action.status).label} to {Status(status).label}")
        action.status = status
        action.done_at = timezone.now() if status == Status.DONE else None
    if owner is not None:
        owner = _text(owner, "owner", "Say who will do it.", limit=200)
        if owner != action.owner:
            changes["owner"] = [action.owner, owner]
            said.append(f"owner now {owner}")
            action.owner = owner
    if due_on is not None and due_on != action.due_on:
        due_on = _due_on(due_on)
        changes["due_on"] = [str(action.due_on), str(due_on)]
        said.append(f"due {due_on:%-d %B %Y}")
        action.due_on = due_on
    if description is not None:
        description = _text(description, "description", "Say what will be done.", limit=MAX_NOTE)
        if description != action.description:
            changes["description"] = [action.description, description]
            said.append("wording changed")
            action.description = description
    note = _text(note, "note", "", limit=MAX_NOTE, required=False)
    if not changes and not note:
        return action
    now = timezone.now()
    action.notes = _append(
        action.notes, note_entry(by=updated_by, at=now, text=note, heading="; ".join(said))
    )
    action.full_clean()
    action.save()
    audit_record(
        actor=updated_by,
        action="improvement_action.done"
        if changes.get("status", ["", ""])[1] == Status.DONE
        else "improvement_action.changed",
        obj=action,
        organisation=action.issue.organisation,
        changes={**changes, **({"note_added": True} if note else {})},
    )
    return action


# Engagement sessions -------------------------------------------------------------------


@transaction.atomic
def session_record(
    *,
    organisation: Organisation,
    recorded_by: Any,
    held_on: datetime.date,
    title: str,
    people_using_services: int = 0,
    carers: int = 0,
    staff: int = 0,
    notes: str = "",
    issues: Iterable[ImprovementIssue] = (),
    actions: Iterable[ImprovementAction] = (),
) -> EngagementSession:
    """Record a session where people who use services, carers and staff looked at the
    results and agreed issues and actions (of the same organisation only). It was held
    today or before; someone came. PermissionDenied unless the user is a commissioner
    of ``organisation``; ValidationError for bad input."""
    _commissioner(recorded_by, organisation.pk)
    title = _text(title, "title", "Say what the session was.", limit=200)
    held_on = _date(held_on, "held_on")
    today = timezone.localdate()
    if held_on > today:
        raise ValidationError({"held_on": "The date the session was held must be today or before."})
    if held_on < today - datetime.timedelta(days=MAX_SESSION_AGE_DAYS):
        raise ValidationError({"held_on": "The session must have been held in the last 5 years."})
    counts = {
        "people_using_services": _count(
            people_using_services, "people_using_services", "people who use services"
        ),
        "carers": _count(carers, "carers", "carers"),
        "staff": _count(staff, "staff", "staff"),
    }
    if not sum(counts.values()):
        raise ValidationError(
            {"people_using_services": "Enter how many people came: at least 1 in all."}
        )
    notes = _text(notes, "notes", "", limit=MAX_NOTE, required=False)
    issue_ids = {issue.pk for issue in issues}
    action_ids = {action.pk for action in actions}
    if ImprovementIssue.objects.filter(pk__in=issue_ids, organisation=organisation).count() != len(
        issue_ids
    ):
        raise ValidationError({"issues": "Choose issues of the same organisation."})
    if ImprovementAction.objects.filter(
        pk__in=action_ids, issue__organisation=organisation
    ).count() != len(action_ids):
        raise ValidationError({"actions": "Choose actions of the same organisation."})
    session = EngagementSession(
        organisation=organisation,
        held_on=held_on,
        title=title,
        notes=notes,
        created_by=recorded_by,
        **counts,
    )
    session.full_clean()
    session.save()
    session.issues.set(sorted(issue_ids))
    session.actions.set(sorted(action_ids))
    audit_record(
        actor=recorded_by,
        action="engagement_session.recorded",
        obj=session,
        organisation=organisation,
        changes={
            "held_on": str(held_on),
            "title": title,
            **counts,
            "issues": sorted(issue_ids),
            "actions": sorted(action_ids),
        },
    )
    return session


def session_agreed(issue: ImprovementIssue) -> QuerySet[EngagementSession]:
    """Sessions that agreed an issue or any of its actions."""
    return (
        EngagementSession.objects.filter(Q(issues=issue) | Q(actions__issue=issue))
        .distinct()
        .order_by("-held_on", "-pk")
    )
