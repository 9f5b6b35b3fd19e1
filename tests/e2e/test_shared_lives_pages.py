"""Shared Lives in the browser: a support planner records a person's Shared Lives
profile (after a mistake the error summary points at), sees the carers ranked for them
with the reasons for each score and the carers left out, and proposes a match; the
carer's staff open their own profile, find the match and start trial visits; the person
sees the match. Every page ends with the axe check."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from marketplace import matching
from marketplace.models import ArrangementKind, Match, ProviderKind
from tests.conftest import staff_user
from tests.e2e.steps import (
    given_i_am_signed_in_as,
    given_i_open,
    then_each_error_link_moves_focus_to_its_field,
    then_i_see_the_heading,
    then_i_see_the_text,
    then_the_error_summary_lists,
    then_the_page_is_accessible,
    then_the_title_starts_with,
    when_i_fill_in,
    when_i_follow_the_link,
    when_i_press,
)
from tests.marketplace.factories import ProviderFactory
from users.models import Role

pytestmark = pytest.mark.e2e


def given_a_carer(world: Any, name: str, **profile: Any) -> Any:
    provider = ProviderFactory(name=name, kind=ProviderKind.SHARED_LIVES_CARER, areas=[world.org_x])
    staff = staff_user(provider.organisation, Role.PROVIDER_STAFF)
    values = {"postcode": "LS6 2AB", "arrangements": [ArrangementKind.SHORT_BREAKS], **profile}
    matching.carer_profile_save(provider=provider, saved_by=staff, step_free=True, **values)
    return staff


def when_i_answer(page: Page, question: str, answer: str) -> None:
    page.get_by_role("group", name=question).get_by_role("radio", name=answer).check()


def when_i_tick(page: Page, group: str, label: str) -> None:
    page.get_by_role("group", name=group).get_by_role("checkbox", name=label).check()


def when_i_switch_to(page: Page, user: Any) -> None:
    page.context.clear_cookies()
    given_i_am_signed_in_as(page, user)


def test_a_planner_matches_a_person_with_a_carer_who_starts_trial_visits(
    page: Page, world: Any
) -> None:
    holder = world.holder_a
    planner = staff_user(world.org_x, Role.SUPPORT_PLANNER)
    ash_staff = given_a_carer(
        world,
        "Ash Carer",
        arrangements=[ArrangementKind.SHORT_BREAKS, ArrangementKind.DAY_SUPPORT],
        skills="autism, epilepsy",
        interests="gardening, music",
        languages="English",
        household="Ash, her husband and their grown-up son; a quiet street near the park.",
    )
    given_a_carer(world, "Bea Carer", postcode="BD1 1AA", skills="autism")
    given_a_carer(world, "Cas Carer", smoking_household=True)

    # The planner opens the person's Shared Lives profile: nothing recorded yet.
    given_i_am_signed_in_as(page, planner)
    given_i_open(page, f"/shared-lives/people/{holder.pk}/")
    then_i_see_the_heading(page, "Shared Lives profile")
    then_i_see_the_text(page, "No profile has been recorded yet.")
    then_the_page_is_accessible(page, "shared-lives-profile-empty")

    # A mistake first: no kind of arrangement chosen.
    when_i_fill_in(page, "Postcode where the person lives now", "")
    when_i_press(page, "Save the profile")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(
        page,
        "Choose at least one kind of arrangement the person wants",
        "Enter a postcode, like LS6 2AB",
    )
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "shared-lives-profile-errors")

    when_i_tick(page, "Kinds of arrangement the person wants", "Short breaks")
    when_i_tick(page, "Kinds of arrangement the person wants", "Day support")
    when_i_fill_in(page, "Postcode where the person lives now", "ls6 1aa")
    when_i_fill_in(page, "Support needs", "Autism, Epilepsy, diabetes")
    when_i_fill_in(page, "What the person enjoys", "gardening, Music, cooking")
    when_i_fill_in(page, "Languages the person speaks", "English")
    when_i_answer(page, "Is the person happy to live with pets?", "Yes")
    when_i_answer(page, "Does the person need a smoke-free home?", "Yes")
    when_i_answer(page, "Does the person need a step-free home?", "No")
    when_i_fill_in(page, "About the person, in their own words", "I like busy kitchens.")
    when_i_press(page, "Save the profile")
    then_i_see_the_text(page, f"{holder.name}'s Shared Lives profile is saved.")
    expect(page.get_by_label("Support needs", exact=True)).to_have_value(
        "autism, epilepsy, diabetes"
    )
    then_the_page_is_accessible(page, "shared-lives-profile-saved")

    # The carers ranked for the person, with reasons; the smoker is left out.
    when_i_follow_the_link(page, "See carers who might match")
    then_i_see_the_heading(page, "Shared Lives carers who might match")
    cards = page.locator(".nhsuk-card")
    expect(cards.locator("h2")).to_have_text(["1. Ash Carer", "2. Bea Carer"])
    first = cards.first
    expect(first).to_contain_text("Score: 73 out of 100")
    expect(first).to_contain_text(
        "Has experience of 2 of 3 needs: autism, epilepsy (not: diabetes)"
    )
    expect(first).to_contain_text("Shares 2 interests: gardening, music")
    expect(first).to_contain_text("Same postcode district (LS6)")
    expect(cards.nth(1)).to_contain_text("Different postcode area (BD; the person is in LS)")
    left_out = page.get_by_role("table", name="Carers left out, and why")
    expect(left_out).to_contain_text("Cas Carer")
    expect(left_out).to_contain_text("The household smokes and the person needs a smoke-free home")
    then_the_page_is_accessible(page, "shared-lives-ranking")

    # Propose a match with the best one, for day support.
    first.get_by_label("Arrangement with Ash Carer").select_option(label="Day support")
    when_i_press(page, "Propose a match with Ash Carer")
    then_i_see_the_heading(page, f"{holder.name} and Ash Carer")
    then_i_see_the_text(page, "Both have been told; the next step is to meet.")
    summary = page.locator(".nhsuk-summary-list")
    expect(summary).to_contain_text("Introduction")
    expect(summary).to_contain_text("Day support")
    expect(summary).to_contain_text("73 out of 100")
    then_the_page_is_accessible(page, "shared-lives-match-proposed")
    match = Match.objects.get()
    assert (match.state, match.score) == (Match.State.INTRODUCTION, 73)

    # The carer's staff find it from their own profile and start trial visits.
    when_i_switch_to(page, ash_staff)
    given_i_open(page, f"/shared-lives/carers/{match.carer.provider_id}/")
    then_i_see_the_heading(page, "Your Shared Lives profile")
    expect(page.get_by_label("Experience and skills", exact=True)).to_have_value("autism, epilepsy")
    then_the_page_is_accessible(page, "shared-lives-carer-profile")
    page.get_by_role("table").get_by_role("link", name=holder.name).click()
    then_i_see_the_heading(page, f"{holder.name} and Ash Carer")
    expect(page.get_by_role("radio", name="The arrangement is in place")).to_have_count(0)
    then_the_page_is_accessible(page, "shared-lives-match-carer")
    page.get_by_role("radio", name="Start trial visits").check()
    when_i_fill_in(page, "Note", "Tea at ours on Saturday, then a day out.")
    when_i_press(page, "Record the step")
    then_i_see_the_text(page, "Recorded: the match is now at trial visits.")
    steps = page.get_by_role("table", name="Steps of the match, oldest first")
    expect(steps.locator("tbody tr")).to_have_count(2)
    expect(steps.locator("tbody tr").nth(1)).to_contain_text("Trial visits")
    expect(steps.locator("tbody tr").nth(1)).to_contain_text(
        "Tea at ours on Saturday, then a day out."
    )
    then_the_page_is_accessible(page, "shared-lives-match-trial")
    match.refresh_from_db()
    assert match.state == Match.State.TRIAL_VISITS

    # The person sees their match, and their profile without the staff-only ranking.
    when_i_switch_to(page, holder.user)
    given_i_open(page, f"/shared-lives/matches/{match.pk}/")
    then_i_see_the_heading(page, f"{holder.name} and Ash Carer")
    expect(page.get_by_role("heading", name="Record the next step")).to_have_count(0)
    then_the_page_is_accessible(page, "shared-lives-match-holder")
    when_i_follow_the_link(page, f"Back to {holder.name}'s Shared Lives profile")
    then_i_see_the_heading(page, "Shared Lives profile")
    expect(page.get_by_role("link", name="See carers who might match")).to_have_count(0)
    then_the_page_is_accessible(page, "shared-lives-profile-holder")
