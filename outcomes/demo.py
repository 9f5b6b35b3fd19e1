"""Demo outcomes for North Example ICB: its survey schedule; a year of answers from
holders, carers and staff (collected by the ICB's survey team, entered through a
partner system), enough for the report to show figures; a survey waiting for Alex
Morgan, one for Alex's family carer by link; and an issue found with an action agreed
at an engagement session. Run again, it finds what it made.

The answers are generated from a fixed seed, leaning the way the national surveys did
(most people better, few worse), and people who found the process hard report good
outcomes less often, so the process-and-outcomes section has something to show."""

from __future__ import annotations

import datetime
import random
from typing import Any

import nhs_number
from django.db import transaction
from django.utils import timezone

from budgets.models import BudgetHolder, EligibilityRoute
from outcomes import improvement
from outcomes.dimensions import response_dimensions
from outcomes.instruments import seed_instruments
from outcomes.models import (
    Answer,
    BudgetBand,
    Change,
    ImprovementAction,
    ImprovementIssue,
    Instrument,
    Question,
    RespondentKind,
    SurveyInvitation,
    SurveyResponse,
    SurveyRound,
    SurveySchedule,
)

FIRST_NAMES = [
    "Aisha",
    "Ben",
    "Carys",
    "Declan",
    "Ewa",
    "Farid",
    "Gemma",
    "Harpreet",
    "Imran",
    "Jade",
    "Kwame",
    "Lena",
    "Mohammed",
    "Niamh",
    "Oscar",
    "Priya",
    "Qasim",
    "Rosa",
    "Stefan",
    "Tariq",
    "Una",
    "Viktor",
    "Wendy",
    "Xander",
    "Yusuf",
    "Zofia",
    "Amir",
    "Bethan",
    "Colm",
    "Dalia",
    "Eddie",
    "Fatima",
    "Graham",
    "Hana",
    "Ian",
    "Joy",
]
LAST_NAMES = [
    "Abbott",
    "Bello",
    "Chen",
    "Doherty",
    "Evans",
    "Farah",
    "Green",
    "Hussain",
    "Iqbal",
    "Jones",
    "Kaur",
    "Lewis",
    "Mensah",
    "Nowak",
    "O'Brien",
    "Patel",
    "Quinn",
    "Rahman",
]
ROUTES = [
    EligibilityRoute.CHC,
    EligibilityRoute.CHC,
    EligibilityRoute.MENTAL_HEALTH,
    EligibilityRoute.LEARNING_DISABILITY_AUTISM,
    EligibilityRoute.WHEELCHAIR,
    EligibilityRoute.CHILDRENS_CONTINUING_CARE,
]
COHORT = 36
SURVEY_TEAM_REFERENCE = "north-example-survey-2026"


def _nhs_number(serial: int) -> str:
    """A valid NHS number in the 999 range that is never issued to a real person."""
    for tail in range(serial, serial + 20):
        stem = f"999{tail:06d}"
        check = nhs_number.calculate_checksum(stem)
        if check != 10:  # no valid number has this stem
            return f"{stem}{check}"
    raise ValueError("no valid number")  # pragma: no cover


def _cohort(icb: Any) -> list[BudgetHolder]:
    holders = []
    rng = random.Random(7)  # noqa: S311 - demo data, not security
    for i in range(COHORT):
        number = _nhs_number(500_000 + i * 20)
        holder, _ = BudgetHolder.objects.get_or_create(
            nhs_number=number,
            defaults={
                "name": f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_NAMES[i % len(LAST_NAMES)]}",
                "organisation": icb,
                "date_of_birth": datetime.date(1950 + rng.randrange(60), 1 + i % 12, 1 + i % 27),
                "postcode": f"LS{1 + i % 17} {1 + i % 9}AB",
                "eligibility_route": ROUTES[i % len(ROUTES)],
                "status": BudgetHolder.Status.ACTIVE,
            },
        )
        holders.append(holder)
    return holders


def _answer(question: Question, rng: random.Random, *, hard: bool) -> Answer | None:
    if question.kind == Question.Kind.CHANGE:
        if rng.random() < 0.08:
            value = Change.NOT_APPLICABLE
        else:
            weights = [2, 4, 26, 40, 28] if not hard else [6, 10, 40, 30, 14]
            value = rng.choices(
                [Change.A_LOT_WORSE, Change.WORSE, Change.SAME, Change.BETTER, Change.A_LOT_BETTER],
                weights,
            )[0]
        return Answer(question=question, choice=value)
    options = list(question.options.all())
    if question.kind == Question.Kind.CHOICE:
        if question.measure == Question.Measure.EASE:
            wanted = "negative" if hard else rng.choice(["positive", "positive", "neutral"])
            pool = [o for o in options if o.polarity == wanted] or options
        else:
            pool = options
        return Answer(question=question, choice=rng.choice(pool).code)
    if question.kind == Question.Kind.MULTIPLE:
        picked = rng.sample(options[1:], k=rng.randint(1, 3))
        return Answer(question=question, choices=[o.code for o in picked])
    return None  # free text is left empty in the demo


