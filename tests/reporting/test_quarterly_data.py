"""A small, hand-built data set for the quarterly return tests (imported by the other
test_quarterly* and test_returns_* modules), with the figures it
should give worked out by hand (see ``EXPECTED_NORTH``).

The quarter is Q2 2025/26: 1 July to 30 September 2025; the year to date runs from
1 April to 30 September 2025."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from budgets.models import Budget, EligibilityRoute, FundingStream, ManagementOption
from core.reporting.periods import Period
from tests.factories import (
    BudgetHolderFactory,
    OrganisationFactory,
    add_contribution,
    make_budget,
)
from users.models import Organisation

QUARTER = Period(2025, 2)
D = datetime.date
ADULT_BORN = D(1960, 1, 1)

# Who should be counted for North ICB, and in which cell, worked out by hand from the
# people made below: (type, management option, age group on 30 September 2025).
IN_QUARTER_NORTH = {
    "Ann": ("chc", "direct_payment", "adult"),  # two budgets, the later one a direct payment
    "Ben": ("s117_aftercare", "third_party", "adult"),  # ended on 1 July: in place that day
    "Cat": ("wheelchair", "notional", "adult"),  # started on 30 September
    "Dan": ("childrens_continuing_care", "notional", "adult"),  # 18 on 10 August 2025
    "Eve": ("mental_health", "notional", "child"),  # 13
    "Fay": ("other", "mixed", "adult"),  # social care route; integrated NHS + council budget
    "Lee": ("other", "notional", "adult"),  # suspended, no active_from recorded
}
# The year to date adds those whose budgets were in place only before the quarter.
IN_YEAR_TO_DATE_NORTH = {
    **IN_QUARTER_NORTH,
    "Hal": ("end_of_life", "notional", "adult"),  # closed on 10 June
    "Nia": ("chc", "notional", "adult"),  # closed on 30 June, the day before the quarter
}
# Not counted anywhere: Gus (agreed, never active), Ida (closed before it was ever
# active; an old budget that ended on 31 March 2025), Kit (starts 1 October), Max
# (became active on 5 October), and Jo, who is South ICB's.


@dataclass
class ReturnsWorld:
    north: Organisation
    south: Organisation
    council: Organisation
    manager: Organisation
    people: dict[str, Any]


def _close(budget: Budget, on: datetime.date) -> None:
    Budget.objects.filter(pk=budget.pk).update(state=Budget.State.CLOSED, ended_on=on)


def make_returns_world() -> ReturnsWorld:
    north = OrganisationFactory(name="North ICB", kind=Organisation.Kind.ICB, ods_code="QN1")
    south = OrganisationFactory(name="South ICB", kind=Organisation.Kind.ICB, ods_code="QS1")
    council = OrganisationFactory(name="North Council", kind=Organisation.Kind.LOCAL_AUTHORITY)
    manager = OrganisationFactory(name="Trusted Managers", kind=Organisation.Kind.BUDGET_MANAGER)
    R = EligibilityRoute
    people: dict[str, Any] = {}

    def person(name: str, route: str, born: datetime.date = ADULT_BORN, **kw: Any) -> Any:
        people[name] = BudgetHolderFactory(
            name=name, eligibility_route=route, date_of_birth=born, organisation=north, **kw
        )
        return people[name]

    # Ann: a notional budget closed on 15 August, then a direct payment from 16 August.
    ann = person("Ann", R.CHC)
    _close(make_budget(ann, period_start=D(2025, 4, 1)), D(2025, 8, 15))
    make_budget(ann, period_start=D(2025, 8, 16), management_option=ManagementOption.DIRECT_PAYMENT)
    # Ben: closed on the quarter's first day.
    ben = person("Ben", R.S117_AFTERCARE)
    _close(
        make_budget(
            ben,
            period_start=D(2025, 4, 1),
            stream=FundingStream.NHS_S117,
            management_option=ManagementOption.THIRD_PARTY,
            managed_by=manager,
        ),
        D(2025, 7, 1),
    )
    # Cat: starts on the quarter's last day.
    make_budget(person("Cat", R.WHEELCHAIR), period_start=D(2025, 9, 30))
    # Dan: a child until 10 August 2025, an adult on the quarter's last day.
    make_budget(
        person("Dan", R.CHILDRENS_CONTINUING_CARE, born=D(2007, 8, 10)),
        period_start=D(2025, 4, 1),
    )
    # Eve: a child.
    make_budget(person("Eve", R.MENTAL_HEALTH, born=D(2012, 5, 5)), period_start=D(2025, 4, 1))
    # Fay: an integrated budget, NHS notional and council direct payment.
    fay = person("Fay", R.SOCIAL_CARE, council=council)
    fays = make_budget(fay, period_start=D(2025, 4, 1), stream=FundingStream.NHS_OTHER)
    add_contribution(
        fays,
        funder=council,
        stream=FundingStream.COUNCIL_SOCIAL_CARE,
        yearly_pence=5_000_00,
        management_option=ManagementOption.DIRECT_PAYMENT,
    )
    # Gus: agreed, never active.
    make_budget(person("Gus", R.MATERNITY), period_start=D(2025, 4, 1), state=Budget.State.AGREED)
    # Hal: closed on 10 June, before the quarter.
    _close(make_budget(person("Hal", R.END_OF_LIFE), period_start=D(2025, 4, 1)), D(2025, 6, 10))
    # Ida: one budget closed without ever becoming active, one that ended before the year.
    ida = person("Ida", R.LEARNING_DISABILITY_AUTISM)
    never = make_budget(ida, period_start=D(2025, 4, 1), state=Budget.State.AGREED)
    _close(never, D(2025, 8, 1))
    make_budget(ida, period_start=D(2024, 4, 1))
    # Kit: starts the day after the quarter ends.
    make_budget(person("Kit", R.OTHER), period_start=D(2025, 10, 1))
    # Lee: suspended, from before active_from was recorded.
    lee = make_budget(
        person("Lee", R.OTHER), period_start=D(2025, 4, 1), state=Budget.State.SUSPENDED
    )
    Budget.objects.filter(pk=lee.pk).update(active_from=None)
    # Max: the budget year began in April but it became active only on 5 October.
    mx = make_budget(person("Max", R.MENTAL_HEALTH), period_start=D(2025, 4, 1))
    Budget.objects.filter(pk=mx.pk).update(active_from=D(2025, 10, 5))
    # Nia: closed on 30 June, the day before the quarter.
    _close(make_budget(person("Nia", R.CHC), period_start=D(2025, 4, 1)), D(2025, 6, 30))
    # Jo: South ICB's.
    jo = BudgetHolderFactory(name="Jo", eligibility_route=R.CHC, organisation=south)
    make_budget(jo, period_start=D(2025, 4, 1))
    people["Jo"] = jo
    return ReturnsWorld(north, south, council, manager, people)


def cells(people: dict[str, tuple[str, str, str]], measure: str) -> dict[tuple, int]:
    """Every cell of the return, "all" included, counted from a hand-made list of who is
    in which (type, option, age group): plain Python, not the code under test."""
    counted: dict[tuple, int] = {}
    for kind, option, age in people.values():
        for k in (kind, "all"):
            for o in (option, "all"):
                for a in (age, "all"):
                    key = (measure, k, o, a)
                    counted[key] = counted.get(key, 0) + 1
    return counted


EXPECTED_NORTH = {
    **cells(IN_QUARTER_NORTH, "quarter"),
    **cells(IN_YEAR_TO_DATE_NORTH, "year_to_date"),
}


def test_the_data_set_is_as_its_comments_say(db: Any) -> None:
    """The figures the other tests expect rest on these facts about the data set."""
    w = make_returns_world()
    assert set(w.people) == {*IN_YEAR_TO_DATE_NORTH, "Gus", "Ida", "Kit", "Max", "Jo"}
    assert w.people["Ann"].budgets.count() == 2
    assert Budget.objects.get(holder=w.people["Ben"]).ended_on == D(2025, 7, 1)
    assert Budget.objects.get(holder=w.people["Cat"]).period_start == QUARTER.end
    assert Budget.objects.get(holder=w.people["Gus"]).active_from is None
    fays = Budget.objects.get(holder=w.people["Fay"])
    assert {c.funder for c in fays.contributions.all()} == {w.north, w.council}
    assert Budget.objects.get(holder=w.people["Lee"]).active_from is None
    assert Budget.objects.get(holder=w.people["Max"]).active_from == D(2025, 10, 5)
