"""The improvement loop's services (outcomes/improvement.py): issues found in a report,
actions with owners, due dates and a status that moves forward (and can be reopened
with a reason), notes kept as a dated log, engagement sessions, and who may do each."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.exceptions import Conflict
from core.models import AuditEvent
from outcomes import improvement
from outcomes.models import EngagementSession, ImprovementAction, ImprovementIssue
from tests.conftest import World, staff_user
from tests.factories import MembershipFactory
from users.models import Role

pytestmark = pytest.mark.django_db

Status = ImprovementAction.Status


def today() -> datetime.date:
    return timezone.localdate()


def an_issue(world: World, **fields: Any) -> ImprovementIssue:
    return improvement.issue_create(
        organisation=fields.pop("organisation", world.org_x),
        created_by=fields.pop("created_by", world.commissioner),
        title=fields.pop("title", "Fewer carers have emergency back-up"),
        **fields,
    )


def an_action(
    world: World, issue: ImprovementIssue | None = None, **fields: Any
) -> ImprovementAction:
    return improvement.action_create(
        issue=issue or an_issue(world),
        created_by=fields.pop("created_by", world.commissioner),
        description=fields.pop("description", "Ask every carer about back-up at review"),
        owner=fields.pop("owner", "Care coordination team"),
        due_on=fields.pop("due_on", today() + datetime.timedelta(days=30)),
        **fields,
    )


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


# Issues --------------------------------------------------------------------------------


def test_a_commissioner_records_an_issue_with_the_reports_filters_and_it_is_audited(
    world: World,
) -> None:
    issue = an_issue(
        world,
        description="  Down from last year  ",
        respondent_kind="carer",
        area="emergency_backup",
        report_filters={
            "kind": "carer",
            "organisation": str(world.org_x.pk),
            "period_from": "2026-04-01",
            "period_to": "2027-03-31",
            "csrfmiddlewaretoken": "not kept",
            "page": "2",
        },
    )
    issue.refresh_from_db()
    assert issue.organisation == world.org_x
    assert issue.description == "Down from last year"
    assert issue.report_filters == {
        "kind": "carer",
        "organisation": str(world.org_x.pk),
        "period_from": "2026-04-01",
        "period_to": "2027-03-31",
    }
    [event] = events("improvement_issue.created")
    assert event.actor_id == world.commissioner.pk
    assert event.organisation_id == world.org_x.pk
    assert event.object_id == str(issue.pk)
    assert event.changes["report_filters"]["kind"] == "carer"


def test_report_filters_keep_only_known_keys_as_short_strings() -> None:
    cleaned = improvement.report_filters_clean(
        {"kind": ["holder", "carer"], "route": "chc", "band": "", "area": "x" * 500, "evil": "1"}
    )
    assert cleaned == {"kind": "carer", "route": "chc", "area": "x" * 100}


def test_the_report_is_described_in_words(world: World) -> None:
    text = improvement.report_description(
        {
            "kind": "holder",
            "organisation": str(world.org_x.pk),
            "route": "chc",
            "band": "10k_25k",
            "period_from": "2026-04-01",
            "period_to": "2027-03-31",
        }
    )
    assert text == (
        "Budget holder survey, North ICB, NHS continuing healthcare, "
        "budget £10,000 to £24,999, from 1 April 2026 to 31 March 2027"
    )
    assert improvement.report_description({"period_from": "not a date"}) == "From not a date"


def test_the_link_back_names_the_reports_period_from_its_dates() -> None:
    filters = {
        "kind": "holder",
        "route": "chc",
        "period_from": "2026-04-01",
        "period_to": "2027-03-31",
        "area": "family",
    }
    assert improvement.report_query(filters) == {
        "kind": "holder",
        "route": "chc",
        "period": "fy2026",
    }
    quarter = {"period_from": "2026-10-01", "period_to": "2026-12-31"}
    assert improvement.report_query(quarter) == {"period": "fy2026q3"}
    assert improvement.report_query({"period_from": "2026-10-02", "period_to": "2026-12-31"}) == {}
    assert improvement.report_query({"period": "fy2025", "period_from": "x"}) == {
        "period": "fy2025"
    }
    assert improvement.report_description({"period": "fy2025q1"}) == (
        "From 1 April 2025 to 30 June 2025"
    )
    assert improvement.report_description({"period": "lately"}) == "Period lately"


@pytest.mark.parametrize("who", ["staff_x", "finance_officer", "org_admin_x", "staff_y"])
def test_only_a_commissioner_of_the_organisation_records_an_issue(world: World, who: str) -> None:
    with pytest.raises(PermissionDenied):
        an_issue(world, created_by=getattr(world, who))
    assert not ImprovementIssue.objects.exists()


def test_a_commissioner_of_another_organisation_cannot_record_an_issue_here(
    world: World,
) -> None:
    other = staff_user(world.org_y, Role.COMMISSIONER)
    with pytest.raises(PermissionDenied):
        an_issue(world, created_by=other)
    # A commissioner at Y who is a care coordinator at X is not X's commissioner either.
    MembershipFactory(user=other, organisation=world.org_x, role=Role.CARE_COORDINATOR)
    with pytest.raises(PermissionDenied):
        an_issue(world, created_by=other)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"respondent_kind": "patient"}, "respondent_kind"),
        ({"area": "happiness"}, "area"),
    ],
)
def test_an_issue_with_bad_input_is_refused_and_nothing_changes(
    world: World, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        an_issue(world, **fields)
    assert field in raised.value.message_dict
    assert not ImprovementIssue.objects.exists()
    assert not events("improvement_issue.created")


def test_an_issue_is_changed_and_the_change_audited_but_not_its_report(world: World) -> None:
    issue = an_issue(world, report_filters={"kind": "carer"})
    improvement.issue_update(
        issue=issue, updated_by=world.commissioner, title="Carers lack back-up", area="family"
    )
    issue.refresh_from_db()
    assert issue.title == "Carers lack back-up"
    assert issue.area == "family"
    assert issue.report_filters == {"kind": "carer"}
    [event] = events("improvement_issue.changed")
    assert event.changes == {
        "title": ["Fewer carers have emergency back-up", "Carers lack back-up"],
        "area": ["", "family"],
    }
    # Nothing new: no event.
    improvement.issue_update(
        issue=issue, updated_by=world.commissioner, title="Carers lack back-up"
    )
    assert len(events("improvement_issue.changed")) == 1
    with pytest.raises(PermissionDenied):
        improvement.issue_update(issue=issue, updated_by=world.staff_x, title="Mine now")


# Actions -------------------------------------------------------------------------------


def test_an_action_starts_not_started_with_its_first_note_signed_and_audited(
    world: World,
) -> None:
    action = an_action(world, note="Agreed with the carers' lead")
    action.refresh_from_db()
    assert action.status == Status.NOT_STARTED
    assert action.done_at is None
    assert world.commissioner.name in action.notes
    assert action.notes.endswith("Agreed with the carers' lead")
    [event] = events("improvement_action.created")
    assert event.changes["owner"] == "Care coordination team"
    assert event.organisation_id == world.org_x.pk


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"description": " "}, "description"),
        ({"owner": ""}, "owner"),
        ({"due_on": datetime.date(2020, 1, 1)}, "due_on"),
        ({"due_on": "2030-01-01"}, "due_on"),
        ({"due_on": "far"}, "due_on"),
    ],
)
def test_an_action_with_bad_input_is_refused(
    world: World, fields: dict[str, Any], field: str
) -> None:
    issue = an_issue(world)
    with pytest.raises(ValidationError) as raised:
        an_action(world, issue, **fields)
    assert field in raised.value.message_dict
    assert not ImprovementAction.objects.exists()


def test_an_action_due_more_than_five_years_ahead_is_a_mistake(world: World) -> None:
    with pytest.raises(ValidationError):
        an_action(world, due_on=today() + datetime.timedelta(days=6 * 366))


def test_only_a_commissioner_of_the_issues_organisation_adds_or_changes_actions(
    world: World,
) -> None:
    issue = an_issue(world)
    other = staff_user(world.org_y, Role.COMMISSIONER)
    for who in (world.staff_x, other):
        with pytest.raises(PermissionDenied):
            an_action(world, issue, created_by=who)
    action = an_action(world, issue)
    with pytest.raises(PermissionDenied):
        improvement.action_update(action=action, updated_by=other, status=Status.DONE)
    action.refresh_from_db()
    assert action.status == Status.NOT_STARTED


def test_an_action_moves_to_in_progress_then_done_which_records_when(world: World) -> None:
    action = an_action(world)
    action = improvement.action_update(
        action=action, updated_by=world.commissioner, status=Status.IN_PROGRESS
    )
    assert action.status == Status.IN_PROGRESS
    assert action.done_at is None
    action = improvement.action_update(
        action=action, updated_by=world.commissioner, status=Status.DONE, note="All asked"
    )
    action.refresh_from_db()
    assert action.status == Status.DONE
    assert action.done_at is not None
    assert [e.changes["status"] for e in events("improvement_action.changed")] == [
        ["not_started", "in_progress"]
    ]
    [done] = events("improvement_action.done")
    assert done.changes == {"status": ["in_progress", "done"], "note_added": True}


def test_an_action_may_go_straight_to_done(world: World) -> None:
    action = improvement.action_update(
        action=an_action(world), updated_by=world.commissioner, status=Status.DONE
    )
    assert action.status == Status.DONE


def test_an_action_never_goes_back_to_not_started(world: World) -> None:
    action = improvement.action_update(
        action=an_action(world), updated_by=world.commissioner, status=Status.IN_PROGRESS
    )
    with pytest.raises(Conflict):
        improvement.action_update(
            action=action, updated_by=world.commissioner, status=Status.NOT_STARTED
        )
    action.refresh_from_db()
    assert action.status == Status.IN_PROGRESS


def test_a_done_action_is_reopened_only_with_a_reason(world: World) -> None:
    action = improvement.action_update(
        action=an_action(world), updated_by=world.commissioner, status=Status.DONE
    )
    with pytest.raises(ValidationError) as raised:
        improvement.action_update(
            action=action, updated_by=world.commissioner, status=Status.IN_PROGRESS
        )
    assert "note" in raised.value.message_dict
    with pytest.raises(Conflict):
        improvement.action_update(
            action=action, updated_by=world.commissioner, status=Status.NOT_STARTED, note="Why"
        )
    action = improvement.action_update(
        action=action,
        updated_by=world.commissioner,
        status=Status.IN_PROGRESS,
        note="Two carers were missed",
    )
    action.refresh_from_db()
    assert action.status == Status.IN_PROGRESS
    assert action.done_at is None


def test_an_unknown_status_is_refused(world: World) -> None:
    with pytest.raises(ValidationError):
        improvement.action_update(
            action=an_action(world), updated_by=world.commissioner, status="abandoned"
        )


def test_notes_are_appended_with_who_and_when_never_overwritten(world: World) -> None:
    action = an_action(world, note="First thought")
    colleague = staff_user(world.org_x, Role.COMMISSIONER)
    improvement.action_update(
        action=action,
        updated_by=colleague,
        status=Status.IN_PROGRESS,
        owner="Carers' lead",
        note="Started with the forum\n\n\nthen the rest",
    )
    action.refresh_from_db()
    entries = improvement.note_entries(action.notes)
    assert len(entries) == 2
    assert world.commissioner.name in entries[0]["heading"]
    assert entries[0]["text"] == "First thought"
    assert colleague.name in entries[1]["heading"]
    assert "Not started to In progress" in entries[1]["heading"]
    assert "owner now Carers' lead" in entries[1]["heading"]
    assert entries[1]["text"] == "Started with the forum\nthen the rest"
    assert f"{timezone.localdate():%-d %B %Y}" in entries[1]["heading"]


def test_saving_the_same_values_changes_nothing(world: World) -> None:
    action = an_action(world)
    improvement.action_update(
        action=action,
        updated_by=world.commissioner,
        status=action.status,
        owner=action.owner,
        due_on=action.due_on,
        description=action.description,
    )
    action.refresh_from_db()
    assert action.notes == ""
    assert not events("improvement_action.changed")


def test_an_overdue_action_keeps_its_date_when_only_its_status_changes(world: World) -> None:
    action = an_action(world)
    ImprovementAction.objects.filter(pk=action.pk).update(
        due_on=today() - datetime.timedelta(days=3)
    )
    action.refresh_from_db()
    improvement.action_update(
        action=action, updated_by=world.commissioner, status=Status.DONE, due_on=action.due_on
    )
    with pytest.raises(ValidationError):
        improvement.action_update(
            action=action,
            updated_by=world.commissioner,
            due_on=today() - datetime.timedelta(days=1),
        )


def test_open_actions_are_the_users_organisations_not_done_overdue_first(world: World) -> None:
    issue = an_issue(world)
    later = an_action(world, issue, description="Later", due_on=today() + datetime.timedelta(60))
    soon = an_action(world, issue, description="Soon", due_on=today() + datetime.timedelta(5))
    overdue = an_action(world, issue, description="Overdue")
    ImprovementAction.objects.filter(pk=overdue.pk).update(
        due_on=today() - datetime.timedelta(days=2)
    )
    other = staff_user(world.org_y, Role.COMMISSIONER)
    an_action(world, an_issue(world, organisation=world.org_y, created_by=other), created_by=other)

    found = list(improvement.open_actions_for(world.commissioner))
    assert [a.pk for a in found] == [overdue.pk, soon.pk, later.pk]
    assert [a.is_overdue for a in found] == [True, False, False]

    improvement.action_update(action=soon, updated_by=world.commissioner, status=Status.DONE)
    assert [a.pk for a in improvement.open_actions_for(world.commissioner)] == [
        overdue.pk,
        later.pk,
    ]
    assert len(improvement.open_actions_for(other)) == 1
    # Other staff of org X are not shown the commissioners' actions.
    assert not improvement.open_actions_for(world.staff_x).exists()
    assert not improvement.open_actions_for(None).exists()


# Engagement sessions -------------------------------------------------------------------


def test_a_session_is_recorded_with_who_came_and_what_it_agreed(world: World) -> None:
    action = an_action(world)
    session = improvement.session_record(
        organisation=world.org_x,
        recorded_by=world.commissioner,
        held_on=today(),
        title="Carers' forum",
        people_using_services=3,
        carers=6,
        staff=2,
        notes="Agreed to ask about back-up at every review",
        issues=[action.issue],
        actions=[action],
    )
    session.refresh_from_db()
    assert (session.people_using_services, session.carers, session.staff) == (3, 6, 2)
    assert list(session.issues.all()) == [action.issue]
    assert list(session.actions.all()) == [action]
    assert list(improvement.session_agreed(action.issue)) == [session]
    [event] = events("engagement_session.recorded")
    assert event.changes["actions"] == [action.pk]
    assert event.changes["carers"] == 6


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"held_on": "tomorrow"}, "held_on"),
        ({"title": ""}, "title"),
        ({"carers": -1}, "carers"),
        ({"staff": "2"}, "staff"),
        ({"people_using_services": 20_000}, "people_using_services"),
        ({"people_using_services": 0, "carers": 0, "staff": 0}, "people_using_services"),
    ],
)
def test_a_session_with_bad_input_is_refused(
    world: World, fields: dict[str, Any], field: str
) -> None:
    if fields.get("held_on") == "tomorrow":
        fields["held_on"] = today() + datetime.timedelta(days=1)
    arguments: dict[str, Any] = {
        "organisation": world.org_x,
        "recorded_by": world.commissioner,
        "held_on": today(),
        "title": "Forum",
        "carers": 4,
        **fields,
    }
    with pytest.raises(ValidationError) as raised:
        improvement.session_record(**arguments)
    assert field in raised.value.message_dict
    assert not EngagementSession.objects.exists()


def test_a_session_links_only_issues_and_actions_of_its_own_organisation(world: World) -> None:
    other = staff_user(world.org_y, Role.COMMISSIONER)
    theirs = an_action(
        world, an_issue(world, organisation=world.org_y, created_by=other), created_by=other
    )
    for links in ({"issues": [theirs.issue]}, {"actions": [theirs]}):
        with pytest.raises(ValidationError):
            improvement.session_record(
                organisation=world.org_x,
                recorded_by=world.commissioner,
                held_on=today(),
                title="Forum",
                carers=4,
                **links,
            )
    assert not EngagementSession.objects.exists()
    with pytest.raises(PermissionDenied):
        improvement.session_record(
            organisation=world.org_y,
            recorded_by=world.commissioner,
            held_on=today(),
            title="Forum",
            carers=4,
        )


def test_the_user_scoped_lists_hold_only_their_commissioned_organisations(world: World) -> None:
    issue = an_issue(world)
    assert list(improvement.issues_for(world.commissioner)) == [issue]
    assert not improvement.issues_for(world.staff_x).exists()
    assert not improvement.issues_for(world.platform_admin).exists()
    assert not improvement.issues_for(staff_user(world.org_y, Role.COMMISSIONER)).exists()


def test_a_failed_audit_leaves_no_half_recorded_change(world: World, monkeypatch: Any) -> None:
    action = an_action(world)

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("the audit table is unavailable")

    monkeypatch.setattr(improvement, "audit_record", broken)
    with pytest.raises(RuntimeError):
        improvement.action_update(
            action=action, updated_by=world.commissioner, status=Status.DONE, note="Done"
        )
    with pytest.raises(RuntimeError):
        improvement.session_record(
            organisation=world.org_x,
            recorded_by=world.commissioner,
            held_on=today(),
            title="Forum",
            carers=2,
            actions=[action],
        )
    action.refresh_from_db()
    assert action.status == Status.NOT_STARTED
    assert action.notes == ""
    assert not EngagementSession.objects.exists()
