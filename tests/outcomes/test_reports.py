"""Outcome report figures (outcomes/reports.py): scoring on known answers, breakdowns,
suppression of groups under 5 and of groups that could be worked out by subtraction,
and how the process relates to outcomes."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest

from outcomes.models import BudgetBand, ReferenceFigure
from outcomes.reports import (
    AreaFigures,
    Breakdown,
    ReportFilter,
    ReportScopeError,
    financial_quarter_label,
    outcome_summary,
    period_bounds,
    period_choices,
    process_outcomes,
    reference_figures,
    report_organisation_ids,
)
from tests.factories import BudgetHolderFactory, OrganisationFactory
from tests.outcomes.factories import submitted_response
from users.models import Organisation

pytestmark = pytest.mark.django_db

Q1 = datetime.date(2025, 5, 10)  # 2025/26 Q1
Q2 = datetime.date(2025, 8, 10)  # 2025/26 Q2


def area(summary_areas: list[AreaFigures], code: str) -> AreaFigures:
    return next(a for a in summary_areas if a.area == code)


def answers(holder: Any, change: str, count: int, **fields: Any) -> None:
    for _ in range(count):
        submitted_response(holder, {"physical_health": change}, **fields)


def scope(world: Any) -> ReportFilter:
    return ReportFilter(organisation_ids=frozenset({world.org_x.pk}))


def test_it_counts_better_same_and_worse_leaving_out_does_not_apply(world: Any) -> None:
    holder = world.holder_a
    for change in ["a_lot_better", "better", "better", "same", "worse", "a_lot_worse"]:
        submitted_response(holder, {"physical_health": change, "family": "not_applicable"})
    submitted_response(holder, {"physical_health": "not_applicable", "family": "better"})
    submitted_response(holder, {"physical_health": "not_applicable"})

    summary = outcome_summary(scope(world))

    health = area(summary.areas, "physical_health")
    assert (health.better, health.same, health.worse, health.n) == (3, 1, 2, 6)
    assert health.better_percent == Decimal("50.0")
    assert health.same_percent == Decimal("16.7")
    assert health.worse_percent == Decimal("33.3")
    # Family: one real answer and seven "does not apply": n is 1, so suppressed.
    family = area(summary.areas, "family")
    assert family.suppressed
    assert family.n is None
    assert family.better is None
    assert family.better_percent is None


def test_it_counts_only_sent_responses_of_the_kind_asked_for(world: Any) -> None:
    answers(world.holder_a, "better", 5)
    draft = submitted_response(world.holder_a, {"physical_health": "worse"})
    draft.state = draft.State.DRAFT
    draft.save()
    for _ in range(5):
        submitted_response(world.holder_a, {"carer_health": "worse"}, kind="carer")

    holders = area(outcome_summary(scope(world)).areas, "physical_health")
    assert (holders.better, holders.worse, holders.n) == (5, 0, 5)
    carers = outcome_summary(
        ReportFilter(organisation_ids=frozenset({world.org_x.pk}), respondent_kind="carer")
    )
    assert next(a.area for a in carers.areas) == "carer_health"
    assert area(carers.areas, "carer_health").worse == 5


def test_four_answers_are_suppressed_and_five_are_shown(world: Any) -> None:
    answers(world.holder_a, "better", 4)
    assert area(outcome_summary(scope(world)).areas, "physical_health").suppressed
    answers(world.holder_a, "worse", 1)
    shown = area(outcome_summary(scope(world)).areas, "physical_health")
    assert not shown.suppressed
    assert (shown.better, shown.worse, shown.n) == (4, 1, 5)


def test_staff_see_responses_of_their_icb_or_their_council_and_nothing_else(
    world: Any,
) -> None:
    council = OrganisationFactory(name="North Council", kind=Organisation.Kind.LOCAL_AUTHORITY)
    in_council = BudgetHolderFactory(organisation=world.org_y, council=council)
    answers(world.holder_a, "better", 5)  # org X
    answers(in_council, "worse", 5)  # ICB Y, council
    answers(world.holder_b, "same", 5)  # org Y only

    x = area(outcome_summary(scope(world)).areas, "physical_health")
    assert (x.better, x.same, x.worse) == (5, 0, 0)
    council_view = area(
        outcome_summary(ReportFilter(organisation_ids=frozenset({council.pk}))).areas,
        "physical_health",
    )
    assert (council_view.better, council_view.same, council_view.worse) == (0, 0, 5)
    nothing = outcome_summary(ReportFilter(organisation_ids=frozenset()))
    assert all(a.suppressed for a in nothing.areas)


def test_a_filter_naming_an_organisation_outside_the_scope_is_refused(world: Any) -> None:
    with pytest.raises(ReportScopeError):
        ReportFilter(organisation_ids=frozenset({world.org_x.pk}), organisation_id=world.org_y.pk)


def test_report_organisations_are_those_where_the_user_serves_people(world: Any) -> None:
    assert report_organisation_ids(world.commissioner) == {world.org_x.pk}
    assert report_organisation_ids(world.staff_y) == {world.org_y.pk}
    assert report_organisation_ids(world.provider_staff) == frozenset()
    assert report_organisation_ids(world.org_admin_x) == frozenset()
    assert report_organisation_ids(world.holder_a.user) == frozenset()


def test_a_breakdown_gives_each_group_and_hides_one_small_group_and_the_next_smallest(
    world: Any,
) -> None:
    answers(world.holder_a, "better", 12, eligibility_route="chc")
    answers(world.holder_a, "worse", 7, eligibility_route="s117_aftercare")
    answers(world.holder_a, "same", 9, eligibility_route="mental_health")
    answers(world.holder_a, "worse", 3, eligibility_route="wheelchair")

    summary = outcome_summary(scope(world), breakdown=Breakdown.ELIGIBILITY_ROUTE)

    total = area(summary.areas, "physical_health")
    assert total.n == 31
    by_route = {g.key: area(g.areas, "physical_health") for g in summary.groups}
    assert by_route["chc"].better == 12
    assert by_route["mental_health"].same == 9
    # Wheelchair (3) is under 5; section 117 (7), the next smallest, is hidden too,
    # or 31 - 12 - 9 would give wheelchair's 3.
    assert by_route["wheelchair"].suppressed
    assert by_route["s117_aftercare"].suppressed
    labels = [g.label for g in summary.groups]
    assert labels == [
        "NHS continuing healthcare",
        "Section 117 aftercare",
        "Wheelchair",
        "Mental health",
    ]


def test_two_small_groups_adding_up_to_under_5_hide_another(world: Any) -> None:
    answers(world.holder_a, "better", 10, budget_band=BudgetBand.UNDER_10K)
    answers(world.holder_a, "better", 8, budget_band=BudgetBand.FROM_10K)
    answers(world.holder_a, "worse", 1, budget_band=BudgetBand.FROM_25K)
    answers(world.holder_a, "worse", 2, budget_band=BudgetBand.FROM_50K)

    summary = outcome_summary(scope(world), breakdown=Breakdown.BUDGET_BAND)

    by_band = {g.key: area(g.areas, "physical_health") for g in summary.groups}
    assert by_band[BudgetBand.FROM_25K].suppressed
    assert by_band[BudgetBand.FROM_50K].suppressed
    assert by_band[BudgetBand.FROM_10K].suppressed  # 8, the smallest shown
    assert by_band[BudgetBand.UNDER_10K].n == 10


def test_a_breakdown_with_no_small_group_hides_nothing(world: Any) -> None:
    answers(world.holder_a, "better", 5, submitted_on=Q1)
    answers(world.holder_a, "worse", 6, submitted_on=Q2)

    summary = outcome_summary(scope(world), breakdown=Breakdown.PERIOD)

    assert [g.label for g in summary.groups] == [
        "2025/26 Q1 (April to June 2025)",
        "2025/26 Q2 (July to September 2025)",
    ]
    assert [area(g.areas, "physical_health").n for g in summary.groups] == [5, 6]


def test_an_organisation_breakdown_names_the_icbs(world: Any) -> None:
    council = OrganisationFactory(name="Middle Council", kind=Organisation.Kind.LOCAL_AUTHORITY)
    answers(BudgetHolderFactory(organisation=world.org_x, council=council), "better", 5)
    answers(BudgetHolderFactory(organisation=world.org_y, council=council), "worse", 6)
    summary = outcome_summary(
        ReportFilter(organisation_ids=frozenset({council.pk})), breakdown=Breakdown.ORGANISATION
    )
    assert {g.label: area(g.areas, "physical_health").n for g in summary.groups} == {
        "North ICB": 5,
        "South ICB": 6,
    }


def test_a_filtered_view_is_suppressed_when_what_it_leaves_out_is_under_5(world: Any) -> None:
    answers(world.holder_a, "better", 20, eligibility_route="chc")
    answers(world.holder_a, "worse", 2, eligibility_route="wheelchair")

    chc = ReportFilter(organisation_ids=frozenset({world.org_x.pk}), eligibility_route="chc")
    # Everyone (22) minus continuing healthcare (20) would give the 2 wheelchair users.
    assert area(outcome_summary(chc).areas, "physical_health").suppressed
    # The unfiltered view alone gives nothing away.
    assert area(outcome_summary(scope(world)).areas, "physical_health").n == 22

    answers(world.holder_a, "same", 3, eligibility_route="wheelchair")
    shown = area(outcome_summary(chc).areas, "physical_health")
    assert (shown.better, shown.n) == (20, 20)


def test_views_of_two_routes_cannot_be_subtracted_from_everyone(world: Any) -> None:
    answers(world.holder_a, "better", 10, eligibility_route="chc")
    answers(world.holder_a, "better", 10, eligibility_route="s117_aftercare")
    answers(world.holder_a, "worse", 3, eligibility_route="wheelchair")
    for route in ("chc", "s117_aftercare"):
        view = ReportFilter(organisation_ids=frozenset({world.org_x.pk}), eligibility_route=route)
        assert area(outcome_summary(view).areas, "physical_health").suppressed


def test_two_filters_cannot_be_combined_to_isolate_a_small_group(world: Any) -> None:
    # Everyone - CHC - under 10k + (CHC and under 10k) = neither CHC nor under 10k: 2.
    answers(world.holder_a, "better", 6, eligibility_route="chc", budget_band="under_10k")
    answers(world.holder_a, "better", 6, eligibility_route="chc", budget_band="10k_25k")
    answers(world.holder_a, "same", 6, eligibility_route="wheelchair", budget_band="under_10k")
    answers(world.holder_a, "worse", 2, eligibility_route="wheelchair", budget_band="10k_25k")
    both = ReportFilter(
        organisation_ids=frozenset({world.org_x.pk}),
        eligibility_route="chc",
        budget_band="under_10k",
    )
    assert area(outcome_summary(both).areas, "physical_health").suppressed


def test_a_period_is_whole_quarters_and_a_small_quarter_suppresses_period_views(
    world: Any,
) -> None:
    answers(world.holder_a, "better", 6, submitted_on=Q1)
    answers(world.holder_a, "worse", 6, submitted_on=Q2)
    view = ReportFilter(
        organisation_ids=frozenset({world.org_x.pk}),
        date_from=datetime.date(2025, 5, 10),
        date_to=datetime.date(2025, 5, 11),
    )
    assert view.date_from == datetime.date(2025, 4, 1)
    assert view.date_to == datetime.date(2025, 6, 30)
    assert area(outcome_summary(view).areas, "physical_health").better == 6

    answers(world.holder_a, "same", 2, submitted_on=datetime.date(2025, 11, 1))
    # All time (14) minus Q1 (6) minus Q2 (6) would give Q3's 2.
    assert area(outcome_summary(view).areas, "physical_health").suppressed


def test_a_filtered_breakdown_is_suppressed_when_the_cells_it_could_be_subtracted_to_are_small(
    world: Any,
) -> None:
    answers(world.holder_a, "better", 10, eligibility_route="chc", budget_band="under_10k")
    answers(world.holder_a, "better", 10, eligibility_route="chc", budget_band="10k_25k")
    answers(world.holder_a, "worse", 10, eligibility_route="wheelchair", budget_band="under_10k")
    answers(world.holder_a, "worse", 2, eligibility_route="wheelchair", budget_band="10k_25k")
    chc = ReportFilter(organisation_ids=frozenset({world.org_x.pk}), eligibility_route="chc")
    # Unfiltered by band: 10k-25k is 12; CHC and 10k-25k is 10: the 2 would show.
    summary = outcome_summary(chc, breakdown=Breakdown.BUDGET_BAND)
    assert all(area(g.areas, "physical_health").suppressed for g in summary.groups)


def test_an_organisation_filter_naming_the_only_organisation_is_no_filter(world: Any) -> None:
    answers(world.holder_a, "better", 5)
    view = ReportFilter(
        organisation_ids=frozenset({world.org_x.pk}), organisation_id=world.org_x.pk
    )
    assert view.active_dimensions() == []
    assert area(outcome_summary(view).areas, "physical_health").n == 5


def test_process_and_outcomes_compares_easy_with_hard_and_included_with_not(
    world: Any,
) -> None:
    easy = {"ease_getting": "very_easy", "ease_planning": "fairly_easy"}
    hard = {"ease_getting": "very_hard", "ease_planning": "fairly_hard"}
    for change in ["better"] * 5 + ["same"] * 1:
        submitted_response(
            world.holder_a, {"physical_health": change, "views_included": "fully", **easy}
        )
    for change in ["better"] * 2 + ["worse"] * 4:
        submitted_response(
            world.holder_a, {"physical_health": change, "views_included": "not_at_all", **hard}
        )
    # Mixed: one easy, two hard answers count as hard by the majority.
    for _ in range(2):
        submitted_response(
            world.holder_a,
            {
                "physical_health": "worse",
                "ease_getting": "very_easy",
                "ease_planning": "very_hard",
                "ease_changing": "fairly_hard",
                "views_included": "partly",
            },
        )

    rows = {row.area: row for row in process_outcomes(scope(world))}

    health = rows["physical_health"]
    assert (health.easy.better, health.easy.n, health.easy.better_percent) == (
        5,
        6,
        Decimal("83.3"),
    )
    assert (health.hard.better, health.hard.n) == (2, 8)
    assert (health.included.better, health.included.n) == (5, 6)
    # The 2 who said "partly" are in neither group and never shown; the total minus
    # both groups would give them, so one more group (not included, 6) is hidden.
    assert health.not_included.suppressed
    assert rows["family"].easy.suppressed
    assert rows["family"].hard.suppressed


def test_process_groups_under_5_are_suppressed(world: Any) -> None:
    for _ in range(4):
        submitted_response(
            world.holder_a, {"physical_health": "better", "ease_getting": "very_easy"}
        )
    for _ in range(8):
        submitted_response(
            world.holder_a, {"physical_health": "worse", "ease_getting": "very_hard"}
        )
    health = next(r for r in process_outcomes(scope(world)) if r.area == "physical_health")
    assert health.easy.suppressed
    assert health.easy.better is None
    assert health.easy.better_percent is None
    # The total (12) is shown, so the hard group (8) would give the easy group away.
    assert health.hard.suppressed


def test_periods_are_financial_years_and_quarters() -> None:
    assert period_bounds("fy2025") == (datetime.date(2025, 4, 1), datetime.date(2026, 3, 31))
    assert period_bounds("fy2025q4") == (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))
    with pytest.raises(ValueError, match="Not a period"):
        period_bounds("fy2025q5")
    choices = dict(period_choices(datetime.date(2025, 8, 1), years=1))
    assert list(choices) == ["fy2025", "fy2025q2", "fy2025q1"]
    assert financial_quarter_label(datetime.date(2026, 2, 1)) == (
        "2025/26 Q4 (January to March 2026)"
    )


def test_reference_figures_are_listed_by_area(world: Any) -> None:
    ReferenceFigure.objects.create(
        respondent_kind="holder",
        area="quality_of_life",
        better_percent=Decimal("50.0"),
        source="A test source",
        published_year=2015,
    )
    found = reference_figures("holder")
    assert "A test source" in [f.source for f in found["quality_of_life"]]


def test_the_reference_figures_migration_loads_only_stated_figures_and_reverses(
    world: Any,
) -> None:
    import importlib

    from django.apps import apps

    migration = importlib.import_module("outcomes.migrations.0003_reference_figures")
    migration.unload(apps, None)
    assert not ReferenceFigure.objects.filter(entered_by__isnull=True).exists()
    migration.load(apps, None)
    migration.load(apps, None)  # running it twice adds nothing
    figure = ReferenceFigure.objects.get(area="quality_of_life", published_year=2014)
    assert figure.better_percent == Decimal("86.0")
    assert figure.same_percent is None
    assert figure.worse_percent is None
    assert "86% of people reporting improved quality of life" in figure.note
    assert figure.source_url.startswith("https://")
    migration.unload(apps, None)
    assert not ReferenceFigure.objects.filter(area="quality_of_life").exists()
