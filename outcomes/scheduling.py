"""The daily survey sweep: invite the people whose survey has fallen due, send the
invitations, remind once, expire what was not answered in time, and close rounds.

Who is surveyed, and by which schedule. Each holder is surveyed under one schedule
only: their ICB's (``BudgetHolder.organisation``) when it is active, otherwise their
council's (``BudgetHolder.council``, for an integrated budget) when that is active. So a
person with an integrated budget is never asked twice for the same survey, even when the
ICB and the council ask at different intervals; their answers still carry the council as
a report dimension, so the council's reports count them either way.

When. Survey ``n`` of a person is due on ``anchor + first_after_months + (n - 1) *
then_every_months``, where the anchor is the day their first support plan was approved.
The sweep creates only the latest survey due on the day it runs: missed ones are not
sent late (someone whose schedule starts three years after their first plan gets survey
4, not 1 to 4 at once). Nobody already asked for that due date, or a later one, is asked
again, and a person's survey numbers only go up: a schedule changed from yearly to
six-monthly (or back) neither asks anyone twice on one day nor reuses a number.

Who is asked about a person:

- the holder, if they have an account or a current representative who can answer for
  them; otherwise the holder is counted as not reachable;
- each family carer (circle of support, relationship "carer", with an email address) in
  the plan in force, through a signed link (``respondent_key = carer:<email>``);
- the staff of the schedule's organisation (not provider staff) who created or approved
  (clinician or commissioner step) the plan in force (``staff:<user id>``).

Opt-outs (``SurveyOptOut``: holder by record, carer by email, staff by account) are never
invited or reminded; holders whose record is ended are not asked.

Exactly once. The unique constraint ``invitation_once_per_survey`` (holder, kind,
respondent, sequence) makes the insert idempotent (``ON CONFLICT DO NOTHING``); sending
then claims unsent invitations (``sent_at IS NULL``) under ``FOR UPDATE SKIP LOCKED`` and
sets ``sent_at`` in the same transaction as the notifications, so a re-run, a retry or two
sweeps at once send each invitation once. Reminders are claimed the same way through
``reminded_at``. The whole sweep also runs under ``sweep_lock``; the constraint and the
claims are what make it safe even without it.

The day and the clock. ``today`` decides which surveys are due, which month's round
they go in and which rounds close; the times an invitation is sent, reminded and expires
follow the clock (``timezone.now()``). They are the same day in the daily job; tests and
a catch-up run may pass another ``today``.
"""

from __future__ import annotations

import calendar
import datetime
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from itertools import islice
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from budgets.models import BudgetHolder
from core.locks import sweep_lock
from core.services import audit_record, notification_send
from outcomes.models import (
    Instrument,
    RespondentKind,
    SurveyInvitation,
    SurveyOptOut,
    SurveyRound,
    SurveySchedule,
)
from plans.models import CircleMember, PlanApproval, SupportPlan
from users.models import Membership, Organisation, Representation, Role

LOCK_NAME = "outcomes.survey_sweep"
HOLDER_BATCH = 1000
SEND_BATCH = 500
ANSWERABLE = (SurveyInvitation.State.SENT, SurveyInvitation.State.STARTED)
# The sign-offs that make a member of staff someone who "approved" the plan.
APPROVING_STEPS = (PlanApproval.Step.CLINICIAN, PlanApproval.Step.COMMISSIONER)


# Dates ----------------------------------------------------------------------------------


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later; the month's last day where it is shorter (31 January
    plus one month is 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def survey_due(
    anchor: datetime.date, schedule: SurveySchedule, today: datetime.date
) -> tuple[int, datetime.date] | None:
    """The latest survey due on ``today`` (its sequence number and due date), or None
    before the first one is due."""
    months = (today.year - anchor.year) * 12 + today.month - anchor.month
    if add_months(anchor, months) > today:
        months -= 1
    if months < schedule.first_after_months:
        return None
    sequence = 1 + (months - schedule.first_after_months) // schedule.then_every_months
    due_on = add_months(
        anchor, schedule.first_after_months + (sequence - 1) * schedule.then_every_months
    )
    return sequence, due_on


def month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


