"""The improvement loop's pages (outcomes/views/improvement.py): a commissioner sees and
changes only their own organisation's issues, actions and sessions (others' are 404,
other staff are refused), forms say what is wrong and change nothing, and the report's
filters ride in the query string into the issue."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from outcomes import improvement
from outcomes.models import EngagementSession, ImprovementAction, ImprovementIssue
from tests.conftest import World, staff_user
from tests.factories import MembershipFactory
from users.models import Role

pytestmark = pytest.mark.django_db

Status = ImprovementAction.Status


def today() -> datetime.date:
    return timezone.localdate()


def an_issue(world: World, organisation: Any = None, by: Any = None) -> ImprovementIssue:
    return improvement.issue_create(
        organisation=organisation or world.org_x,
        created_by=by or world.commissioner,
        title="Fewer carers have emergency back-up",
        report_filters={"kind": "carer", "organisation": str(world.org_x.pk)},
    )


def an_action(world: World, issue: ImprovementIssue, by: Any = None) -> ImprovementAction:
    return improvement.action_create(
        issue=issue,
        created_by=by or world.commissioner,
        description="Ask every carer about back-up at review",
        owner="Care coordination team",
        due_on=today() + datetime.timedelta(days=30),
    )


def date_fields(name: str, day: datetime.date) -> dict[str, str]:
    return {
        f"{name}_day": str(day.day),
        f"{name}_month": str(day.month),
        f"{name}_year": str(day.year),
    }


@pytest.fixture
def theirs(world: World) -> dict[str, Any]:
    """South ICB's issue, action and session, recorded by its own commissioner."""
    other = staff_user(world.org_y, Role.COMMISSIONER)
    issue = an_issue(world, world.org_y, other)
    action = an_action(world, issue, other)
    session = improvement.session_record(
        organisation=world.org_y,
        recorded_by=other,
        held_on=today(),
        title="South forum",
        carers=3,
        issues=[issue],
        actions=[action],
    )
    return {"commissioner": other, "issue": issue, "action": action, "session": session}


