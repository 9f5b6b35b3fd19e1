"""Pooled purchasing: people with similar goals buy a service together, each paying a
share from their own budget. Funding posts every share in one transaction or none."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q


class PoolQuerySet(models.QuerySet["Pool"]):
    def for_user(self, user: Any) -> PoolQuerySet:
        """Pools the user organises, is a member of (for themselves or someone they
        represent), or serves as staff of a member's or the pool's organisation, or
        provides."""
        from budgets.models import BudgetHolder
        from marketplace.models.listings import Provider

        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_platform_admin:
            return self.all()
        return self.filter(
            Q(organiser=user)
            | Q(organisation__memberships__user=user)
            | Q(members__holder__in=BudgetHolder.objects.for_user(user))
            | Q(service__provider__in=Provider.objects.managed_by(user))
        ).distinct()

    def open_to_join(self) -> PoolQuerySet:
        return self.filter(state=Pool.State.OPEN)


class Pool(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Open to join"
        FUNDED = "funded", "Funded"
        COMPLETED = "completed", "Bought"
        REFUNDED = "refunded", "Purchase failed, shares refunded"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Closed without enough members"

    TRANSITIONS: dict[str, frozenset[str]] = {
        State.OPEN: frozenset({State.FUNDED, State.CANCELLED, State.EXPIRED}),
        State.FUNDED: frozenset({State.COMPLETED, State.REFUNDED}),
        State.COMPLETED: frozenset(),
        State.REFUNDED: frozenset(),
        State.CANCELLED: frozenset(),
        State.EXPIRED: frozenset(),
    }

    class Split(models.TextChoices):
        EQUAL = "equal", "The cost shared equally between members"
        FIXED = "fixed", "A fixed share for each member"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    purpose = models.CharField(max_length=200, help_text="What the members want to achieve.")
    description = models.TextField(blank=True)
    service = models.ForeignKey(
        "marketplace.Service", on_delete=models.PROTECT, related_name="pools"
    )
    organisation = models.ForeignKey(
        "users.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The ICB or council whose holders the pool is for.",
    )
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    cost_pence = models.BigIntegerField(help_text="The whole purchase.")
    split = models.CharField(max_length=8, choices=Split.choices, default=Split.EQUAL)
    share_pence = models.BigIntegerField(
        null=True, blank=True, help_text="Each member's share, for a fixed split."
    )
    minimum_members = models.PositiveSmallIntegerField(default=2)
    maximum_members = models.PositiveSmallIntegerField(null=True, blank=True)
    deadline = models.DateField(help_text="The last day to join; it closes if not funded.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    funded_at = models.DateTimeField(null=True, blank=True)
    funded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.TextField(blank=True)

    objects = PoolQuerySet.as_manager()

    class Meta:
        ordering = ["deadline", "id"]
        indexes = [models.Index(fields=["state", "deadline"])]
        constraints = [
            models.CheckConstraint(condition=Q(cost_pence__gt=0), name="pool_cost_positive"),
            models.CheckConstraint(condition=Q(minimum_members__gte=2), name="pool_two_or_more"),
            models.CheckConstraint(
                condition=Q(maximum_members__isnull=True)
                | Q(maximum_members__gte=models.F("minimum_members")),
                name="pool_maximum_at_least_minimum",
            ),
            models.CheckConstraint(
                condition=(Q(split="equal") & Q(share_pence__isnull=True))
                | (Q(split="fixed") & Q(share_pence__gt=0)),
                name="pool_share_matches_split",
            ),
        ]

    def __str__(self) -> str:
        return self.purpose


class PoolMemberQuerySet(models.QuerySet["PoolMember"]):
    def current(self) -> PoolMemberQuerySet:
        return self.filter(left_at__isnull=True)


class PoolMember(models.Model):
    """A holder's place in a pool, paid from one funding stream of one budget."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="members")
    holder = models.ForeignKey(
        "budgets.BudgetHolder", on_delete=models.PROTECT, related_name="pool_places"
    )
    budget = models.ForeignKey("budgets.Budget", on_delete=models.PROTECT, related_name="+")
    contribution = models.ForeignKey(
        "budgets.FundingContribution", on_delete=models.PROTECT, related_name="+"
    )
    plan_item = models.ForeignKey(
        "plans.SupportItem", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    show_name = models.BooleanField(
        default=False, help_text="Other members may see this member's first name."
    )
    joined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    joined_at = models.DateTimeField(auto_now_add=True)
    left_at = models.DateTimeField(null=True, blank=True)
    share_pence = models.BigIntegerField(null=True, blank=True, help_text="Set when funded.")
    spend = models.OneToOneField(
        "budgets.Spend", on_delete=models.PROTECT, null=True, blank=True, related_name="pool_share"
    )
    refund = models.OneToOneField(
        "budgets.LedgerTransaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = PoolMemberQuerySet.as_manager()

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pool", "holder"],
                condition=Q(left_at__isnull=True),
                name="pool_member_once",
            ),
            models.CheckConstraint(
                condition=Q(spend__isnull=True) | Q(left_at__isnull=True),
                name="pool_member_paid_not_left",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.holder} in {self.pool}"
