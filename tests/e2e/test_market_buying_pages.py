"""The whole purchase in the browser: a holder searches, asks, books; the provider
accepts and invoices; the holder approves; the budget shows the spend. Every page ends
with the axe check."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page

from marketplace import buying
from marketplace.models import Booking, CostOption
from tests.e2e.steps import (
    given_i_am_signed_in_as,
    given_i_open,
    then_i_see_the_heading,
    then_i_see_the_text,
    then_the_error_summary_lists,
    then_the_page_is_accessible,
    when_i_fill_in,
    when_i_follow_the_link,
    when_i_press,
)
from tests.marketplace.factories import ProviderFactory, ServiceFactory, category

pytestmark = pytest.mark.e2e


def _fill_date(page: Page, field: str, day: Any) -> None:
    page.locator(f"#id_{field}_day").fill(str(day.day))
    page.locator(f"#id_{field}_month").fill(str(day.month))
    page.locator(f"#id_{field}_year").fill(str(day.year))


def test_a_holder_books_the_provider_invoices_and_the_holder_pays(page, world):
    provider = ProviderFactory(
        organisation=world.provider_org, name="Bright Days", areas=[world.org_x]
    )
    ServiceFactory(
        provider=provider,
        title="Supported swimming sessions",
        description="A swimming session with a support worker at the leisure centre.",
        keywords="Bright Days swimming sport",
        category=category("sport-fitness"),
        price=(25_00, CostOption.Per.SESSION),
    )
    ServiceFactory(
        provider=provider, title="Gardening club", description="Grow vegetables together."
    )
    today = timezone.localdate()

    # The holder finds the service and books four sessions.
    given_i_am_signed_in_as(page, world.holder_a.user)
    given_i_open(page, "/support/?q=swimming")
    then_the_page_is_accessible(page, "buy-search-results")
    when_i_follow_the_link(page, "Supported swimming sessions")
    then_i_see_the_heading(page, "Supported swimming sessions")
    then_the_page_is_accessible(page, "buy-service")
    when_i_follow_the_link(page, "Book this service")
    then_i_see_the_heading(page, "Book Supported swimming sessions")
    then_the_page_is_accessible(page, "buy-booking-form")
    when_i_fill_in(page, "How many", "0")
    when_i_press(page, "Send the booking request")
    then_the_error_summary_lists(page, "Enter 1 or more", "Enter the start date")
    then_the_page_is_accessible(page, "buy-booking-form-errors")
    when_i_fill_in(page, "How many", "4")
    _fill_date(page, "starts_on", today)
    when_i_press(page, "Send the booking request")
    then_i_see_the_heading(page, "Supported swimming sessions")
    then_i_see_the_text(page, "Your booking request has been sent to Bright Days")
    then_the_page_is_accessible(page, "buy-booking-requested")
    booking = Booking.objects.get()
    assert booking.amount_pence == 100_00

    # The provider accepts and sends an invoice for two sessions.
    given_i_am_signed_in_as(page, world.provider_staff)
    given_i_open(page, "/bookings/")
    then_i_see_the_heading(page, "Bookings")
    then_the_page_is_accessible(page, "buy-provider-bookings")
    when_i_follow_the_link(page, "Supported swimming sessions")
    then_i_see_the_text(page, "Requested")
    then_the_page_is_accessible(page, "buy-provider-booking")
    when_i_press(page, "Accept the booking")
    then_i_see_the_text(page, "You accepted the booking")
    then_the_page_is_accessible(page, "buy-provider-accepted")
    when_i_follow_the_link(page, "Send an invoice")
    then_the_page_is_accessible(page, "buy-invoice-form")
    when_i_fill_in(page, "Invoice number", "BD-0042")
    when_i_fill_in(page, "Amount", "50.00")
    _fill_date(page, "period_start", today)
    _fill_date(page, "period_end", today)
    when_i_press(page, "Send the invoice")
    then_i_see_the_text(page, "Your invoice has been sent for approval")
    then_the_page_is_accessible(page, "buy-provider-invoiced")

    # The holder sees the money set aside, approves the invoice, and sees the spend.
    given_i_am_signed_in_as(page, world.holder_a.user)
    given_i_open(page, f"/budgets/{world.budget_a.pk}/")
    then_i_see_the_text(page, "Set aside for bookings")
    then_the_page_is_accessible(page, "buy-budget-with-booking")
    when_i_follow_the_link(page, "Supported swimming sessions")
    then_i_see_the_text(page, "Invoice BD-0042: £50.00")
    then_the_page_is_accessible(page, "buy-invoice-to-approve")
    when_i_press(page, "Approve and pay £50.00")
    then_i_see_the_text(page, "Invoice BD-0042 is approved: £50.00 has been paid from the budget")
    then_the_page_is_accessible(page, "buy-invoice-paid")
    given_i_open(page, f"/budgets/{world.budget_a.pk}/")
    then_i_see_the_text(page, "£330.00")  # £380 before, less £50
    then_the_page_is_accessible(page, "buy-budget-after")
    when_i_follow_the_link(page, "Your spending")
    then_i_see_the_text(page, "Bright Days")
    then_the_page_is_accessible(page, "buy-spending-after")


def test_questions_declines_cancellations_and_disputes(page, world):
    provider = ProviderFactory(
        organisation=world.provider_org, name="Bright Days", areas=[world.org_x]
    )
    service = ServiceFactory(
        provider=provider,
        title="Art classes",
        category=category("arts-creativity"),
        price=(30_00, CostOption.Per.SESSION),
    )
    today = timezone.localdate()

    # The holder asks a question; the provider answers it.
    given_i_am_signed_in_as(page, world.holder_a.user)
    given_i_open(page, f"/support/services/{service.pk}/ask/")
    then_i_see_the_heading(page, "Ask Bright Days a question")
    then_the_page_is_accessible(page, "buy-ask")
    when_i_press(page, "Send the question")
    then_the_error_summary_lists(page, "Enter your question")
    then_the_page_is_accessible(page, "buy-ask-errors")
    when_i_fill_in(page, "Your question", "Do you have a class on Saturdays?")
    when_i_press(page, "Send the question")
    then_i_see_the_text(page, "Not answered yet")
    then_the_page_is_accessible(page, "buy-question-sent")

    given_i_am_signed_in_as(page, world.provider_staff)
    given_i_open(page, "/bookings/")
    then_i_see_the_text(page, "waiting for an answer")
    then_the_page_is_accessible(page, "buy-provider-questions")
    when_i_follow_the_link(page, "Art classes")
    then_the_page_is_accessible(page, "buy-question-to-answer")
    when_i_fill_in(page, "Your answer", "Yes, 10am at the library.")
    when_i_press(page, "Send the answer")
    then_i_see_the_text(page, "Yes, 10am at the library.")
    then_the_page_is_accessible(page, "buy-question-answered")

    # The provider declines one booking, with a reason.
    first = buying.booking_request(
        service=service,
        budget=world.budget_a,
        requested_by=world.holder_a.user,
        quantity=2,
        starts_on=today,
    )
    given_i_open(page, f"/bookings/{first.pk}/")
    then_the_page_is_accessible(page, "buy-booking-to-decide")
    when_i_follow_the_link(page, "Decline")
    then_i_see_the_heading(page, "Decline the booking")
    then_the_page_is_accessible(page, "buy-decline")
    when_i_fill_in(page, "Reason", "The Saturday class is full.")
    when_i_press(page, "Decline the booking")
    then_i_see_the_text(page, "The booking is declined")
    then_the_page_is_accessible(page, "buy-declined")

    # The holder disputes an invoice, then cancels the booking.
    second = buying.booking_decide(
        booking=buying.booking_request(
            service=service,
            budget=world.budget_a,
            requested_by=world.holder_a.user,
            quantity=2,
            starts_on=today,
        ),
        accept=True,
        decided_by=world.provider_staff,
    )
    invoice = buying.invoice_submit(
        booking=second,
        reference="AC-9",
        amount_pence=60_00,
        period_start=today,
        period_end=today,
        issued_by=world.provider_staff,
    )
    given_i_am_signed_in_as(page, world.holder_a.user)
    given_i_open(page, f"/bookings/{second.pk}/")
    then_the_page_is_accessible(page, "buy-booking-with-invoice")
    when_i_follow_the_link(page, "Dispute")
    then_i_see_the_heading(page, "Dispute invoice AC-9")
    then_the_page_is_accessible(page, "buy-dispute")
    when_i_fill_in(page, "What is wrong with the invoice", "I went to one class, not two.")
    when_i_press(page, "Dispute the invoice")
    then_i_see_the_text(page, "The provider has been told why you disputed the invoice")
    then_the_page_is_accessible(page, "buy-disputed")
    when_i_follow_the_link(page, "Cancel the booking")
    then_the_page_is_accessible(page, "buy-cancel")
    when_i_fill_in(page, "Reason", "I have found a class nearer home.")
    when_i_press(page, "Cancel the booking")
    then_i_see_the_text(page, "The booking is cancelled")
    then_the_page_is_accessible(page, "buy-cancelled")
    invoice.refresh_from_db()
    assert invoice.state == "disputed"
    assert not invoice.spend_id
