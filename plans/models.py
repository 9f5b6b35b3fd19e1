"""Support plans: what matters to the person, their outcomes, the support that the money
pays for, risks, back-up, the circle of support, reviews. Each agreed plan is a version;
changing an active plan starts a new draft version, so a budget always shows which plan
its money follows and how that plan came to be."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from budgets.models import FundingStream, ManagementOption


class LifeArea(models.TextChoices):
    """The areas of life that outcome surveys ask about; each plan outcome is tagged."""

    HEALTH = "health", "Health"
    MENTAL_WELLBEING = "mental_wellbeing", "Mental wellbeing"
    INDEPENDENCE = "independence", "Independence"
    RELATIONSHIPS = "relationships", "Relationships"
    COMMUNITY = "community", "Being part of the community"
    WORK_VOLUNTEERING = "work_volunteering", "Work and volunteering"
    SAFETY = "safety", "Feeling safe"
    CHOICE_CONTROL = "choice_control", "Choice and control"
    QUALITY_OF_LIFE = "quality_of_life", "Quality of life"


class SupportPlanQuerySet(models.QuerySet["SupportPlan"]):
    def for_user(self, user: Any) -> SupportPlanQuerySet:
        """Plans of the holders the user may see (their own, those they represent, those
        their organisation serves)."""
        from budgets.models import BudgetHolder

        return self.filter(holder__in=BudgetHolder.objects.for_user(user))

    def current(self) -> SupportPlanQuerySet:
        """The versions still in play: not superseded or ended."""
        return self.exclude(state__in=[SupportPlan.State.SUPERSEDED, SupportPlan.State.ENDED])


class SupportPlan(models.Model):
    """One version of a person's support plan for one budget."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Waiting for approval"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        APPROVED = "approved", "Approved"
        ACTIVE = "active", "Active"
        SUPERSEDED = "superseded", "Replaced by a newer version"
        ENDED = "ended", "Ended"

    # Allowed moves. "Approved" is the moment both sign-offs are in; the plan becomes
    # active as soon as the budget is set from it (the same service call), or stays
    # approved until its budget can take it.
    TRANSITIONS: dict[str, frozenset[str]] = {
        State.DRAFT: frozenset({State.SUBMITTED, State.ENDED}),
        State.SUBMITTED: frozenset({State.APPROVED, State.CHANGES_REQUESTED}),
        State.CHANGES_REQUESTED: frozenset({State.SUBMITTED, State.ENDED}),
        State.APPROVED: frozenset({State.ACTIVE, State.ENDED}),
        State.ACTIVE: frozenset({State.SUPERSEDED, State.ENDED}),
        State.SUPERSEDED: frozenset(),
        State.ENDED: frozenset(),
    }
    EDITABLE = frozenset({State.DRAFT, State.CHANGES_REQUESTED})

    holder = models.ForeignKey(
        "budgets.BudgetHolder", on_delete=models.PROTECT, related_name="plans"
    )
    budget = models.ForeignKey("budgets.Budget", on_delete=models.PROTECT, related_name="plans")
    version = models.PositiveIntegerField(default=1)
    revises = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="revisions",
        help_text="The version this one changes.",
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)

    what_matters = models.TextField(
        "What matters to me", blank=True, help_text="In the person's own words."
    )
    if_support_fails = models.TextField(
        "If my support fails", blank=True, help_text="What happens if support does not turn up."
    )
    carer_emergency = models.TextField(
        "If my family carer has an emergency",
        blank=True,
        help_text="What a family carer does, and who steps in, in an emergency.",
    )
    first_review_on = models.DateField(null=True, blank=True)
    review_every_months = models.PositiveSmallIntegerField(default=12)
    next_review_on = models.DateField(null=True, blank=True, db_index=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The holder or representative who confirmed they agree with the plan.",
    )
    agreed_at = models.DateTimeField(null=True, blank=True)
    needs_commissioner = models.BooleanField(
        default=False, help_text="Set on submission from the organisation's thresholds."
    )
    clinician_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    clinician_approved_at = models.DateTimeField(null=True, blank=True)
    commissioner_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    commissioner_approved_at = models.DateTimeField(null=True, blank=True)
    changes_requested = models.TextField(
        blank=True, help_text="What should change and why, from the last request."
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    active_from = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    yearly_cost_pence = models.BigIntegerField(
        default=0, help_text="The sum of the support items' yearly costs, kept by the services."
    )

    objects = SupportPlanQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["budget", "version"], name="plan_version_unique"),
            # At most one version in the making and one in force per budget.
            models.UniqueConstraint(
                fields=["budget"],
                condition=Q(state__in=["draft", "submitted", "changes_requested", "approved"]),
                name="plan_one_open_version",
            ),
            models.UniqueConstraint(
                fields=["budget"], condition=Q(state="active"), name="plan_one_active_version"
            ),
            models.CheckConstraint(
                condition=Q(review_every_months__gte=1) & Q(review_every_months__lte=12),
                name="plan_review_at_least_yearly",
            ),
            models.CheckConstraint(
                condition=Q(yearly_cost_pence__gte=0), name="plan_cost_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["state", "submitted_at"])]

    def __str__(self) -> str:
        return f"Support plan for {self.holder}, version {self.version}"

    def can_move_to(self, state: str) -> bool:
        return state in self.TRANSITIONS[self.state]

    @property
    def is_editable(self) -> bool:
        return self.state in self.EDITABLE


class PlanOutcome(models.Model):
    """Something the person wants to achieve."""

    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="outcomes")
    position = models.PositiveSmallIntegerField(default=0)
    goal = models.TextField("What I want to achieve")
    how_we_know = models.TextField("How we will know", blank=True)
    by_when = models.DateField(null=True, blank=True)
    life_areas = ArrayField(
        models.CharField(max_length=32, choices=LifeArea.choices), default=list, blank=True
    )
    # The same outcome across versions (so reviews and comparisons can follow it).
    key = models.UUIDField()

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["plan", "key"], name="outcome_key_unique")]

    def __str__(self) -> str:
        return self.goal[:80]


