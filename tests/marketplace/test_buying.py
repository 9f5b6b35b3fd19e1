"""Buying from the marketplace: enquiry, booking, every booking transition (and the
disallowed ones), invoices, and the approval that pays with a spend from the budget,
once, through the budgets services."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from budgets.ledger import InsufficientFunds
from budgets.models import LedgerAccount, LedgerTransaction, Spend, SpendCategory
from core.exceptions import Conflict
from core.models import AuditEvent
from marketplace import buying
from marketplace.models import Booking, CostOption, Invoice
from tests.conftest import staff_user
from tests.factories import BudgetHolderFactory, RepresentationFactory, make_budget
from tests.marketplace.factories import ProviderFactory, ServiceFactory, category
from users.models import Representation, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def service(world: Any) -> Any:
    provider = ProviderFactory(
        organisation=world.provider_org, name="Bright Days PAs", areas=[world.org_x]
    )
    return ServiceFactory(
        provider=provider,
        title="Personal assistant for days out",
        category=category("personal-assistance"),
        price=(18_00, CostOption.Per.HOUR),
    )


def _book(world: Any, service: Any, *, quantity: int = 5, by: Any = None) -> Booking:
    return buying.booking_request(
        service=service,
        budget=world.budget_a,
        requested_by=by or world.holder_a.user,
        quantity=quantity,
        starts_on=timezone.localdate(),
    )


def _accepted(world: Any, service: Any, **kwargs: Any) -> Booking:
    booking = _book(world, service, **kwargs)
    return buying.booking_decide(booking=booking, accept=True, decided_by=world.provider_staff)


def _invoice(world: Any, booking: Booking, pence: int, reference: str = "INV-1") -> Invoice:
    today = timezone.localdate()
    return buying.invoice_submit(
        booking=booking,
        reference=reference,
        amount_pence=pence,
        period_start=today,
        period_end=today,
        issued_by=world.provider_staff,
    )


def _balance(budget: Any) -> int:
    return LedgerAccount.objects.get(kind="budget", budget=budget).balance_pence


def test_the_whole_journey_pays_the_provider_once_from_the_budget(world, service):
    enquiry = buying.enquiry_send(
        service=service,
        holder=world.holder_a,
        message="Can you help on Saturdays?",
        asked_by=world.holder_a.user,
    )
    buying.enquiry_answer(
        enquiry=enquiry, answer="Yes, 10 till 4.", answered_by=world.provider_staff
    )
    booking = buying.booking_request(
        service=service,
        budget=world.budget_a,
        requested_by=world.holder_a.user,
        quantity=5,
        starts_on=timezone.localdate(),
        enquiry=enquiry,
    )
    assert booking.state == Booking.State.REQUESTED
    assert booking.amount_pence == 90_00
    assert booking.committed_pence == 0  # not promised until accepted

    booking = buying.booking_decide(booking=booking, accept=True, decided_by=world.provider_staff)
    assert booking.committed_pence == 90_00
    assert [b.pk for b in buying.budget_commitments(world.budget_a)] == [booking.pk]

    before = _balance(world.budget_a)
    invoice = _invoice(world, booking, 54_00)
    invoice = buying.invoice_approve(invoice=invoice, approved_by=world.holder_a.user)

    spend = Spend.objects.get(pk=invoice.spend_id)
    assert invoice.state == Invoice.State.PAID
    assert (spend.payee, spend.amount_pence, spend.category) == (
        "Bright Days PAs",
        54_00,
        SpendCategory.PERSONAL_ASSISTANT,
    )
    assert spend.budget_id == world.budget_a.pk
    assert _balance(world.budget_a) == before - 54_00
    booking.refresh_from_db()
    assert booking.paid_pence == 54_00
    assert booking.committed_pence == 36_00
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "enquiry.sent",
        "enquiry.answered",
        "booking.requested",
        "booking.accepted",
        "invoice.submitted",
        "invoice.approved",
        "spend.recorded",
    } <= actions


def test_approving_twice_pays_once(world, service):
    invoice = _invoice(world, _accepted(world, service), 36_00)
    buying.invoice_approve(invoice=invoice, approved_by=world.holder_a.user)
    again = buying.invoice_approve(invoice=invoice, approved_by=world.holder_a.user)
    assert again.state == Invoice.State.PAID
    assert Spend.objects.filter(payee="Bright Days PAs").count() == 1
    assert Booking.objects.get(pk=invoice.booking_id).paid_pence == 36_00


@pytest.mark.django_db(transaction=True)
def test_two_people_approving_at_the_same_moment_pay_once(world, service):
    invoice = _invoice(world, _accepted(world, service), 36_00)
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def approve(i: int, who: Any) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = buying.invoice_approve(invoice=invoice, approved_by=who)
        except Exception as error:
            results[i] = error
        finally:
            connection.close()

    people = [world.holder_a.user, world.holder_a.user]
    threads = [threading.Thread(target=approve, args=(i, p)) for i, p in enumerate(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(r, Invoice) for r in results), results
    assert Spend.objects.filter(payee="Bright Days PAs").count() == 1
    assert (
        LedgerTransaction.objects.filter(kind="spend", description__contains="Bright").count() == 1
    )
    assert Booking.objects.get(pk=invoice.booking_id).paid_pence == 36_00


def test_too_little_money_refuses_the_approval_and_changes_nothing(world, service):
    # £500 paid in, £120 spent: £380 left; the booking is within the year's funding.
    booking = _accepted(world, service, quantity=25)  # £450
    invoice = _invoice(world, booking, 450_00)
    with pytest.raises(InsufficientFunds):
        buying.invoice_approve(invoice=invoice, approved_by=world.holder_a.user)
    invoice.refresh_from_db()
    booking.refresh_from_db()
    assert invoice.state == Invoice.State.SUBMITTED
    assert invoice.spend_id is None
    assert booking.paid_pence == 0
    assert _balance(world.budget_a) == 380_00


def test_a_booking_must_fit_in_what_is_left_of_the_year(world, service):
    # The year's funding is £13,000; £120 is spent. 700 hours at £18 = £12,600 fits once.
    _accepted(world, service, quantity=700)
    with pytest.raises(Conflict, match=r"only £280\.00 of the NHS"):
        _book(world, service, quantity=20)  # £360
    assert Booking.objects.count() == 1


@pytest.mark.parametrize(
    ("start", "move", "allowed"),
    [
        ("requested", "accept", True),
        ("requested", "decline", True),
        ("requested", "cancel", True),
        ("requested", "deliver", False),
        ("accepted", "accept", False),
        ("accepted", "decline", False),
        ("accepted", "deliver", True),
        ("accepted", "cancel", True),
        ("declined", "accept", False),
        ("declined", "cancel", False),
        ("declined", "deliver", False),
        ("cancelled", "accept", False),
        ("cancelled", "deliver", False),
        ("cancelled", "cancel", False),
        ("delivered", "cancel", False),
        ("delivered", "deliver", False),
        ("delivered", "decline", False),
    ],
)
def test_every_booking_transition(world, service, start, move, allowed):
    booking = _book(world, service)
    Booking.objects.filter(pk=booking.pk).update(state=start)
    staff = world.provider_staff
    actions = {
        "accept": lambda: buying.booking_decide(booking=booking, accept=True, decided_by=staff),
        "decline": lambda: buying.booking_decide(
            booking=booking, accept=False, decided_by=staff, reason="Fully booked"
        ),
        "cancel": lambda: buying.booking_cancel(
            booking=booking, cancelled_by=world.holder_a.user, reason="Found someone nearer"
        ),
        "deliver": lambda: buying.booking_deliver(booking=booking, delivered_by=staff),
    }
    if allowed:
        actions[move]()
    else:
        with pytest.raises(Conflict):
            actions[move]()
        assert Booking.objects.get(pk=booking.pk).state == start


def test_declining_needs_a_reason(world, service):
    booking = _book(world, service)
    with pytest.raises(ValidationError):
        buying.booking_decide(booking=booking, accept=False, decided_by=world.provider_staff)
    assert Booking.objects.get(pk=booking.pk).state == Booking.State.REQUESTED


def test_invoices_only_for_accepted_or_delivered_bookings_and_up_to_the_amount(world, service):
    booking = _book(world, service)
    with pytest.raises(Conflict):
        _invoice(world, booking, 10_00)
    booking = buying.booking_decide(booking=booking, accept=True, decided_by=world.provider_staff)
    _invoice(world, booking, 60_00, "A")
    with pytest.raises(ValidationError, match=r"at most £30\.00"):
        _invoice(world, booking, 30_01, "B")
    with pytest.raises(ValidationError, match="already sent"):
        _invoice(world, booking, 10_00, "A")
    assert booking.invoices.count() == 1


def test_a_disputed_invoice_is_not_paid_and_a_corrected_one_can_follow(world, service):
    booking = _accepted(world, service)
    first = _invoice(world, booking, 90_00, "A")
    buying.invoice_dispute(invoice=first, reason="Only 3 hours", disputed_by=world.holder_a.user)
    with pytest.raises(Conflict):
        buying.invoice_approve(invoice=first, approved_by=world.holder_a.user)
    with pytest.raises(Conflict):
        buying.invoice_dispute(invoice=first, reason="again", disputed_by=world.holder_a.user)
    second = _invoice(world, booking, 54_00, "B")
    buying.invoice_approve(invoice=second, approved_by=world.holder_a.user)
    assert Spend.objects.filter(payee="Bright Days PAs").count() == 1


def test_cancelling_waits_for_a_waiting_invoice(world, service):
    booking = _accepted(world, service)
    _invoice(world, booking, 18_00)
    with pytest.raises(Conflict, match="approve or dispute it first"):
        buying.booking_cancel(booking=booking, cancelled_by=world.holder_a.user, reason="x")


def test_only_the_providers_own_staff_act_for_the_provider(world, service):
    other_provider_staff = staff_user(ProviderFactory().organisation, Role.PROVIDER_STAFF)
    booking = _book(world, service)
    for attempt in (
        lambda: buying.booking_decide(
            booking=booking, accept=True, decided_by=other_provider_staff
        ),
        lambda: buying.booking_decide(booking=booking, accept=True, decided_by=world.holder_a.user),
        lambda: buying.booking_deliver(booking=booking, delivered_by=other_provider_staff),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    booking = buying.booking_decide(booking=booking, accept=True, decided_by=world.provider_staff)
    with pytest.raises(PermissionDenied):
        buying.invoice_submit(
            booking=booking,
            reference="X",
            amount_pence=10_00,
            period_start=timezone.localdate(),
            period_end=timezone.localdate(),
            issued_by=other_provider_staff,
        )
    invoice = _invoice(world, booking, 10_00)
    # The provider cannot approve its own invoice; nor can the holder's care coordinator.
    for person in (world.provider_staff, world.staff_x, world.holder_b.user):
        with pytest.raises(PermissionDenied):
            buying.invoice_approve(invoice=invoice, approved_by=person)
    assert Invoice.objects.get(pk=invoice.pk).state == Invoice.State.SUBMITTED


def test_who_may_book(world, service):
    # A representative with only the plan scope may ask, not book.
    rep = RepresentationFactory(
        holder=world.holder_a, recorded_by=world.staff_x, scopes=[Representation.Scope.MANAGE_PLAN]
    ).representative
    buying.enquiry_send(service=service, holder=world.holder_a, message="Hello", asked_by=rep)
    with pytest.raises(PermissionDenied):
        _book(world, service, by=rep)
    with pytest.raises(PermissionDenied):
        _book(world, service, by=world.holder_b.user)
    with pytest.raises(PermissionDenied):
        buying.enquiry_send(
            service=service, holder=world.holder_a, message="Hi", asked_by=world.holder_b.user
        )
    assert not Booking.objects.exists()


def test_bad_booking_input_is_refused_with_a_message(world, service):
    today = timezone.localdate()
    cases = [
        ({"quantity": 0}, "quantity"),
        ({"quantity": 1001}, "quantity"),
        ({"starts_on": today - timezone.timedelta(days=1)}, "starts_on"),
        ({"starts_on": world.budget_a.period_end + timezone.timedelta(days=1)}, "starts_on"),
        ({"ends_on": today - timezone.timedelta(days=1)}, "ends_on"),
        ({"cost_option": CostOption(pk=999_999)}, "cost_option"),
        ({"plan_item": 999_999}, "plan_item"),
    ]
    for change, field in cases:
        kwargs = {
            "service": service,
            "budget": world.budget_a,
            "requested_by": world.holder_a.user,
            "quantity": 1,
            "starts_on": today,
            **change,
        }
        with pytest.raises(ValidationError) as raised:
            buying.booking_request(**kwargs)
        assert field in raised.value.message_dict, (change, raised.value)
    free = ServiceFactory(provider=service.provider, is_free=True, title="Coffee morning")
    with pytest.raises(ValidationError, match="free"):
        buying.booking_request(
            service=free, budget=world.budget_a, requested_by=world.holder_a.user, starts_on=today
        )
    assert not Booking.objects.exists()


def test_a_withdrawn_service_takes_no_bookings(world, service):
    service.status = "withdrawn"
    service.save()
    with pytest.raises(Conflict):
        _book(world, service)


def test_a_booking_linked_to_a_plan_item_pays_that_item(world, service, active_plan):
    item = active_plan.items.get()
    booking = buying.booking_request(
        service=service,
        budget=world.budget_a,
        requested_by=world.holder_a.user,
        quantity=2,
        starts_on=timezone.localdate(),
        plan_item=item.pk,
    )
    booking = buying.booking_decide(booking=booking, accept=True, decided_by=world.provider_staff)
    invoice = buying.invoice_approve(
        invoice=_invoice(world, booking, 36_00), approved_by=world.holder_a.user
    )
    assert Spend.objects.get(pk=invoice.spend_id).plan_item_id == item.pk


def test_a_third_party_manager_approves_for_the_holder(world, service):
    from budgets.models import ManagementOption
    from tests.factories import OrganisationFactory
    from users.models import Organisation

    manager_org = OrganisationFactory(kind=Organisation.Kind.BUDGET_MANAGER)
    manager = staff_user(manager_org, Role.FINANCE_OFFICER)
    holder = BudgetHolderFactory(organisation=world.org_x)
    budget = make_budget(
        holder,
        paid_in_pence=300_00,
        management_option=ManagementOption.THIRD_PARTY,
        managed_by=manager_org,
    )
    booking = buying.booking_request(
        service=service, budget=budget, requested_by=manager, starts_on=timezone.localdate()
    )
    booking = buying.booking_decide(booking=booking, accept=True, decided_by=world.provider_staff)
    invoice = buying.invoice_approve(invoice=_invoice(world, booking, 18_00), approved_by=manager)
    assert invoice.state == Invoice.State.PAID
