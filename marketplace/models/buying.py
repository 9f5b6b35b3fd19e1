"""Buying support: an enquiry, the booking that follows, the provider's invoices (each
paid, once approved, by a spend from the holder's budget) and the holder's review."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q


class EnquiryQuerySet(models.QuerySet["Enquiry"]):
    def for_user(self, user: Any) -> EnquiryQuerySet:
        """The holder's side (holder, representatives, staff serving them) and the
        provider's staff."""
        from budgets.models import BudgetHolder
        from marketplace.models.listings import Provider

        return self.filter(
            Q(holder__in=BudgetHolder.objects.for_user(user))
            | Q(service__provider__in=Provider.objects.managed_by(user))
        )


class Enquiry(models.Model):
    """A question to a provider before booking."""

    service = models.ForeignKey(
        "marketplace.Service", on_delete=models.PROTECT, related_name="enquiries"
    )
    holder = models.ForeignKey(
        "budgets.BudgetHolder", on_delete=models.PROTECT, related_name="enquiries"
    )
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = EnquiryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "enquiries"

    def __str__(self) -> str:
        return f"Enquiry about {self.service}"


class BookingQuerySet(models.QuerySet["Booking"]):
    def for_user(self, user: Any) -> BookingQuerySet:
        from budgets.models import BudgetHolder
        from marketplace.models.listings import Provider

        return self.filter(
            Q(holder__in=BudgetHolder.objects.for_user(user))
            | Q(service__provider__in=Provider.objects.managed_by(user))
        )

    def committed(self) -> BookingQuerySet:
        """Bookings whose money is promised: accepted or delivered."""
        return self.filter(state__in=[Booking.State.ACCEPTED, Booking.State.DELIVERED])


class Booking(models.Model):
    """An agreement to buy a service from a holder's budget."""

    class State(models.TextChoices):
        REQUESTED = "requested", "Requested"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Cancelled"
        DELIVERED = "delivered", "Delivered"

    TRANSITIONS: dict[str, frozenset[str]] = {
        State.REQUESTED: frozenset({State.ACCEPTED, State.DECLINED, State.CANCELLED}),
        State.ACCEPTED: frozenset({State.DELIVERED, State.CANCELLED}),
        State.DECLINED: frozenset(),
        State.CANCELLED: frozenset(),
        State.DELIVERED: frozenset(),
    }

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    service = models.ForeignKey(
        "marketplace.Service", on_delete=models.PROTECT, related_name="bookings"
    )
    cost_option = models.ForeignKey(
        "marketplace.CostOption",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    holder = models.ForeignKey(
        "budgets.BudgetHolder", on_delete=models.PROTECT, related_name="bookings"
    )
    budget = models.ForeignKey("budgets.Budget", on_delete=models.PROTECT, related_name="bookings")
    contribution = models.ForeignKey(
        "budgets.FundingContribution",
        on_delete=models.PROTECT,
        related_name="bookings",
        help_text="The funding that pays for it.",
    )
    plan_item = models.ForeignKey(
        "plans.SupportItem",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bookings",
    )
    enquiry = models.ForeignKey(
        Enquiry, on_delete=models.SET_NULL, null=True, blank=True, related_name="bookings"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.REQUESTED)
    quantity = models.PositiveIntegerField(default=1, help_text="How many hours, sessions...")
    unit_price_pence = models.BigIntegerField()
    amount_pence = models.BigIntegerField(help_text="The agreed total: quantity x unit price.")
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    details = models.TextField(blank=True, help_text="What, when, anything the provider needs.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why it was declined or cancelled.")
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    delivered_at = models.DateTimeField(null=True, blank=True)
    paid_pence = models.BigIntegerField(default=0, help_text="Paid on approved invoices.")

    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["budget", "state"]), models.Index(fields=["state"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_price_pence__gte=0) & Q(amount_pence__gte=0),
                name="booking_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(paid_pence__gte=0) & Q(paid_pence__lte=models.F("amount_pence")),
                name="booking_paid_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="booking_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} for {self.holder}"

    @property
    def committed_pence(self) -> int:
        """Promised and not yet paid."""
        if self.state not in (self.State.ACCEPTED, self.State.DELIVERED):
            return 0
        return self.amount_pence - self.paid_pence


class Invoice(models.Model):
    """A provider's bill for a booking; approving it posts a spend from the budget."""

    class State(models.TextChoices):
        SUBMITTED = "submitted", "Waiting for approval"
        PAID = "paid", "Approved and paid"
        DISPUTED = "disputed", "Disputed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="invoices")
    reference = models.CharField(max_length=60, help_text="The provider's invoice number.")
    amount_pence = models.BigIntegerField()
    period_start = models.DateField()
    period_end = models.DateField()
    details = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.SUBMITTED)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    dispute_reason = models.TextField(blank=True)
    spend = models.OneToOneField(
        "budgets.Spend",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoice",
        help_text="The spend that paid it.",
    )

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_pence__gt=0), name="invoice_amount_positive"),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="invoice_period_in_order",
            ),
            models.CheckConstraint(
                condition=~Q(state="paid") | Q(spend__isnull=False), name="invoice_paid_has_spend"
            ),
            models.UniqueConstraint(
                fields=["booking", "reference"], name="invoice_reference_once_per_booking"
            ),
        ]

    def __str__(self) -> str:
        return f"Invoice {self.reference}"


class ReviewQuerySet(models.QuerySet["Review"]):
    def published(self) -> ReviewQuerySet:
        return self.filter(state=Review.State.PUBLISHED)


class Review(models.Model):
    """A holder's rating of a service they booked; shown once a commissioner approves."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for moderation"
        PUBLISHED = "published", "Published"
        REJECTED = "rejected", "Not published"

    booking = models.OneToOneField(Booking, on_delete=models.PROTECT, related_name="review")
    service = models.ForeignKey(
        "marketplace.Service", on_delete=models.PROTECT, related_name="reviews"
    )
    rating = models.PositiveSmallIntegerField()
    text = models.TextField(blank=True)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    written_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    moderated_at = models.DateTimeField(null=True, blank=True)
    moderation_reason = models.TextField(blank=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-written_at"]
        indexes = [models.Index(fields=["service", "state"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5), name="review_rating_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 for {self.service}"