# Who is asked ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DueSurvey:
    holder_id: int
    holder_user_id: int | None
    schedule: SurveySchedule
    sequence: int
    due_on: datetime.date


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _schedules(organisation_ids: Iterable[int] | None) -> dict[int, SurveySchedule]:
    schedules = SurveySchedule.objects.filter(
        active=True,
        organisation__kind__in=[Organisation.Kind.ICB, Organisation.Kind.LOCAL_AUTHORITY],
    ).select_related("organisation")
    if organisation_ids is not None:
        schedules = schedules.filter(organisation_id__in=list(organisation_ids))
    return {s.organisation_id: s for s in schedules}


def _due_surveys(schedules: dict[int, SurveySchedule], today: datetime.date) -> Iterator[DueSurvey]:
    """Every holder with a survey due today, under the one schedule that covers them.

    One query (streamed) for the holders and the day their first plan was approved."""
    if not schedules:
        return
    icbs = [pk for pk, s in schedules.items() if s.organisation.kind == Organisation.Kind.ICB]
    councils = [pk for pk, s in schedules.items() if pk not in icbs]
    # Everyone whose ICB has an active schedule, and those of a council with one whose
    # ICB has none (the ICB leads for an integrated budget: see the module docstring).
    icb_ids = set(
        Organisation.objects.filter(kind=Organisation.Kind.ICB).values_list("pk", flat=True)
    )
    unscheduled_icbs = icb_ids - set(icbs)
    holders = (
        BudgetHolder.objects.exclude(status=BudgetHolder.Status.ENDED)
        .filter(
            Q(organisation_id__in=icbs)
            | Q(council_id__in=councils, organisation_id__in=unscheduled_icbs)
        )
        .annotate(anchor=Min("plans__approved_at"))
        .filter(anchor__isnull=False)
        .order_by("pk")
        .values_list("pk", "user_id", "organisation_id", "council_id", "anchor")
    )
    for pk, user_id, icb_id, council_id, approved_at in holders.iterator(chunk_size=2000):
        schedule = schedules.get(icb_id) or schedules[council_id]
        due = survey_due(timezone.localtime(approved_at).date(), schedule, today)
        if due is not None:
            yield DueSurvey(pk, user_id, schedule, *due)


@dataclass(frozen=True)
class Respondent:
    kind: str
    key: str
    user_id: int | None = None
    name: str = ""
    email: str = ""
    circle_member_key: Any = None


def _respondents(batch: list[DueSurvey], counts: Counter[str]) -> dict[int, list[Respondent]]:
    """Who to ask about each holder of the batch, opt-outs removed. A few queries for
    the whole batch, none per holder."""
    holder_ids = [d.holder_id for d in batch]
    represented = set(
        Representation.objects.current()
        .filter(holder_id__in=holder_ids)
        .values_list("holder_id", flat=True)
    )
    holder_opted_out = set(
        SurveyOptOut.objects.filter(
            respondent_kind=RespondentKind.HOLDER, holder_id__in=holder_ids
        ).values_list("holder_id", flat=True)
    )
    plans = list(
        SupportPlan.objects.filter(
            holder_id__in=holder_ids, state=SupportPlan.State.ACTIVE
        ).values_list("pk", "holder_id", "created_by_id")
    )
    plan_holder = {pk: holder_id for pk, holder_id, _ in plans}
    carers: dict[int, list[CircleMember]] = {}
    for member in CircleMember.objects.filter(
        plan_id__in=plan_holder, relationship=CircleMember.Relationship.CARER
    ).exclude(email=""):
        carers.setdefault(plan_holder[member.plan_id], []).append(member)
    carer_emails = {m.email.lower() for members in carers.values() for m in members}
    carer_opted_out = set(
        SurveyOptOut.objects.filter(respondent_kind=RespondentKind.CARER)
        .annotate(lower_email=Lower("email"))
        .filter(lower_email__in=carer_emails)
        .values_list("lower_email", flat=True)
    )
    worked_on: dict[int, set[int]] = {}
    for _plan_id, holder_id, created_by_id in plans:
        worked_on.setdefault(holder_id, set()).add(created_by_id)
    for plan_id, by_id in PlanApproval.objects.filter(
        plan_id__in=plan_holder, step__in=APPROVING_STEPS
    ).values_list("plan_id", "by_id"):
        worked_on.setdefault(plan_holder[plan_id], set()).add(by_id)
    staff_ids = set().union(*worked_on.values()) if worked_on else set()
    staff_opted_out = set(
        SurveyOptOut.objects.filter(
            respondent_kind=RespondentKind.STAFF, user_id__in=staff_ids
        ).values_list("user_id", flat=True)
    )
    members = set(
        Membership.objects.filter(user_id__in=staff_ids, user__is_active=True)
        .exclude(role=Role.PROVIDER_STAFF)
        .values_list("organisation_id", "user_id")
    )

    asked: dict[int, list[Respondent]] = {}
    for due in batch:
        schedule, people = due.schedule, []
        if schedule.ask_holders:
            if due.holder_id in holder_opted_out:
                counts["opted_out"] += 1
            elif due.holder_user_id is None and due.holder_id not in represented:
                counts["not_reachable"] += 1
            else:
                people.append(Respondent(RespondentKind.HOLDER, "holder", due.holder_user_id))
        if schedule.ask_carers:
            for member in carers.get(due.holder_id, []):
                email = member.email.lower()
                if email in carer_opted_out:
                    counts["opted_out"] += 1
                    continue
                people.append(
                    Respondent(
                        RespondentKind.CARER,
                        f"carer:{email}",
                        name=member.name,
                        email=member.email,
                        circle_member_key=member.key,
                    )
                )
        if schedule.ask_staff:
            for user_id in sorted(worked_on.get(due.holder_id, set())):
                if (schedule.organisation_id, user_id) not in members:
                    continue
                if user_id in staff_opted_out:
                    counts["opted_out"] += 1
                    continue
                people.append(Respondent(RespondentKind.STAFF, f"staff:{user_id}", user_id))
        # The same carer listed twice (two budgets, two entries) is asked once.
        asked[due.holder_id] = list({(p.kind, p.key): p for p in people}.values())
    return asked


