"""Reviews: who may write one, once per booking, only after delivery (or a paid invoice);
moderation by a commissioner of the provider's market only; what the pages show."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from budgets.models import SpendCategory
from budgets.services import spend_record
from core.exceptions import Conflict
from core.models import AuditEvent, Notification
from marketplace.models import Booking, CostOption, Invoice, Review, Service
from marketplace.reviews import review_moderate, review_write
from tests.conftest import World, staff_user
from tests.factories import RepresentationFactory
from tests.marketplace.factories import ProviderFactory, ServiceFactory
from tests.matrix_samples.marketplace_search import delivered_booking
from users.models import Representation, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def service(world: World) -> Service:
    """A service of the world's provider organisation, in org X's market."""
    provider = ProviderFactory(organisation=world.provider_org, areas=[world.org_x])
    return ServiceFactory(provider=provider, title="Swimming", price=(20_00, CostOption.Per.HOUR))


@pytest.fixture
def booking(world: World, service: Service) -> Booking:
    return delivered_booking(world, service)


def in_state(booking: Booking, state: str) -> Booking:
    Booking.objects.filter(pk=booking.pk).update(state=state)
    booking.refresh_from_db()
    return booking


def pay_an_invoice(world: World, booking: Booking) -> Invoice:
    spend = spend_record(
        budget=booking.budget,
        payee=booking.service.provider.name,
        spent_on=timezone.localdate(),
        amount_pence=20_00,
        category=SpendCategory.ACTIVITIES,
        recorded_by=world.holder_a.user,
        idempotency_key=f"review-test-{booking.pk}",
    )
    return Invoice.objects.create(
        booking=booking,
        reference="INV-1",
        amount_pence=20_00,
        period_start=booking.starts_on,
        period_end=booking.starts_on,
        state=Invoice.State.PAID,
        issued_by=world.provider_staff,
        spend=spend,
    )


def write(booking: Booking, user: Any, rating: Any = 5) -> Review:
    return review_write(booking=booking, rating=rating, text="Very kind.", written_by=user)


# Writing -----------------------------------------------------------------------------


def test_the_holder_writes_a_review_that_waits_for_moderation(
    world: World, booking: Booking
) -> None:
    review = write(booking, world.holder_a.user, rating="4")

    assert review.state == Review.State.PENDING
    assert review.rating == 4
    assert review.service == booking.service
    event = AuditEvent.objects.get(action="review.written")
    assert event.object_id == str(review.pk)
    assert event.person_id == world.holder_a.pk


def test_a_representative_who_manages_the_plan_or_money_may_write(
    world: World, booking: Booking
) -> None:
    rep = RepresentationFactory(
        holder=world.holder_a, scopes=[Representation.Scope.MANAGE_MONEY]
    ).representative

    review = write(booking, rep)

    assert review.written_by == rep
    assert AuditEvent.objects.get(action="review.written").acting_for_id == world.holder_a.pk


@pytest.mark.parametrize(
    "who", ["representative", "holder_b", "staff_x", "commissioner", "provider_staff"]
)
def test_nobody_else_may_write_one(world: World, booking: Booking, who: str) -> None:
    # The world's representative may only view holder A's records.
    with pytest.raises(PermissionDenied):
        write(booking, world.users()[who])
    assert not Review.objects.exists()


def test_an_ended_representation_may_not_write(world: World, booking: Booking) -> None:
    rep = RepresentationFactory(
        holder=world.holder_a,
        scopes=[Representation.Scope.MANAGE_PLAN],
        starts_on=datetime.date(2000, 1, 1),
        ends_on=datetime.date(2001, 1, 1),
    ).representative

    with pytest.raises(PermissionDenied):
        write(booking, rep)


@pytest.mark.parametrize(
    "state",
    [
        Booking.State.REQUESTED,
        Booking.State.ACCEPTED,
        Booking.State.DECLINED,
        Booking.State.CANCELLED,
    ],
)
def test_only_after_delivery(world: World, booking: Booking, state: str) -> None:
    in_state(booking, state)

    with pytest.raises(Conflict, match="once it has been delivered"):
        write(booking, world.holder_a.user)
    assert not Review.objects.exists()


def test_an_accepted_booking_with_a_paid_invoice_may_be_reviewed(
    world: World, booking: Booking
) -> None:
    in_state(booking, Booking.State.ACCEPTED)
    pay_an_invoice(world, booking)

    assert write(booking, world.holder_a.user).state == Review.State.PENDING


def test_an_accepted_booking_with_only_an_unpaid_invoice_may_not(
    world: World, booking: Booking
) -> None:
    in_state(booking, Booking.State.ACCEPTED)
    Invoice.objects.create(
        booking=booking,
        reference="INV-2",
        amount_pence=20_00,
        period_start=booking.starts_on,
        period_end=booking.starts_on,
        issued_by=world.provider_staff,
    )

    with pytest.raises(Conflict):
        write(booking, world.holder_a.user)


def test_one_review_per_booking(world: World, booking: Booking) -> None:
    write(booking, world.holder_a.user)

    with pytest.raises(Conflict, match="already been reviewed"):
        write(booking, world.holder_a.user, rating=1)
    assert Review.objects.get().rating == 5


@pytest.mark.parametrize("rating", [0, 6, -1, "five", None, "", True, 4.5])
def test_a_rating_must_be_1_to_5(world: World, booking: Booking, rating: Any) -> None:
    with pytest.raises(ValidationError) as error:
        write(booking, world.holder_a.user, rating=rating)
    assert "rating" in error.value.message_dict
    assert not Review.objects.exists()
    assert not AuditEvent.objects.filter(action="review.written").exists()


def test_text_over_the_limit_is_refused(world: World, booking: Booking) -> None:
    with pytest.raises(ValidationError):
        review_write(booking=booking, rating=5, text="x" * 2001, written_by=world.holder_a.user)
    assert not Review.objects.exists()


# Moderation --------------------------------------------------------------------------


@pytest.fixture
def review(world: World, booking: Booking) -> Review:
    return write(booking, world.holder_a.user)


def test_the_providers_commissioner_publishes_and_the_writer_is_told(
    world: World, review: Review
) -> None:
    moderated = review_moderate(
        review=review, decision="publish", reason="", moderated_by=world.commissioner
    )

    assert moderated.state == Review.State.PUBLISHED
    assert moderated.moderated_by == world.commissioner
    event = AuditEvent.objects.get(action="review.published")
    assert event.organisation_id == world.org_x.pk
    note = Notification.objects.get(user=world.holder_a.user)
    assert "is published" in note.subject
    assert note.link == reverse("marketplace:service_detail", args=[review.service_id])


def test_rejecting_needs_a_reason_which_the_writer_is_told(world: World, review: Review) -> None:
    with pytest.raises(ValidationError) as error:
        review_moderate(
            review=review, decision="reject", reason=" ", moderated_by=world.commissioner
        )
    assert "reason" in error.value.message_dict
    review.refresh_from_db()
    assert review.state == Review.State.PENDING

    review_moderate(
        review=review,
        decision="reject",
        reason="It names a member of staff.",
        moderated_by=world.commissioner,
    )

    review.refresh_from_db()
    assert review.state == Review.State.REJECTED
    assert review.moderation_reason == "It names a member of staff."
    assert AuditEvent.objects.filter(action="review.rejected").count() == 1
    note = Notification.objects.get(user=world.holder_a.user)
    assert "It names a member of staff." in note.body


def test_an_unknown_decision_is_refused(world: World, review: Review) -> None:
    with pytest.raises(ValidationError):
        review_moderate(review=review, decision="maybe", reason="", moderated_by=world.commissioner)


def test_another_icbs_commissioner_is_refused(world: World, review: Review) -> None:
    other = staff_user(world.org_y, Role.COMMISSIONER)

    with pytest.raises(PermissionDenied):
        review_moderate(review=review, decision="publish", reason="", moderated_by=other)
    review.refresh_from_db()
    assert review.state == Review.State.PENDING
    assert not Notification.objects.filter(user=world.holder_a.user).exists()


@pytest.mark.parametrize("who", ["staff_x", "finance_officer", "provider_staff", "holder_a"])
def test_other_roles_in_the_area_are_refused(world: World, review: Review, who: str) -> None:
    with pytest.raises(PermissionDenied):
        review_moderate(
            review=review, decision="publish", reason="", moderated_by=world.users()[who]
        )


def test_a_review_is_moderated_once(world: World, review: Review) -> None:
    review_moderate(review=review, decision="publish", reason="", moderated_by=world.commissioner)

    with pytest.raises(Conflict):
        review_moderate(
            review=review, decision="reject", reason="No.", moderated_by=world.commissioner
        )
    review.refresh_from_db()
    assert review.state == Review.State.PUBLISHED


# Pages -------------------------------------------------------------------------------


def test_pending_and_rejected_reviews_never_show_on_the_service_page(
    world: World, service: Service, client: Client
) -> None:
    texts = {"published": "Lovely pool.", "pending": "Waiting words.", "rejected": "Rude words."}
    for state, text in texts.items():
        Review.objects.create(
            booking=delivered_booking(world, service),
            service=service,
            rating=4,
            text=text,
            written_by=world.holder_a.user,
            state=state,
        )

    page = client.get(reverse("marketplace:service_detail", args=[service.pk])).content.decode()

    assert "Lovely pool." in page
    assert "Waiting words." not in page
    assert "Rude words." not in page
    assert "4.0 out of 5 (1 review)" in page


def test_the_holder_reviews_through_the_page(
    world: World, booking: Booking, client_for: Any
) -> None:
    client = client_for(world.holder_a.user)
    url = reverse("marketplace:review_create", args=[booking.pk])

    assert "How would you rate this service?" in client.get(url).content.decode()
    error = client.post(url, {"text": "No rating"})
    assert "Choose a rating from 1 to 5" in error.content.decode()
    assert not Review.objects.exists()

    response = client.post(url, {"rating": "5", "text": "Brilliant."})

    assert response.status_code == 302
    assert response["Location"] == reverse("marketplace:service_detail", args=[booking.service_id])
    assert Review.objects.get().text == "Brilliant."
    again = client.get(url).content.decode()
    assert "already been reviewed" in again
    assert client.post(url, {"rating": "1"}).status_code == 409
    assert Review.objects.count() == 1


def test_the_review_page_explains_a_booking_not_yet_delivered(
    world: World, booking: Booking, client_for: Any
) -> None:
    in_state(booking, Booking.State.ACCEPTED)
    url = reverse("marketplace:review_create", args=[booking.pk])

    page = client_for(world.holder_a.user).get(url).content.decode()

    assert "once it has been delivered" in page
    assert 'name="rating"' not in page


def test_the_review_page_is_the_holder_sides_only(
    world: World, booking: Booking, client_for: Any
) -> None:
    url = reverse("marketplace:review_create", args=[booking.pk])

    assert client_for(world.representative).get(url).status_code == 403  # may only view
    assert client_for(world.holder_b.user).get(url).status_code == 404
    assert client_for(world.staff_x).get(url).status_code == 403  # not holder side
    assert client_for(None).get(url).status_code == 302


def test_the_queue_shows_pending_reviews_of_the_commissioners_market_only(
    world: World, review: Review, client_for: Any
) -> None:
    elsewhere = ServiceFactory(
        title="Elsewhere", provider=ProviderFactory(areas=[world.org_y]), price=(5_00, "hour")
    )
    Review.objects.create(
        booking=delivered_booking(world, elsewhere),
        service=elsewhere,
        rating=3,
        written_by=world.holder_a.user,
    )
    published = delivered_booking(world, review.service)
    Review.objects.create(
        booking=published,
        service=review.service,
        rating=2,
        written_by=world.holder_a.user,
        state=Review.State.PUBLISHED,
    )

    page = client_for(world.commissioner).get(reverse("marketplace:review_queue")).content
    text = page.decode()

    assert "Waiting (1)" in text
    assert reverse("marketplace:review_moderate", args=[review.pk]) in text
    assert "Elsewhere" not in text


def test_the_commissioner_moderates_through_the_page(
    world: World, review: Review, client_for: Any
) -> None:
    client = client_for(world.commissioner)
    url = reverse("marketplace:review_moderate", args=[review.pk])

    assert "Should this review be published?" in client.get(url).content.decode()
    error = client.post(url, {"decision": "reject", "reason": ""}).content.decode()
    assert "Enter why the review is not being published" in error
    review.refresh_from_db()
    assert review.state == Review.State.PENDING

    response = client.post(url, {"decision": "publish"})

    assert response.status_code == 302
    review.refresh_from_db()
    assert review.state == Review.State.PUBLISHED
    assert 'name="decision"' not in client.get(url).content.decode()


def test_another_icbs_commissioner_cannot_open_the_review(
    world: World, review: Review, client_for: Any
) -> None:
    other = staff_user(world.org_y, Role.COMMISSIONER)
    url = reverse("marketplace:review_moderate", args=[review.pk])

    assert client_for(other).get(url).status_code == 404
    assert client_for(other).post(url, {"decision": "publish"}).status_code == 404
    review.refresh_from_db()
    assert review.state == Review.State.PENDING