class CircleMember(models.Model):
    """Someone in the person's circle of support."""

    class Relationship(models.TextChoices):
        FAMILY = "family", "Family"
        FRIEND = "friend", "Friend"
        CARER = "carer", "Family carer"
        PROFESSIONAL = "professional", "Professional"
        OTHER = "other", "Other"

    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="circle")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=16, choices=Relationship.choices)
    role = models.CharField(
        max_length=300, blank=True, help_text="What they do in the person's life and support."
    )
    is_backup = models.BooleanField(
        "Named back-up", default=False, help_text="Steps in if support or a carer cannot."
    )
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    key = models.UUIDField()

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "key"], name="circle_key_unique"),
            # A named back-up person is no use without a way to reach them.
            models.CheckConstraint(
                condition=Q(is_backup=False) | ~Q(phone="") | ~Q(email=""),
                name="circle_backup_has_contact",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_relationship_display()})"

    @property
    def is_family_carer(self) -> bool:
        return self.relationship == self.Relationship.CARER


class SupportItem(models.Model):
    """A piece of support the plan pays for (or arranges for free)."""

    class ProviderKind(models.TextChoices):
        MARKETPLACE = "marketplace", "A provider from the marketplace"
        PERSONAL_ASSISTANT = "personal_assistant", "A personal assistant"
        COMMUNITY = "community", "A community or informal option"
        OTHER = "other", "Someone else"

    class Per(models.TextChoices):
        WEEK = "week", "a week"
        MONTH = "month", "a month"
        YEAR = "year", "a year"

    PER_YEAR: dict[str, int] = {Per.WEEK: 52, Per.MONTH: 12, Per.YEAR: 1}

    class CarerSupport(models.TextChoices):
        TRAINING = "training", "Training"
        BREAK = "break", "A break (respite)"
        EMERGENCY_BACKUP = "emergency_backup", "Emergency back-up"

    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField("What", max_length=300)
    provider_kind = models.CharField(max_length=20, choices=ProviderKind.choices)
    provider_name = models.CharField("Who provides it", max_length=200, blank=True)
    times = models.PositiveIntegerField("How often", default=1)
    per = models.CharField(max_length=8, choices=Per.choices, default=Per.WEEK)
    unit_cost_pence = models.BigIntegerField("Cost each time", default=0)
    yearly_cost_pence = models.BigIntegerField(default=0)
    stream = models.CharField(
        "Funding stream", max_length=32, choices=FundingStream.choices, blank=True
    )
    outcomes = models.ManyToManyField(PlanOutcome, blank=True, related_name="items")
    # Support for a family carer in the circle (training, a break, emergency back-up).
    carer = models.ForeignKey(
        CircleMember, on_delete=models.CASCADE, null=True, blank=True, related_name="support"
    )
    carer_support = models.CharField(max_length=20, choices=CarerSupport.choices, blank=True)
    key = models.UUIDField()

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "key"], name="item_key_unique"),
            models.CheckConstraint(
                condition=Q(unit_cost_pence__gte=0)
                & Q(unit_cost_pence__lte=1_000_000_00)
                & Q(yearly_cost_pence__gte=0)
                & Q(times__gte=1),
                name="item_cost_sensible",
            ),
            # Paid support comes from a funding stream; free support needs none.
            models.CheckConstraint(
                condition=Q(unit_cost_pence=0) | ~Q(stream=""), name="item_paid_has_stream"
            ),
            models.CheckConstraint(
                condition=(Q(carer__isnull=True) & Q(carer_support=""))
                | (Q(carer__isnull=False) & ~Q(carer_support="")),
                name="item_carer_support_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.description

    @staticmethod
    def yearly_pence(*, times: int, per: str, unit_cost_pence: int) -> int:
        return times * SupportItem.PER_YEAR[per] * unit_cost_pence


class MoneyArrangement(models.Model):
    """How one funding stream's money is managed, and by whom."""

    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="money")
    stream = models.CharField(max_length=32, choices=FundingStream.choices)
    management_option = models.CharField(max_length=16, choices=ManagementOption.choices)
    managed_by = models.CharField(
        max_length=200, blank=True, help_text="Who looks after the money (a person or body)."
    )

    class Meta:
        ordering = ["stream"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "stream"], name="money_one_per_stream")
        ]

    def __str__(self) -> str:
        return f"{self.get_stream_display()}: {self.get_management_option_display()}"


