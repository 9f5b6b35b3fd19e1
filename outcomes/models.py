"""Outcome surveys in the shape of the national Personal Outcomes Evaluation Tool (POET):
instruments for budget holders, family carers and staff as versioned data; the schedule
and rounds that invite people; their answers; reference figures from the national
surveys; and the improvement loop (issues found, actions, engagement sessions).

Reports never read a person's answers one by one: they count answers grouped by the
facts a response carries from the moment it was sent (organisation, eligibility route,
management option, budget size band), so a report is the same tomorrow as today and a
group under the suppression threshold is never shown (outcomes/reports.py)."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from budgets.models import EligibilityRoute, ManagementOption

# Fewer responses than this in any group are never shown (pages, exports, the API).
SUPPRESS_BELOW = 5


class RespondentKind(models.TextChoices):
    HOLDER = "holder", "Budget holder"
    CARER = "carer", "Family carer"
    STAFF = "staff", "Staff"


class OutcomeArea(models.TextChoices):
    """The areas of life an outcome question asks about. Codes are stable across
    instrument versions, so results and reference figures line up year on year."""

    # Budget holders (and staff, about the people they support)
    PHYSICAL_HEALTH = "physical_health", "Physical health"
    MENTAL_WELLBEING = "mental_wellbeing", "Mental wellbeing"
    INDEPENDENCE = "independence", "Independence"
    CONTROL = "control", "Control over important things in life"
    GETTING_SUPPORT = "getting_support", "Getting the support you need"
    DIGNITY = "dignity", "Being treated with dignity"
    SAFE_AT_HOME = "safe_at_home", "Feeling safe at home"
    SAFE_OUTSIDE = "safe_outside", "Feeling safe outside"
    FAMILY = "family", "Relationships with family"
    FRIENDS = "friends", "Relationships with friends"
    PAID_SUPPORTERS = "paid_supporters", "Relationships with paid supporters"
    COMMUNITY = "community", "Being part of the community"
    PAID_WORK = "paid_work", "Paid work"
    VOLUNTEERING = "volunteering", "Volunteering"
    WHERE_YOU_LIVE = "where_you_live", "Where and with whom you live"
    QUALITY_OF_LIFE = "quality_of_life", "Quality of life"
    SELF_ESTEEM = "self_esteem", "How you feel about yourself"
    # Family carers
    CARER_HEALTH = "carer_health", "The carer's own health and wellbeing"
    KEEP_CARING = "keep_caring", "Being able to keep caring"
    CARER_QUALITY_OF_LIFE = "carer_quality_of_life", "The carer's quality of life"
    CARED_FOR_QUALITY_OF_LIFE = (
        "cared_for_quality_of_life",
        "Quality of life of the person cared for",
    )
    DAILY_STRESS = "daily_stress", "Day-to-day stress"
    CARER_CHOICE_CONTROL = "carer_choice_control", "The carer's choice and control"
    EMERGENCY_BACKUP = "emergency_backup", "Emergency back-up the carer can rely on"


HOLDER_AREAS: tuple[str, ...] = tuple(OutcomeArea.values[:17])
CARER_AREAS: tuple[str, ...] = tuple(OutcomeArea.values[17:])


class Change(models.TextChoices):
    """The answer scale of every outcome question."""

    A_LOT_WORSE = "a_lot_worse", "A lot worse"
    WORSE = "worse", "Worse"
    SAME = "same", "About the same"
    BETTER = "better", "Better"
    A_LOT_BETTER = "a_lot_better", "A lot better"
    NOT_APPLICABLE = "not_applicable", "Does not apply to me"


BETTER = frozenset({Change.BETTER, Change.A_LOT_BETTER})
WORSE = frozenset({Change.WORSE, Change.A_LOT_WORSE})


class BudgetBand(models.TextChoices):
    """Yearly budget size, as a response records it (from the holder's budget then)."""

    UNDER_10K = "under_10k", "Under £10,000 a year"
    FROM_10K = "10k_25k", "£10,000 to £24,999"
    FROM_25K = "25k_50k", "£25,000 to £49,999"
    FROM_50K = "50k_100k", "£50,000 to £99,999"
    FROM_100K = "100k_plus", "£100,000 or more"
    UNKNOWN = "unknown", "Not known"


def budget_band_for(yearly_pence: int | None) -> str:
    if yearly_pence is None:
        return BudgetBand.UNKNOWN
    for limit, band in (
        (10_000_00, BudgetBand.UNDER_10K),
        (25_000_00, BudgetBand.FROM_10K),
        (50_000_00, BudgetBand.FROM_25K),
        (100_000_00, BudgetBand.FROM_50K),
    ):
        if yearly_pence < limit:
            return band
    return BudgetBand.FROM_100K


MIXED_MANAGEMENT = "mixed"
MANAGEMENT_CHOICES = [*ManagementOption.choices, (MIXED_MANAGEMENT, "A mix of ways")]


# Instruments ----------------------------------------------------------------------------


class InstrumentQuerySet(models.QuerySet["Instrument"]):
    def published(self) -> InstrumentQuerySet:
        return self.filter(status=Instrument.Status.PUBLISHED)

    def current(self, respondent_kind: str) -> Instrument | None:
        return self.published().filter(respondent_kind=respondent_kind).first()


class Instrument(models.Model):
    """One version of a survey. A published version never changes: an admin edits a
    new draft version, and publishing it retires the one before (outcomes/instruments.py).
    Answers point at the version that was asked."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "In use"
        RETIRED = "retired", "Retired"

    respondent_kind = models.CharField(max_length=8, choices=RespondentKind.choices)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    introduction = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = InstrumentQuerySet.as_manager()

    class Meta:
        ordering = ["respondent_kind", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["respondent_kind", "version"], name="instrument_kind_version"
            ),
            models.UniqueConstraint(
                fields=["respondent_kind"],
                condition=Q(status="published"),
                name="instrument_one_published_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (version {self.version})"


class Question(models.Model):
    class Section(models.TextChoices):
        OUTCOMES = "outcomes", "What has changed"
        PROCESS = "process", "Getting and using the budget"
        WIDER = "wider", "Wider effects"
        ABOUT = "about", "About you"

    class Kind(models.TextChoices):
        CHANGE = "change", "Better, the same or worse"
        CHOICE = "choice", "One choice"
        MULTIPLE = "multiple", "Any that apply"
        TEXT = "text", "Free text"

    class Measure(models.TextChoices):
        """What a process question tells the process-and-outcomes report."""

        NONE = "", "Nothing"
        EASE = "ease", "Whether the process was easy or hard"
        VIEWS = "views", "Whether the person's views were included"

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="questions")
    section = models.CharField(max_length=10, choices=Section.choices)
    position = models.PositiveSmallIntegerField()
    code = models.SlugField(
        max_length=50, help_text="Stable across versions: results line up by this code."
    )
    text = models.CharField(max_length=400)
    hint = models.CharField(max_length=400, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    area = models.CharField(
        max_length=32,
        choices=OutcomeArea.choices,
        blank=True,
        help_text="For a 'better, the same or worse' question: the area of life it asks about.",
    )
    measure = models.CharField(max_length=8, choices=Measure.choices, blank=True, default="")

    class Meta:
        ordering = ["instrument", "position"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "code"], name="question_code_unique"),
            models.UniqueConstraint(
                fields=["instrument", "position"], name="question_position_unique"
            ),
            models.CheckConstraint(
                condition=(Q(kind="change") & ~Q(area="")) | (~Q(kind="change") & Q(area="")),
                name="question_area_iff_change",
            ),
        ]

    def __str__(self) -> str:
        return self.text


class QuestionOption(models.Model):
    """An answer option of a choice question. Polarity places it on the easy/hard (or
    included/not included) side for the process-and-outcomes report."""

    class Polarity(models.TextChoices):
        POSITIVE = "positive", "Positive (easy, included)"
        NEUTRAL = "neutral", "Neither"
        NEGATIVE = "negative", "Negative (hard, not included)"

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField()
    code = models.SlugField(max_length=50)
    label = models.CharField(max_length=200)
    polarity = models.CharField(max_length=8, choices=Polarity.choices, default=Polarity.NEUTRAL)

    class Meta:
        ordering = ["question", "position"]
        constraints = [
            models.UniqueConstraint(fields=["question", "code"], name="option_code_unique"),
        ]

    def __str__(self) -> str:
        return self.label


# Schedules, rounds, invitations ---------------------------------------------------------


class SurveySchedule(models.Model):
    """When an organisation asks: the first survey some months after a person's first
    plan is approved, then every so many months; who is asked; reminders; closing."""

    organisation = models.OneToOneField(
        "users.Organisation", on_delete=models.CASCADE, related_name="survey_schedule"
    )
    active = models.BooleanField(default=True)
    first_after_months = models.PositiveSmallIntegerField(
        default=6, help_text="Months after a person's first plan is approved."
    )
    then_every_months = models.PositiveSmallIntegerField(default=12)
    ask_holders = models.BooleanField(default=True)
    ask_carers = models.BooleanField(
        default=True, help_text="Family carers named in the person's circle of support."
    )
    ask_staff = models.BooleanField(
        default=True, help_text="The staff who worked on the person's plan."
    )
    remind_after_days = models.PositiveSmallIntegerField(default=14)
    answer_within_days = models.PositiveSmallIntegerField(
        default=42, help_text="An invitation (and its link) expires after this."
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(then_every_months__gte=1) & Q(first_after_months__gte=1),
                name="schedule_months_positive",
            ),
            models.CheckConstraint(
                condition=Q(answer_within_days__gt=models.F("remind_after_days")),
                name="schedule_remind_before_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"Survey schedule of {self.organisation}"


class SurveyRoundQuerySet(models.QuerySet["SurveyRound"]):
    def for_user(self, user: Any) -> SurveyRoundQuerySet:
        """Rounds of the staff user's organisations."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        from users.models import Membership

        return self.filter(
            organisation_id__in=Membership.objects.filter(user=user).values("organisation_id")
        )


class SurveyRound(models.Model):
    """The invitations one organisation sends for one instrument in one month. It closes
    when its last invitation's answering window ends; unanswered ones then expire."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    organisation = models.ForeignKey(
        "users.Organisation", on_delete=models.PROTECT, related_name="survey_rounds"
    )
    respondent_kind = models.CharField(max_length=8, choices=RespondentKind.choices)
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="rounds")
    period_start = models.DateField(help_text="The first day of the month the round covers.")
    closes_on = models.DateField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SurveyRoundQuerySet.as_manager()

    class Meta:
        ordering = ["-period_start", "organisation", "respondent_kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "respondent_kind", "period_start"],
                name="round_one_per_month",
            ),
            models.CheckConstraint(
                condition=Q(closes_on__gte=models.F("period_start")), name="round_closes_after"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_respondent_kind_display()} survey, {self.period_start:%B %Y}, "
            f"{self.organisation}"
        )


class SurveyInvitationQuerySet(models.QuerySet["SurveyInvitation"]):
    def for_user(self, user: Any) -> SurveyInvitationQuerySet:
        """The invitations a signed-in person answers: their own, and a holder's
        invitations for the holders they currently represent."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        from users.models import Representation

        represented = Representation.objects.current().filter(representative=user)
        return self.filter(
            Q(user=user)
            | Q(respondent_kind=RespondentKind.HOLDER, holder__user=user)
            | Q(
                respondent_kind=RespondentKind.HOLDER,
                holder_id__in=represented.values("holder_id"),
            )
        )

    def answerable(self) -> SurveyInvitationQuerySet:
        return self.filter(state__in=[SurveyInvitation.State.SENT, SurveyInvitation.State.STARTED])


class SurveyInvitation(models.Model):
    """An invitation to one person to answer one survey about one budget holder.

    ``sequence`` counts the surveys of that person's journey (1 = the first, some months
    after the first plan was approved; 2, 3, ... yearly after). The unique constraint on
    (holder, kind, respondent, sequence) is what makes a re-run job invite nobody twice.
    A family carer or member of staff without an account answers through a signed link
    naming ``public_id``; it works until the answers are sent or the invitation expires.
    """

    class State(models.TextChoices):
        SENT = "sent", "Sent"
        STARTED = "started", "Started"
        SUBMITTED = "submitted", "Answered"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    round = models.ForeignKey(SurveyRound, on_delete=models.PROTECT, related_name="invitations")
    respondent_kind = models.CharField(max_length=8, choices=RespondentKind.choices)
    holder = models.ForeignKey(
        "budgets.BudgetHolder",
        on_delete=models.PROTECT,
        related_name="survey_invitations",
        help_text="The person the survey is about (the holder, or the person cared for).",
    )
    respondent_key = models.CharField(
        max_length=260,
        help_text="Who is asked: 'holder', 'carer:<email>' or 'staff:<user id>'.",
    )
    sequence = models.PositiveSmallIntegerField()
    due_on = models.DateField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="survey_invitations",
        help_text="The account that answers, if the respondent has one.",
    )
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    circle_member_key = models.UUIDField(
        null=True, blank=True, help_text="The carer's entry in the circle of support."
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.SENT)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    objects = SurveyInvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-due_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["holder", "respondent_kind", "respondent_key", "sequence"],
                name="invitation_once_per_survey",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "expires_at"]),
            models.Index(fields=["user", "state"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_respondent_kind_display()} survey {self.sequence} about {self.holder}"


class SurveyOptOut(models.Model):
    """Someone who asked not to be sent surveys again. Holders opt out by their record,
    carers by their email address (across every person they care for), staff by
    their account. The scheduling job never invites anyone who has opted out."""

    respondent_kind = models.CharField(max_length=8, choices=RespondentKind.choices)
    holder = models.ForeignKey(
        "budgets.BudgetHolder", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    email = models.EmailField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(holder__isnull=False) | ~Q(email="") | Q(user__isnull=False),
                name="optout_names_someone",
            ),
            models.UniqueConstraint(
                fields=["respondent_kind", "holder"],
                condition=Q(holder__isnull=False),
                name="optout_holder_once",
            ),
            models.UniqueConstraint(
                fields=["respondent_kind", "email"],
                condition=~Q(email=""),
                name="optout_email_once",
            ),
            models.UniqueConstraint(
                fields=["respondent_kind", "user"],
                condition=Q(user__isnull=False),
                name="optout_user_once",
            ),
        ]

    def __str__(self) -> str:
        return f"Opted out of {self.get_respondent_kind_display()} surveys"


