"""The survey sweep (outcomes/scheduling.py): surveys fall due on the right day, each
person is invited once (re-runs, two sweeps at once), opt-outs and the schedule's choices
are respected, reminders go once, invitations expire and rounds close, people nobody
can reach are counted, and a person with an ICB and a council is asked once."""

from __future__ import annotations

import datetime
import re
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import psycopg2
import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from budgets.models import BudgetHolder
from core.locks import _lock_id
from core.models import Notification
from outcomes import tasks
from outcomes.links import LinkRefused, invitation_from_token, invitation_token
from outcomes.models import (
    Instrument,
    RespondentKind,
    SurveyInvitation,
    SurveyOptOut,
    SurveyRound,
    SurveySchedule,
)
from outcomes.scheduling import (
    _create_invitations,
    _schedules,
    add_months,
    month_end,
    survey_due,
    survey_sweep,
    survey_sweep_unlocked,
)
from plans import services as plan_services
from plans.models import CircleMember, SupportPlan
from tests.factories import BudgetHolderFactory, OrganisationFactory, make_budget
from tests.plans.conftest import fill_plan, make_active, pw  # noqa: F401
from users.models import Organisation, Representation

# The sweep's ``today`` says which surveys are due and which rounds close; the times an
# invitation was sent, is reminded and expires follow the clock. So holder A's first
# survey falls due this month (on the 15th), and the other dates count from it.
FIRST_DUE = timezone.localdate().replace(day=15)
ANCHOR = add_months(FIRST_DUE, -6)  # the day holder A's first plan was approved
SECOND_DUE = add_months(FIRST_DUE, 12)  # then every 12 months
CARER_EMAIL = "Jo.Sister@Example.test"


def _noon(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


@pytest.fixture
def links(monkeypatch: Any) -> list[tuple[int, bool]]:
    """Carers' link emails, sent at once (in place of the Celery queue) and recorded."""
    sent: list[tuple[int, bool]] = []

    def send_now(pk: int, *, reminder: bool = False) -> None:
        sent.append((pk, reminder))
        tasks.survey_link_email(pk, reminder=reminder)

    monkeypatch.setattr(tasks.survey_link_email, "delay", send_now)
    return sent


@pytest.fixture
def surveyed(pw: Any, links: Any) -> Any:  # noqa: F811
    """Holder A's plan in force (approved on ANCHOR) with Jo, a family carer with an email
    address, and North ICB surveying on the default schedule (6 months, then yearly)."""
    holder = pw.world.holder_a.user
    plan = fill_plan(
        plan_services.plan_start(budget=pw.world.budget_a, started_by=holder),
        holder,
        weekly_pence=250_00,
    )
    # Parts of a plan are fixed once it is sent, so Jo's address goes in first.
    CircleMember.objects.filter(plan=plan, relationship=CircleMember.Relationship.CARER).update(
        email=CARER_EMAIL
    )
    plan = make_active(plan, pw)
    SupportPlan.objects.filter(pk=plan.pk).update(approved_at=_noon(ANCHOR))
    SurveySchedule.objects.create(organisation=pw.world.org_x)
    pw.plan = plan
    return pw


def _sweep(today: datetime.date, capture: Any) -> dict[str, int]:
    with capture(execute=True):
        counts = survey_sweep(today=today)
    assert counts is not None
    return counts


def _who() -> set[tuple[str, str, int]]:
    return set(
        SurveyInvitation.objects.values_list("respondent_kind", "respondent_key", "sequence")
    )


def _survey_notes(user: Any) -> list[str]:
    return list(
        Notification.objects.filter(user=user, link=reverse("outcomes:survey_list"))
        .order_by("pk")
        .values_list("subject", flat=True)
    )


# Due dates ------------------------------------------------------------------------------


def test_a_month_later_is_the_same_day_or_the_shorter_months_last_day() -> None:
    assert add_months(datetime.date(2025, 1, 15), 6) == datetime.date(2025, 7, 15)
    assert add_months(datetime.date(2025, 1, 31), 1) == datetime.date(2025, 2, 28)
    assert add_months(datetime.date(2024, 2, 29), 12) == datetime.date(2025, 2, 28)
    assert add_months(datetime.date(2025, 8, 31), 6) == datetime.date(2026, 2, 28)
    assert add_months(datetime.date(2025, 11, 30), 3) == datetime.date(2026, 2, 28)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (datetime.date(2025, 7, 14), None),
        (datetime.date(2025, 7, 15), (1, datetime.date(2025, 7, 15))),
        (datetime.date(2026, 7, 14), (1, datetime.date(2025, 7, 15))),
        (datetime.date(2026, 7, 15), (2, datetime.date(2026, 7, 15))),
        # Three years late: only the survey due now, not the ones missed.
        (datetime.date(2028, 8, 1), (4, datetime.date(2028, 7, 15))),
    ],
)
def test_survey_n_is_due_months_after_the_first_approval(
    today: datetime.date, expected: tuple[int, datetime.date] | None
) -> None:
    schedule = SurveySchedule(first_after_months=6, then_every_months=12)
    assert survey_due(datetime.date(2025, 1, 15), schedule, today) == expected