class PlanRisk(models.Model):
    """A risk and how it is managed. Positive risk-taking is recorded, not blocked."""

    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="risks")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.TextField("The risk")
    how_managed = models.TextField("How it is managed")
    agreed_by = models.CharField("Who agreed", max_length=300)
    positive_risk = models.BooleanField(
        "A risk the person chooses to take",
        default=False,
        help_text="Positive risk-taking: recorded so everyone knows, not a reason to refuse.",
    )
    key = models.UUIDField()

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["plan", "key"], name="risk_key_unique")]

    def __str__(self) -> str:
        return self.description[:80]


class PlanComment(models.Model):
    plan = models.ForeignKey(SupportPlan, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.created_at:%d %b %Y}"


class PlanApproval(models.Model):
    """A sign-off step as it happened: approval, a request for changes, the holder's
    agreement. Kept for ever, so a plan shows who agreed what, when."""

    class Step(models.TextChoices):
        AGREED = "agreed", "Agreed by the person"
        CLINICIAN = "clinician", "Approved by a clinician"
        COMMISSIONER = "commissioner", "Approved by a commissioner"
        CHANGES = "changes", "Changes requested"

    plan = models.ForeignKey(SupportPlan, on_delete=models.PROTECT, related_name="approvals")
    step = models.CharField(max_length=16, choices=Step.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_step_display()} ({self.at:%d %b %Y})"


class PlanSettings(models.Model):
    """When a commissioner must approve too, per organisation (the holder's ICB)."""

    organisation = models.OneToOneField(
        "users.Organisation", on_delete=models.CASCADE, related_name="plan_settings"
    )
    commissioner_over_pence = models.BigIntegerField(
        default=50_000_00,
        help_text="A commissioner must approve a plan whose yearly cost is above this.",
    )
    commissioner_increase_over_pence = models.BigIntegerField(
        default=5_000_00,
        help_text="A commissioner must approve a new version costing this much more a year "
        "than the last agreed one.",
    )
    reminder_days = models.PositiveSmallIntegerField(
        default=28, help_text="Remind people this many days before a review is due."
    )

    class Meta:
        verbose_name_plural = "plan settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(commissioner_over_pence__gte=0)
                & Q(commissioner_increase_over_pence__gte=0)
                & Q(reminder_days__gte=1),
                name="plan_settings_sensible",
            )
        ]

    def __str__(self) -> str:
        return f"Plan settings for {self.organisation}"


class PlanReview(models.Model):
    """A review of an active plan: progress on each outcome, what works, what does not,
    and whether the plan changes (which starts a new draft version)."""

    plan = models.ForeignKey(SupportPlan, on_delete=models.PROTECT, related_name="reviews")
    due_on = models.DateField()
    held_on = models.DateField()
    what_is_working = models.TextField(blank=True)
    what_is_not_working = models.TextField(blank=True)
    plan_changes = models.BooleanField(default=False)
    new_version = models.ForeignKey(
        SupportPlan, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"Review of {self.plan} on {self.held_on}"


class OutcomeProgress(models.Model):
    class Progress(models.TextChoices):
        ACHIEVED = "achieved", "Achieved"
        PROGRESSING = "progressing", "Getting there"
        NO_CHANGE = "no_change", "No change yet"
        WORSE = "worse", "Got worse"
        NO_LONGER_WANTED = "no_longer_wanted", "No longer wanted"

    review = models.ForeignKey(PlanReview, on_delete=models.CASCADE, related_name="progress")
    outcome = models.ForeignKey(PlanOutcome, on_delete=models.PROTECT, related_name="+")
    progress = models.CharField(max_length=20, choices=Progress.choices)
    note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "outcome"], name="progress_one_per_outcome")
        ]

    def __str__(self) -> str:
        return f"{self.outcome}: {self.get_progress_display()}"


class ReviewReminder(models.Model):
    """One reminder sent for one review date, so the daily job never sends it twice."""

    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="+")
    due_on = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "due_on"], name="reminder_once_per_due_date")
        ]

    def __str__(self) -> str:
        return f"Reminder for {self.plan} due {self.due_on}"