# Responses ------------------------------------------------------------------------------


class SurveyResponseQuerySet(models.QuerySet["SurveyResponse"]):
    def submitted(self) -> SurveyResponseQuerySet:
        return self.filter(state=SurveyResponse.State.SUBMITTED)

    def for_user(self, user: Any) -> SurveyResponseQuerySet:
        """Answers a person may read one by one: a holder's own (whoever sent them), the
        answers a current representative sent for the holder, and a family carer's own.
        Staff answers are never read one by one, and staff read aggregates only."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        from users.models import Representation

        represented = Representation.objects.current().filter(representative=user)
        return self.filter(
            Q(respondent_kind=RespondentKind.HOLDER, holder__user=user)
            | Q(
                respondent_kind=RespondentKind.HOLDER,
                answered_by=SurveyResponse.AnsweredBy.REPRESENTATIVE,
                holder_id__in=represented.values("holder_id"),
            )
            | Q(respondent_kind=RespondentKind.CARER, invitation__user=user)
        )


class SurveyResponse(models.Model):
    """One person's answers to one instrument version. Drafts save as the person goes;
    sending them fixes the report dimensions as they were at that moment."""

    class State(models.TextChoices):
        DRAFT = "draft", "Being answered"
        SUBMITTED = "submitted", "Sent"

    class AnsweredBy(models.TextChoices):
        SELF = "self", "The person themselves"
        REPRESENTATIVE = "representative", "A representative on the holder's behalf"

    class Source(models.TextChoices):
        PLATFORM = "platform", "Answered on this platform"
        LINK = "link", "Answered through an emailed link"
        PARTNER = "partner", "Collected by a partner system"

    invitation = models.OneToOneField(
        SurveyInvitation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="response",
    )
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="responses")
    respondent_kind = models.CharField(max_length=8, choices=RespondentKind.choices)
    holder = models.ForeignKey(
        "budgets.BudgetHolder", on_delete=models.PROTECT, related_name="survey_responses"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    answered_by = models.CharField(
        max_length=16, choices=AnsweredBy.choices, default=AnsweredBy.SELF
    )
    answered_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PLATFORM)
    partner_application = models.ForeignKey(
        "users.PartnerApplication",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    external_reference = models.CharField(max_length=100, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # The report dimensions, fixed when the answers are sent.
    submitted_on = models.DateField(null=True, blank=True)
    organisation = models.ForeignKey(
        "users.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name="ICB"
    )
    council = models.ForeignKey(
        "users.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    eligibility_route = models.CharField(max_length=32, choices=EligibilityRoute.choices)
    management_option = models.CharField(max_length=16, choices=MANAGEMENT_CHOICES, blank=True)
    budget_band = models.CharField(
        max_length=10, choices=BudgetBand.choices, default=BudgetBand.UNKNOWN
    )

    objects = SurveyResponseQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="draft")
                | (Q(submitted_at__isnull=False) & Q(submitted_on__isnull=False)),
                name="response_submitted_has_date",
            ),
            models.UniqueConstraint(
                fields=["partner_application", "external_reference"],
                condition=~Q(external_reference=""),
                name="response_partner_reference_once",
            ),
        ]
        indexes = [
            models.Index(
                fields=["respondent_kind", "organisation", "submitted_on"],
                condition=Q(state="submitted"),
                name="response_report",
            ),
            models.Index(
                fields=["respondent_kind", "council", "submitted_on"],
                condition=Q(state="submitted") & Q(council__isnull=False),
                name="response_report_council",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_respondent_kind_display()} answers about {self.holder}"


class Answer(models.Model):
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    # A change answer (Change) or a choice's option code; several for "any that apply".
    choice = models.CharField(max_length=50, blank=True)
    choices = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="answer_once"),
        ]
        indexes = [models.Index(fields=["question", "choice"])]

    def __str__(self) -> str:
        return f"{self.question.code}: {self.choice or ', '.join(self.choices) or self.text}"


# Reference figures ----------------------------------------------------------------------


class ReferenceFigure(models.Model):
    """A published national figure for one outcome area, with its source, so an area
    can see itself against it. Only what the source states is entered: a figure the
    source does not give stays empty."""

    respondent_kind = models.CharField(max_length=8, choices=RespondentKind.choices)
    area = models.CharField(max_length=32, choices=OutcomeArea.choices)
    better_percent = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    same_percent = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    worse_percent = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    respondents = models.PositiveIntegerField(
        null=True, blank=True, help_text="How many answered, where the source says."
    )
    source = models.CharField(max_length=300)
    source_url = models.URLField(blank=True)
    published_year = models.PositiveSmallIntegerField()
    note = models.CharField(max_length=400, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    entered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["respondent_kind", "area", "-published_year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(better_percent__isnull=False)
                | Q(same_percent__isnull=False)
                | Q(worse_percent__isnull=False),
                name="reference_has_a_figure",
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{field}__isnull": True})
                    | (Q(**{f"{field}__gte": 0}) & Q(**{f"{field}__lte": 100})),
                    name=f"reference_{field}_range",
                )
                for field in ("better_percent", "same_percent", "worse_percent")
            ],
        ]

    def __str__(self) -> str:
        return f"{self.get_area_display()}: {self.source} ({self.published_year})"


# The improvement loop -------------------------------------------------------------------


class ImprovementIssueQuerySet(models.QuerySet["ImprovementIssue"]):
    def for_user(self, user: Any) -> ImprovementIssueQuerySet:
        """Issues of the organisations where the user is a commissioner (the improvement
        loop is theirs; outcomes/improvement.py checks the same for every change)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        from users.models import Membership, Role

        return self.filter(
            organisation_id__in=Membership.objects.filter(user=user, role=Role.COMMISSIONER).values(
                "organisation_id"
            )
        )