# Rounds ---------------------------------------------------------------------------------


class RoundFinder:
    """The open round of (organisation, kind) for this month, made on first use with the
    instrument published for that kind. A round's closing day moves later when an
    invitation put in it would still be open after it."""

    def __init__(self, today: datetime.date) -> None:
        self.period_start = today.replace(day=1)
        self.rounds: dict[tuple[int, str], SurveyRound | None] = {}

    def get(self, schedule: SurveySchedule, kind: str) -> SurveyRound | None:
        key = (schedule.organisation_id, kind)
        if key not in self.rounds:
            self.rounds[key] = self._get_or_create(schedule, kind)
        return self.rounds[key]

    def _get_or_create(self, schedule: SurveySchedule, kind: str) -> SurveyRound | None:
        existing = SurveyRound.objects.filter(
            organisation_id=schedule.organisation_id,
            respondent_kind=kind,
            period_start=self.period_start,
        ).first()
        if existing is not None:
            return existing
        instrument = Instrument.objects.current(kind)
        if instrument is None:
            return None
        closes_on = month_end(self.period_start) + datetime.timedelta(
            days=schedule.answer_within_days
        )
        # get_or_create retries the read if a concurrent sweep made it first.
        survey_round, _ = SurveyRound.objects.get_or_create(
            organisation_id=schedule.organisation_id,
            respondent_kind=kind,
            period_start=self.period_start,
            defaults={"instrument": instrument, "closes_on": closes_on},
        )
        return survey_round

    def keep_open_until(self, survey_round: SurveyRound, day: datetime.date) -> None:
        if survey_round.closes_on < day:
            SurveyRound.objects.filter(pk=survey_round.pk, closes_on__lt=day).update(closes_on=day)
            survey_round.closes_on = day


# Creating, sending, reminding, closing ----------------------------------------------------


