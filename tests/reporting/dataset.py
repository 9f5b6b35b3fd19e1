"""A known data set for the reporting tests: small (tens of rows), built through the
real factories and the real money services, with every date fixed relative to the
``today`` it is built for.

What it holds (``Dataset`` exposes every record by a short name):

- Organisations: ``icb_a`` (North ICB), ``icb_b`` (South ICB), ``council`` (Leeds City
  Council, the council of holders of both ICBs), a third-party budget manager and
  provider organisations. Staff: a commissioner and a finance officer at each of the
  ICBs and the council.
- Holders (``holders[...]``), each with the budget story below. "ly0" is the first
  day of last financial year, "y0" of this one, "q0" of today's quarter, "T" today.
  Every money event is moved into its budget's year and on or before T, so the set
  is valid for any ``today`` (a fixed day well inside a year gives the richest data).

  ====== ===================== ===== ========= ========================================
  key    route                 child ICB/cncl  budgets
  ====== ===================== ===== ========= ========================================
  ada    chc                   no    A         b1: from ly0+6 months, active, notional;
                                               pay-ins both years, spends, a refund,
                                               surplus flag open, plan active + a
                                               revision with changes requested
  ben    childrens_cont_care   yes   A + C     b2: from y0, active, integrated (A nhs_ccc
                                               + C council_children), direct payment;
                                               running_out flag acknowledged; recovery
                                               recovered from C's part this year
  cara   s117_aftercare        no    A + C     b3: from ly0+3 months, active, "mixed"
                                               (A notional + C third-party); recovery
                                               recovered last year (C), one with notice
                                               sent (A); plan review overdue
  dev    mental_health         no    A         b4: from ly0, closed last year
  eve    wheelchair            no    A         b5a: from ly0+9 months, closed this year;
                                               b5b: from that day, active, third-party
                                               (one person with two budgets in a year)
  finn   learning_dis_autism   no    A         b6: from y0-60 days, suspended this year;
                                               plan submitted
  gus    end_of_life           no    A         b7: indicative (never active); draft plan
  hana   maternity             no    A         b8: agreed (not active); approved plan
  ivy    chc                   no    B         b9: from y0, active; a spend and a pay-in
                                               corrected; recovery reconsideration
                                               requested; plan active (review overdue)
                                               and a submitted revision
  jay    childrens_cont_care   yes   B + C     b10: from y0-100 days, integrated (B + C),
                                               third-party, closed this quarter
  kit    mental_health         no    B         b11: from ly0, closed last year; plan
                                               approved before last year
  lou    other                 no    A         none (referred only)
  ====== ===================== ===== ========= ========================================

- Providers (``providers[...]``): user-led micro-enterprise and community group,
  a registered care provider, a personal assistant (South ICB), an unlisted
  micro-enterprise waiting for verification; services in some national categories
  and not others; the council has a category of its own with no services.

Services stamp dates with ``timezone.localdate()``/``now()``; ``_on(day)`` runs them
as if on that day (as a travelling clock would), so refunds, recoveries, corrections
and closures carry the story's dates.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from budgets.models import (
    Budget,
    BudgetHolder,
    EligibilityRoute,
    FundingContribution,
    FundingStream,
    ManagementOption,
    MonitoringFlag,
    Spend,
    SpendCategory,
    SurplusRecovery,
)
from budgets.services import (
    budget_transition,
    spend_record,
    spend_refund,
    surplus_recovery_decide,
    surplus_recovery_propose,
    surplus_recovery_request_reconsideration,
    transaction_correct,
)
from core.reporting.periods import Period, financial_year_of
from marketplace.models import Category, Provider, ProviderKind, Service
from plans.models import SupportPlan
from tests.factories import (
    BudgetHolderFactory,
    MembershipFactory,
    OrganisationFactory,
    add_contribution,
    make_budget,
    pay_in,
)
from tests.marketplace.factories import ProviderFactory, ServiceFactory, national_categories
from users.models import Organisation, Role

_real_localdate = timezone.localdate
_keys = itertools.count(1)


@contextmanager
def _on(day: datetime.date) -> Iterator[None]:
    """Run the code inside as if today were ``day`` (noon, local time)."""
    noon = datetime.datetime.combine(day, datetime.time(12), tzinfo=ZoneInfo(settings.TIME_ZONE))

    def localdate(value: Any = None, timezone: Any = None) -> datetime.date:
        return day if value is None else _real_localdate(value, timezone)

    with (
        mock.patch.object(timezone, "localdate", localdate),
        mock.patch.object(timezone, "now", return_value=noon),
    ):
        yield


def at_noon(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(12), tzinfo=ZoneInfo(settings.TIME_ZONE))


def add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1, day=1)


@dataclass
class Dataset:
    today: datetime.date
    icb_a: Organisation
    icb_b: Organisation
    council: Organisation
    organisations: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)
    holders: dict[str, BudgetHolder] = field(default_factory=dict)
    budgets: dict[str, Budget] = field(default_factory=dict)
    contributions: dict[str, FundingContribution] = field(default_factory=dict)
    spends: dict[str, Spend] = field(default_factory=dict)
    plans: dict[str, SupportPlan] = field(default_factory=dict)
    flags: dict[str, MonitoringFlag] = field(default_factory=dict)
    recoveries: dict[str, SurplusRecovery] = field(default_factory=dict)
    providers: dict[str, Provider] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)

    @property
    def reporting_organisations(self) -> list[Organisation]:
        return [self.icb_a, self.icb_b, self.council]


class _Builder:
    def __init__(self, today: datetime.date) -> None:
        self.today = today
        fy = financial_year_of(today)
        self.y0 = datetime.date(fy, 4, 1)
        self.ly0 = datetime.date(fy - 1, 4, 1)
        self.q0 = Period.quarter_containing(today).start

    def day(self, value: datetime.date, budget: Budget | None = None) -> datetime.date:
        """``value`` moved on or before today and, for a budget, into its year."""
        value = min(value, self.today)
        if budget is not None:
            value = max(budget.period_start, min(value, budget.period_end))
        return value

    def spend(
        self,
        budget: Budget,
        contribution: FundingContribution,
        *,
        on: datetime.date,
        pence: int,
        category: str,
        payee: str = "Sam Carter",
    ) -> Spend:
        day = self.day(on, budget)
        with _on(day):
            return spend_record(
                budget=budget,
                contribution=contribution,
                payee=payee,
                spent_on=day,
                amount_pence=pence,
                category=category,
                recorded_by=budget.holder.user,
                idempotency_key=f"dataset-spend-{next(_keys)}",
            )

    def transition(self, budget: Budget, to_state: str, *, on: datetime.date, by: Any) -> Budget:
        with _on(on):
            return budget_transition(
                budget=budget, to_state=to_state, changed_by=by, reason="Dataset story"
            )


def _holder(
    key: str,
    *,
    route: str,
    born: datetime.date,
    postcode: str,
    icb: Organisation,
    council: Organisation | None,
    referred_on: datetime.date,
) -> BudgetHolder:
    with _on(referred_on):
        return BudgetHolderFactory(
            name=f"{key.title()} Holder",
            eligibility_route=route,
            date_of_birth=born,
            postcode=postcode,
            organisation=icb,
            council=council,
        )


def _plan(
    holder: BudgetHolder,
    budget: Budget,
    *,
    state: str,
    by: Any,
    created: datetime.date,
    version: int = 1,
    revises: SupportPlan | None = None,
    **stamps: Any,
) -> SupportPlan:
    with _on(created):
        plan = SupportPlan.objects.create(
            holder=holder,
            budget=budget,
            state=state,
            created_by=by,
            version=version,
            revises=revises,
        )
    # The state's own time stamps, as the plan services would have set them.
    values = {
        name: at_noon(value) if isinstance(value, datetime.date) and name.endswith("_at") else value
        for name, value in stamps.items()
    }
    values.setdefault("updated_at", at_noon(created))
    SupportPlan.objects.filter(pk=plan.pk).update(**values)
    plan.refresh_from_db()
    return plan


def build_dataset(today: datetime.date) -> Dataset:
    national_categories()
    b = _Builder(today)
    T, y0, ly0, q0 = today, b.y0, b.ly0, b.q0
    days = datetime.timedelta

    icb_a = OrganisationFactory(name="North ICB", kind=Organisation.Kind.ICB)
    icb_b = OrganisationFactory(name="South ICB", kind=Organisation.Kind.ICB)
    council = OrganisationFactory(name="Leeds City Council", kind=Organisation.Kind.LOCAL_AUTHORITY)
    manager = OrganisationFactory(name="Budget Help CIC", kind=Organisation.Kind.BUDGET_MANAGER)
    ds = Dataset(today=today, icb_a=icb_a, icb_b=icb_b, council=council)
    ds.organisations.update(icb_a=icb_a, icb_b=icb_b, council=council, manager=manager)
    for key, org in (("a", icb_a), ("b", icb_b), ("c", council)):
        ds.users[f"commissioner_{key}"] = MembershipFactory(
            organisation=org, role=Role.COMMISSIONER
        ).user
        ds.users[f"finance_{key}"] = MembershipFactory(
            organisation=org, role=Role.FINANCE_OFFICER
        ).user
    fin_a, fin_b = ds.users["finance_a"], ds.users["finance_b"]
    planner = MembershipFactory(organisation=icb_a, role=Role.SUPPORT_PLANNER).user
    ds.users["planner_a"] = planner

    def child_born(years: int) -> datetime.date:
        return datetime.date(T.year - years, 6, 15)

    h = ds.holders
    h["ada"] = _holder(
        "ada",
        route=EligibilityRoute.CHC,
        born=datetime.date(1960, 3, 2),
        postcode="LS6 1AB",
        icb=icb_a,
        council=None,
        referred_on=ly0 + days(120),
    )
    h["ben"] = _holder(
        "ben",
        route=EligibilityRoute.CHILDRENS_CONTINUING_CARE,
        born=child_born(10),
        postcode="BD1 2CD",
        icb=icb_a,
        council=council,
        referred_on=y0 - days(50),
    )
    h["cara"] = _holder(
        "cara",
        route=EligibilityRoute.S117_AFTERCARE,
        born=datetime.date(1975, 8, 9),
        postcode="LS2 3EF",
        icb=icb_a,
        council=council,
        referred_on=ly0 + days(30),
    )
    h["dev"] = _holder(
        "dev",
        route=EligibilityRoute.MENTAL_HEALTH,
        born=datetime.date(1990, 1, 20),
        postcode="WF1 1AA",
        icb=icb_a,
        council=None,
        referred_on=ly0 - days(30),
    )
    h["eve"] = _holder(
        "eve",
        route=EligibilityRoute.WHEELCHAIR,
        born=datetime.date(1985, 11, 30),
        postcode="LS7 2BB",
        icb=icb_a,
        council=None,
        referred_on=ly0 + days(200),
    )
    h["finn"] = _holder(
        "finn",
        route=EligibilityRoute.LEARNING_DISABILITY_AUTISM,
        born=datetime.date(1970, 4, 4),
        postcode="LS8 1CC",
        icb=icb_a,
        council=None,
        referred_on=ly0 + days(250),
    )
    h["gus"] = _holder(
        "gus",
        route=EligibilityRoute.END_OF_LIFE,
        born=datetime.date(1950, 2, 2),
        postcode="LS1 4AP",
        icb=icb_a,
        council=None,
        referred_on=T - days(20),
    )
    h["hana"] = _holder(
        "hana",
        route=EligibilityRoute.MATERNITY,
        born=datetime.date(1995, 7, 7),
        postcode="HX1 1AA",
        icb=icb_a,
        council=None,
        referred_on=T - days(60),
    )
    h["ivy"] = _holder(
        "ivy",
        route=EligibilityRoute.CHC,
        born=datetime.date(1965, 9, 9),
        postcode="S1 2AB",
        icb=icb_b,
        council=None,
        referred_on=y0 - days(40),
    )
    h["jay"] = _holder(
        "jay",
        route=EligibilityRoute.CHILDRENS_CONTINUING_CARE,
        born=child_born(8),
        postcode="S10 1AA",
        icb=icb_b,
        council=council,
        referred_on=ly0 + days(150),
    )
    h["kit"] = _holder(
        "kit",
        route=EligibilityRoute.MENTAL_HEALTH,
        born=datetime.date(1980, 5, 5),
        postcode="DN1 1AA",
        icb=icb_b,
        council=None,
        referred_on=ly0 - days(60),
    )
    h["lou"] = _holder(
        "lou",
        route=EligibilityRoute.OTHER,
        born=datetime.date(1988, 3, 3),
        postcode="LS9 9ZZ",
        icb=icb_a,
        council=None,
        referred_on=T - days(5),
    )

    bud, con = ds.budgets, ds.contributions
    S = FundingStream
    M = ManagementOption
    C = SpendCategory

    # b1: Ada, from the middle of last year, notional, one funder.
    bud["b1"] = make_budget(
        h["ada"],
        funder=icb_a,
        stream=S.NHS_CHC,
        yearly_pence=26_000_00,
        period_start=add_months(ly0, 6),
    )
    con["b1"] = bud["b1"].contributions.get()
    pay_in(con["b1"], 6_500_00, due_on=bud["b1"].period_start)
    pay_in(con["b1"], 6_500_00, due_on=b.day(y0, bud["b1"]))
    ds.spends["b1_ly"] = b.spend(
        bud["b1"], con["b1"], on=add_months(ly0, 7), pence=300_00, category=C.PERSONAL_ASSISTANT
    )
    ds.spends["b1_therapy"] = b.spend(
        bud["b1"],
        con["b1"],
        on=y0 + days(40),
        pence=200_00,
        category=C.THERAPY,
        payee="Move Well Physio",
    )
    ds.spends["b1_recent"] = b.spend(
        bud["b1"], con["b1"], on=T - days(20), pence=150_00, category=C.PERSONAL_ASSISTANT
    )
    with _on(b.day(T - days(10))):
        spend_refund(
            spend=ds.spends["b1_recent"],
            amount_pence=50_00,
            reason="Overcharged",
            recorded_by=h["ada"].user,
            idempotency_key=f"dataset-refund-{next(_keys)}",
        )

    # b2: Ben, integrated (North ICB and the council), direct payments, from y0.
    bud["b2"] = make_budget(
        h["ben"],
        funder=icb_a,
        stream=S.NHS_CHILDRENS_CONTINUING_CARE,
        yearly_pence=20_000_00,
        period_start=y0,
        management_option=M.DIRECT_PAYMENT,
    )
    con["b2_a"] = bud["b2"].contributions.get()
    con["b2_c"] = add_contribution(
        bud["b2"],
        funder=council,
        stream=S.COUNCIL_CHILDREN,
        yearly_pence=8_000_00,
        management_option=M.DIRECT_PAYMENT,
    )
    pay_in(con["b2_a"], 5_000_00, due_on=y0)
    pay_in(con["b2_c"], 2_000_00, due_on=y0)
    ds.spends["b2_equipment"] = b.spend(
        bud["b2"],
        con["b2_a"],
        on=y0 + days(10),
        pence=400_00,
        category=C.EQUIPMENT,
        payee="Mobility Shop",
    )
    ds.spends["b2_respite"] = b.spend(
        bud["b2"],
        con["b2_c"],
        on=y0 + days(30),
        pence=250_00,
        category=C.RESPITE,
        payee="Seaside Breaks",
    )

    # b3: Cara, "mixed": the ICB's part notional, the council's managed by a third party.
    bud["b3"] = make_budget(
        h["cara"],
        funder=icb_a,
        stream=S.NHS_S117,
        yearly_pence=15_000_00,
        period_start=add_months(ly0, 3),
    )
    con["b3_a"] = bud["b3"].contributions.get()
    con["b3_c"] = add_contribution(
        bud["b3"],
        funder=council,
        stream=S.COUNCIL_S117,
        yearly_pence=5_000_00,
        management_option=M.THIRD_PARTY,
        managed_by=manager,
    )
    pay_in(con["b3_a"], 4_000_00, due_on=bud["b3"].period_start)
    pay_in(con["b3_c"], 1_500_00, due_on=bud["b3"].period_start)
    ds.spends["b3_agency"] = b.spend(
        bud["b3"],
        con["b3_a"],
        on=add_months(ly0, 4),
        pence=600_00,
        category=C.CARE_AGENCY,
        payee="Home Care Ltd",
    )
    ds.spends["b3_activities"] = b.spend(
        bud["b3"],
        con["b3_c"],
        on=add_months(ly0, 5),
        pence=120_00,
        category=C.ACTIVITIES,
        payee="Art Club",
    )

    # b4: Dev, last year only, closed last year.
    bud["b4"] = make_budget(
        h["dev"], funder=icb_a, stream=S.NHS_MENTAL_HEALTH, yearly_pence=6_000_00, period_start=ly0
    )
    con["b4"] = bud["b4"].contributions.get()
    pay_in(con["b4"], 1_000_00, due_on=ly0)
    ds.spends["b4"] = b.spend(
        bud["b4"],
        con["b4"],
        on=ly0 + days(30),
        pence=90_00,
        category=C.TRANSPORT,
        payee="Town Taxis",
    )

    # b5a then b5b: Eve's budget closed this year and a new one from the same day.
    bud["b5a"] = make_budget(
        h["eve"],
        funder=icb_a,
        stream=S.NHS_WHEELCHAIR,
        yearly_pence=3_000_00,
        period_start=add_months(ly0, 9),
    )
    con["b5a"] = bud["b5a"].contributions.get()
    pay_in(con["b5a"], 1_000_00, due_on=bud["b5a"].period_start)
    ds.spends["b5a"] = b.spend(
        bud["b5a"],
        con["b5a"],
        on=add_months(ly0, 10),
        pence=500_00,
        category=C.EQUIPMENT,
        payee="Wheels Direct",
    )
    eve_switch = b.day(y0 + days(45), bud["b5a"])

    # b6: Finn, from late last year, suspended this year.
    bud["b6"] = make_budget(
        h["finn"],
        funder=icb_a,
        stream=S.NHS_OTHER,
        yearly_pence=9_000_00,
        period_start=y0 - days(60),
    )
    con["b6"] = bud["b6"].contributions.get()
    pay_in(con["b6"], 750_00, due_on=bud["b6"].period_start)
    ds.spends["b6"] = b.spend(
        bud["b6"],
        con["b6"],
        on=y0 - days(30),
        pence=100_00,
        category=C.TRAINING,
        payee="Skills Centre",
    )

    # b7: Gus, indicative only. b8: Hana, agreed but not yet active.
    bud["b7"] = make_budget(
        h["gus"],
        funder=icb_a,
        stream=S.NHS_END_OF_LIFE,
        yearly_pence=5_000_00,
        period_start=y0,
        state=Budget.State.INDICATIVE,
    )
    con["b7"] = bud["b7"].contributions.get()
    bud["b8"] = make_budget(
        h["hana"],
        funder=icb_a,
        stream=S.NHS_MATERNITY,
        yearly_pence=2_400_00,
        period_start=b.day(y0 + days(30)),
        state=Budget.State.AGREED,
    )
    con["b8"] = bud["b8"].contributions.get()

    # b9: Ivy at South ICB, from y0: a spend and a pay-in corrected.
    bud["b9"] = make_budget(
        h["ivy"], funder=icb_b, stream=S.NHS_CHC, yearly_pence=18_000_00, period_start=y0
    )
    con["b9"] = bud["b9"].contributions.get()
    pay_in(con["b9"], 3_000_00, due_on=y0)
    second_due = b.day(y0 + days(28), bud["b9"])
    wrong_pay_in = pay_in(con["b9"], 1_000_00, due_on=max(second_due, y0 + days(1)))
    ds.spends["b9_pa"] = b.spend(
        bud["b9"],
        con["b9"],
        on=y0 + days(14),
        pence=700_00,
        category=C.PERSONAL_ASSISTANT,
        payee="Pat Jones",
    )
    ds.spends["b9_transport"] = b.spend(
        bud["b9"], con["b9"], on=T - days(15), pence=80_00, category=C.TRANSPORT, payee="Town Taxis"
    )
    ds.spends["b9_wrong"] = b.spend(
        bud["b9"], con["b9"], on=T - days(12), pence=60_00, category=C.OTHER, payee="Wrong Shop"
    )
    with _on(b.day(T - days(5))):
        transaction_correct(
            original=ds.spends["b9_wrong"].transaction,
            reason="Recorded twice",
            corrected_by=fin_b,
            idempotency_key=f"dataset-fix-{next(_keys)}",
        )
        transaction_correct(
            original=wrong_pay_in,
            reason="Paid in error",
            corrected_by=fin_b,
            idempotency_key=f"dataset-fix-{next(_keys)}",
        )

    # b10: Jay, integrated South ICB and council, third-party, closed this quarter.
    bud["b10"] = make_budget(
        h["jay"],
        funder=icb_b,
        stream=S.NHS_CHILDRENS_CONTINUING_CARE,
        yearly_pence=12_000_00,
        period_start=y0 - days(100),
        management_option=M.THIRD_PARTY,
        managed_by=manager,
    )
    con["b10_b"] = bud["b10"].contributions.get()
    con["b10_c"] = add_contribution(
        bud["b10"],
        funder=council,
        stream=S.COUNCIL_CHILDREN,
        yearly_pence=4_000_00,
        management_option=M.THIRD_PARTY,
        managed_by=manager,
    )
    pay_in(con["b10_b"], 2_000_00, due_on=bud["b10"].period_start)
    pay_in(con["b10_c"], 700_00, due_on=bud["b10"].period_start)
    ds.spends["b10_b"] = b.spend(
        bud["b10"],
        con["b10_b"],
        on=y0 + days(5),
        pence=350_00,
        category=C.RESPITE,
        payee="Seaside Breaks",
    )
    ds.spends["b10_c"] = b.spend(
        bud["b10"],
        con["b10_c"],
        on=y0 - days(20),
        pence=45_00,
        category=C.ACTIVITIES,
        payee="Art Club",
    )

    # b11: Kit at South ICB, last year only, closed last year.
    bud["b11"] = make_budget(
        h["kit"], funder=icb_b, stream=S.NHS_MENTAL_HEALTH, yearly_pence=4_000_00, period_start=ly0
    )
    con["b11"] = bud["b11"].contributions.get()
    pay_in(con["b11"], 800_00, due_on=ly0)
    ds.spends["b11"] = b.spend(
        bud["b11"],
        con["b11"],
        on=ly0 + days(60),
        pence=75_00,
        category=C.THERAPY,
        payee="Talk Together",
    )

    # Recoveries: one recovered last year, one this year, one with the notice sent,
    # one where the holder asked for reconsideration.
    def recover(
        contribution: FundingContribution,
        pence: int,
        proposed: datetime.date,
        decided: datetime.date | None,
    ) -> SurplusRecovery:
        finance = fin_b if contribution.budget.holder.organisation_id == icb_b.pk else fin_a
        with _on(proposed):
            recovery = surplus_recovery_propose(
                contribution=contribution,
                amount_pence=pence,
                reasons="Money not used",
                respond_by=proposed + days(14),
                proposed_by=finance,
            )
        if decided is not None:
            with _on(decided):
                recovery = surplus_recovery_decide(
                    recovery=recovery, recover=True, reasons="No reply", decided_by=finance
                )
        return recovery

    ds.recoveries["b3_c_recovered"] = recover(
        con["b3_c"], 300_00, add_months(ly0, 8), add_months(ly0, 8) + days(20)
    )
    ds.recoveries["b2_c_recovered"] = recover(con["b2_c"], 100_00, T - days(40), T - days(20))
    ds.recoveries["b3_a_notice"] = recover(con["b3_a"], 200_00, T - days(2), None)
    ds.recoveries["b9_reconsider"] = recover(con["b9"], 150_00, T - days(10), None)
    with _on(T - days(8)):
        ds.recoveries["b9_reconsider"] = surplus_recovery_request_reconsideration(
            recovery=ds.recoveries["b9_reconsider"],
            reasons="I am saving for a holiday",
            requested_by=h["ivy"].user,
        )

    # State changes, each on its day.
    commissioner_a, commissioner_b = ds.users["commissioner_a"], ds.users["commissioner_b"]
    b.transition(bud["b4"], Budget.State.CLOSED, on=ly0 + days(240), by=commissioner_a)
    b.transition(bud["b5a"], Budget.State.CLOSED, on=eve_switch, by=commissioner_a)
    bud["b5b"] = make_budget(
        h["eve"],
        funder=icb_a,
        stream=S.NHS_WHEELCHAIR,
        yearly_pence=3_600_00,
        period_start=eve_switch,
        management_option=M.THIRD_PARTY,
        managed_by=manager,
    )
    con["b5b"] = bud["b5b"].contributions.get()
    pay_in(con["b5b"], 900_00, due_on=eve_switch)
    ds.spends["b5b"] = b.spend(
        bud["b5b"],
        con["b5b"],
        on=T - days(1),
        pence=130_00,
        category=C.EMPLOYMENT_COSTS,
        payee="Payroll Bureau",
    )
    b.transition(bud["b6"], Budget.State.SUSPENDED, on=b.day(y0 + days(60)), by=commissioner_a)
    b.transition(
        bud["b10"],
        Budget.State.CLOSED,
        on=b.day(max(q0, T - days(7)), bud["b10"]),
        by=commissioner_b,
    )
    b.transition(bud["b11"], Budget.State.CLOSED, on=ly0 + days(150), by=commissioner_b)
    for budget in bud.values():
        budget.refresh_from_db()

    # Monitoring flags, as the sweep raises them and staff move them.
    def flag(key: str, budget: Budget, kind: str, state: str) -> None:
        ds.flags[key] = MonitoringFlag.objects.create(
            budget=budget,
            kind=kind,
            state=state,
            acknowledged_by=commissioner_a if state != MonitoringFlag.State.OPEN else None,
            acknowledged_at=at_noon(T) if state != MonitoringFlag.State.OPEN else None,
            resolved_by=commissioner_a if state == MonitoringFlag.State.RESOLVED else None,
            resolved_at=at_noon(T) if state == MonitoringFlag.State.RESOLVED else None,
        )

    K, FS = MonitoringFlag.Kind, MonitoringFlag.State
    flag("b1_surplus", bud["b1"], K.SURPLUS, FS.OPEN)
    flag("b2_running_out", bud["b2"], K.RUNNING_OUT, FS.ACKNOWLEDGED)
    flag("b9_surplus", bud["b9"], K.SURPLUS, FS.ACKNOWLEDGED)
    flag("b9_mismatch", bud["b9"], K.LEDGER_MISMATCH, FS.RESOLVED)
    flag("b10_no_spending", bud["b10"], K.NO_SPENDING, FS.OPEN)
    flag("b3_surplus", bud["b3"], K.SURPLUS, FS.OPEN)

    # Support plans in every step.
    P = SupportPlan.State
    pl = ds.plans
    pl["ada_v1"] = _plan(
        h["ada"],
        bud["b1"],
        state=P.ACTIVE,
        by=planner,
        created=ly0 + days(140),
        submitted_at=ly0 + days(150),
        approved_at=ly0 + days(160),
        next_review_on=T + days(10),
    )
    pl["ada_v2"] = _plan(
        h["ada"],
        bud["b1"],
        state=P.CHANGES_REQUESTED,
        by=planner,
        created=T - days(30),
        version=2,
        revises=pl["ada_v1"],
        submitted_at=T - days(9),
        updated_at=T - days(4),
    )
    pl["ben"] = _plan(
        h["ben"],
        bud["b2"],
        state=P.ACTIVE,
        by=planner,
        created=y0 - days(45),
        submitted_at=y0 - days(20),
        approved_at=y0 - days(10),
        next_review_on=T + days(40),
    )
    pl["cara"] = _plan(
        h["cara"],
        bud["b3"],
        state=P.ACTIVE,
        by=planner,
        created=ly0 + days(40),
        submitted_at=ly0 + days(70),
        approved_at=ly0 + days(80),
        next_review_on=T - days(20),
    )
    pl["eve_old"] = _plan(
        h["eve"],
        bud["b5a"],
        state=P.ENDED,
        by=planner,
        created=ly0 + days(205),
        submitted_at=ly0 + days(215),
        approved_at=ly0 + days(230),
        ended_at=eve_switch,
    )
    pl["eve"] = _plan(
        h["eve"],
        bud["b5b"],
        state=P.ACTIVE,
        by=planner,
        created=eve_switch,
        submitted_at=eve_switch,
        approved_at=eve_switch,
        next_review_on=T + days(28),
    )
    pl["finn"] = _plan(
        h["finn"],
        bud["b6"],
        state=P.SUBMITTED,
        by=planner,
        created=T - days(50),
        submitted_at=T - days(30),
    )
    pl["gus"] = _plan(h["gus"], bud["b7"], state=P.DRAFT, by=planner, created=T - days(15))
    pl["hana"] = _plan(
        h["hana"],
        bud["b8"],
        state=P.APPROVED,
        by=planner,
        created=T - days(40),
        submitted_at=T - days(20),
        approved_at=T - days(12),
    )
    pl["ivy_v1"] = _plan(
        h["ivy"],
        bud["b9"],
        state=P.ACTIVE,
        by=planner,
        created=y0 - days(35),
        submitted_at=y0 - days(25),
        approved_at=y0 - days(5),
        next_review_on=T - days(3),
    )
    pl["ivy_v2"] = _plan(
        h["ivy"],
        bud["b9"],
        state=P.SUBMITTED,
        by=planner,
        created=T - days(10),
        version=2,
        revises=pl["ivy_v1"],
        submitted_at=T - days(6),
    )
    pl["kit"] = _plan(
        h["kit"],
        bud["b11"],
        state=P.ENDED,
        by=planner,
        created=ly0 - days(50),
        submitted_at=ly0 - days(20),
        approved_at=ly0 - days(10),
        ended_at=ly0 + days(150),
    )
    pl["jay"] = _plan(
        h["jay"],
        bud["b10"],
        state=P.ENDED,
        by=planner,
        created=ly0 + days(160),
        submitted_at=ly0 + days(180),
        approved_at=ly0 + days(200),
        ended_at=bud["b10"].ended_on,
    )

    # The market.
    def provider(
        key: str,
        *,
        kind: str,
        areas: list[Organisation],
        postcode: str,
        user_led: bool = False,
        listed: bool = True,
        verification: str = Provider.Verification.UNVERIFIED,
        waiting_since: datetime.date | None = None,
    ) -> Provider:
        made = ProviderFactory(
            name=f"{key.title()} Support",
            kind=kind,
            areas=areas,
            postcode=postcode,
            user_led=user_led,
            listed=listed,
            verification=verification,
        )
        if waiting_since is not None:
            Provider.objects.filter(pk=made.pk).update(updated_at=at_noon(waiting_since))
            made.refresh_from_db()
        ds.providers[key] = made
        return made

    def service(key: str, on: Provider, code: str, status: str = Service.Status.ACTIVE) -> None:
        ds.services[key] = ServiceFactory(
            provider=on,
            category=Category.objects.get(code=code, organisation__isnull=True),
            status=status,
        )

    PK, V = ProviderKind, Provider.Verification
    p1 = provider("p1", kind=PK.MICRO_ENTERPRISE, areas=[icb_a], postcode="LS6 2XX", user_led=True)
    service("p1_pa", p1, "personal-assistance")
    service("p1_day", p1, "day-activities")
    p2 = provider(
        "p2",
        kind=PK.COMMUNITY_GROUP,
        areas=[icb_a, council],
        postcode="BD3 1AA",
        user_led=True,
        verification=V.PENDING,
        waiting_since=T - days(9),
    )
    service("p2_groups", p2, "community-groups")
    service("p2_arts", p2, "arts-creativity", status=Service.Status.INACTIVE)
    p3 = provider("p3", kind=PK.REGISTERED_CARE, areas=[icb_a], postcode="LS1 1AA")
    service("p3_home", p3, "care-at-home")
    service("p3_pa", p3, "personal-assistance")
    p4 = provider(
        "p4",
        kind=PK.PERSONAL_ASSISTANT,
        areas=[icb_b],
        postcode="S2 4AA",
        verification=V.PENDING,
        waiting_since=T - days(3),
    )
    service("p4_pa", p4, "personal-assistance")
    p5 = provider(
        "p5",
        kind=PK.MICRO_ENTERPRISE,
        areas=[icb_a],
        postcode="WF2 2BB",
        listed=False,
        verification=V.PENDING,
        waiting_since=T - days(21),
    )
    service("p5_sport", p5, "sport-fitness")
    taxonomy = Category.objects.get(code="personal-assistance", organisation__isnull=True).taxonomy
    ds.categories["council_own"] = Category.objects.create(
        taxonomy=taxonomy,
        code="sensory-support",
        name="Sensory support",
        description="Help for people with sight or hearing loss.",
        organisation=council,
    )
    for record in [*ds.spends.values(), *ds.recoveries.values(), *ds.budgets.values()]:
        record.refresh_from_db()
    return ds
