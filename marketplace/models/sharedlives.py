"""Shared Lives: carers who share their home and family life, people looking for such an
arrangement, their profiles, and the matches between them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q


class ArrangementKind(models.TextChoices):
    LIVE_IN = "live_in", "Living with the carer's family"
    SHORT_BREAKS = "short_breaks", "Short breaks"
    DAY_SUPPORT = "day_support", "Day support"


def _tags(help_text: str) -> ArrayField:
    return ArrayField(
        models.CharField(max_length=60), blank=True, default=list, help_text=help_text
    )


class CarerProfile(models.Model):
    """What a Shared Lives carer offers, for matching. One per Shared Lives provider."""

    provider = models.OneToOneField(
        "marketplace.Provider", on_delete=models.CASCADE, related_name="carer_profile"
    )
    postcode = models.CharField(max_length=8)
    travel_miles = models.PositiveSmallIntegerField(
        default=10, help_text="How far the carer will travel for day support."
    )
    arrangements = ArrayField(
        models.CharField(max_length=16, choices=ArrangementKind.choices), default=list
    )
    interests = _tags("Things the household enjoys, e.g. gardening, football, music.")
    skills = _tags("Experience and skills, e.g. autism, dementia, personal care, epilepsy.")
    household = models.TextField(blank=True, help_text="Who lives there; the home.")
    has_pets = models.BooleanField(default=False)
    pets = models.CharField(max_length=200, blank=True)
    smoking_household = models.BooleanField(default=False)
    culture_faith = _tags("Culture, faith and customs the household shares.")
    languages = _tags("Languages spoken at home.")
    step_free = models.BooleanField("step-free home", default=False)
    places = models.PositiveSmallIntegerField(default=1, help_text="People they can support.")
    available = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Shared Lives profile of {self.provider}"


class SeekerProfileQuerySet(models.QuerySet["SeekerProfile"]):
    def for_user(self, user: Any) -> SeekerProfileQuerySet:
        from budgets.models import BudgetHolder

        return self.filter(holder__in=BudgetHolder.objects.for_user(user))


class SeekerProfile(models.Model):
    """What a person looking for a Shared Lives arrangement needs and enjoys."""

    holder = models.OneToOneField(
        "budgets.BudgetHolder", on_delete=models.CASCADE, related_name="shared_lives_profile"
    )
    postcode = models.CharField(max_length=8)
    arrangements = ArrayField(
        models.CharField(max_length=16, choices=ArrangementKind.choices), default=list
    )
    interests = _tags("What the person enjoys.")
    needs = _tags("Support needs, in the same words carers use for skills.")
    about = models.TextField(blank=True, help_text="In the person's own words.")
    pets_ok = models.BooleanField("happy to live with pets", default=True)
    needs_smoke_free = models.BooleanField("needs a smoke-free home", default=False)
    needs_step_free = models.BooleanField("needs a step-free home", default=False)
    culture_faith = _tags("Culture, faith and customs that matter to the person.")
    languages = _tags("Languages the person speaks.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = SeekerProfileQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Shared Lives profile of {self.holder}"


class MatchQuerySet(models.QuerySet["Match"]):
    def for_user(self, user: Any) -> MatchQuerySet:
        from budgets.models import BudgetHolder
        from marketplace.models.listings import Provider

        return self.filter(
            Q(seeker__holder__in=BudgetHolder.objects.for_user(user))
            | Q(carer__provider__in=Provider.objects.managed_by(user))
        )


class Match(models.Model):
    """A proposed pairing, from introduction to arrangement (or its end)."""

    class State(models.TextChoices):
        INTRODUCTION = "introduction", "Introduction"
        TRIAL_VISITS = "trial_visits", "Trial visits"
        ARRANGEMENT = "arrangement", "Arrangement in place"
        ENDED = "ended", "Ended"

    TRANSITIONS: dict[str, frozenset[str]] = {
        State.INTRODUCTION: frozenset({State.TRIAL_VISITS, State.ENDED}),
        State.TRIAL_VISITS: frozenset({State.ARRANGEMENT, State.ENDED}),
        State.ARRANGEMENT: frozenset({State.ENDED}),
        State.ENDED: frozenset(),
    }

    seeker = models.ForeignKey(SeekerProfile, on_delete=models.PROTECT, related_name="matches")
    carer = models.ForeignKey(CarerProfile, on_delete=models.PROTECT, related_name="matches")
    arrangement = models.CharField(max_length=16, choices=ArrangementKind.choices)
    score = models.PositiveSmallIntegerField(help_text="The match score when proposed (0-100).")
    reasons = models.JSONField(default=list, help_text="Why they were matched, when proposed.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.INTRODUCTION)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "matches"
        constraints = [
            models.UniqueConstraint(
                fields=["seeker", "carer"], condition=~Q(state="ended"), name="match_open_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.seeker.holder} with {self.carer.provider}"


class MatchStep(models.Model):
    """Each move of a match, with who made it and a note."""

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="steps")
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, choices=Match.State.choices)
    note = models.TextField(blank=True)
    happened_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state or 'start'} -> {self.to_state}"