def _create_invitations(
    schedules: dict[int, SurveySchedule], today: datetime.date, counts: Counter[str]
) -> None:
    now = timezone.now()
    rounds = RoundFinder(today)
    for batch in _chunks(_due_surveys(schedules, today), HOLDER_BATCH):
        asked = _respondents(batch, counts)
        # Each respondent's latest survey so far. Someone already asked for this due
        # date (or a later one) is skipped, so a round is made only when someone new is
        # invited, and a schedule changed since (yearly to six-monthly) cannot ask anyone
        # twice on one day; the constraint below still settles a race.
        made = {
            (holder_id, kind, key): (last_sequence, last_due)
            for holder_id, kind, key, last_sequence, last_due in SurveyInvitation.objects.filter(
                holder_id__in=[d.holder_id for d in batch]
            )
            .values_list("holder_id", "respondent_kind", "respondent_key")
            .annotate(Max("sequence"), Max("due_on"))
            .order_by()
        }
        invitations = []
        for due in batch:
            expires_at = now + datetime.timedelta(days=due.schedule.answer_within_days)
            for person in asked[due.holder_id]:
                sequence = due.sequence
                before = made.get((due.holder_id, person.kind, person.key))
                if before is not None:
                    if before[1] >= due.due_on:
                        continue
                    # Numbers only go up, even when a schedule change would count lower.
                    sequence = max(sequence, before[0] + 1)
                survey_round = rounds.get(due.schedule, person.kind)
                if survey_round is None:
                    counts["no_instrument"] += 1
                    continue
                rounds.keep_open_until(survey_round, timezone.localtime(expires_at).date())
                invitations.append(
                    SurveyInvitation(
                        round=survey_round,
                        respondent_kind=person.kind,
                        holder_id=due.holder_id,
                        respondent_key=person.key,
                        sequence=sequence,
                        due_on=due.due_on,
                        user_id=person.user_id,
                        name=person.name,
                        email=person.email,
                        circle_member_key=person.circle_member_key,
                        expires_at=expires_at,
                    )
                )
        # ON CONFLICT DO NOTHING: an invitation another sweep made a moment ago stays as
        # it is, and is not sent again below.
        with transaction.atomic():
            SurveyInvitation.objects.bulk_create(
                invitations, batch_size=HOLDER_BATCH, ignore_conflicts=True
            )


def _claim(queryset: Any, field: str, now: datetime.datetime) -> Iterator[list[SurveyInvitation]]:
    """Claim batches of invitations by setting ``field`` where it is still empty. Each
    batch is yielded inside its transaction, with its rows locked, so the notifications
    commit with the claim (or neither does); rows another sweep holds are skipped."""
    while True:
        with transaction.atomic():
            batch = list(
                queryset.filter(**{f"{field}__isnull": True})
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("holder", "round")
                .order_by("pk")[:SEND_BATCH]
            )
            if not batch:
                return
            SurveyInvitation.objects.filter(
                pk__in=[i.pk for i in batch], **{f"{field}__isnull": True}
            ).update(**{field: now})
            yield batch


def _holder_people(holders: list[Any]) -> dict[int, list[Any]]:
    """Who answers for each holder: their own account and their current representatives."""
    people: dict[int, list[Any]] = {h.pk: [h.user] if h.user_id else [] for h in holders}
    for representation in (
        Representation.objects.current()
        .filter(holder__in=holders)
        .select_related("representative")
        .order_by("pk")
    ):
        people[representation.holder_id].append(representation.representative)
    return people


def _notify(invitations: list[SurveyInvitation], *, reminder: bool) -> dict[str, int]:
    from outcomes.tasks import survey_link_email

    link = reverse("outcomes:survey_list")
    people = _holder_people(
        [i.holder for i in invitations if i.respondent_kind == RespondentKind.HOLDER]
    )
    users = get_user_model().objects.in_bulk(
        [i.user_id for i in invitations if i.respondent_kind == RespondentKind.STAFF]
    )
    counts: Counter[str] = Counter()
    for invitation in invitations:
        closes = f"{timezone.localtime(invitation.expires_at):%-d %B %Y}"
        again = "Reminder: " if reminder else ""
        if invitation.respondent_kind == RespondentKind.HOLDER:
            holder = invitation.holder
            for person in people.get(holder.pk, []):
                about = "your" if person.pk == holder.user_id else f"{holder.name}'s"
                notification_send(
                    user=person,
                    subject=f"{again}Tell us how {about} personal health budget is going",
                    body=f"We would like to know what has changed since {about} personal "
                    "health budget started. The survey takes about 10 minutes; you can "
                    f"stop and come back to it. Please answer by {closes}.",
                    link=link,
                )
        elif invitation.respondent_kind == RespondentKind.STAFF:
            notification_send(
                user=users[invitation.user_id],
                subject=f"{again}A survey about a plan you worked on",
                body="Please tell us how a person whose support plan you worked on is "
                f"getting on with their personal health budget, by {closes}.",
                link=link,
            )
        else:
            transaction.on_commit(
                partial(survey_link_email.delay, invitation.pk, reminder=reminder)
            )
        counts[invitation.respondent_kind] += 1
    return counts


