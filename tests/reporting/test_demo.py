"""The reporting demo (core/reporting/demo.py): the survey cohort gets budgets with a
year's history, so the dashboard and the quarterly return have figures as soon as
`make run` starts; loading the demo again changes no money and no budgets."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Sum

from budgets.models import Budget, LedgerEntry, Spend
from core.models import AuditEvent
from core.reporting.models import PeopleSnapshot, QuarterlyReturn, SnapshotRun, SpendTarget
from core.reporting.periods import financial_year_of
from users.models import Organisation


def _load(settings: Any) -> None:
    from core.demo import load_demo_data

    settings.DEMO_PASSWORD = "demo-password-123"
    settings.DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    load_demo_data()


def test_the_demo_gives_the_dashboard_and_the_return_figures_and_loads_once(
    db: Any, settings: Any
) -> None:
    _load(settings)
    icb = Organisation.objects.get(name="NHS North Example ICB")
    council = Organisation.objects.get(name="Example Borough Council")

    # The survey cohort (outcomes/demo.py numbers them from 9995...).
    cohort = Budget.objects.filter(holder__nhs_number__startswith="9995")
    assert cohort.count() == 36
    assert cohort.filter(state=Budget.State.CLOSED, ended_on__isnull=False).count() == 4
    # Every budget that became active is dated from the start of its year.
    assert not cohort.exclude(active_from=F("period_start")).exists()
    assert Spend.objects.filter(budget__in=cohort).count() > 36
    assert SpendTarget.objects.filter(organisation=icb).exists()

    run = SnapshotRun.objects.latest()
    assert run.status == SnapshotRun.Status.DONE
    people = PeopleSnapshot.objects.filter(
        organisation=icb, stream="", period=str(financial_year_of(run.today))
    )
    assert people.aggregate(n=Sum("in_period"))["n"] >= 36
    assert PeopleSnapshot.objects.filter(organisation=council, stream="").exists()
    latest = QuarterlyReturn.objects.get(icb=icb)
    assert latest.people_in_quarter > 0

    money = LedgerEntry.objects.aggregate(n=Sum("amount_pence"), rows=Sum("id"))
    budgets, events = Budget.objects.count(), AuditEvent.objects.count()
    _load(settings)
    assert LedgerEntry.objects.aggregate(n=Sum("amount_pence"), rows=Sum("id")) == money
    assert Budget.objects.count() == budgets
    assert QuarterlyReturn.objects.count() == 1
    assert AuditEvent.objects.count() == events
