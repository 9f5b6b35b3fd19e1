"""The buying pages: who may open and act on them, and that a form sent twice books and
pays once."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from budgets.models import Spend
from marketplace import buying
from marketplace.models import Booking, CostOption, Enquiry, Invoice
from tests.marketplace.factories import ProviderFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def service(world: Any) -> Any:
    provider = ProviderFactory(
        organisation=world.provider_org, name="Bright Days", areas=[world.org_x]
    )
    return ServiceFactory(
        provider=provider, title="Swimming with support", price=(25_00, CostOption.Per.SESSION)
    )


def _date(prefix: str, day: Any) -> dict[str, str]:
    return {
        f"{prefix}_day": str(day.day),
        f"{prefix}_month": str(day.month),
        f"{prefix}_year": str(day.year),
    }


def test_a_holder_books_and_the_form_sent_twice_books_once(world, service, client_for):
    client = client_for(world.holder_a.user)
    page = client.get(reverse("marketplace:booking_create", args=[service.pk]))
    assert page.status_code == 200
    assert "£25.00 a session" in page.content.decode()
    data = {
        "funding": f"{world.budget_a.pk}:{world.budget_a.contributions.get().pk}",
        "cost_option": str(service.cost_options.get().pk),
        "quantity": "4",
        **_date("starts_on", timezone.localdate()),
        "details": "Tuesday mornings",
    }
    data["key"] = "6c1f0d3e-2b7a-4f4e-9a51-0d9c2e1b7a10"
    url = reverse("marketplace:booking_create", args=[service.pk])
    first = client.post(url, data)
    assert first.status_code == 302
    again = client.post(url, data)
    assert again.status_code == 302
    assert again["Location"] == first["Location"]
    booking = Booking.objects.get()
    assert first["Location"] == reverse("marketplace:booking_detail", args=[booking.pk])
    assert (booking.amount_pence, booking.details) == (100_00, "Tuesday mornings")


def test_bad_booking_input_shows_errors_and_books_nothing(world, service, client_for):
    client = client_for(world.holder_a.user)
    response = client.post(
        reverse("marketplace:booking_create", args=[service.pk]),
        {
            "funding": f"{world.budget_a.pk}:{world.budget_a.contributions.get().pk}",
            "cost_option": str(service.cost_options.get().pk),
            "quantity": "0",
            "starts_on_day": "31",
            "starts_on_month": "2",
            "starts_on_year": "2027",
        },
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Enter 1 or more" in text
    assert "must be a real date" in text
    assert not Booking.objects.exists()


def test_the_provider_accepts_invoices_and_the_holder_approves_once(world, service, client_for):
    booking = buying.booking_request(
        service=service,
        budget=world.budget_a,
        requested_by=world.holder_a.user,
        quantity=2,
        starts_on=timezone.localdate(),
    )
    provider = client_for(world.provider_staff)
    assert (
        provider.post(reverse("marketplace:booking_accept", args=[booking.pk])).status_code == 302
    )
    today = timezone.localdate()
    response = provider.post(
        reverse("marketplace:invoice_create", args=[booking.pk]),
        {
            "reference": "BD-7",
            "amount": "50.00",
            **_date("period_start", today),
            **_date("period_end", today),
        },
    )
    assert response.status_code == 302
    invoice = Invoice.objects.get()

    holder = client_for(world.holder_a.user)
    detail = holder.get(reverse("marketplace:booking_detail", args=[booking.pk])).content.decode()
    assert "Approve and pay £50.00" in detail
    approve = reverse("marketplace:invoice_approve", args=[invoice.pk])
    assert holder.post(approve).status_code == 302
    assert holder.post(approve).status_code == 302  # a double click
    assert Spend.objects.filter(payee="Bright Days").count() == 1
    budget_page = holder.get(reverse("budgets:budget_detail", args=[world.budget_a.pk]))
    assert "Set aside for bookings" not in budget_page.content.decode()  # all paid


def test_accepted_bookings_show_as_money_set_aside_on_the_budget(world, service, client_for):
    booking = buying.booking_request(
        service=service,
        budget=world.budget_a,
        requested_by=world.holder_a.user,
        quantity=3,
        starts_on=timezone.localdate(),
    )
    buying.booking_decide(booking=booking, accept=True, decided_by=world.provider_staff)
    page = client_for(world.holder_a.user).get(
        reverse("budgets:budget_detail", args=[world.budget_a.pk])
    )
    text = page.content.decode()
    assert "Set aside for bookings" in text
    assert "£75.00" in text
    assert "Swimming with support" in text


def test_pages_that_act_refuse_those_who_may_only_look(world, service, client_for):
    booking = buying.booking_request(
        service=service,
        budget=world.budget_a,
        requested_by=world.holder_a.user,
        quantity=2,
        starts_on=timezone.localdate(),
    )
    accept = reverse("marketplace:booking_accept", args=[booking.pk])
    # Staff of the holder's ICB see the booking but cannot accept it for the provider.
    assert (
        client_for(world.staff_x)
        .get(reverse("marketplace:booking_detail", args=[booking.pk]))
        .status_code
        == 200
    )
    assert client_for(world.staff_x).post(accept).status_code == 403
    # Another holder does not see it at all.
    assert (
        client_for(world.holder_b.user)
        .get(reverse("marketplace:booking_detail", args=[booking.pk]))
        .status_code
        == 404
    )
    # The provider cannot approve its own invoice.
    buying.booking_decide(booking=booking, accept=True, decided_by=world.provider_staff)
    today = timezone.localdate()
    invoice = buying.invoice_submit(
        booking=booking,
        reference="X",
        amount_pence=10_00,
        period_start=today,
        period_end=today,
        issued_by=world.provider_staff,
    )
    response = client_for(world.provider_staff).post(
        reverse("marketplace:invoice_approve", args=[invoice.pk])
    )
    assert response.status_code == 403
    assert Invoice.objects.get(pk=invoice.pk).state == Invoice.State.SUBMITTED


def test_asking_and_answering(world, service, client_for):
    holder = client_for(world.holder_a.user)
    response = holder.post(
        reverse("marketplace:enquiry_create", args=[service.pk]),
        {"holder": str(world.holder_a.pk), "message": "Is the pool step-free?"},
    )
    assert response.status_code == 302
    enquiry = Enquiry.objects.get()
    page = reverse("marketplace:enquiry_detail", args=[enquiry.pk])
    # The holder cannot answer their own question.
    assert holder.post(page, {"answer": "Yes"}).status_code == 403
    provider = client_for(world.provider_staff)
    assert provider.post(page, {"answer": "Yes, with a hoist."}).status_code == 302
    enquiry.refresh_from_db()
    assert enquiry.answer == "Yes, with a hoist."
    assert "Yes, with a hoist." in holder.get(page).content.decode()