def _active_rounds(schedules: dict[int, SurveySchedule]) -> Any:
    return SurveyInvitation.objects.filter(
        round__organisation_id__in=list(schedules),
        round__state=SurveyRound.State.OPEN,
        state__in=ANSWERABLE,
    )


def _send(schedules: dict[int, SurveySchedule], counts: Counter[str]) -> None:
    now = timezone.now()
    unsent = _without_opt_outs(_active_rounds(schedules).filter(expires_at__gt=now))
    for batch in _claim(unsent, "sent_at", now):
        for kind, sent in _notify(batch, reminder=False).items():
            counts[f"invited_{kind}"] += sent


def _without_opt_outs(queryset: Any) -> Any:
    carer_emails = (
        SurveyOptOut.objects.filter(respondent_kind=RespondentKind.CARER)
        .exclude(email="")
        .annotate(lower_email=Lower("email"))
        .values("lower_email")
    )
    return (
        queryset.exclude(
            respondent_kind=RespondentKind.HOLDER,
            holder_id__in=SurveyOptOut.objects.filter(
                respondent_kind=RespondentKind.HOLDER, holder__isnull=False
            ).values("holder_id"),
        )
        .exclude(
            respondent_kind=RespondentKind.STAFF,
            user_id__in=SurveyOptOut.objects.filter(
                respondent_kind=RespondentKind.STAFF, user__isnull=False
            ).values("user_id"),
        )
        .annotate(lower_email=Lower("email"))
        .exclude(respondent_kind=RespondentKind.CARER, lower_email__in=carer_emails)
    )


def _remind(schedules: dict[int, SurveySchedule], counts: Counter[str]) -> None:
    now = timezone.now()
    for schedule in schedules.values():
        due = _without_opt_outs(
            _active_rounds({schedule.organisation_id: schedule}).filter(
                sent_at__lte=now - datetime.timedelta(days=schedule.remind_after_days),
                expires_at__gt=now,
            )
        )
        for batch in _claim(due, "reminded_at", now):
            counts["reminded"] += sum(_notify(batch, reminder=True).values())


def _close(today: datetime.date, counts: Counter[str]) -> None:
    """Invitations past their time expire; rounds past their closing day close, and
    anything still open in them expires with them."""
    now = timezone.now()
    with transaction.atomic():
        closing = SurveyRound.objects.filter(state=SurveyRound.State.OPEN, closes_on__lt=today)
        counts["expired"] += (
            SurveyInvitation.objects.filter(state__in=ANSWERABLE)
            .filter(Q(expires_at__lte=now) | Q(round__in=closing))
            .update(state=SurveyInvitation.State.EXPIRED)
        )
        counts["rounds_closed"] += closing.update(state=SurveyRound.State.CLOSED, closed_at=now)


# The sweep ------------------------------------------------------------------------------


def survey_sweep_unlocked(
    *, today: datetime.date | None = None, organisation_ids: Iterable[int] | None = None
) -> dict[str, int]:
    """The sweep's work without the lock: safe to run twice at once (the constraint and
    the claims see to it), which the tests prove. Use ``survey_sweep``."""
    today = today or timezone.localdate()
    counts: Counter[str] = Counter()
    schedules = _schedules(organisation_ids)
    _create_invitations(schedules, today, counts)
    _send(schedules, counts)
    _remind(schedules, counts)
    _close(today, counts)
    return dict(counts)


