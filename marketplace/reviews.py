"""Reviews of services, by the people who bought them, moderated by the commissioner.

A review is written by the holder's side of a booking (the holder, or a representative
who manages their plan or money) once the support was delivered, or accepted and at
least one invoice paid; one per booking. It waits for a commissioner of an ICB or
council in whose market the provider is, who publishes it or rejects it with a reason.
Only published reviews are ever shown.

Errors as in every service: ``ValidationError`` for bad input (nothing changes),
``PermissionDenied`` for a caller without the right, ``Conflict`` for a wrong state."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.exceptions import Conflict
from core.services import audit_record, notification_send
from marketplace.models import Booking, Invoice, Provider, Review
from marketplace.permissions import commissioner_organisation_ids, is_commissioner_for_provider
from users.models import Representation

TEXT_MAX = 2000
REASON_MAX = 1000
PUBLISH = "publish"
REJECT = "reject"
DECISIONS = (PUBLISH, REJECT)


def is_holder_side(user: Any, booking: Booking) -> bool:
    """The holder, or a current representative who manages their plan or money (a
    representative who may only view does not write in the holder's name)."""
    if not getattr(user, "is_authenticated", False):
        return False
    holder = booking.holder
    if holder.user_id is not None and holder.user_id == user.pk:
        return True
    return (
        Representation.objects.current()
        .filter(representative=user, holder=holder)
        .filter(
            Q(scopes__contains=[Representation.Scope.MANAGE_PLAN])
            | Q(scopes__contains=[Representation.Scope.MANAGE_MONEY])
        )
        .exists()
    )


def review_refusal(booking: Booking) -> str | None:
    """Why the booking cannot be reviewed now, or ``None`` when it can."""
    if Review.objects.filter(booking=booking).exists():
        return "This booking has already been reviewed. You can review each booking once."
    if booking.state == Booking.State.DELIVERED:
        return None
    if (
        booking.state == Booking.State.ACCEPTED
        and booking.invoices.filter(state=Invoice.State.PAID).exists()
    ):
        return None
    return "You can review a service once it has been delivered, or once you have paid for it."


def review_write(*, booking: Booking, rating: Any, text: str, written_by: Any) -> Review:
    """Write a review of the booking's service; it waits for moderation.

    Raises ``PermissionDenied`` unless ``written_by`` is the holder's side,
    ``ValidationError`` for a rating outside 1 to 5 or text too long, ``Conflict`` when
    the support was not delivered (nor paid for) or the booking already has a review."""
    if not is_holder_side(written_by, booking):
        raise PermissionDenied("Only the person who booked, or their representative, can review")
    errors: dict[str, str] = {}
    # 1 to 5 whole stars: not 4.5, not True (which Python counts as 1).
    score = rating if isinstance(rating, int) else int(rating) if str(rating).isdigit() else 0
    if isinstance(rating, bool) or not 1 <= score <= 5:
        errors["rating"] = "Choose a rating from 1 to 5"
    text = (text or "").strip()
    if len(text) > TEXT_MAX:
        errors["text"] = f"Your review must be {TEXT_MAX} characters or fewer"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # Lock the booking: two submissions at once make one review.
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        refusal = review_refusal(locked)
        if refusal:
            raise Conflict(refusal)
        review = Review(
            booking=locked,
            service_id=locked.service_id,
            rating=score,
            text=text,
            written_by=written_by,
            state=Review.State.PENDING,
        )
        review.full_clean()
        review.save()
        audit_record(
            actor=written_by,
            action="review.written",
            obj=review,
            person=locked.holder,
            acting_for=locked.holder if locked.holder.user_id != written_by.pk else None,
            changes={"booking": locked.pk, "service": locked.service_id, "rating": score},
        )
    return review


def review_moderate(*, review: Review, decision: str, reason: str, moderated_by: Any) -> Review:
    """Publish or reject a pending review. The writer is told either way.

    Raises ``PermissionDenied`` unless ``moderated_by`` is a commissioner of an
    organisation in whose market the provider is, ``ValidationError`` for an unknown
    decision or a rejection without a reason, ``Conflict`` when it was already
    moderated."""
    provider: Provider = review.service.provider
    if not is_commissioner_for_provider(moderated_by, provider):
        raise PermissionDenied("Only a commissioner of this provider's area can moderate")
    reason = (reason or "").strip()
    if decision not in DECISIONS:
        raise ValidationError({"decision": "Choose whether to publish the review"})
    if decision == REJECT and not reason:
        raise ValidationError({"reason": "Enter why the review is not being published"})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"The reason must be {REASON_MAX} characters or fewer"})
    with transaction.atomic():
        locked = (
            Review.objects.select_for_update()
            .select_related("service", "booking__holder")
            .get(pk=review.pk)
        )
        if locked.state != Review.State.PENDING:
            raise Conflict(f"This review has already been moderated: {locked.get_state_display()}")
        locked.state = Review.State.PUBLISHED if decision == PUBLISH else Review.State.REJECTED
        locked.moderated_by = moderated_by
        locked.moderated_at = timezone.now()
        locked.moderation_reason = reason
        locked.full_clean()
        locked.save(update_fields=["state", "moderated_by", "moderated_at", "moderation_reason"])
        organisation = (
            provider.areas.filter(pk__in=commissioner_organisation_ids(moderated_by))
            .order_by("pk")
            .first()
        )
        audit_record(
            actor=moderated_by,
            action=f"review.{'published' if decision == PUBLISH else 'rejected'}",
            obj=locked,
            organisation=organisation,
            person=locked.booking.holder,
            changes={"service": locked.service_id, "reason": reason},
        )
        service = locked.service
        if decision == PUBLISH:
            subject = f"Your review of {service.title} is published"
            body = "Thank you. Your review now shows on the service's page."
        else:
            subject = f"Your review of {service.title} was not published"
            body = f"A commissioner did not publish your review. Their reason: {reason}"
        notification_send(
            user=locked.written_by,
            subject=subject,
            body=body,
            link=reverse("marketplace:service_detail", args=[service.pk]),
        )
    return locked
