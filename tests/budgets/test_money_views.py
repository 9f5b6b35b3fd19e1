"""The holder's money pages: my budget, the ledger, my spending, recording a spend,
receipts, refunds, finance's questions, notices and surplus recoveries."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from budgets import services
from budgets.models import (
    FundingStream,
    LedgerAccount,
    LedgerTransaction,
    Spend,
    SpendCategory,
    SurplusRecovery,
)
from core.models import AuditEvent
from tests.factories import (
    OrganisationFactory,
    RepresentationFactory,
    add_contribution,
    pay_in,
)
from users.models import Organisation, Representation

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(autouse=True)
def _private_receipts(settings: Any, tmp_path: Any) -> None:
    """Receipts go to a folder of this test's own."""
    settings.STORAGES = {
        **settings.STORAGES,
        "receipts": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "receipts", "base_url": None},
        },
    }


def money_representative(world: Any) -> Any:
    return RepresentationFactory(
        holder=world.holder_a,
        recorded_by=world.staff_x,
        scopes=[Representation.Scope.VIEW, Representation.Scope.MANAGE_MONEY],
    ).representative


def balance(budget: Any) -> int:
    return sum(
        LedgerAccount.objects.filter(kind="budget", budget=budget).values_list(
            "balance_pence", flat=True
        )
    )


def ledger_state(budget: Any) -> tuple[int, int, int]:
    return (
        LedgerTransaction.objects.filter(budget=budget).count(),
        Spend.objects.filter(budget=budget).count(),
        balance(budget),
    )


def spend_data(budget: Any, **changes: Any) -> dict[str, Any]:
    day = timezone.localdate()
    data = {
        "idempotency_key": services.new_idempotency_key(),
        "payee": "Corner shop",
        "spent_on_day": str(day.day),
        "spent_on_month": str(day.month),
        "spent_on_year": str(day.year),
        "amount": "12.50",
        "category": SpendCategory.EQUIPMENT,
        "note": "A grab rail",
    }
    data.update(changes)
    return data


