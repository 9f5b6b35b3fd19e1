"""Samples for the holder's money pages (budgets/views/money.py).

Pages that act on money answer 403 to people who may see the budget but not manage its
money (a representative without the money scope, most staff), so their samples accept
200 or 403 for the record's owners; tests/budgets/test_money_views.py pins which."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from budgets import services
from budgets.models import Spend, SpendCategory
from tests.matrix_samples import ORG_X_STAFF, Sample

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def _owners(w: Any) -> set[str]:
    return {"holder_a", "representative", *ORG_X_STAFF}


def _spend(w: Any) -> Spend:
    return Spend.objects.get(budget=w.budget_a)


def _spend_with_receipt(w: Any) -> Spend:
    return services.spend_record(
        budget=w.budget_a,
        payee="Taxi",
        spent_on=timezone.localdate(),
        amount_pence=5_00,
        category=SpendCategory.TRANSPORT,
        recorded_by=w.holder_a.user,
        idempotency_key=services.new_idempotency_key(),
        receipt=SimpleUploadedFile("taxi.png", PNG),
    )


def _query(w: Any) -> Any:
    return services.spend_query_raise(
        spend=_spend(w), question="Which weeks?", asked_by=w.finance_officer
    )


def _recovery(w: Any) -> Any:
    return services.surplus_recovery_propose(
        contribution=w.budget_a.contributions.get(),
        amount_pence=50_00,
        reasons="Unspent for a long time",
        respond_by=timezone.localdate() + datetime.timedelta(days=28),
        proposed_by=w.finance_officer,
    )


SAMPLES: dict[str, Sample] = {
    "budgets:budget_detail": Sample(kwargs=lambda w: {"pk": w.budget_a.pk}, owners=_owners),
    "budgets:budget_ledger": Sample(kwargs=lambda w: {"pk": w.budget_a.pk}, owners=_owners),
    "budgets:spend_list": Sample(kwargs=lambda w: {"pk": w.budget_a.pk}, owners=_owners),
    "budgets:spend_create": Sample(
        kwargs=lambda w: {"pk": w.budget_a.pk}, owners=_owners, ok={200, 403}
    ),
    "budgets:spend_detail": Sample(kwargs=lambda w: {"pk": _spend(w).pk}, owners=_owners),
    "budgets:spend_receipt": Sample(
        kwargs=lambda w: {"pk": _spend_with_receipt(w).pk}, owners=_owners
    ),
    # An empty form: those who may refund see it again with errors (200).
    "budgets:spend_refund": Sample(
        kwargs=lambda w: {"pk": _spend(w).pk}, owners=_owners, ok={200, 403}, method="post"
    ),
    "budgets:spend_query_answer": Sample(
        kwargs=lambda w: {"pk": _query(w).pk}, owners=_owners, ok={200, 403}, method="post"
    ),
    "budgets:notice_list": Sample(),
    "budgets:recovery_detail": Sample(kwargs=lambda w: {"pk": _recovery(w).pk}, owners=_owners),
    "budgets:recovery_reconsider": Sample(
        kwargs=lambda w: {"pk": _recovery(w).pk},
        owners=lambda w: {"holder_a", "representative"},
        ok={200, 403},
        method="post",
    ),
}