class ImprovementIssue(models.Model):
    """Something a report showed that the organisation means to improve."""

    organisation = models.ForeignKey(
        "users.Organisation", on_delete=models.PROTECT, related_name="improvement_issues"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    respondent_kind = models.CharField(max_length=8, choices=RespondentKind.choices, blank=True)
    area = models.CharField(max_length=32, choices=OutcomeArea.choices, blank=True)
    report_filters = models.JSONField(
        default=dict, blank=True, help_text="The report (its filters) the issue was found in."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ImprovementIssueQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class ImprovementActionQuerySet(models.QuerySet["ImprovementAction"]):
    def for_user(self, user: Any) -> ImprovementActionQuerySet:
        return self.filter(issue__in=ImprovementIssue.objects.for_user(user))

    def open(self) -> ImprovementActionQuerySet:
        return self.exclude(status__in=[ImprovementAction.Status.DONE])


class ImprovementAction(models.Model):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    issue = models.ForeignKey(ImprovementIssue, on_delete=models.PROTECT, related_name="actions")
    description = models.TextField()
    owner = models.CharField(max_length=200, help_text="Who will do it (a person or team).")
    due_on = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NOT_STARTED)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    done_at = models.DateTimeField(null=True, blank=True)

    objects = ImprovementActionQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="done", done_at__isnull=False) | (~Q(status="done")),
                name="action_done_has_date",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self) -> str:
        return self.description[:80]


class EngagementSession(models.Model):
    """A meeting where people who use services, carers and staff looked at the results
    and agreed issues and actions."""

    organisation = models.ForeignKey(
        "users.Organisation", on_delete=models.PROTECT, related_name="engagement_sessions"
    )
    held_on = models.DateField()
    title = models.CharField(max_length=200)
    people_using_services = models.PositiveSmallIntegerField("people who use services", default=0)
    carers = models.PositiveSmallIntegerField(default=0)
    staff = models.PositiveSmallIntegerField(default=0)
    notes = models.TextField(blank=True)
    issues = models.ManyToManyField(ImprovementIssue, blank=True, related_name="sessions")
    actions = models.ManyToManyField(ImprovementAction, blank=True, related_name="sessions")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.title} ({self.held_on:%d %B %Y})"