def text(response: Any) -> str:
    """The page's visible text, tags removed and spaces squeezed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def table_rows(response: Any, caption: str) -> list[list[str]]:
    """The body rows of the table with this caption, as the text of each cell (without
    the headings repeated for small screens)."""
    html = response.content.decode()
    table = re.search(
        r"<caption[^>]*>" + re.escape(caption) + r".*?</caption>(.*?)</table>", html, re.S
    )
    assert table, f"no table captioned {caption!r}"
    body = table.group(1).split("<tbody", 1)[1]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        rows.append(
            [
                " ".join(
                    re.sub(
                        r"<[^>]+>", " ", re.sub(r'<span[^>]*aria-hidden="true">.*?</span>', "", c)
                    ).split()
                )
                for c in cells
            ]
        )
    return rows


# My budget ----------------------------------------------------------------------------


def test_the_holder_sees_their_budget_figures_chart_and_table(world, client_for):
    response = client_for(world.holder_a.user).get(
        reverse("budgets:budget_detail", args=[world.budget_a.pk])
    )
    assert response.status_code == 200
    page = text(response)
    assert "Your budget" in page
    assert "Amount for the year £13,000.00" in page
    assert "Paid in so far £500.00" in page
    assert "Spent £120.00" in page
    assert "What is left £380.00" in page
    # One 4-weekly instalment (of 13) is paid: the next is the second, £1,000.00.
    second = world.budget_a.period_start + datetime.timedelta(days=28)
    assert f"Next payment in £1,000.00 on {second:%-d %B %Y}" in page
    html = response.content.decode()
    assert re.search(r'<svg[^>]*role="img"[^>]*aria-labelledby="chart-title chart-desc"', html)
    assert '<title id="chart-title">Your balance over the budget year</title>' in html
    assert "The balance at the end of each day that money moved" in page
    assert "NHS continuing healthcare" in page
    assert reverse("budgets:spend_create", args=[world.budget_a.pk]) in html
    assert reverse("budgets:budget_ledger", args=[world.budget_a.pk]) in html
    assert reverse("budgets:notice_list") in html


def test_each_funders_part_of_an_integrated_budget_is_shown(world, client_for):
    council = OrganisationFactory(name="Northtown Council", kind=Organisation.Kind.LOCAL_AUTHORITY)
    part = add_contribution(
        world.budget_a,
        funder=council,
        stream=FundingStream.COUNCIL_SOCIAL_CARE,
        yearly_pence=2_600_00,
        paid_in_pence=200_00,
    )
    pay_in(part, 1, due_on=world.budget_a.period_start + datetime.timedelta(days=28))
    response = client_for(world.holder_a.user).get(
        reverse("budgets:budget_detail", args=[world.budget_a.pk])
    )
    page = text(response)
    assert "Amount for the year £15,600.00" in page
    assert "Council adult social care from Northtown Council" in page
    assert "For the year £2,600.00 What is left £200.01" in page
    assert "What is left £580.01" in page


def test_a_representative_without_the_money_scope_sees_the_budget_but_cannot_spend(
    world, client_for
):
    response = client_for(world.representative).get(
        reverse("budgets:budget_detail", args=[world.budget_a.pk])
    )
    assert response.status_code == 200
    assert "Alex Holder&#39;s budget" in response.content.decode()
    assert reverse("budgets:spend_create", args=[world.budget_a.pk]) not in (
        response.content.decode()
    )


def test_a_representative_with_the_money_scope_is_offered_recording_a_spend(world, client_for):
    response = client_for(money_representative(world)).get(
        reverse("budgets:budget_detail", args=[world.budget_a.pk])
    )
    assert response.status_code == 200
    assert reverse("budgets:spend_create", args=[world.budget_a.pk]) in response.content.decode()


@pytest.mark.parametrize("name", ["budget_detail", "budget_ledger", "spend_list", "spend_create"])
@pytest.mark.parametrize("who", ["holder_b", "staff_y"])
def test_another_holder_or_another_icbs_staff_get_not_found(world, client_for, name, who):
    user = world.users()[who]
    response = client_for(user).get(reverse(f"budgets:{name}", args=[world.budget_a.pk]))
    assert response.status_code == 404


def test_staff_opening_a_budget_is_audited_and_the_holder_opening_it_is_not(world, client_for):
    url = reverse("budgets:budget_detail", args=[world.budget_a.pk])
    assert client_for(world.holder_a.user).get(url).status_code == 200
    assert not AuditEvent.objects.filter(action="personal_record.viewed").exists()
    assert client_for(world.staff_x).get(url).status_code == 200
    event = AuditEvent.objects.get(action="personal_record.viewed")
    assert event.actor == world.staff_x
    assert event.person == world.holder_a
    assert event.changes == {"page": "budget_detail"}


# Ledger ---------------------------------------------------------------------------------


def test_the_ledger_lists_transactions_with_a_running_balance(world, client_for):
    response = client_for(world.holder_a.user).get(
        reverse("budgets:budget_ledger", args=[world.budget_a.pk])
    )
    assert response.status_code == 200
    start = f"{world.budget_a.period_start:%-d %b %Y}"
    assert table_rows(response, "Payments, newest first") == [
        [start, "Spend", "Personal assistant wages", "", "£120.00", "£380.00"],
        [start, "Payment in", "-", "£500.00", "", "£500.00"],
    ]


def test_the_ledger_filters_by_kind_and_keeps_true_balances(world, client_for):
    url = reverse("budgets:budget_ledger", args=[world.budget_a.pk])
    response = client_for(world.holder_a.user).get(url, {"kind": "spend"})
    rows = table_rows(response, "Payments, newest first")
    assert [(r[1], r[5]) for r in rows] == [("Spend", "£380.00")]


def test_the_ledger_filters_by_date(world, client_for):
    start = world.budget_a.period_start
    url = reverse("budgets:budget_ledger", args=[world.budget_a.pk])
    response = client_for(world.holder_a.user).get(
        url, {"date_from": (start + datetime.timedelta(days=1)).isoformat()}
    )
    assert "There are no payments that match" in text(response)


def test_a_backwards_date_range_is_an_error_on_the_ledger(world, client_for):
    url = reverse("budgets:budget_ledger", args=[world.budget_a.pk])
    response = client_for(world.holder_a.user).get(
        url, {"date_from": "2026-03-27", "date_to": "2026-03-01"}
    )
    assert response.status_code == 200
    assert "The to date must be the same as or after the from date" in text(response)
    assert response.content.decode().count("<title>Error: ") == 1


def test_the_ledger_is_paginated(world, client_for):
    contribution = world.budget_a.contributions.get()
    for week in range(1, 30):
        pay_in(contribution, 1_00, due_on=world.budget_a.period_start + datetime.timedelta(week))
    url = reverse("budgets:budget_ledger", args=[world.budget_a.pk])
    first = client_for(world.holder_a.user).get(url)
    second = client_for(world.holder_a.user).get(url, {"page": 2})
    assert len(table_rows(first, "Payments, newest first")) == 25
    last_page = table_rows(second, "Payments, newest first")
    assert len(last_page) == 6
    assert last_page[-1][5] == "£500.00"
    assert table_rows(first, "Payments, newest first")[0][5] == "£409.00"


# My spending ---------------------------------------------------------------------------


def test_the_spending_list_filters_and_totals(world, client_for):
    holder = world.holder_a.user
    services.spend_record(
        budget=world.budget_a,
        payee="Swimming",
        spent_on=timezone.localdate(),
        amount_pence=7_50,
        category=SpendCategory.ACTIVITIES,
        recorded_by=holder,
        idempotency_key="swim-1",
    )
    url = reverse("budgets:spend_list", args=[world.budget_a.pk])
    everything = client_for(holder).get(url)
    assert "Spends shown 2 Total spent £127.50" in text(everything)
    activities = client_for(holder).get(url, {"category": SpendCategory.ACTIVITIES})
    assert [row[1] for row in table_rows(activities, "Spending, newest first")] == ["Swimming"]
    assert "Total spent £7.50" in text(activities)
    verified = client_for(holder).get(url, {"state": Spend.State.VERIFIED})
    assert "There is no spending that matches" in text(verified)


def test_spends_with_a_question_to_answer_are_highlighted(world, client_for):
    spend = Spend.objects.get(budget=world.budget_a)
    services.spend_query_raise(
        spend=spend, question="Which weeks does this cover?", asked_by=world.finance_officer
    )
    response = client_for(world.holder_a.user).get(
        reverse("budgets:spend_list", args=[world.budget_a.pk])
    )
    page = text(response)
    assert "Questions to answer" in page
    assert "Answer needed" in page
    callout = re.search(
        r'<div class="nhsuk-warning-callout">(.*?)</div>', response.content.decode(), re.S
    )
    assert callout
    assert reverse("budgets:spend_detail", args=[spend.pk]) in callout.group(1)


# Recording a spend ---------------------------------------------------------------------


def test_the_spend_form_is_multipart_with_a_fresh_idempotency_key(world, client_for):
    url = reverse("budgets:spend_create", args=[world.budget_a.pk])
    first = client_for(world.holder_a.user).get(url).content.decode()
    second = client_for(world.holder_a.user).get(url).content.decode()
    assert 'enctype="multipart/form-data"' in first
    keys = [
        re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', html).group(1)
        for html in (first, second)
    ]
    assert keys[0] != keys[1]
    assert 'name="spent_on_day"' in first
    # One contribution: nothing to choose.
    assert 'name="contribution"' not in first


def test_the_holder_records_a_spend_with_a_receipt(world, client_for):
    before = balance(world.budget_a)
    receipt = SimpleUploadedFile("till.pdf", PDF, content_type="application/pdf")
    response = client_for(world.holder_a.user).post(
        reverse("budgets:spend_create", args=[world.budget_a.pk]),
        {**spend_data(world.budget_a), "receipt": receipt},
    )
    spend = Spend.objects.get(budget=world.budget_a, payee="Corner shop")
    assert response.status_code == 302
    assert response["Location"] == reverse("budgets:spend_detail", args=[spend.pk])
    assert spend.amount_pence == 12_50
    assert spend.receipt_content_type == "application/pdf"
    assert balance(world.budget_a) == before - 12_50


def test_a_representative_with_the_money_scope_records_a_spend(world, client_for):
    response = client_for(money_representative(world)).post(
        reverse("budgets:spend_create", args=[world.budget_a.pk]), spend_data(world.budget_a)
    )
    assert response.status_code == 302
    assert Spend.objects.filter(budget=world.budget_a, payee="Corner shop").exists()


@pytest.mark.parametrize("who", ["representative", "staff_x", "finance_officer"])
def test_those_who_may_only_look_cannot_record_a_spend(world, client_for, who):
    before = ledger_state(world.budget_a)
    client = client_for(world.users()[who])
    url = reverse("budgets:spend_create", args=[world.budget_a.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, spend_data(world.budget_a)).status_code == 403
    assert ledger_state(world.budget_a) == before


def test_sending_the_form_twice_records_one_spend(world, client_for):
    client = client_for(world.holder_a.user)
    url = reverse("budgets:spend_create", args=[world.budget_a.pk])
    data = spend_data(world.budget_a)
    first = client.post(url, data)
    second = client.post(url, data)
    spends = Spend.objects.filter(budget=world.budget_a, payee="Corner shop")
    assert spends.count() == 1
    assert first["Location"] == second["Location"]
    assert balance(world.budget_a) == 380_00 - 12_50


def test_the_funding_is_asked_for_only_when_there_are_several(world, client_for):
    council = OrganisationFactory(kind=Organisation.Kind.LOCAL_AUTHORITY)
    part = add_contribution(
        world.budget_a,
        funder=council,
        stream=FundingStream.COUNCIL_SOCIAL_CARE,
        yearly_pence=2_600_00,
        paid_in_pence=100_00,
    )
    client = client_for(world.holder_a.user)
    url = reverse("budgets:spend_create", args=[world.budget_a.pk])
    assert 'name="contribution"' in client.get(url).content.decode()
    missing = client.post(url, spend_data(world.budget_a))
    assert "Choose which funding the spend comes from" in text(missing)
    chosen = client.post(url, spend_data(world.budget_a, contribution=str(part.pk)))
    assert chosen.status_code == 302
    assert Spend.objects.get(payee="Corner shop").contribution == part


BAD_INPUT = [
    ({"amount": "-5.00"}, "The amount must be more than £0.00"),
    ({"amount": "0"}, "The amount must be more than £0.00"),
    ({"amount": "0.00"}, "The amount must be more than £0.00"),
    ({"amount": "1.005"}, "The amount cannot include fractions of a penny"),
    ({"amount": "10000000"}, "The amount must be £1,000,000.00 or less"),
    ({"amount": "1e5"}, "The amount must be in pounds and pence, like 12.50"),
    ({"amount": "twelve"}, "The amount must be in pounds and pence, like 12.50"),
    ({"amount": ""}, "Enter the amount"),
    ({"payee": "   "}, "Enter who was paid"),
    ({"category": "holiday"}, "Choose a category from the list"),
    ({"spent_on_day": "31", "spent_on_month": "2"}, "The date of the spend must be a real date"),
    ({"spent_on_month": ""}, "The date of the spend must include a month"),
    ({"idempotency_key": ""}, "This page had expired"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_INPUT)
def test_bad_input_shows_a_clear_error_and_moves_no_money(world, client_for, changes, message):
    before = ledger_state(world.budget_a)
    response = client_for(world.holder_a.user).post(
        reverse("budgets:spend_create", args=[world.budget_a.pk]),
        spend_data(world.budget_a, **changes),
    )
    assert response.status_code == 200
    assert message in text(response)
    assert "There is a problem" in text(response)
    assert "<title>Error: Record a spend" in response.content.decode()
    assert ledger_state(world.budget_a) == before


def test_a_spend_in_the_future_is_refused(world, client_for):
    before = ledger_state(world.budget_a)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client_for(world.holder_a.user).post(
        reverse("budgets:spend_create", args=[world.budget_a.pk]),
        spend_data(
            world.budget_a,
            spent_on_day=str(tomorrow.day),
            spent_on_month=str(tomorrow.month),
            spent_on_year=str(tomorrow.year),
        ),
    )
    assert "The date of the spend must be today or in the past" in text(response)
    assert ledger_state(world.budget_a) == before


def test_a_spend_outside_the_budget_year_is_refused(world, client_for):
    before = ledger_state(world.budget_a)
    earlier = world.budget_a.period_start - datetime.timedelta(days=1)
    response = client_for(world.holder_a.user).post(
        reverse("budgets:spend_create", args=[world.budget_a.pk]),
        spend_data(
            world.budget_a,
            spent_on_day=str(earlier.day),
            spent_on_month=str(earlier.month),
            spent_on_year=str(earlier.year),
        ),
    )
    assert "The date must be within the budget year" in text(response)
    assert ledger_state(world.budget_a) == before


def test_a_text_file_named_as_a_pdf_is_refused(world, client_for, tmp_path):
    before = ledger_state(world.budget_a)
    forged = SimpleUploadedFile(
        "receipt.pdf", b"just some text, not a PDF", content_type="application/pdf"
    )
    response = client_for(world.holder_a.user).post(
        reverse("budgets:spend_create", args=[world.budget_a.pk]),
        {**spend_data(world.budget_a), "receipt": forged},
    )
    assert "The receipt must be a PDF, JPEG or PNG file" in text(response)
    assert ledger_state(world.budget_a) == before
    assert not list((tmp_path / "receipts").rglob("*.pdf"))


def test_a_spend_over_the_balance_is_an_error_message(world, client_for):
    before = ledger_state(world.budget_a)
    response = client_for(world.holder_a.user).post(
        reverse("budgets:spend_create", args=[world.budget_a.pk]),
        spend_data(world.budget_a, amount="380.01"),
    )
    assert response.status_code == 200
    assert "There is not enough money for this" in text(response)
    assert ledger_state(world.budget_a) == before


def test_a_suspended_budget_takes_no_spending(world, client_for):
    services.budget_transition(
        budget=world.budget_a, to_state="suspended", changed_by=world.commissioner, reason="Away"
    )
    before = ledger_state(world.budget_a)
    response = client_for(world.holder_a.user).post(
        reverse("budgets:spend_create", args=[world.budget_a.pk]), spend_data(world.budget_a)
    )
    assert "Spending can only be recorded on an active budget" in text(response)
    assert ledger_state(world.budget_a) == before


# One spend: receipts, refunds, questions ----------------------------------------------


def record_with_receipt(world: Any, content: bytes = PNG, name: str = "r.png") -> Spend:
    return services.spend_record(
        budget=world.budget_a,
        payee="Taxi",
        spent_on=timezone.localdate(),
        amount_pence=20_00,
        category=SpendCategory.TRANSPORT,
        recorded_by=world.holder_a.user,
        idempotency_key=services.new_idempotency_key(),
        receipt=SimpleUploadedFile(name, content),
    )


def test_the_receipt_is_served_to_the_holder_as_a_download(world, client_for):
    spend = record_with_receipt(world)
    response = client_for(world.holder_a.user).get(
        reverse("budgets:spend_receipt", args=[spend.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'attachment; filename="receipt-{spend.pk}.png"'
    assert b"".join(response.streaming_content) == PNG


@pytest.mark.parametrize("who", ["holder_b", "staff_y", "provider_staff"])
def test_the_receipt_is_not_found_for_anyone_else(world, client_for, who):
    spend = record_with_receipt(world)
    response = client_for(world.users()[who]).get(reverse("budgets:spend_receipt", args=[spend.pk]))
    assert response.status_code in {403, 404}
    assert response.status_code == 404 or who == "provider_staff"


def test_staff_downloading_a_receipt_is_audited(world, client_for):
    spend = record_with_receipt(world)
    response = client_for(world.finance_officer).get(
        reverse("budgets:spend_receipt", args=[spend.pk])
    )
    assert response.status_code == 200
    assert AuditEvent.objects.filter(
        action="personal_record.viewed",
        actor=world.finance_officer,
        changes={"page": "spend_receipt"},
    ).exists()


def test_a_spend_without_a_receipt_has_no_receipt_to_download(world, client_for):
    spend = Spend.objects.get(budget=world.budget_a)
    response = client_for(world.holder_a.user).get(
        reverse("budgets:spend_receipt", args=[spend.pk])
    )
    assert response.status_code == 404


def test_the_spend_page_shows_its_state_receipt_and_refund_form(world, client_for):
    spend = record_with_receipt(world)
    response = client_for(world.holder_a.user).get(reverse("budgets:spend_detail", args=[spend.pk]))
    assert response.status_code == 200
    page = text(response)
    assert "Taxi, £20.00" in page
    assert "Status Recorded" in page
    assert reverse("budgets:spend_receipt", args=[spend.pk]) in response.content.decode()
    assert "Record a refund" in page
    assert "Up to £20.00 can be refunded" in page


def test_a_view_only_representative_sees_the_spend_without_forms(world, client_for):
    spend = Spend.objects.get(budget=world.budget_a)
    response = client_for(world.representative).get(
        reverse("budgets:spend_detail", args=[spend.pk])
    )
    assert response.status_code == 200
    assert "Record a refund" not in text(response)


def test_a_refund_goes_back_into_the_budget_once(world, client_for):
    spend = Spend.objects.get(budget=world.budget_a)
    data = {
        "refund-amount": "20.00",
        "refund-reason": "Overpaid hours",
        "refund-idempotency_key": services.new_idempotency_key(),
    }
    client = client_for(world.holder_a.user)
    url = reverse("budgets:spend_refund", args=[spend.pk])
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302
    spend.refresh_from_db()
    assert spend.refunded_pence == 20_00
    assert balance(world.budget_a) == 400_00


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("120.01", "A refund cannot be more than was spent"),
        ("0.001", "The refund cannot include fractions of a penny"),
        ("-1", "The refund must be more than £0.00"),
    ],
)
def test_a_bad_refund_is_an_error_and_changes_nothing(world, client_for, amount, message):
    spend = Spend.objects.get(budget=world.budget_a)
    before = ledger_state(world.budget_a)
    response = client_for(world.holder_a.user).post(
        reverse("budgets:spend_refund", args=[spend.pk]),
        {
            "refund-amount": amount,
            "refund-reason": "Overpaid",
            "refund-idempotency_key": services.new_idempotency_key(),
        },
    )
    assert response.status_code == 200
    assert message in text(response)
    assert "<title>Error: " in response.content.decode()
    assert ledger_state(world.budget_a) == before


def test_a_view_only_representative_cannot_refund(world, client_for):
    spend = Spend.objects.get(budget=world.budget_a)
    response = client_for(world.representative).post(
        reverse("budgets:spend_refund", args=[spend.pk]),
        {"refund-amount": "1.00", "refund-reason": "x", "refund-idempotency_key": "a" * 32},
    )
    assert response.status_code == 403


def test_the_holder_answers_finances_question(world, client_for):
    spend = Spend.objects.get(budget=world.budget_a)
    query = services.spend_query_raise(
        spend=spend, question="Which weeks does this cover?", asked_by=world.finance_officer
    )
    client = client_for(world.holder_a.user)
    page = client.get(reverse("budgets:spend_detail", args=[spend.pk]))
    assert "Which weeks does this cover?" in text(page)
    assert reverse("budgets:spend_query_answer", args=[query.pk]) in page.content.decode()

    empty = client.post(reverse("budgets:spend_query_answer", args=[query.pk]), {})
    assert "Enter your answer" in text(empty)
    response = client.post(
        reverse("budgets:spend_query_answer", args=[query.pk]),
        {"answer-answer": "The first two weeks of the month"},
    )
    assert response.status_code == 302
    query.refresh_from_db()
    spend.refresh_from_db()
    assert query.answer == "The first two weeks of the month"
    assert spend.state == Spend.State.ANSWERED
    again = client.post(
        reverse("budgets:spend_query_answer", args=[query.pk]), {"answer-answer": "Again"}
    )
    assert again.status_code == 302
    query.refresh_from_db()
    assert query.answer == "The first two weeks of the month"


def test_others_cannot_answer_a_question(world, client_for):
    spend = Spend.objects.get(budget=world.budget_a)
    query = services.spend_query_raise(spend=spend, question="Why?", asked_by=world.finance_officer)
    url = reverse("budgets:spend_query_answer", args=[query.pk])
    assert client_for(world.representative).post(url, {"answer-answer": "x"}).status_code == 403
    assert client_for(world.holder_b.user).post(url, {"answer-answer": "x"}).status_code == 404
    query.refresh_from_db()
    assert query.answered_at is None


def test_finance_see_their_buttons_and_holders_do_not(world, client_for):
    spend = Spend.objects.get(budget=world.budget_a)
    url = reverse("budgets:spend_detail", args=[spend.pk])
    holder_page = text(client_for(world.holder_a.user).get(url))
    finance_page = client_for(world.finance_officer).get(url)
    assert "Finance checks" not in holder_page
    assert finance_page.status_code == 200
    if "budgets:spend_verify" in _url_names():
        assert reverse("budgets:spend_verify", args=[spend.pk]) in finance_page.content.decode()


def test_finance_are_offered_recovery_of_unspent_money_from_the_budget_page(world, client_for):
    contribution = world.budget_a.contributions.get()
    url = reverse("budgets:budget_detail", args=[world.budget_a.pk])
    link = reverse("budgets:recovery_propose", args=[contribution.pk])
    assert link in client_for(world.finance_officer).get(url).content.decode()
    for someone in (world.holder_a.user, world.commissioner):
        assert link not in client_for(someone).get(url).content.decode()


def _url_names() -> set[str]:
    from tests.test_authorization_matrix import all_url_names

    return {name for name, _ in all_url_names()}


# Notices and recoveries ---------------------------------------------------------------


def propose(world: Any, amount_pence: int = 100_00) -> SurplusRecovery:
    return services.surplus_recovery_propose(
        contribution=world.budget_a.contributions.get(),
        amount_pence=amount_pence,
        reasons="More than 8 weeks of funding unspent",
        respond_by=timezone.localdate() + datetime.timedelta(days=28),
        proposed_by=world.finance_officer,
    )


def test_notices_list_a_proposed_recovery_with_its_date_and_link(world, client_for):
    recovery = propose(world)
    response = client_for(world.holder_a.user).get(reverse("budgets:notice_list"))
    page = text(response)
    assert "We propose to take back £100.00 of unspent money" in page
    assert f"Ask us to reconsider by: {recovery.respond_by:%-d %B %Y}" in page
    assert reverse("budgets:recovery_detail", args=[recovery.pk]) in response.content.decode()


def test_notices_are_for_the_holders_side_only(world, client_for):
    propose(world)
    rep = text(client_for(world.representative).get(reverse("budgets:notice_list")))
    other = text(client_for(world.holder_b.user).get(reverse("budgets:notice_list")))
    assert "We propose to take back £100.00" in rep
    assert "for Alex Holder" in rep
    assert "We propose to take back" not in other
    assert "You have no letters or notices" in other


def test_the_holder_asks_for_reconsideration(world, client_for):
    recovery = propose(world)
    client = client_for(world.holder_a.user)
    page = client.get(reverse("budgets:recovery_detail", args=[recovery.pk]))
    assert "Ask us to reconsider" in text(page)
    empty = client.post(reverse("budgets:recovery_reconsider", args=[recovery.pk]), {})
    assert "Tell us why the money should not be taken back" in text(empty)
    response = client.post(
        reverse("budgets:recovery_reconsider", args=[recovery.pk]),
        {"reasons": "I am saving for a new wheelchair cushion"},
    )
    assert response.status_code == 302
    recovery.refresh_from_db()
    assert recovery.state == SurplusRecovery.State.RECONSIDERATION_REQUESTED
    after = client.get(reverse("budgets:recovery_detail", args=[recovery.pk]))
    assert "I am saving for a new wheelchair cushion" in text(after)
    assert 'action="' + reverse("budgets:recovery_reconsider", args=[recovery.pk]) not in (
        after.content.decode()
    )


def test_reconsideration_once_past_the_date_is_refused_with_a_message(world, client_for):
    recovery = propose(world)
    SurplusRecovery.objects.filter(pk=recovery.pk).update(
        respond_by=timezone.localdate() - datetime.timedelta(days=1)
    )
    client = client_for(world.holder_a.user)
    response = client.post(
        reverse("budgets:recovery_reconsider", args=[recovery.pk]),
        {"reasons": "Too late?"},
        follow=True,
    )
    assert "has passed" in text(response)
    recovery.refresh_from_db()
    assert recovery.state == SurplusRecovery.State.NOTICE_SENT


@pytest.mark.parametrize(("who", "status"), [("holder_b", 404), ("staff_y", 404)])
def test_a_recovery_is_not_found_for_others(world, client_for, who, status):
    recovery = propose(world)
    client = client_for(world.users()[who])
    assert client.get(reverse("budgets:recovery_detail", args=[recovery.pk])).status_code == (
        status
    )


def test_staff_see_a_recovery_without_the_form_and_are_audited(world, client_for):
    recovery = propose(world)
    response = client_for(world.staff_x).get(reverse("budgets:recovery_detail", args=[recovery.pk]))
    assert response.status_code == 200
    assert "Ask us to reconsider</h2>" not in response.content.decode()
    assert AuditEvent.objects.filter(
        action="personal_record.viewed", actor=world.staff_x, changes={"page": "recovery_detail"}
    ).exists()
