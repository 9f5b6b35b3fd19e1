"""The Resource Allocation System: a questionnaire that turns assessed needs into an
indicative budget. Questionnaires are versioned: a published version never changes
(editing makes a new draft version), so every assessment can show its working for ever."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q


class RasQuestionnaire(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    organisation = models.ForeignKey(
        "users.Organisation", on_delete=models.PROTECT, related_name="ras_questionnaires"
    )
    stream = models.CharField(max_length=32, help_text="The funding stream it prices.")
    name = models.CharField(max_length=200)
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    price_per_point_pence = models.BigIntegerField()
    cap_pence = models.BigIntegerField(
        null=True, blank=True, help_text="The most the questionnaire can give, if capped."
    )
    previous_version = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_version"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organisation", "stream", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "stream", "version"], name="ras_unique_version"
            ),
            models.UniqueConstraint(
                fields=["organisation", "stream"],
                condition=Q(status="published"),
                name="ras_one_published_per_stream",
            ),
            models.CheckConstraint(
                condition=Q(price_per_point_pence__gt=0), name="ras_price_positive"
            ),
            models.CheckConstraint(
                condition=Q(cap_pence__isnull=True) | Q(cap_pence__gt=0), name="ras_cap_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (version {self.version})"


class RasBand(models.Model):
    """Optional: points from ``min_points`` to ``max_points`` give a fixed amount."""

    questionnaire = models.ForeignKey(
        RasQuestionnaire, on_delete=models.CASCADE, related_name="bands"
    )
    min_points = models.PositiveIntegerField()
    max_points = models.PositiveIntegerField()
    amount_pence = models.BigIntegerField()

    class Meta:
        ordering = ["min_points"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_points__gte=models.F("min_points")), name="ras_band_order"
            ),
            models.CheckConstraint(condition=Q(amount_pence__gte=0), name="ras_band_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.min_points}-{self.max_points} points"


class RasDomain(models.Model):
    questionnaire = models.ForeignKey(
        RasQuestionnaire, on_delete=models.CASCADE, related_name="domains"
    )
    title = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.title


class RasQuestion(models.Model):
    domain = models.ForeignKey(RasDomain, on_delete=models.CASCADE, related_name="questions")
    text = models.CharField(max_length=300)
    hint = models.CharField(max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.text


class RasOption(models.Model):
    question = models.ForeignKey(RasQuestion, on_delete=models.CASCADE, related_name="options")
    label = models.CharField(max_length=200)
    points = models.PositiveIntegerField()
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return f"{self.label} ({self.points})"


class RasAssessmentQuerySet(models.QuerySet["RasAssessment"]):
    def for_user(self, user: Any) -> RasAssessmentQuerySet:
        from budgets.models.holders import BudgetHolder

        return self.filter(holder__in=BudgetHolder.objects.for_user(user))


class RasAssessment(models.Model):
    """How an indicative amount was reached: scored from a questionnaire, or the cost of
    the current package, and possibly overridden by a commissioner with a reason."""

    class Method(models.TextChoices):
        QUESTIONNAIRE = "questionnaire", "Resource Allocation System questionnaire"
        CURRENT_PACKAGE = "current_package", "Cost of the current package of care"

    holder = models.ForeignKey(
        "budgets.BudgetHolder", on_delete=models.PROTECT, related_name="ras_assessments"
    )
    method = models.CharField(max_length=16, choices=Method.choices)
    questionnaire = models.ForeignKey(
        RasQuestionnaire,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assessments",
    )
    total_points = models.PositiveIntegerField(null=True, blank=True)
    calculated_pence = models.BigIntegerField(help_text="The amount before any override.")
    working = models.JSONField(
        default=dict, help_text="Each step from answers (or package) to amount, as shown."
    )
    package_description = models.TextField(blank=True)
    override_pence = models.BigIntegerField(null=True, blank=True)
    override_reason = models.TextField(blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    overridden_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(auto_now_add=True)

    objects = RasAssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["-completed_at"]
        constraints = [
            models.CheckConstraint(condition=Q(calculated_pence__gte=0), name="ras_calculated"),
            models.CheckConstraint(
                condition=Q(override_pence__isnull=True)
                | (Q(override_pence__gte=0) & ~Q(override_reason="")),
                name="ras_override_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(method="questionnaire") | Q(questionnaire__isnull=False),
                name="ras_questionnaire_named",
            ),
        ]

    def __str__(self) -> str:
        return f"Indicative budget for {self.holder}"

    @property
    def indicative_pence(self) -> int:
        return self.override_pence if self.override_pence is not None else self.calculated_pence


class RasAnswer(models.Model):
    assessment = models.ForeignKey(RasAssessment, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(RasQuestion, on_delete=models.PROTECT, related_name="+")
    option = models.ForeignKey(RasOption, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assessment", "question"], name="ras_one_answer")
        ]

    def __str__(self) -> str:
        return str(self.option)