def survey_sweep(
    *,
    today: datetime.date | None = None,
    organisations: Iterable[Organisation] | None = None,
    run_by: Any = None,
) -> dict[str, int] | None:
    """Invite, send, remind, expire and close (see the module docstring). With
    ``organisations``, invite and remind only for those (a commissioner's "run now",
    audited as ``run_by``'s); expiry and closing always cover everyone, as they only
    follow the clock. Returns what it did, or None if another sweep is running."""
    chosen = list(organisations) if organisations is not None else None
    with sweep_lock(LOCK_NAME) as acquired:
        if not acquired:
            return None
        counts = survey_sweep_unlocked(
            today=today, organisation_ids=None if chosen is None else [o.pk for o in chosen]
        )
    for organisation in chosen or []:
        audit_record(
            actor=run_by,
            action="outcomes.survey_sweep_run",
            organisation=organisation,
            changes=counts,
        )
    return counts


# The commissioner's pages ----------------------------------------------------------------

SCHEDULE_FIELDS = (
    "active",
    "first_after_months",
    "then_every_months",
    "ask_holders",
    "ask_carers",
    "ask_staff",
    "remind_after_days",
    "answer_within_days",
)


def commissioned_organisations(user: Any) -> QuerySet[Organisation]:
    """The ICBs and councils where ``user`` is a commissioner: the only ones whose
    schedule and rounds they see."""
    if not getattr(user, "is_authenticated", False):
        return Organisation.objects.none()
    return Organisation.objects.filter(
        kind__in=[Organisation.Kind.ICB, Organisation.Kind.LOCAL_AUTHORITY],
        pk__in=Membership.objects.filter(user=user, role=Role.COMMISSIONER).values(
            "organisation_id"
        ),
    )


def schedule_for(organisation: Organisation) -> SurveySchedule:
    """The organisation's schedule, or an unsaved one with the defaults (switched off
    until a commissioner saves it)."""
    found = SurveySchedule.objects.filter(organisation=organisation).first()
    return found or SurveySchedule(organisation=organisation, active=False)


@transaction.atomic
def schedule_save(*, organisation: Organisation, saved_by: Any, **fields: Any) -> SurveySchedule:
    """Create or change the organisation's survey schedule, audited with what changed.

    Raises PermissionDenied unless ``saved_by`` is a commissioner of the organisation;
    ValidationError for values the schedule does not allow (a reminder after the time
    to answer, zero months)."""
    if not commissioned_organisations(saved_by).filter(pk=organisation.pk).exists():
        raise PermissionDenied
    unknown = set(fields) - set(SCHEDULE_FIELDS)
    if unknown:
        raise TypeError(f"Not schedule fields: {sorted(unknown)}")
    existing = SurveySchedule.objects.select_for_update().filter(organisation=organisation).first()
    schedule = existing or SurveySchedule(organisation=organisation)
    before = {name: getattr(schedule, name) for name in SCHEDULE_FIELDS}
    for name, value in fields.items():
        setattr(schedule, name, value)
    schedule.updated_by = saved_by
    schedule.full_clean(exclude=["organisation"] if existing else None)
    schedule.save()
    changes = {
        name: [before[name] if existing else None, getattr(schedule, name)]
        for name in SCHEDULE_FIELDS
        if not existing or before[name] != getattr(schedule, name)
    }
    audit_record(
        actor=saved_by,
        action="outcomes.schedule_saved",
        obj=schedule,
        organisation=organisation,
        changes=changes,
    )
    return schedule


def rounds_with_counts(organisations: Any) -> QuerySet[SurveyRound]:
    """The organisations' rounds with how many were invited, answered, declined, expired
    and are still waiting: counts only, never who."""
    state = SurveyInvitation.State
    return (
        SurveyRound.objects.filter(organisation__in=organisations)
        .select_related("organisation", "instrument")
        .annotate(
            invited=Count("invitations"),
            answered=Count("invitations", filter=Q(invitations__state=state.SUBMITTED)),
            declined=Count("invitations", filter=Q(invitations__state=state.DECLINED)),
            expired=Count("invitations", filter=Q(invitations__state=state.EXPIRED)),
            waiting=Count("invitations", filter=Q(invitations__state__in=ANSWERABLE)),
            invited_not_started=Count("invitations", filter=Q(invitations__state=state.SENT)),
            started=Count("invitations", filter=Q(invitations__state=state.STARTED)),
            reminded=Count("invitations", filter=Q(invitations__reminded_at__isnull=False)),
        )
    )


def response_rate(answered: int, invited: int) -> int | None:
    """Whole percent of those invited who answered (None when nobody was invited)."""
    if not invited:
        return None
    return round(100 * answered / invited)
