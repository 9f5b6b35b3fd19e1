"""Reads behind the money pages: figures, next payments, balance over time, the ledger
with running balances, spending filters and the notices a person is sent."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from budgets import selectors, services
from budgets.models import (
    FundingStream,
    LedgerTransaction,
    PaymentSchedule,
    Spend,
    SpendCategory,
)
from budgets.models.budgets import due_dates, instalment_pence
from tests.factories import (
    BudgetHolderFactory,
    OrganisationFactory,
    RepresentationFactory,
    add_contribution,
    make_budget,
    pay_in,
)
from users.models import Organisation


def spend(budget: Any, pence: int, *, on: datetime.date | None = None, **kwargs: Any) -> Spend:
    return services.spend_record(
        budget=budget,
        payee=kwargs.pop("payee", "Personal assistant"),
        spent_on=on or budget.period_start,
        amount_pence=pence,
        category=kwargs.pop("category", SpendCategory.PERSONAL_ASSISTANT),
        recorded_by=budget.holder.user,
        idempotency_key=services.new_idempotency_key(),
        **kwargs,
    )


def test_the_summary_adds_up_payments_spending_refunds_corrections_and_recoveries(world):
    budget = world.budget_a
    extra = spend(budget, 30_00)
    services.spend_refund(
        spend=extra,
        amount_pence=10_00,
        reason="Overcharged",
        recorded_by=budget.holder.user,
        idempotency_key="refund-1",
    )
    services.transaction_correct(
        original=Spend.objects.get(budget=budget, amount_pence=120_00).transaction,
        reason="Recorded on the wrong budget",
        corrected_by=world.finance_officer,
        idempotency_key="correct-1",
    )
    summary = selectors.budget_summary(budget)
    assert summary.annual_pence == 13_000_00
    assert summary.figures.paid_in_pence == 500_00
    assert summary.figures.spent_pence == 20_00  # 120 + 30 - 10 refunded - 120 corrected
    assert summary.figures.recovered_pence == 0
    assert summary.figures.balance_pence == 480_00
    assert summary.cached_balance_pence == 480_00


def test_a_corrected_payment_in_is_no_longer_counted_as_paid_in(world):
    budget = world.budget_a
    payment = LedgerTransaction.objects.get(budget=budget, kind="allocation")
    spend_ = Spend.objects.get(budget=budget)
    services.transaction_correct(
        original=spend_.transaction,
        reason="Wrong budget",
        corrected_by=world.finance_officer,
        idempotency_key="c-spend",
    )
    services.transaction_correct(
        original=payment,
        reason="Paid twice",
        corrected_by=world.finance_officer,
        idempotency_key="c-pay",
    )
    figures = selectors.budget_summary(budget).figures
    assert (figures.paid_in_pence, figures.spent_pence, figures.balance_pence) == (0, 0, 0)


def test_the_summary_splits_an_integrated_budget_by_funder(world):
    council = OrganisationFactory(kind=Organisation.Kind.LOCAL_AUTHORITY)
    part = add_contribution(
        world.budget_a,
        funder=council,
        stream=FundingStream.COUNCIL_SOCIAL_CARE,
        yearly_pence=2_600_00,
        paid_in_pence=200_00,
    )
    spend(world.budget_a, 50_00, contribution=part)
    summary = selectors.budget_summary(world.budget_a)
    by_stream = {p.contribution.stream: p.figures for p in summary.parts}
    assert by_stream[FundingStream.NHS_CHC].balance_pence == 380_00
    assert by_stream[FundingStream.COUNCIL_SOCIAL_CARE].balance_pence == 150_00
    assert by_stream[FundingStream.COUNCIL_SOCIAL_CARE].spent_pence == 50_00
    assert summary.figures.balance_pence == 530_00
    assert summary.annual_pence == 15_600_00


def test_the_next_payment_is_the_first_instalment_not_yet_paid(db):
    holder = BudgetHolderFactory()
    start = datetime.date(2026, 4, 1)
    budget = make_budget(holder, yearly_pence=13_000_01, period_start=start)
    contribution = budget.contributions.get()
    dates = due_dates(PaymentSchedule.FOUR_WEEKLY, start, budget.period_end)
    for index in range(3):
        pay_in(
            contribution,
            instalment_pence(13_000_01, index, len(dates)),
            due_on=dates[index],
        )
    summary = selectors.budget_summary(budget)
    assert summary.next_payment == selectors.Payment(
        due_on=dates[3], amount_pence=instalment_pence(13_000_01, 3, len(dates))
    )


def test_funders_due_the_same_day_are_added_together(db):
    holder = BudgetHolderFactory()
    start = datetime.date(2026, 4, 1)
    budget = make_budget(holder, yearly_pence=12_000_00, period_start=start)
    council = OrganisationFactory(kind=Organisation.Kind.LOCAL_AUTHORITY)
    add_contribution(
        budget, funder=council, stream=FundingStream.COUNCIL_SOCIAL_CARE, yearly_pence=1_200_00
    )
    budget.payment_schedule = PaymentSchedule.MONTHLY
    budget.save()
    summary = selectors.budget_summary(budget)
    assert summary.next_payment == selectors.Payment(due_on=start, amount_pence=1_100_00)


def test_a_budget_that_is_not_active_has_no_next_payment(db):
    budget = make_budget(BudgetHolderFactory(), state="agreed")
    assert selectors.budget_summary(budget).next_payment is None


def test_a_year_fully_paid_has_no_next_payment(db):
    start = datetime.date(2026, 4, 1)
    budget = make_budget(BudgetHolderFactory(), yearly_pence=1_200_00, period_start=start)
    budget.payment_schedule = PaymentSchedule.QUARTERLY
    budget.save()
    contribution = budget.contributions.get()
    for index, day in enumerate(due_dates(PaymentSchedule.QUARTERLY, start, budget.period_end)):
        pay_in(contribution, instalment_pence(1_200_00, index, 4), due_on=day)
    summary = selectors.budget_summary(budget)
    assert summary.next_payment is None
    assert summary.figures.paid_in_pence == 1_200_00


def test_the_balance_over_time_has_one_point_per_day_money_moved(world):
    budget = world.budget_a
    later = budget.period_start + datetime.timedelta(days=1)
    if later <= timezone.localdate():
        spend(budget, 5_00, on=later)
        spend(budget, 2_50, on=later)
    points = selectors.balance_over_time(budget)
    assert points[0] == selectors.BalancePoint(
        day=budget.period_start,
        money_in_pence=500_00,
        money_out_pence=120_00,
        balance_pence=380_00,
    )
    if later <= timezone.localdate():
        assert points[1] == selectors.BalancePoint(
            day=later, money_in_pence=0, money_out_pence=7_50, balance_pence=372_50
        )


def test_ledger_rows_keep_true_running_balances_under_filters(world):
    budget = world.budget_a
    contribution = budget.contributions.get()
    pay_in(contribution, 100_00, due_on=budget.period_start + datetime.timedelta(days=28))
    everything = list(selectors.ledger_rows(budget))
    assert [(r.kind, r.amount_pence, r.balance_after_pence) for r in everything] == [
        ("allocation", 100_00, 480_00),
        ("spend", -120_00, 380_00),
        ("allocation", 500_00, 500_00),
    ]
    spends_only = list(selectors.ledger_rows(budget, kind="spend"))
    assert [(r.amount_pence, r.balance_after_pence) for r in spends_only] == [(-120_00, 380_00)]
    late = list(
        selectors.ledger_rows(budget, date_from=budget.period_start + datetime.timedelta(days=1))
    )
    assert [r.balance_after_pence for r in late] == [480_00]


def test_ledger_rows_are_only_the_budgets_own(world):
    assert {r.budget_id for r in selectors.ledger_rows(world.budget_a)} == {world.budget_a.pk}


def test_spending_filters_and_totals(world):
    budget = world.budget_a
    bus = spend(budget, 3_20, payee="Bus", category=SpendCategory.TRANSPORT)
    services.spend_refund(
        spend=bus,
        amount_pence=1_00,
        reason="Fare cap",
        recorded_by=budget.holder.user,
        idempotency_key="bus-refund",
    )
    services.spend_query_raise(spend=bus, question="Receipt?", asked_by=world.finance_officer)
    rows = selectors.spends(budget)
    totals = selectors.spend_totals(rows)
    assert (totals.count, totals.amount_pence, totals.refunded_pence, totals.net_pence) == (
        2,
        123_20,
        1_00,
        122_20,
    )
    transport = selectors.spends(budget, category=SpendCategory.TRANSPORT)
    assert [s.payee for s in transport] == ["Bus"]
    queried = selectors.spends(budget, state=Spend.State.QUERIED)
    assert [(s.payee, s.has_open_query) for s in queried] == [("Bus", True)]
    assert (
        selectors.spends(budget, date_to=budget.period_start - datetime.timedelta(1)).count() == 0
    )


def test_notices_are_those_of_the_holder_and_of_those_they_act_for(world):
    services.surplus_recovery_propose(
        contribution=world.budget_a.contributions.get(),
        amount_pence=10_00,
        reasons="Unspent",
        respond_by=timezone.localdate() + datetime.timedelta(days=14),
        proposed_by=world.finance_officer,
    )
    assert selectors.notices_for(world.holder_a.user).count() == 1
    assert selectors.notices_for(world.representative).count() == 1
    assert selectors.notices_for(world.holder_b.user).count() == 0
    # Staff are not sent notices: they see them on the holder's record.
    assert selectors.notices_for(world.finance_officer).count() == 0


def test_an_ended_representation_no_longer_receives_notices(world):
    former = RepresentationFactory(
        holder=world.holder_a,
        recorded_by=world.staff_x,
        starts_on=timezone.localdate() - datetime.timedelta(days=60),
        ends_on=timezone.localdate() - datetime.timedelta(days=1),
    ).representative
    services.surplus_recovery_propose(
        contribution=world.budget_a.contributions.get(),
        amount_pence=10_00,
        reasons="Unspent",
        respond_by=timezone.localdate() + datetime.timedelta(days=14),
        proposed_by=world.finance_officer,
    )
    assert selectors.notices_for(former).count() == 0