def _responses(kind: str, holders: list[BudgetHolder], count: int, seed: int) -> None:
    instrument = Instrument.objects.current(kind)
    if instrument is None:
        return
    questions = list(instrument.questions.prefetch_related("options"))
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    today = timezone.localdate()
    bands = [
        BudgetBand.UNDER_10K,
        BudgetBand.FROM_10K,
        BudgetBand.FROM_25K,
        BudgetBand.FROM_50K,
        BudgetBand.FROM_100K,
    ]
    options = ["direct_payment", "direct_payment", "notional", "third_party", "mixed"]
    for i in range(count):
        holder = holders[i % len(holders)]
        on = today - datetime.timedelta(days=rng.randrange(20, 360))
        dimensions = response_dimensions(holder=holder)
        dimensions["management_option"] = options[i % len(options)]
        dimensions["budget_band"] = bands[rng.randrange(len(bands))]
        response = SurveyResponse.objects.create(
            instrument=instrument,
            respondent_kind=kind,
            holder=holder,
            state=SurveyResponse.State.SUBMITTED,
            source=SurveyResponse.Source.PARTNER,
            external_reference=f"{SURVEY_TEAM_REFERENCE}-{kind}-{i}",
            submitted_at=timezone.make_aware(datetime.datetime.combine(on, datetime.time(11, 0))),
            submitted_on=on,
            **dimensions,
        )
        hard = rng.random() < 0.2
        rows = [a for q in questions if (a := _answer(q, rng, hard=hard)) is not None]
        for row in rows:
            row.response = response
        Answer.objects.bulk_create(rows)


def _waiting_surveys(icb: Any) -> None:
    """A holder survey for Alex Morgan and a carer survey by link, as the sweep makes."""
    alex = BudgetHolder.objects.filter(name="Alex Morgan").first()
    if alex is None:
        return
    today = timezone.localdate()
    period = today.replace(day=1)
    for kind, key, extra in (
        (RespondentKind.HOLDER, "holder", {"user": alex.user}),
        (
            RespondentKind.CARER,
            "carer:sam.morgan@example.org",
            {"name": "Sam Morgan", "email": "sam.morgan@example.org"},
        ),
    ):
        instrument = Instrument.objects.current(kind)
        round_, _ = SurveyRound.objects.get_or_create(
            organisation=icb,
            respondent_kind=kind,
            period_start=period,
            defaults={
                "instrument": instrument,
                "closes_on": period + datetime.timedelta(days=72),
            },
        )
        SurveyInvitation.objects.get_or_create(
            holder=alex,
            respondent_kind=kind,
            respondent_key=key,
            sequence=1,
            defaults={
                "round": round_,
                "due_on": today,
                "sent_at": timezone.now(),
                "expires_at": timezone.now() + datetime.timedelta(days=42),
                **extra,
            },
        )


def _improvement(icb: Any, commissioner: Any) -> None:
    """Recorded through the services, so the demo has its audit trail and dated notes."""
    if ImprovementIssue.objects.filter(organisation=icb).exists():
        return
    issue = improvement.issue_create(
        organisation=icb,
        title="Changing a plan is hard for one person in five",
        description=(
            "People who found it hard to change their plan report better outcomes far "
            "less often. Most said they waited for a review to ask."
        ),
        respondent_kind=RespondentKind.HOLDER,
        area="",
        report_filters={"kind": "holder"},
        created_by=commissioner,
    )
    action = improvement.action_create(
        issue=issue,
        description=(
            "Let care coordinators agree small plan changes (under £500 a year) "
            "without waiting for a review, and say so in the welcome letter."
        ),
        owner="Personalised care team lead",
        due_on=timezone.localdate() + datetime.timedelta(days=45),
        created_by=commissioner,
    )
    improvement.action_update(
        action=action,
        status=ImprovementAction.Status.IN_PROGRESS,
        note="Draft guidance shared with the coordinators' team meeting.",
        updated_by=commissioner,
    )
    improvement.session_record(
        organisation=icb,
        held_on=timezone.localdate() - datetime.timedelta(days=10),
        title="Survey results workshop with the PHB peer network",
        people_using_services=9,
        carers=5,
        staff=6,
        notes="Agreed the plan-change action; asked for the results in easy read.",
        issues=[issue],
        actions=[action],
        recorded_by=commissioner,
    )


def load_outcomes_demo(*, icb: Any, commissioner: Any) -> None:
    seed_instruments()
    with transaction.atomic():
        SurveySchedule.objects.get_or_create(organisation=icb, defaults={"updated_by": None})
        if not SurveyResponse.objects.filter(
            external_reference__startswith=SURVEY_TEAM_REFERENCE
        ).exists():
            holders = _cohort(icb)
            _responses(RespondentKind.HOLDER, holders, 60, seed=11)
            _responses(RespondentKind.CARER, holders, 24, seed=12)
            _responses(RespondentKind.STAFF, holders, 30, seed=13)
        _waiting_surveys(icb)
        _improvement(icb, commissioner)


def demo_carer_survey_link() -> str | None:
    """The signed link the demo carer (Sam Morgan) would get by email, while it works."""
    from outcomes.links import invitation_url

    invitation = (
        SurveyInvitation.objects.answerable()
        .filter(respondent_key="carer:sam.morgan@example.org", expires_at__gt=timezone.now())
        .first()
    )
    return invitation_url(invitation) if invitation else None
