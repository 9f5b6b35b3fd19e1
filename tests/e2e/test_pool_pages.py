"""Buying together in the browser: a care coordinator opens a pool for a cookery course
(errors first), two holders of the same ICB join it (one lets others see her first
name), the coordinator funds it, and each member's spending shows their share. Every
page ends with the axe check."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from marketplace.models import Category, Pool, Taxonomy
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
from tests.factories import BudgetHolderFactory, make_budget
from tests.marketplace.factories import ProviderFactory, ServiceFactory

pytestmark = pytest.mark.e2e


def a_category() -> Category:
    """The learning category (re-made if an earlier transactional test emptied the
    seeded taxonomy)."""
    taxonomy, _ = Taxonomy.objects.get_or_create(
        name="Personal health budget support", defaults={"description": "Kinds of support"}
    )
    found, _ = Category.objects.get_or_create(
        code="learning",
        taxonomy=taxonomy,
        defaults={"name": "Learning and skills", "description": "Courses"},
    )
    return found


def when_i_join_with(page: Page, funding: str, *, show_name: bool) -> None:
    page.get_by_label(re.compile(funding)).check()
    if show_name:
        page.get_by_label("Let other members see my first name").check()
    when_i_press(page, "Join the pool")


def test_two_holders_pool_their_budgets_and_the_organiser_funds_it(page, world):
    service = ServiceFactory(
        provider=ProviderFactory(organisation=world.provider_org, name="Bright Days Cookery"),
        title="Cookery course",
        category=a_category(),
        price=(25_00, "session"),
    )
    cara = BudgetHolderFactory(name="Cara Jones", organisation=world.org_x)
    cara_budget = make_budget(cara, paid_in_pence=200_00)

    # The care coordinator opens a pool, correcting mistakes first.
    given_i_am_signed_in_as(page, world.staff_x)
    given_i_open(page, f"/support/services/{service.pk}/pool/")
    then_i_see_the_heading(page, "Start a pool to buy Cookery course")
    then_the_page_is_accessible(page, "pool-create")
    when_i_fill_in(page, "The whole cost, if shared equally", "100.005")
    when_i_press(page, "Open the pool")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(
        page,
        "Say what the members want to achieve",
        "The cost cannot include fractions of a penny: use at most 2 decimal places",
        "Enter the last day to join",
    )
    then_each_error_link_moves_focus_to_its_field(page)
    then_the_page_is_accessible(page, "pool-create-with-errors")

    deadline = timezone.localdate() + datetime.timedelta(days=14)
    when_i_fill_in(page, "What the members want to achieve", "Learn to cook for ourselves")
    when_i_fill_in(page, "The whole cost, if shared equally", "100.00")
    when_i_fill_in(page, "Day", str(deadline.day))
    when_i_fill_in(page, "Month", str(deadline.month))
    when_i_fill_in(page, "Year", str(deadline.year))
    when_i_press(page, "Open the pool")
    then_i_see_the_heading(page, "Learn to cook for ourselves")
    then_i_see_the_text(page, "The pool is open. People can now join it.")
    then_i_see_the_text(page, "Nobody has joined yet.")
    then_the_page_is_accessible(page, "pool-detail-new")
    pool = Pool.objects.get()

    # Alex finds it among the pools he can join, and joins showing his first name.
    given_i_am_signed_in_as(page, world.holder_a.user)
    given_i_open(page, "/pools/")
    then_i_see_the_heading(page, "Buying together")
    then_the_page_is_accessible(page, "pool-list-to-join")
    when_i_follow_the_link(page, "Learn to cook for ourselves")
    then_i_see_the_text(page, "£50.00 for someone joining now")
    then_the_page_is_accessible(page, "pool-detail-before-joining")
    when_i_join_with(page, "Alex Holder", show_name=True)
    then_i_see_the_text(page, "Alex Holder has joined the pool.")
    then_the_page_is_accessible(page, "pool-detail-joined")

    # Cara joins without showing her name; she sees Alex by first name only.
    given_i_am_signed_in_as(page, cara.user)
    given_i_open(page, f"/pools/{pool.pk}/")
    then_the_page_is_accessible(page, "pool-detail-second-before-joining")
    when_i_join_with(page, "Cara Jones", show_name=False)
    members = page.locator("ul.nhsuk-list--bullet")
    expect(members).to_contain_text("Alex")
    expect(members).not_to_contain_text("Alex Holder")
    expect(members).to_contain_text("Cara Jones: share now £50.00")
    then_the_page_is_accessible(page, "pool-detail-second-member")

    # Alex sees Cara only as another member.
    given_i_am_signed_in_as(page, world.holder_a.user)
    given_i_open(page, f"/pools/{pool.pk}/")
    expect(page.locator("ul.nhsuk-list--bullet")).to_contain_text("Another member")
    expect(page.locator("ul.nhsuk-list--bullet")).not_to_contain_text("Cara")
    then_the_page_is_accessible(page, "pool-detail-member-view")

    # The coordinator funds it: both shares are paid, in one go.
    given_i_am_signed_in_as(page, world.staff_x)
    given_i_open(page, f"/pools/{pool.pk}/")
    then_i_see_the_text(page, "£100.00 in all")
    then_the_page_is_accessible(page, "pool-detail-ready-to-fund")
    when_i_press(page, "Fund the pool")
    then_i_see_the_text(page, "The pool is funded: every member's share has been paid.")
    expect(page.locator("main strong.nhsuk-tag").first).to_have_text("Funded")
    then_the_page_is_accessible(page, "pool-detail-funded")

    # Each member's spending shows their share, paid to the provider.
    for holder, budget, balance in (
        (world.holder_a, world.budget_a, "£330.00"),
        (cara, cara_budget, "£150.00"),
    ):
        given_i_am_signed_in_as(page, holder.user)
        given_i_open(page, f"/budgets/{budget.pk}/spending/")
        then_i_see_the_heading(page, "Your spending")
        row = page.get_by_role("row").filter(has_text="Bright Days Cookery")
        expect(row).to_contain_text("£50.00")
        then_the_page_is_accessible(page, f"pool-spending-{holder.pk}")
        given_i_open(page, f"/budgets/{budget.pk}/")
        then_i_see_the_text(page, balance)
        then_the_page_is_accessible(page, f"pool-budget-{holder.pk}")


def test_the_provider_says_the_purchase_failed_and_every_share_comes_back(page, world):
    from budgets.services import new_idempotency_key
    from marketplace import pooling

    service = ServiceFactory(
        provider=ProviderFactory(organisation=world.provider_org, name="Bright Days Cookery"),
        category=a_category(),
        price=(25_00, "session"),
    )
    cara = BudgetHolderFactory(name="Cara Jones", organisation=world.org_x)
    make_budget(cara, paid_in_pence=200_00)
    pool = pooling.pool_create(
        organiser=world.staff_x,
        service=service,
        organisation=world.org_x,
        purpose="Learn to cook for ourselves",
        cost_pence=100_00,
        deadline=timezone.localdate() + datetime.timedelta(days=14),
    )
    pooling.pool_join(pool=pool, budget=world.budget_a, joined_by=world.holder_a.user)
    pooling.pool_join(pool=pool, budget=cara.budgets.get(), joined_by=cara.user)
    pooling.pool_fund(pool=pool, funded_by=world.staff_x, idempotency_key=new_idempotency_key())

    given_i_am_signed_in_as(page, world.provider_staff)
    given_i_open(page, f"/pools/{pool.pk}/")
    then_i_see_the_text(page, "Did the purchase go ahead?")
    # The provider sees the members only as far as each agreed.
    expect(page.locator("ul.nhsuk-list--bullet")).to_contain_text("Another member")
    then_the_page_is_accessible(page, "pool-detail-provider")
    when_i_press(page, "No, refund every share")
    then_the_title_starts_with(page, "Error: ")
    then_the_error_summary_lists(page, "Say why the purchase did not go ahead")
    then_the_page_is_accessible(page, "pool-detail-fail-with-errors")
    when_i_fill_in(page, "Why the purchase did not go ahead", "The teacher is ill.")
    when_i_press(page, "No, refund every share")
    then_i_see_the_text(page, "Every member's share has been paid back into their budget.")
    then_i_see_the_text(page, "The teacher is ill.")
    then_the_page_is_accessible(page, "pool-detail-refunded")

    given_i_am_signed_in_as(page, world.holder_a.user)
    given_i_open(page, f"/budgets/{world.budget_a.pk}/")
    then_i_see_the_text(page, "£380.00")
    then_the_page_is_accessible(page, "pool-budget-after-refund")
