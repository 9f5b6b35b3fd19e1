"""Bad input to the money services gets a clear error and changes nothing: no ledger
row, no spend, no balance moves. (Forms and the API turn these same errors into page
messages and 400/403/409 answers.)"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from budgets.models import Budget, FundingContribution, LedgerTransaction, Spend, SpendCategory
from budgets.services import (
    budget_transition,
    contribution_add,
    contribution_change,
    spend_record,
    spend_refund,
    transaction_correct,
)
from core.exceptions import Conflict
from tests.budgets.test_ledger_rules import ledger_state

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# The first bytes of a Windows executable (a PE file's "MZ" header).
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def _state() -> dict[str, Any]:
    return {**ledger_state(), "spends": list(Spend.objects.order_by("pk").values())}


def _refused(action: Any, error: type[Exception]) -> Exception:
    """The service refuses, and nothing in the ledger or the spends changed."""
    before = _state()
    with pytest.raises(error) as refused, transaction.atomic():
        action()
    assert _state() == before
    return refused.value


def _messages(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(m for messages in error.message_dict.values() for m in messages)
    return str(getattr(error, "message", error))


def _spend(world: Any, **changes: Any) -> Spend:
    budget = world.budget_a
    arguments: dict[str, Any] = {
        "budget": budget,
        "payee": "Personal assistant wages",
        "spent_on": budget.period_start,
        "amount_pence": 10_00,
        "category": SpendCategory.PERSONAL_ASSISTANT,
        "recorded_by": world.holder_a.user,
        "idempotency_key": uuid.uuid4().hex,
    }
    return spend_record(**{**arguments, **changes})


def test_a_good_spend_goes_through(world: Any) -> None:
    """The control: the helper below records a spend when nothing is wrong."""
    spend = _spend(world)
    assert spend.amount_pence == 10_00


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (-1, "more than £0.00"),
        (-10_00, "more than £0.00"),
        (0, "more than £0.00"),
        (12.5, "whole pence"),
        (12.0, "whole pence"),
        (Decimal("12.50"), "whole pence"),
        (Decimal("1250"), "whole pence"),
        ("1250", "whole pence"),
        ("12.50", "whole pence"),
        ("", "whole pence"),
        (None, "whole pence"),
        (True, "whole pence"),
        (False, "whole pence"),
        (10**12, "£1,000,000.00 or less"),
        (1_000_000_01, "£1,000,000.00 or less"),
        (2**63, "£1,000,000.00 or less"),
    ],
)
def test_a_bad_spend_amount_is_refused(world: Any, amount: Any, message: str) -> None:
    error = _refused(lambda: _spend(world, amount_pence=amount), ValidationError)
    assert message in _messages(error)


def test_a_spend_over_the_balance_is_refused_with_the_figures(world: Any) -> None:
    error = _refused(lambda: _spend(world, amount_pence=380_01), Conflict)
    assert _messages(error) == (
        "There is not enough money for this: £380.01 is more than the £380.00 available."
    )


def test_a_spend_dated_in_the_future_is_refused(world: Any) -> None:
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    error = _refused(lambda: _spend(world, spent_on=tomorrow), ValidationError)
    assert "today or in the past" in _messages(error)


def test_a_spend_dated_before_the_budget_year_is_refused(world: Any) -> None:
    day_before = world.budget_a.period_start - datetime.timedelta(days=1)
    error = _refused(lambda: _spend(world, spent_on=day_before), ValidationError)
    assert "within the budget year" in _messages(error)


def test_a_spend_dated_after_the_budget_year_is_refused(world: Any) -> None:
    """A budget year that has ended: a date after its last day (and before today)."""
    budget = world.budget_a
    start = budget.period_start.replace(year=budget.period_start.year - 2)
    Budget.objects.filter(pk=budget.pk).update(
        period_start=start, period_end=start.replace(year=start.year + 1)
    )
    budget.refresh_from_db()
    after = budget.period_end + datetime.timedelta(days=1)
    error = _refused(lambda: _spend(world, budget=budget, spent_on=after), ValidationError)
    assert "within the budget year" in _messages(error)


@pytest.mark.parametrize("spent_on", ["2026-01-01", "yesterday", None, 20260101])
def test_a_spend_date_that_is_not_a_date_is_refused(world: Any, spent_on: Any) -> None:
    error = _refused(lambda: _spend(world, spent_on=spent_on), ValidationError)
    assert "Enter a real date" in _messages(error)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"payee": "   "}, "Enter who was paid"),
        ({"payee": ""}, "Enter who was paid"),
        ({"category": "holiday"}, "Choose a category"),
    ],
)
def test_a_spend_with_missing_details_is_refused(
    world: Any, changes: dict[str, Any], message: str
) -> None:
    error = _refused(lambda: _spend(world, **changes), ValidationError)
    assert message in _messages(error)


def test_a_spend_from_an_unknown_budget_is_refused(world: Any) -> None:
    _refused(lambda: _spend(world, budget=Budget(pk=10**12)), Budget.DoesNotExist)


def test_a_spend_from_funding_of_another_budget_is_refused(world: Any) -> None:
    other = world.budget_b.contributions.get()
    error = _refused(lambda: _spend(world, contribution=other), ValidationError)
    assert "not part of this budget" in _messages(error)


def test_a_spend_from_another_organisations_budget_is_refused(world: Any) -> None:
    _refused(
        lambda: _spend(world, budget=world.budget_b, recorded_by=world.holder_a.user),
        PermissionDenied,
    )
    _refused(
        lambda: _spend(world, budget=world.budget_b, recorded_by=world.finance_officer),
        PermissionDenied,
    )


def test_a_spend_recorded_by_someone_without_money_rights_is_refused(world: Any) -> None:
    for person in (world.staff_x, world.commissioner, world.representative, world.platform_admin):
        _refused(lambda p=person: _spend(world, recorded_by=p), PermissionDenied)


def test_a_reused_idempotency_key_with_a_different_amount_is_refused(world: Any) -> None:
    key = uuid.uuid4().hex
    first = _spend(world, idempotency_key=key)
    error = _refused(lambda: _spend(world, idempotency_key=key, amount_pence=11_00), Conflict)
    assert "already made with different details" in _messages(error)
    assert _spend(world, idempotency_key=key).pk == first.pk  # the same request replays


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("receipt.pdf", b"This is not a PDF, only text that says it is one.\n", "application/pdf"),
        ("receipt.pdf", EXE, "application/pdf"),
        ("receipt.jpg", EXE, "image/jpeg"),
        ("receipt.png", b"<html><script>alert(1)</script></html>", "image/png"),
        ("receipt.pdf", b"GIF89a" + b"\x00" * 100, "application/pdf"),
    ],
)
def test_a_forged_receipt_is_refused(
    world: Any, name: str, content: bytes, content_type: str
) -> None:
    receipt = SimpleUploadedFile(name, content, content_type=content_type)
    error = _refused(lambda: _spend(world, receipt=receipt), ValidationError)
    assert "must be a PDF, JPEG or PNG" in _messages(error)


def test_an_empty_receipt_is_refused(world: Any) -> None:
    receipt = SimpleUploadedFile("receipt.pdf", b"", content_type="application/pdf")
    error = _refused(lambda: _spend(world, receipt=receipt), ValidationError)
    assert "empty" in _messages(error)


def test_an_oversized_receipt_is_refused(world: Any) -> None:
    content = PDF + b"\x00" * (settings.RECEIPT_MAX_BYTES + 1 - len(PDF))
    receipt = SimpleUploadedFile("receipt.pdf", content, content_type="application/pdf")
    error = _refused(lambda: _spend(world, receipt=receipt), ValidationError)
    assert "must be smaller than 10 MB" in _messages(error)


def test_a_real_pdf_receipt_is_accepted(world: Any) -> None:
    """The control for the receipt checks."""
    receipt = SimpleUploadedFile("anything.bin", PDF, content_type="application/octet-stream")
    spend = _spend(world, receipt=receipt)
    assert spend.receipt_content_type == "application/pdf"


# Refunds and corrections ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "error", "message"),
    [
        (0, ValidationError, "more than £0.00"),
        (-5_00, ValidationError, "more than £0.00"),
        (Decimal("5.5"), ValidationError, "whole pence"),
        (2.5, ValidationError, "whole pence"),
        (True, ValidationError, "whole pence"),
        (10**12, ValidationError, "or less"),
        (120_01, Conflict, "at most £120.00 can still be refunded"),
    ],
)
def test_a_bad_refund_is_refused(world: Any, amount: Any, error: type, message: str) -> None:
    spend = Spend.objects.get(budget=world.budget_a)
    refused = _refused(
        lambda: spend_refund(
            spend=spend,
            amount_pence=amount,
            reason="Overcharged",
            recorded_by=world.holder_a.user,
            idempotency_key=uuid.uuid4().hex,
        ),
        error,
    )
    assert message in _messages(refused)


def test_a_refund_of_another_organisations_spend_is_refused(world: Any) -> None:
    spend = Spend.objects.get(budget=world.budget_b)
    for person in (world.holder_a.user, world.finance_officer):
        _refused(
            lambda p=person: spend_refund(
                spend=spend,
                amount_pence=1_00,
                reason="Overcharged",
                recorded_by=p,
                idempotency_key=uuid.uuid4().hex,
            ),
            PermissionDenied,
        )


def test_a_correction_of_another_organisations_transaction_is_refused(world: Any) -> None:
    original = LedgerTransaction.objects.filter(budget=world.budget_b, kind="spend").get()
    _refused(
        lambda: transaction_correct(
            original=original,
            reason="Posted in error",
            corrected_by=world.finance_officer,
            idempotency_key=uuid.uuid4().hex,
        ),
        PermissionDenied,
    )


def test_a_correction_without_a_reason_is_refused(world: Any) -> None:
    original = LedgerTransaction.objects.filter(budget=world.budget_a, kind="spend").get()
    error = _refused(
        lambda: transaction_correct(
            original=original,
            reason="  ",
            corrected_by=world.finance_officer,
            idempotency_key=uuid.uuid4().hex,
        ),
        ValidationError,
    )
    assert "reason" in _messages(error)


def test_correcting_a_payment_in_that_has_been_spent_is_refused(world: Any) -> None:
    """£500 in, £120 spent: taking the £500 back would leave the budget at -£120."""
    original = LedgerTransaction.objects.filter(budget=world.budget_a, kind="allocation").get()
    error = _refused(
        lambda: transaction_correct(
            original=original,
            reason="Posted in error",
            corrected_by=world.finance_officer,
            idempotency_key=uuid.uuid4().hex,
        ),
        Conflict,
    )
    assert "not enough money" in _messages(error)


# Funding ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (0, "more than £0.00"),
        (-13_000_00, "more than £0.00"),
        (Decimal("13000.00"), "whole pence"),
        (1300000.5, "whole pence"),
        ("1300000", "whole pence"),
        (10**12, "or less"),
    ],
)
def test_a_bad_yearly_amount_is_refused(world: Any, amount: Any, message: str) -> None:
    contributions = list(FundingContribution.objects.order_by("pk").values())
    error = _refused(
        lambda: contribution_add(
            budget=world.budget_a,
            funder=world.org_x,
            stream="nhs_mental_health",
            yearly_pence=amount,
            added_by=world.commissioner,
        ),
        ValidationError,
    )
    assert message in _messages(error)
    error = _refused(
        lambda: contribution_change(
            contribution=world.budget_a.contributions.get(),
            yearly_pence=amount,
            changed_by=world.commissioner,
            reasons="Review",
        ),
        ValidationError,
    )
    assert message in _messages(error)
    assert list(FundingContribution.objects.order_by("pk").values()) == contributions


def test_funding_another_organisations_budget_is_refused(world: Any) -> None:
    _refused(
        lambda: contribution_add(
            budget=world.budget_b,
            funder=world.org_x,
            stream="nhs_mental_health",
            yearly_pence=1_000_00,
            added_by=world.commissioner,
        ),
        PermissionDenied,
    )
    _refused(
        lambda: budget_transition(
            budget=world.budget_b,
            to_state="suspended",
            changed_by=world.commissioner,
            reason="Moved away",
        ),
        PermissionDenied,
    )
    assert Budget.objects.get(pk=world.budget_b.pk).state == Budget.State.ACTIVE


def test_funding_an_unknown_budget_is_refused(world: Any) -> None:
    _refused(
        lambda: contribution_add(
            budget=Budget(pk=10**12),
            funder=world.org_x,
            stream="nhs_mental_health",
            yearly_pence=1_000_00,
            added_by=world.commissioner,
        ),
        Budget.DoesNotExist,
    )