def test_a_first_plan_approved_on_the_31st_is_surveyed_on_the_last_day_of_a_short_month() -> None:
    schedule = SurveySchedule(first_after_months=1, then_every_months=1)
    anchor = datetime.date(2025, 1, 31)
    assert survey_due(anchor, schedule, datetime.date(2025, 2, 27)) is None
    assert survey_due(anchor, schedule, datetime.date(2025, 2, 28)) == (
        1,
        datetime.date(2025, 2, 28),
    )
    assert survey_due(anchor, schedule, datetime.date(2025, 3, 31)) == (
        2,
        datetime.date(2025, 3, 31),
    )


def test_nobody_is_invited_the_day_before_the_first_survey_is_due(
    surveyed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    counts = _sweep(FIRST_DUE - datetime.timedelta(days=1), django_capture_on_commit_callbacks)
    assert not SurveyInvitation.objects.exists()
    assert not SurveyRound.objects.exists()
    assert counts.get("invited_holder", 0) == 0


def test_on_the_due_day_the_holder_the_carer_and_the_plans_staff_are_invited(
    surveyed: Any, links: list[tuple[int, bool]], django_capture_on_commit_callbacks: Any
) -> None:
    world = surveyed.world
    counts = _sweep(FIRST_DUE, django_capture_on_commit_callbacks)

    assert counts["invited_holder"] == counts["invited_carer"] == counts["invited_staff"] == 1
    assert _who() == {
        ("holder", "holder", 1),
        ("carer", "carer:jo.sister@example.test", 1),
        ("staff", f"staff:{surveyed.clinician.pk}", 1),
    }
    holder = SurveyInvitation.objects.get(respondent_kind=RespondentKind.HOLDER)
    assert holder.user == world.holder_a.user
    assert holder.due_on == FIRST_DUE
    assert holder.sent_at is not None
    assert holder.state == SurveyInvitation.State.SENT
    window = holder.expires_at - holder.sent_at
    assert datetime.timedelta(days=41, hours=23) < window <= datetime.timedelta(days=42)
    # One round per kind for this month, with the instrument in use.
    for kind in RespondentKind.values:
        survey_round = SurveyRound.objects.get(respondent_kind=kind)
        assert survey_round.organisation == world.org_x
        assert survey_round.period_start == FIRST_DUE.replace(day=1)
        assert survey_round.closes_on == month_end(FIRST_DUE) + datetime.timedelta(days=42)
        assert survey_round.instrument == Instrument.objects.current(kind)
        assert survey_round.invitations.count() == 1
    # The holder and their representative hear in the app (and by email); so does the
    # clinician who approved the plan; Jo gets a signed link by email.
    assert len(_survey_notes(world.holder_a.user)) == 1
    assert _survey_notes(world.representative) == [
        "Tell us how Alex Holder's personal health budget is going"
    ]
    assert len(_survey_notes(surveyed.clinician)) == 1
    carer = SurveyInvitation.objects.get(respondent_kind=RespondentKind.CARER)
    assert carer.email == CARER_EMAIL
    assert carer.name == "Jo Sister"
    assert carer.user is None
    assert links == [(carer.pk, False)]
    [email] = mail.outbox
    assert email.to == [CARER_EMAIL]
    # The email's link is the carer's own: its token opens this invitation.
    [token] = re.findall(r"/surveys/link/([^/\s]+)/", email.body)
    assert invitation_from_token(token) == carer
    assert "Alex Holder" in email.body


def test_running_the_sweep_again_invites_and_tells_nobody_twice(
    surveyed: Any, links: list[tuple[int, bool]], django_capture_on_commit_callbacks: Any
) -> None:
    world = surveyed.world
    _sweep(FIRST_DUE, django_capture_on_commit_callbacks)
    before = _who()
    again = _sweep(FIRST_DUE, django_capture_on_commit_callbacks)
    later = _sweep(FIRST_DUE + datetime.timedelta(days=20), django_capture_on_commit_callbacks)
    assert _who() == before
    for counts in (again, later):
        assert not any(k.startswith("invited_") and v for k, v in counts.items())
    assert len(_survey_notes(world.holder_a.user)) == 1
    assert len(_survey_notes(world.representative)) == 1
    assert len(links) == len(mail.outbox) == 1
    # Next month's sweep makes no empty round for people already invited.
    _sweep(add_months(FIRST_DUE, 1), django_capture_on_commit_callbacks)
    assert SurveyRound.objects.count() == 3


def test_the_next_survey_is_due_a_year_later_to_the_day(
    surveyed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _sweep(FIRST_DUE, django_capture_on_commit_callbacks)
    _sweep(SECOND_DUE - datetime.timedelta(days=1), django_capture_on_commit_callbacks)
    assert {seq for *_, seq in _who()} == {1}
    counts = _sweep(SECOND_DUE, django_capture_on_commit_callbacks)
    assert counts["invited_holder"] == 1
    assert {seq for *_, seq in _who()} == {1, 2}
    second = SurveyInvitation.objects.get(respondent_kind=RespondentKind.HOLDER, sequence=2)
    assert second.due_on == SECOND_DUE
    assert second.round.period_start == SECOND_DUE.replace(day=1)


def test_surveys_missed_while_there_was_no_schedule_are_not_sent_late(
    surveyed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    three_years_late = add_months(FIRST_DUE, 36) + datetime.timedelta(days=17)
    _sweep(three_years_late, django_capture_on_commit_callbacks)
    assert {seq for *_, seq in _who()} == {4}


def test_a_schedule_made_more_frequent_asks_nobody_twice_on_one_day(
    surveyed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    month_18 = add_months(ANCHOR, 18)
    _sweep(month_18, django_capture_on_commit_callbacks)  # survey 2 of a yearly schedule
    SurveySchedule.objects.update(then_every_months=6)  # now survey 3 would be due today
    _sweep(month_18, django_capture_on_commit_callbacks)
    assert {seq for *_, seq in _who()} == {2}
    _sweep(add_months(ANCHOR, 24), django_capture_on_commit_callbacks)
    assert {seq for *_, seq in _who()} == {2, 4}


def test_a_schedule_made_less_frequent_does_not_reuse_a_survey_number(
    surveyed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    SurveySchedule.objects.update(then_every_months=6)
    _sweep(add_months(ANCHOR, 18), django_capture_on_commit_callbacks)  # survey 3
    SurveySchedule.objects.update(then_every_months=12)
    _sweep(add_months(ANCHOR, 18), django_capture_on_commit_callbacks)  # 2 would be due
    assert {seq for *_, seq in _who()} == {3}
    # A year later survey 3 of the yearly schedule is due: it is numbered 4, and sent.
    counts = _sweep(add_months(ANCHOR, 30), django_capture_on_commit_callbacks)
    assert counts["invited_holder"] == 1
    assert {seq for *_, seq in _who()} == {3, 4}
    latest = SurveyInvitation.objects.get(respondent_kind=RespondentKind.HOLDER, sequence=4)
    assert latest.due_on == add_months(ANCHOR, 30)


def _holders_with_plans(world: Any, count: int, planner: Any) -> None:
    """``count`` holders of North ICB, each with a plan in force, approved on ANCHOR, that
    ``planner`` wrote (made directly: only the sweep is under test here)."""
    for _ in range(count):
        holder = BudgetHolderFactory(organisation=world.org_x)
        SupportPlan.objects.create(
            holder=holder,
            budget=make_budget(holder),
            state=SupportPlan.State.ACTIVE,
            created_by=planner,
            approved_at=_noon(ANCHOR),
            active_from=_noon(ANCHOR),
        )


def test_finding_who_to_invite_takes_as_many_queries_for_many_holders_as_for_few(
    surveyed: Any,
) -> None:
    """Set-based: a few queries for each batch of holders, none for each holder."""
    schedules = _schedules(None)

    def queries_to_invite() -> int:
        SurveyInvitation.objects.all().delete()
        SurveyRound.objects.all().delete()
        with CaptureQueriesContext(connection) as captured:
            _create_invitations(schedules, FIRST_DUE, Counter())
        return len(captured)

    few = queries_to_invite()
    _holders_with_plans(surveyed.world, 12, surveyed.planner)
    many = queries_to_invite()
    assert SurveyInvitation.objects.count() == 3 + 12 * 2  # each holder and their planner
    assert many == few


# Who is asked ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", RespondentKind.values)
def test_someone_who_opted_out_is_not_invited(
    kind: str, surveyed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    world = surveyed.world
    who = {
        RespondentKind.HOLDER: {"holder": world.holder_a},
        RespondentKind.CARER: {"email": "jo.sister@EXAMPLE.test"},  # any letter case
        RespondentKind.STAFF: {"user": surveyed.clinician},
    }[kind]
    SurveyOptOut.objects.create(respondent_kind=kind, **who)
    counts = _sweep(FIRST_DUE, django_capture_on_commit_callbacks)
    assert counts["opted_out"] == 1
    asked = {k for k, *_ in _who()}
    assert asked == set(RespondentKind.values) - {kind}


def test_the_schedule_says_who_is_asked(
    surveyed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    SurveySchedule.objects.update(ask_carers=False, ask_staff=False)
    _sweep(FIRST_DUE, django_capture_on_commit_callbacks)
    assert _who() == {("holder", "holder", 1)}


def test_an_inactive_schedule_invites_nobody(
    surveyed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    SurveySchedule.objects.update(active=False)
    _sweep(FIRST_DUE, django_capture_on_commit_callbacks)
    assert not SurveyInvitation.objects.exists()


def test_a_holder_whose_record_is_ended_is_not_asked(
    surveyed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    BudgetHolder.objects.filter(pk=surveyed.world.holder_a.pk).update(
        status=BudgetHolder.Status.ENDED
    )
    _sweep(FIRST_DUE, django_capture_on_commit_callbacks)
    assert not SurveyInvitation.objects.exists()


def test_a_holder_nobody_can_answer_for_is_counted_and_the_others_are_still_asked(
    surveyed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    holder = surveyed.world.holder_a
    BudgetHolder.objects.filter(pk=holder.pk).update(user=None)
    Representation.objects.filter(holder=holder).delete()
    counts = _sweep(FIRST_DUE, django_capture_on_commit_callbacks)
    assert counts["not_reachable"] == 1
    assert {k for k, *_ in _who()} == {RespondentKind.CARER, RespondentKind.STAFF}


def test_a_holder_without_an_account_is_asked_through_their_representative(
    surveyed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    world = surveyed.world
    holder_user = world.holder_a.user
    BudgetHolder.objects.filter(pk=world.holder_a.pk).update(user=None)
    counts = _sweep(FIRST_DUE, django_capture_on_commit_callbacks)
    assert counts.get("not_reachable", 0) == 0
    invitation = SurveyInvitation.objects.get(respondent_kind=RespondentKind.HOLDER)
    assert invitation.user is None
    assert len(_survey_notes(world.representative)) == 1
    assert _survey_notes(holder_user) == []
    assert SurveyInvitation.objects.for_user(world.representative).filter(pk=invitation.pk)


def test_staff_who_only_wrote_the_plan_elsewhere_or_belong_to_a_provider_are_not_asked(
    surveyed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # The plan was started by holder A (not staff); the clinician approved it; holder A's
    # own agreement is not a staff step.
    _sweep(FIRST_DUE, django_capture_on_commit_callbacks)
    staff = {key for kind, key, _ in _who() if kind == RespondentKind.STAFF}
    assert staff == {f"staff:{surveyed.clinician.pk}"}


def test_a_person_with_an_icb_and_a_council_is_asked_once_by_the_icb(
    surveyed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    council = OrganisationFactory(kind=Organisation.Kind.LOCAL_AUTHORITY, name="Leeds Council")
    BudgetHolder.objects.filter(pk=surveyed.world.holder_a.pk).update(council=council)
    # The council asks sooner; the ICB leads for an integrated budget, so it does not.
    SurveySchedule.objects.create(organisation=council, first_after_months=3)
    _sweep(add_months(ANCHOR, 3), django_capture_on_commit_callbacks)
    assert not SurveyInvitation.objects.exists()
    _sweep(FIRST_DUE, django_capture_on_commit_callbacks)
    _sweep(FIRST_DUE + datetime.timedelta(days=1), django_capture_on_commit_callbacks)
    assert SurveyInvitation.objects.filter(respondent_kind=RespondentKind.HOLDER).count() == 1
    assert set(SurveyRound.objects.values_list("organisation", flat=True)) == {
        surveyed.world.org_x.pk
    }
    assert len(_survey_notes(surveyed.world.holder_a.user)) == 1


def test_a_council_asks_when_the_persons_icb_does_not(
    surveyed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    council = OrganisationFactory(kind=Organisation.Kind.LOCAL_AUTHORITY, name="Leeds Council")
    BudgetHolder.objects.filter(pk=surveyed.world.holder_a.pk).update(council=council)
    SurveySchedule.objects.filter(organisation=surveyed.world.org_x).update(active=False)
    SurveySchedule.objects.create(organisation=council, first_after_months=3)
    _sweep(add_months(ANCHOR, 3), django_capture_on_commit_callbacks)
    holder = SurveyInvitation.objects.get(respondent_kind=RespondentKind.HOLDER)
    assert holder.round.organisation == council
    # Staff are asked only if they work for the organisation asking.
    assert {k for k, *_ in _who()} == {RespondentKind.HOLDER, RespondentKind.CARER}


# Reminders, expiry and closing ----------------------------------------------------------


def _sent_days_ago(days: int) -> None:
    SurveyInvitation.objects.update(sent_at=timezone.now() - datetime.timedelta(days=days))


def test_a_reminder_goes_once_after_the_set_days_to_those_who_have_not_answered(
    surveyed: Any, links: list[tuple[int, bool]], django_capture_on_commit_callbacks: Any
) -> None:
    world = surveyed.world
    _sweep(FIRST_DUE, django_capture_on_commit_callbacks)
    _sent_days_ago(13)
    assert _sweep(FIRST_DUE, django_capture_on_commit_callbacks).get("reminded", 0) == 0
    _sent_days_ago(14)
    SurveyInvitation.objects.filter(respondent_kind=RespondentKind.STAFF).update(
        state=SurveyInvitation.State.SUBMITTED, answered_at=timezone.now()
    )
    counts = _sweep(FIRST_DUE, django_capture_on_commit_callbacks)
    assert counts["reminded"] == 2  # the holder's and the carer's; the staff answered
    assert _survey_notes(world.holder_a.user)[-1].startswith("Reminder: ")
    assert len(_survey_notes(surveyed.clinician)) == 1
    carer = SurveyInvitation.objects.get(respondent_kind=RespondentKind.CARER)
    assert links[-1] == (carer.pk, True)
    assert mail.outbox[-1].subject.endswith("Reminder: Tell us how being a carer is going")
    # Never twice.
    assert _sweep(FIRST_DUE, django_capture_on_commit_callbacks).get("reminded", 0) == 0
    assert len(_survey_notes(world.holder_a.user)) == 2
    assert SurveyInvitation.objects.filter(reminded_at__isnull=False).count() == 2


def test_someone_who_opts_out_after_the_invitation_is_not_reminded(
    surveyed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _sweep(FIRST_DUE, django_capture_on_commit_callbacks)
    SurveyOptOut.objects.create(respondent_kind=RespondentKind.CARER, email=CARER_EMAIL.upper())
    SurveyOptOut.objects.create(respondent_kind=RespondentKind.STAFF, user=surveyed.clinician)
    _sent_days_ago(20)
    counts = _sweep(FIRST_DUE, django_capture_on_commit_callbacks)
    assert counts["reminded"] == 1
    assert set(
        SurveyInvitation.objects.filter(reminded_at__isnull=False).values_list(
            "respondent_kind", flat=True
        )
    ) == {RespondentKind.HOLDER}


def test_an_unanswered_invitation_expires_and_its_link_stops_working(
    surveyed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _sweep(FIRST_DUE, django_capture_on_commit_callbacks)
    carer = SurveyInvitation.objects.get(respondent_kind=RespondentKind.CARER)
    token = invitation_token(carer)
    assert invitation_from_token(token) == carer
    SurveyInvitation.objects.filter(respondent_kind=RespondentKind.HOLDER).update(
        state=SurveyInvitation.State.DECLINED, declined_at=timezone.now()
    )
    SurveyInvitation.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    counts = _sweep(FIRST_DUE, django_capture_on_commit_callbacks)
    assert counts["expired"] == 2  # the carer's and the staff's; the holder declined
    states = dict(SurveyInvitation.objects.values_list("respondent_kind", "state"))
    assert states == {
        RespondentKind.HOLDER: SurveyInvitation.State.DECLINED,
        RespondentKind.CARER: SurveyInvitation.State.EXPIRED,
        RespondentKind.STAFF: SurveyInvitation.State.EXPIRED,
    }
    with pytest.raises(LinkRefused) as refused:
        invitation_from_token(token)
    assert refused.value.status == 410
    # An expired invitation is not reminded either.
    SurveyInvitation.objects.update(sent_at=timezone.now() - datetime.timedelta(days=30))
    assert _sweep(FIRST_DUE, django_capture_on_commit_callbacks).get("reminded", 0) == 0


def test_a_round_closes_after_its_closing_day_and_what_was_open_in_it_expires(
    surveyed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _sweep(FIRST_DUE, django_capture_on_commit_callbacks)
    closes_on = SurveyRound.objects.get(respondent_kind=RespondentKind.HOLDER).closes_on
    SurveyInvitation.objects.filter(respondent_kind=RespondentKind.STAFF).update(
        state=SurveyInvitation.State.SUBMITTED, answered_at=timezone.now()
    )
    assert _sweep(closes_on, django_capture_on_commit_callbacks).get("rounds_closed", 0) == 0
    assert not SurveyRound.objects.filter(state=SurveyRound.State.CLOSED).exists()

    counts = _sweep(closes_on + datetime.timedelta(days=1), django_capture_on_commit_callbacks)
    assert counts["rounds_closed"] == 3
    assert counts["expired"] == 2
    for survey_round in SurveyRound.objects.all():
        assert survey_round.state == SurveyRound.State.CLOSED
        assert survey_round.closed_at is not None
    assert SurveyInvitation.objects.get(respondent_kind=RespondentKind.STAFF).state == (
        SurveyInvitation.State.SUBMITTED
    )
    assert not SurveyInvitation.objects.answerable().exists()


def test_a_round_stays_open_until_its_last_invitation_expires(
    surveyed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _sweep(FIRST_DUE, django_capture_on_commit_callbacks)
    survey_round = SurveyRound.objects.get(respondent_kind=RespondentKind.HOLDER)
    made_with = survey_round.closes_on
    # The answering window grows after this month's round was made, and someone new is
    # invited into it (here: the holder's invitation made again).
    SurveySchedule.objects.update(answer_within_days=90)
    SurveyInvitation.objects.filter(respondent_kind=RespondentKind.HOLDER).delete()
    _sweep(FIRST_DUE + datetime.timedelta(days=1), django_capture_on_commit_callbacks)
    invitation = SurveyInvitation.objects.get(respondent_kind=RespondentKind.HOLDER)
    assert invitation.round == survey_round
    survey_round.refresh_from_db()
    assert survey_round.closes_on > made_with
    assert survey_round.closes_on >= timezone.localtime(invitation.expires_at).date()


# Two sweeps at once ---------------------------------------------------------------------


def _at_once(actions: list[Callable[[], Any]]) -> list[Any]:
    """Run each action on its own thread and database connection, released together."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(i: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=60)
            results[i] = actions[i]()
        except Exception as error:
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("sweep", [survey_sweep, survey_sweep_unlocked])
def test_two_sweeps_at_once_invite_and_tell_each_person_once(
    sweep: Any, surveyed: Any, links: list[tuple[int, bool]]
) -> None:
    """With the lock (one of them waits its turn or finds the work done) and without it
    (the unique constraint and the claims alone): each person invited and told once."""
    world = surveyed.world
    for attempt in range(3):
        results = _at_once([lambda: sweep(today=FIRST_DUE)] * 3)
        assert not [r for r in results if isinstance(r, Exception)], results
        assert SurveyInvitation.objects.count() == 3, attempt
        invited = sum(
            r.get(f"invited_{kind}", 0)
            for r in results
            if r is not None
            for kind in RespondentKind.values
        )
        assert invited == (3 if attempt == 0 else 0)
    assert SurveyInvitation.objects.filter(sent_at__isnull=True).count() == 0
    assert len(_survey_notes(world.holder_a.user)) == 1
    assert len(_survey_notes(world.representative)) == 1
    assert len(_survey_notes(surveyed.clinician)) == 1
    assert len(links) == 1
    assert SurveyRound.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_sweep_that_finds_another_running_does_nothing(surveyed: Any) -> None:
    db = connection.settings_dict
    other = psycopg2.connect(
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        dbname=db["NAME"],
    )
    other.autocommit = True
    try:
        other.cursor().execute("SELECT pg_advisory_lock(%s)", [_lock_id("outcomes.survey_sweep")])
        assert survey_sweep(today=FIRST_DUE) is None
        assert not SurveyInvitation.objects.exists()
        other.cursor().execute("SELECT pg_advisory_unlock(%s)", [_lock_id("outcomes.survey_sweep")])
    finally:
        other.close()
    assert survey_sweep(today=FIRST_DUE)["invited_holder"] == 1  # type: ignore[index]