def test_the_home_page_shows_open_actions_overdue_first_issues_and_sessions(
    world: World, client_for: Any, theirs: dict[str, Any]
) -> None:
    issue = an_issue(world)
    action = an_action(world, issue)
    late = an_action(world, issue)
    ImprovementAction.objects.filter(pk=late.pk).update(
        due_on=today() - datetime.timedelta(days=1), description="Write to the carers' centre"
    )
    done = an_action(world, issue)
    improvement.action_update(action=done, updated_by=world.commissioner, status=Status.DONE)
    response = client_for(world.commissioner).get(reverse("outcomes:improvement_home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Actions not done yet (2)" in page
    assert page.index(f'data-action="{late.pk}"') < page.index(f'data-action="{action.pk}"')
    assert f'data-action="{done.pk}"' not in page
    assert "1 action is overdue." in page
    assert "Overdue" in page
    assert f'data-issue="{issue.pk}"' in page
    assert "2 of 3" in page
    # South ICB's records are not on North's page.
    assert f'data-issue="{theirs["issue"].pk}"' not in page
    assert f'data-session="{theirs["session"].pk}"' not in page


@pytest.mark.parametrize(
    ("name", "record"),
    [
        ("outcomes:issue_detail", "issue"),
        ("outcomes:issue_edit", "issue"),
        ("outcomes:action_create", "issue"),
        ("outcomes:action_edit", "action"),
        ("outcomes:session_detail", "session"),
    ],
)
def test_another_organisations_records_are_not_found(
    world: World, client_for: Any, theirs: dict[str, Any], name: str, record: str
) -> None:
    path = reverse(name, args=[theirs[record].pk])
    assert client_for(world.commissioner).get(path).status_code == 404
    assert client_for(world.commissioner).post(path, {}).status_code == 404
    assert client_for(theirs["commissioner"]).get(path).status_code == 200


def test_a_commissioner_elsewhere_who_is_other_staff_here_does_not_see_heres_records(
    world: World, client_for: Any
) -> None:
    issue = an_issue(world)
    other = staff_user(world.org_y, Role.COMMISSIONER)
    MembershipFactory(user=other, organisation=world.org_x, role=Role.CARE_COORDINATOR)
    client = client_for(other)
    assert client.get(reverse("outcomes:issue_detail", args=[issue.pk])).status_code == 404
    assert "Fewer carers" not in client.get(reverse("outcomes:improvement_home")).content.decode()


@pytest.mark.parametrize("who", ["staff_x", "finance_officer", "org_admin_x", "holder_a"])
def test_other_staff_and_holders_are_refused(world: World, client_for: Any, who: str) -> None:
    user = getattr(world, who)
    user = user.user if who == "holder_a" else user
    for name in ("outcomes:improvement_home", "outcomes:issue_create", "outcomes:session_create"):
        assert client_for(user).get(reverse(name)).status_code == 403


def test_the_issue_form_says_which_report_it_came_from_and_keeps_its_filters(
    world: World, client_for: Any
) -> None:
    client = client_for(world.commissioner)
    query = (
        f"?kind=carer&organisation={world.org_x.pk}&area=emergency_backup"
        "&period_from=2026-04-01&period_to=2027-03-31&utm=ignored"
    )
    path = reverse("outcomes:issue_create") + query
    page = client.get(path).content.decode()
    assert "Found in: " in page
    assert "Family carer survey, North ICB, area: emergency back-up the carer can rely on" in page
    assert "from 1 April 2026 to 31 March 2027" in page
    # The answers' group and area come from the report.
    assert '<option value="carer" selected' in page
    assert '<option value="emergency_backup" selected' in page
    response = client.post(path, {"title": "Carers lack back-up", "respondent_kind": "carer"})
    issue = ImprovementIssue.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("outcomes:issue_detail", args=[issue.pk])
    assert issue.report_filters == {
        "kind": "carer",
        "organisation": str(world.org_x.pk),
        "area": "emergency_backup",
        "period_from": "2026-04-01",
        "period_to": "2027-03-31",
    }
    assert issue.organisation == world.org_x
    detail = client.get(response["Location"]).content.decode()
    assert "Found in" in detail
    assert "Carers lack back-up" in detail


def test_the_issue_form_without_a_report_does_not_say_found_in(
    world: World, client_for: Any
) -> None:
    page = client_for(world.commissioner).get(reverse("outcomes:issue_create")).content.decode()
    assert "Found in" not in page


def test_the_issue_form_shows_its_errors_and_records_nothing(world: World, client_for: Any) -> None:
    response = client_for(world.commissioner).post(
        reverse("outcomes:issue_create"), {"title": "", "area": "happiness"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "<title>Error: " in page
    assert "Say what the issue is" in page
    assert "Select a valid choice" in page
    assert not ImprovementIssue.objects.exists()


def test_a_commissioner_of_two_organisations_chooses_which(world: World, client_for: Any) -> None:
    MembershipFactory(user=world.commissioner, organisation=world.org_y, role=Role.COMMISSIONER)
    client = client_for(world.commissioner)
    path = reverse("outcomes:issue_create") + f"?organisation={world.org_y.pk}"
    page = client.get(path).content.decode()
    assert "Which organisation" in page
    assert f'value="{world.org_y.pk}" checked' in page
    response = client.post(path, {"title": "Something"})
    assert response.status_code == 200
    assert "Choose the organisation" in response.content.decode()
    client.post(path, {"title": "Something", "organisation": world.org_y.pk})
    assert ImprovementIssue.objects.get().organisation == world.org_y


def test_adding_an_action_checks_its_fields(world: World, client_for: Any) -> None:
    issue = an_issue(world)
    client = client_for(world.commissioner)
    path = reverse("outcomes:action_create", args=[issue.pk])
    response = client.post(
        path,
        {"description": "", "owner": "", **date_fields("due_on", today() - datetime.timedelta(1))},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Say what will be done" in page
    assert "Say who will do it" in page
    assert not ImprovementAction.objects.exists()
    response = client.post(
        path,
        {
            "description": "Write to carers",
            "owner": "Jo",
            "due_on_day": "31",
            "due_on_month": "2",
            "due_on_year": "2027",
        },
    )
    assert "The due date must be a real date" in response.content.decode()
    response = client.post(
        path,
        {
            "description": "Write to carers",
            "owner": "Jo",
            **date_fields("due_on", today() - datetime.timedelta(days=1)),
        },
    )
    assert "The due date must be today or in the future." in response.content.decode()
    response = client.post(
        path,
        {
            "description": "Write to carers",
            "owner": "Jo",
            "note": "Agreed at the forum",
            **date_fields("due_on", today() + datetime.timedelta(days=7)),
        },
    )
    assert response.status_code == 302
    action = ImprovementAction.objects.get()
    assert action.owner == "Jo"
    assert action.issue == issue


def test_changing_an_action_appends_notes_and_done_takes_it_off_the_open_list(
    world: World, client_for: Any
) -> None:
    action = an_action(world, an_issue(world))
    client = client_for(world.commissioner)
    path = reverse("outcomes:action_edit", args=[action.pk])
    page = client.get(path).content.decode()
    assert 'value="not_started" checked' in page
    fields = {
        "description": action.description,
        "owner": action.owner,
        **date_fields("due_on", action.due_on),
    }
    client.post(path, {**fields, "status": "in_progress", "note": "Forum booked"})
    response = client.post(path, {**fields, "status": "done", "note": "Every carer asked"})
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.status == Status.DONE
    assert "Forum booked" in action.notes
    assert "Every carer asked" in action.notes
    assert not improvement.open_actions_for(world.commissioner).exists()
    page = client.get(path).content.decode()
    # Both notes are shown, and not started is no longer offered.
    assert "Forum booked" in page
    assert "Every carer asked" in page
    assert 'value="not_started"' not in page
    # Reopening needs a reason.
    response = client.post(path, {**fields, "status": "in_progress"})
    assert response.status_code == 200
    assert "Say why the action is being reopened." in response.content.decode()
    # A crafted move back to not started is refused.
    response = client.post(path, {**fields, "status": "not_started", "note": "x"})
    assert "Choose the action&#39;s status" in response.content.decode()
    action.refresh_from_db()
    assert action.status == Status.DONE


def test_a_session_about_an_issue_ticks_it_and_its_actions(
    world: World, client_for: Any, theirs: dict[str, Any]
) -> None:
    issue = an_issue(world)
    action = an_action(world, issue)
    client = client_for(world.commissioner)
    path = reverse("outcomes:session_create") + f"?issue={issue.pk}"
    page = client.get(path).content.decode()
    assert f'value="{issue.pk}" checked' in page
    assert f'value="{action.pk}" checked' in page
    # South's issue is not offered.
    assert "South forum" not in page
    response = client.post(
        path,
        {
            "title": "Carers' forum",
            **date_fields("held_on", today()),
            "people_using_services": "2",
            "carers": "7",
            "staff": "3",
            "issues": [issue.pk],
            "actions": [action.pk],
            "notes": "Agreed",
        },
    )
    session = EngagementSession.objects.get(organisation=world.org_x)
    assert response.status_code == 302
    assert response["Location"] == reverse("outcomes:session_detail", args=[session.pk])
    assert list(session.actions.all()) == [action]
    page = client.get(response["Location"]).content.decode()
    assert "2 people who use services, 7 carers, 3 staff" in page
    assert "Fewer carers have emergency back-up" in page
    detail = client.get(reverse("outcomes:issue_detail", args=[issue.pk])).content.decode()
    assert "Carers&#39; forum" in detail


def test_the_session_form_shows_its_errors_and_refuses_others_records(
    world: World, client_for: Any, theirs: dict[str, Any]
) -> None:
    client = client_for(world.commissioner)
    response = client.post(
        reverse("outcomes:session_create"),
        {
            "title": "",
            **date_fields("held_on", today() + datetime.timedelta(days=1)),
            "people_using_services": "0",
            "carers": "0",
            "staff": "-1",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Say what the session was" in page
    assert "The number of staff cannot be below 0" in page
    response = client.post(
        reverse("outcomes:session_create"),
        {
            "title": "Forum",
            **date_fields("held_on", today() + datetime.timedelta(days=1)),
            "people_using_services": "0",
            "carers": "0",
            "staff": "0",
        },
    )
    assert "Enter how many people came: at least 1 in all" in response.content.decode()
    response = client.post(
        reverse("outcomes:session_create"),
        {
            "title": "Forum",
            **date_fields("held_on", today() + datetime.timedelta(days=1)),
            "people_using_services": "0",
            "carers": "5",
            "staff": "0",
        },
    )
    page = response.content.decode()
    assert "The date the session was held must be today or before." in page
    assert "<title>Error: " in page
    # South ICB's issue cannot be slipped into North's session.
    an_issue(world)
    response = client.post(
        reverse("outcomes:session_create"),
        {
            "title": "Forum",
            **date_fields("held_on", today()),
            "people_using_services": "1",
            "carers": "0",
            "staff": "0",
            "issues": [theirs["issue"].pk],
        },
    )
    assert response.status_code == 200
    assert "Choose issues from the list" in response.content.decode()
    assert not EngagementSession.objects.filter(organisation=world.org_x).exists()


def test_the_open_actions_include_renders_for_the_home_page(world: World) -> None:
    from django.template import engines

    action = an_action(world, an_issue(world))
    template = engines["jinja2"].from_string(
        '{% from "outcomes/includes/open_actions.html" import open_actions %}'
        "{{ open_actions(actions) }}"
    )
    html = template.render({"actions": list(improvement.open_actions_for(world.commissioner))})
    assert f'data-action="{action.pk}"' in html
    assert "1 action is not done yet" in html
    included = engines["jinja2"].get_template("outcomes/includes/open_actions.html")
    assert "No improvement actions are waiting" in included.render({"actions": []})


def test_the_home_page_queries_do_not_grow_with_its_rows(
    world: World, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for(world.commissioner)
    path = reverse("outcomes:improvement_home")
    issue = an_issue(world)
    an_action(world, issue)
    client.get(path)
    with django_assert_max_num_queries(30) as few:
        client.get(path)
    for _ in range(4):
        more = an_issue(world)
        an_action(world, more)
        an_action(world, more)
        improvement.session_record(
            organisation=world.org_x,
            recorded_by=world.commissioner,
            held_on=today(),
            title="Forum",
            carers=2,
            issues=[more],
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(path)


def test_a_commissioner_of_two_organisations_sees_whose_issue_each_is_in_a_session(
    world: World, client_for: Any
) -> None:
    MembershipFactory(user=world.commissioner, organisation=world.org_y, role=Role.COMMISSIONER)
    an_action(world, an_issue(world))
    an_issue(world, world.org_y)
    client = client_for(world.commissioner)
    page = client.get(reverse("outcomes:session_create")).content.decode()
    assert "North ICB: Fewer carers have emergency back-up" in page
    assert "South ICB: Fewer carers have emergency back-up" in page
    assert "North ICB: Ask every carer about back-up at review" in page
    response = client.post(
        reverse("outcomes:session_create"),
        {
            "organisation": world.org_y.pk,
            "title": "Forum",
            **date_fields("held_on", today()),
            "carers": "3",
            "issues": [i.pk for i in ImprovementIssue.objects.all()],
        },
    )
    assert response.status_code == 200
    assert "Choose issues of the same organisation." in response.content.decode()
    assert not EngagementSession.objects.exists()


def test_an_issue_is_changed_and_keeps_the_report_it_was_found_in(
    world: World, client_for: Any
) -> None:
    issue = an_issue(world)
    client = client_for(world.commissioner)
    path = reverse("outcomes:issue_edit", args=[issue.pk])
    page = client.get(path).content.decode()
    assert "Change the issue" in page
    assert 'value="Fewer carers have emergency back-up"' in page
    assert "Which organisation" not in page
    response = client.post(path, {"title": ""})
    assert "Say what the issue is" in response.content.decode()
    response = client.post(path, {"title": "Carers lack back-up", "area": "emergency_backup"})
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.title == "Carers lack back-up"
    assert issue.area == "emergency_backup"
    assert issue.report_filters == {"kind": "carer", "organisation": str(world.org_x.pk)}


def test_line_breaks_in_an_issue_and_a_session_are_kept_and_escaped(
    world: World, client_for: Any
) -> None:
    issue = improvement.issue_create(
        organisation=world.org_x,
        created_by=world.commissioner,
        title="Waiting",
        description="First line\nSecond <b>line</b>",
    )
    session = improvement.session_record(
        organisation=world.org_x,
        recorded_by=world.commissioner,
        held_on=today(),
        title="Forum",
        carers=2,
        notes="Agreed A\n\nAgreed B",
    )
    client = client_for(world.commissioner)
    page = client.get(reverse("outcomes:issue_detail", args=[issue.pk])).content.decode()
    assert "<p>First line</p>" in page
    assert "Second &lt;b&gt;line&lt;/b&gt;</p>" in page
    page = client.get(reverse("outcomes:session_detail", args=[session.pk])).content.decode()
    assert "<p>Agreed A</p>" in page
    assert "Agreed B</p>" in page
