"""The budgets API (``budgets/api/views.py``): who sees which holders and budgets, the
ledger as partners read it, and recording spending with an Idempotency-Key."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from budgets.models import (
    AllocationRun,
    FundingStream,
    LedgerAccount,
    LedgerTransaction,
    ManagementOption,
    Spend,
)
from core.models import AuditEvent
from tests.api.partners import assert_problem, bearer_client, new_key
from tests.factories import (
    BudgetHolderFactory,
    MembershipFactory,
    OrganisationFactory,
    PartnerApplicationFactory,
    add_contribution,
    make_budget,
    pay_in,
    with_mfa,
)
from users.models import Organisation, Role

pytestmark = pytest.mark.django_db

BUDGET_SCOPES = "holders:read budgets:read spending:write allocation:read"


def _app_client(token_for: Callable[..., str], organisation: Any, **kwargs: Any) -> Client:
    app = PartnerApplicationFactory(organisation=organisation, scopes=BUDGET_SCOPES, **kwargs)
    client = bearer_client(token_for(app))
    client.app = app  # type: ignore[attr-defined]
    return client


@pytest.fixture
def icb_api(world: Any, token_for: Callable[..., str]) -> Client:
    """A partner system of org X (holder A's ICB), with every budgets scope."""
    return _app_client(token_for, world.org_x)


@dataclass
class Managed:
    """A third-party budget manager, a budget it manages (£1,000 paid in) for a holder of
    org X, its partner application (whose responsible user works there) and a member."""

    org: Any
    budget: Any
    contribution: Any
    api: Client
    member: Any


@pytest.fixture
def managed(world: Any, token_for: Callable[..., str]) -> Managed:
    org = OrganisationFactory(name="Ledger Brokers", kind=Organisation.Kind.BUDGET_MANAGER)
    holder = BudgetHolderFactory(name="Cam Holder", organisation=world.org_x)
    budget = make_budget(
        holder,
        paid_in_pence=1_000_00,
        management_option=ManagementOption.THIRD_PARTY,
        managed_by=org,
    )
    api = _app_client(token_for, org)
    MembershipFactory(organisation=org, user=api.app.user, role=Role.FINANCE_OFFICER)  # type: ignore[attr-defined]
    member = with_mfa(MembershipFactory(organisation=org, role=Role.FINANCE_OFFICER).user)
    return Managed(org, budget, budget.contributions.get(), api, member)


def _balance(budget: Any) -> int:
    return sum(
        LedgerAccount.objects.filter(budget=budget, kind="budget").values_list(
            "balance_pence", flat=True
        )
    )


def _ledger_state(budget: Any) -> tuple[int, int, int]:
    return (
        _balance(budget),
        LedgerTransaction.objects.filter(budget=budget).count(),
        Spend.objects.filter(budget=budget).count(),
    )


def _spend_body(**changes: Any) -> dict[str, Any]:
    body = {
        "payee": "Sam Carer",
        "spent_on": timezone.localdate().isoformat(),
        "amount_pence": 45_50,
        "category": "personal_assistant",
        "note": "Two evenings",
    }
    body.update(changes)
    return body


def _spend(client: Client, budget: Any, body: Any, key: str | None = None) -> Any:
    return client.post(
        f"/api/v1/budgets/{budget.pk}/spends/",
        body,
        content_type="application/json",
        headers={"Idempotency-Key": key or new_key()},
    )


def _all_pages(client: Client, url: str, **params: Any) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    response = client.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        results.extend(body["results"])
        if not body["next"]:
            return results
        response = client.get(body["next"])


# Holders ----------------------------------------------------------------------------------


def test_an_application_lists_only_its_organisations_holders(world: Any, icb_api: Any) -> None:
    response = icb_api.get("/api/v1/holders/")

    assert response.status_code == 200
    (holder,) = response.json()["results"]
    a = world.holder_a
    assert holder == {
        "id": a.pk,
        "nhs_number": a.nhs_number,
        "name": "Alex Holder",
        "date_of_birth": "1980-05-17",
        "postcode": "LS1 4AP",
        "eligibility_route": "chc",
        "has_legal_right": True,
        "status": a.status,
        "organisation": world.org_x.pk,
        "council": None,
    }


def test_holders_a_council_is_responsible_for_are_its_too(
    world: Any, token_for: Callable[..., str]
) -> None:
    council = OrganisationFactory(kind=Organisation.Kind.LOCAL_AUTHORITY)
    shared = BudgetHolderFactory(organisation=world.org_x, council=council)
    api = _app_client(token_for, council)

    assert [h["id"] for h in api.get("/api/v1/holders/").json()["results"]] == [shared.pk]


def test_each_holder_an_application_is_shown_is_an_audited_view_naming_the_application(
    world: Any, icb_api: Any
) -> None:
    icb_api.get("/api/v1/holders/")
    icb_api.get(f"/api/v1/holders/{world.holder_a.pk}/")

    events = AuditEvent.objects.filter(action="personal_record.viewed", person=world.holder_a)
    assert [e.changes["page"] for e in events.order_by("pk")] == [
        "api:holder_list",
        "api:holder_detail",
    ]
    for event in events:
        assert event.actor is None
        assert event.actor_label == f"Partner application {icb_api.app.pk}: {icb_api.app.name}"  # type: ignore[attr-defined]
        assert event.organisation == world.org_x
    assert not AuditEvent.objects.filter(
        action="personal_record.viewed", person=world.holder_b
    ).exists()


def test_a_staff_members_view_of_a_holder_is_audited_as_theirs(
    world: Any, client_for: Callable[..., Any]
) -> None:
    response = client_for(world.staff_x).get(f"/api/v1/holders/{world.holder_a.pk}/")

    assert response.status_code == 200
    event = AuditEvent.objects.get(action="personal_record.viewed", person=world.holder_a)
    assert event.actor == world.staff_x
    assert event.changes == {"page": "api:holder_detail"}


def test_staff_listing_holders_is_audited_per_holder_but_not_their_own_record(
    world: Any, client_for: Callable[..., Any]
) -> None:
    own = BudgetHolderFactory(organisation=world.org_x, user=world.staff_x)

    response = client_for(world.staff_x).get("/api/v1/holders/")

    assert {h["id"] for h in response.json()["results"]} == {world.holder_a.pk, own.pk}
    viewed = AuditEvent.objects.filter(action="personal_record.viewed", actor=world.staff_x)
    assert [e.person for e in viewed] == [world.holder_a]


def test_another_organisations_holder_is_not_found(world: Any, icb_api: Any) -> None:
    response = icb_api.get(f"/api/v1/holders/{world.holder_b.pk}/")

    assert_problem(response, 404)
    assert not AuditEvent.objects.filter(
        action="personal_record.viewed", person=world.holder_b
    ).exists()


def test_staff_see_the_holders_of_their_own_organisations(
    world: Any, client_for: Callable[..., Any]
) -> None:
    def ids(user: Any) -> list[int]:
        return [h["id"] for h in client_for(user).get("/api/v1/holders/").json()["results"]]

    assert ids(world.staff_x) == [world.holder_a.pk]
    assert ids(world.staff_y) == [world.holder_b.pk]
    assert ids(world.provider_staff) == []


def test_holders_are_found_by_nhs_number_as_written_on_letters(world: Any, icb_api: Any) -> None:
    BudgetHolderFactory(organisation=world.org_x)

    response = icb_api.get("/api/v1/holders/", {"nhs_number": world.holder_a.nhs_number_display})

    assert [h["id"] for h in response.json()["results"]] == [world.holder_a.pk]


def test_another_organisations_holder_is_not_found_by_nhs_number(world: Any, icb_api: Any) -> None:
    response = icb_api.get("/api/v1/holders/", {"nhs_number": world.holder_b.nhs_number})

    assert response.json()["results"] == []


def test_holders_are_filtered_by_date_of_birth(world: Any, icb_api: Any) -> None:
    younger = BudgetHolderFactory(organisation=world.org_x, date_of_birth=datetime.date(2001, 2, 3))

    response = icb_api.get("/api/v1/holders/", {"date_of_birth": "2001-02-03"})

    assert [h["id"] for h in response.json()["results"]] == [younger.pk]


def test_a_date_of_birth_that_is_not_a_date_is_a_problem(icb_api: Any) -> None:
    body = assert_problem(icb_api.get("/api/v1/holders/", {"date_of_birth": "not-a-date"}), 400)

    assert "date_of_birth" in body["errors"]


def test_holders_come_a_page_at_a_time_by_cursor(world: Any, icb_api: Any) -> None:
    more = [BudgetHolderFactory(organisation=world.org_x) for _ in range(4)]

    first = icb_api.get("/api/v1/holders/", {"page_size": 2}).json()
    everyone = _all_pages(icb_api, "/api/v1/holders/", page_size=2)

    assert len(first["results"]) == 2
    assert "cursor=" in first["next"]
    ids = [h["id"] for h in everyone]
    assert sorted(ids) == sorted([world.holder_a.pk, *(h.pk for h in more)])
    assert len(set(ids)) == len(ids)


def test_a_made_up_cursor_is_a_problem(icb_api: Any) -> None:
    not_an_offset = "bz14"  # base64 of "o=x"
    assert_problem(icb_api.get("/api/v1/holders/", {"cursor": not_an_offset}), 404)


# Budgets ----------------------------------------------------------------------------------


def test_a_budget_shows_its_amounts_balance_and_funding(world: Any, icb_api: Any) -> None:
    response = icb_api.get(f"/api/v1/budgets/{world.budget_a.pk}/")

    assert response.status_code == 200
    body = response.json()
    contribution = world.budget_a.contributions.get()
    assert body["holder"] == world.holder_a.pk
    assert body["state"] == "active"
    assert body["payment_schedule"] == "four_weekly"
    assert body["period_start"] == world.budget_a.period_start.isoformat()
    assert body["yearly_pence"] == 13_000_00
    assert body["balance_pence"] == 500_00 - 120_00
    assert body["funding"] == [
        {
            "id": contribution.pk,
            "funder": world.org_x.pk,
            "funder_name": "North ICB",
            "stream": "nhs_chc",
            "yearly_pence": 13_000_00,
            "management_option": "notional",
            "managed_by": None,
            "balance_pence": 380_00,
        }
    ]


def test_an_integrated_budget_adds_up_every_funders_part(world: Any, icb_api: Any) -> None:
    council = OrganisationFactory(kind=Organisation.Kind.LOCAL_AUTHORITY)
    add_contribution(
        world.budget_a,
        funder=council,
        stream=FundingStream.COUNCIL_SOCIAL_CARE,
        yearly_pence=2_600_00,
        paid_in_pence=200_00,
    )

    body = icb_api.get(f"/api/v1/budgets/{world.budget_a.pk}/").json()

    assert body["yearly_pence"] == 13_000_00 + 2_600_00
    assert body["balance_pence"] == 380_00 + 200_00
    assert [f["balance_pence"] for f in body["funding"]] == [380_00, 200_00]


def test_another_organisations_budget_is_not_found(world: Any, icb_api: Any) -> None:
    assert_problem(icb_api.get(f"/api/v1/budgets/{world.budget_b.pk}/"), 404)
    assert_problem(icb_api.get(f"/api/v1/budgets/{world.budget_b.pk}/transactions/"), 404)


def test_an_application_lists_its_organisations_budgets_only(world: Any, icb_api: Any) -> None:
    ids = [b["id"] for b in icb_api.get("/api/v1/budgets/").json()["results"]]

    assert ids == [world.budget_a.pk]


def test_a_third_party_manager_sees_the_budgets_it_manages_but_not_the_icbs_holders(
    world: Any, managed: Managed
) -> None:
    budgets = managed.api.get("/api/v1/budgets/").json()["results"]

    assert [b["id"] for b in budgets] == [managed.budget.pk]
    assert budgets[0]["funding"][0]["managed_by"] == managed.org.pk
    assert managed.api.get("/api/v1/holders/").json()["results"] == []


def test_budgets_are_filtered_by_holder_and_state(world: Any, icb_api: Any) -> None:
    older = make_budget(
        world.holder_a, state="closed", period_start=world.budget_a.period_start.replace(year=2020)
    )
    other = make_budget(BudgetHolderFactory(organisation=world.org_x))

    def ids(**params: Any) -> set[int]:
        response = icb_api.get("/api/v1/budgets/", params)
        assert response.status_code == 200, response.content
        return {b["id"] for b in response.json()["results"]}

    assert ids(holder=world.holder_a.pk) == {world.budget_a.pk, older.pk}
    assert ids(state="closed") == {older.pk}
    assert ids(holder=world.holder_a.pk, state="active") == {world.budget_a.pk}
    assert ids(state="active") == {world.budget_a.pk, other.pk}
    assert ids(holder=world.holder_b.pk) == set()


@pytest.mark.parametrize(
    "params", [{"holder": "1.5"}, {"holder": "x"}, {"holder": "0"}, {"state": "spent"}]
)
def test_a_filter_value_that_cannot_be_right_is_a_problem(
    icb_api: Any, params: dict[str, str]
) -> None:
    body = assert_problem(icb_api.get("/api/v1/budgets/", params), 400)

    assert set(body["errors"]) == set(params)


def test_the_budget_list_takes_the_same_few_queries_however_many_budgets(
    world: Any, icb_api: Any, django_assert_max_num_queries: Any
) -> None:
    council = OrganisationFactory(kind=Organisation.Kind.LOCAL_AUTHORITY)
    for _ in range(6):
        budget = make_budget(BudgetHolderFactory(organisation=world.org_x), paid_in_pence=10_00)
        add_contribution(
            budget, funder=council, stream=FundingStream.COUNCIL_SOCIAL_CARE, yearly_pence=100_00
        )

    # Token and application, the page of budgets, and all their contributions.
    with django_assert_max_num_queries(4):
        response = icb_api.get("/api/v1/budgets/")

    assert len(response.json()["results"]) == 7


def test_a_budget_takes_the_same_few_queries_however_many_funders(
    world: Any, icb_api: Any, django_assert_max_num_queries: Any
) -> None:
    for stream in (FundingStream.COUNCIL_SOCIAL_CARE, FundingStream.COUNCIL_S117):
        add_contribution(
            world.budget_a,
            funder=OrganisationFactory(kind=Organisation.Kind.LOCAL_AUTHORITY),
            stream=stream,
            yearly_pence=100_00,
        )

    with django_assert_max_num_queries(4):
        response = icb_api.get(f"/api/v1/budgets/{world.budget_a.pk}/")

    assert len(response.json()["funding"]) == 3


# Transactions -----------------------------------------------------------------------------


def test_a_budgets_transactions_show_each_entry(world: Any, icb_api: Any) -> None:
    response = icb_api.get(f"/api/v1/budgets/{world.budget_a.pk}/transactions/")

    assert response.status_code == 200
    spend, payment = response.json()["results"]
    assert payment["kind"] == "allocation"
    assert payment["due_on"] == world.budget_a.period_start.isoformat()
    assert sorted(e["amount_pence"] for e in payment["entries"]) == [-500_00, 500_00]
    assert spend["kind"] == "spend"
    assert spend["occurred_on"] == world.budget_a.period_start.isoformat()
    entries = {e["account"]["kind"]: e for e in spend["entries"]}
    assert entries["budget"]["amount_pence"] == -120_00
    assert entries["payee"]["amount_pence"] == 120_00
    assert entries["payee"]["account"]["name"] == "Personal assistant wages"
    assert all(sum(e["amount_pence"] for e in t["entries"]) == 0 for t in (spend, payment))


def test_transactions_are_filtered_by_kind_and_dates(world: Any, icb_api: Any) -> None:
    budget, start = world.budget_a, world.budget_a.period_start
    later = pay_in(budget.contributions.get(), 100_00, due_on=start + datetime.timedelta(days=28))
    url = f"/api/v1/budgets/{budget.pk}/transactions/"

    def kinds_and_ids(**params: Any) -> list[tuple[str, int]]:
        response = icb_api.get(url, params)
        assert response.status_code == 200, response.content
        return [(t["kind"], t["id"]) for t in response.json()["results"]]

    assert [k for k, _ in kinds_and_ids(kind="allocation")] == ["allocation", "allocation"]
    assert [k for k, _ in kinds_and_ids(kind="spend")] == ["spend"]
    after = (start + datetime.timedelta(days=1)).isoformat()
    assert kinds_and_ids(occurred_after=after) == [("allocation", later.pk)]
    assert {k for k, _ in kinds_and_ids(occurred_before=start.isoformat())} == {
        "allocation",
        "spend",
    }
    assert len(kinds_and_ids(occurred_before=start.isoformat())) == 2


def test_transactions_come_a_page_at_a_time(
    world: Any, icb_api: Any, django_assert_max_num_queries: Any
) -> None:
    contribution = world.budget_a.contributions.get()
    start = world.budget_a.period_start
    for k in range(1, 6):
        pay_in(contribution, 1_00, due_on=start + datetime.timedelta(days=28 * k))
    url = f"/api/v1/budgets/{world.budget_a.pk}/transactions/"

    with django_assert_max_num_queries(5):
        first = icb_api.get(url, {"page_size": 3})
    everything = _all_pages(icb_api, url, page_size=3)

    assert len(first.json()["results"]) == 3
    assert len(everything) == 7
    assert len({t["id"] for t in everything}) == 7


# Spending ---------------------------------------------------------------------------------


def test_a_third_party_manager_records_a_spend(managed: Managed) -> None:
    response = _spend(managed.api, managed.budget, _spend_body())

    assert response.status_code == 201, response.content
    body = response.json()
    spend = Spend.objects.get(pk=body["id"])
    assert body["amount_pence"] == 45_50
    assert body["budget"] == managed.budget.pk
    assert body["contribution"] == managed.contribution.pk
    assert body["state"] == "recorded"
    assert spend.recorded_by == managed.api.app.user  # type: ignore[attr-defined]
    app = managed.api.app  # type: ignore[attr-defined]
    event = AuditEvent.objects.get(action="spend.recorded", object_id=str(spend.pk))
    assert (event.actor, event.actor_label) == (
        app.user,
        f"Partner application {app.pk}: {app.name}",
    )
    assert _balance(managed.budget) == 1_000_00 - 45_50
    assert spend.transaction.entries.get(amount_pence=45_50).account.name == "Sam Carer"


def test_a_member_of_the_managing_organisation_records_a_spend_signed_in(
    managed: Managed, client_for: Callable[..., Any]
) -> None:
    response = _spend(client_for(managed.member), managed.budget, _spend_body())

    assert response.status_code == 201, response.content
    assert Spend.objects.get(pk=response.json()["id"]).recorded_by == managed.member
    assert _balance(managed.budget) == 1_000_00 - 45_50


def test_a_retry_with_the_same_key_moves_the_money_once(managed: Managed) -> None:
    key = new_key()
    first = _spend(managed.api, managed.budget, _spend_body(), key)
    again = _spend(managed.api, managed.budget, _spend_body(), key)

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Spend.objects.filter(budget=managed.budget).count() == 1
    assert _balance(managed.budget) == 1_000_00 - 45_50


def test_the_same_key_with_a_different_body_is_refused_and_moves_nothing(
    managed: Managed,
) -> None:
    key = new_key()
    _spend(managed.api, managed.budget, _spend_body(), key)
    before = _ledger_state(managed.budget)

    response = _spend(managed.api, managed.budget, _spend_body(amount_pence=99_00), key)

    assert "different request" in assert_problem(response, 422)["detail"]
    assert _ledger_state(managed.budget) == before


def test_two_callers_may_use_the_same_key(managed: Managed, client_for: Callable[..., Any]) -> None:
    key = "spend-0001"
    assert _spend(managed.api, managed.budget, _spend_body(), key).status_code == 201
    response = _spend(client_for(managed.member), managed.budget, _spend_body(), key)

    assert response.status_code == 201, response.content
    assert Spend.objects.filter(budget=managed.budget).count() == 2
    assert _balance(managed.budget) == 1_000_00 - 2 * 45_50


def test_the_longest_key_allowed_fits_the_ledger(managed: Managed) -> None:
    response = _spend(managed.api, managed.budget, _spend_body(), "k" * 200)

    assert response.status_code == 201, response.content


def test_a_spend_without_an_idempotency_key_is_refused(managed: Managed) -> None:
    before = _ledger_state(managed.budget)

    response = managed.api.post(
        f"/api/v1/budgets/{managed.budget.pk}/spends/",
        _spend_body(),
        content_type="application/json",
    )

    assert "Idempotency-Key" in assert_problem(response, 400)["errors"]
    assert _ledger_state(managed.budget) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount_pence": -100}, "amount_pence"),
        ({"amount_pence": 0}, "amount_pence"),
        ({"amount_pence": 12.5}, "amount_pence"),
        ({"amount_pence": 12.0}, "amount_pence"),
        ({"amount_pence": "4550"}, "amount_pence"),
        ({"amount_pence": True}, "amount_pence"),
        ({"amount_pence": None}, "amount_pence"),
        ({"amount_pence": 10**30}, "amount_pence"),
        ({"amount_pence": 1_000_000_01}, "amount_pence"),
        ({"spent_on": "2999-01-01"}, "spent_on"),
        ({"spent_on": "yesterday"}, "spent_on"),
        ({"spent_on": "2001-01-01"}, "spent_on"),  # before the budget year
        ({"payee": "   "}, "payee"),
        ({"payee": "x" * 201}, "payee"),
        ({"category": "holiday"}, "category"),
        ({"contribution": 987654321}, "contribution"),
        ({"contribution": 2**70}, "contribution"),
    ],
)
def test_bad_input_is_a_clear_problem_and_moves_nothing(
    managed: Managed, changes: dict[str, Any], field: str
) -> None:
    before = _ledger_state(managed.budget)

    response = _spend(managed.api, managed.budget, _spend_body(**changes))

    body = assert_problem(response, 400)
    assert list(body["errors"]) == [field]
    assert all(isinstance(m, str) and m for m in body["errors"][field])
    assert _ledger_state(managed.budget) == before


def test_a_missing_field_is_named(managed: Managed) -> None:
    body = _spend_body()
    del body["payee"], body["amount_pence"]

    problem = assert_problem(_spend(managed.api, managed.budget, body), 400)

    assert set(problem["errors"]) == {"payee", "amount_pence"}


def test_a_body_that_is_not_an_object_is_a_problem(managed: Managed) -> None:
    assert_problem(_spend(managed.api, managed.budget, [1, 2]), 400)
    assert Spend.objects.filter(budget=managed.budget).count() == 0


def test_another_budgets_funding_is_refused(world: Any, managed: Managed) -> None:
    other = world.budget_a.contributions.get()

    response = _spend(managed.api, managed.budget, _spend_body(contribution=other.pk))

    assert assert_problem(response, 400)["errors"] == {
        "contribution": ["That funding is not part of this budget."]
    }


def test_a_budget_with_several_funders_needs_to_be_told_which_pays(managed: Managed) -> None:
    second = add_contribution(
        managed.budget,
        funder=OrganisationFactory(kind=Organisation.Kind.LOCAL_AUTHORITY),
        stream=FundingStream.COUNCIL_SOCIAL_CARE,
        yearly_pence=100_00,
        paid_in_pence=100_00,
        management_option=ManagementOption.THIRD_PARTY,
        managed_by=managed.org,
    )

    assert (
        "contribution"
        in assert_problem(_spend(managed.api, managed.budget, _spend_body()), 400)["errors"]
    )
    response = _spend(managed.api, managed.budget, _spend_body(contribution=second.pk))
    assert response.status_code == 201, response.content
    assert LedgerAccount.objects.get(contribution=second).balance_pence == 100_00 - 45_50


def test_an_unknown_budget_is_not_found(managed: Managed) -> None:
    response = managed.api.post(
        "/api/v1/budgets/987654321/spends/",
        _spend_body(),
        content_type="application/json",
        headers={"Idempotency-Key": new_key()},
    )

    assert_problem(response, 404)


def test_another_organisations_budget_is_not_found_for_spending(
    world: Any, managed: Managed
) -> None:
    before = _ledger_state(world.budget_b)

    assert_problem(_spend(managed.api, world.budget_b, _spend_body()), 404)
    assert _ledger_state(world.budget_b) == before


def test_a_spend_over_the_balance_is_a_conflict_and_moves_nothing(managed: Managed) -> None:
    before = _ledger_state(managed.budget)

    response = _spend(managed.api, managed.budget, _spend_body(amount_pence=1_000_01))

    body = assert_problem(response, 409)
    assert "not enough money" in body["detail"]
    assert "£1,000.00 available" in body["detail"]
    assert _ledger_state(managed.budget) == before


def test_a_refused_spend_does_not_use_its_key_up(managed: Managed) -> None:
    key = new_key()
    assert (
        _spend(managed.api, managed.budget, _spend_body(amount_pence=2_000_00), key).status_code
        == 409
    )

    response = _spend(managed.api, managed.budget, _spend_body(amount_pence=2_000_00), key)

    assert_problem(response, 409)  # tried afresh, not replayed as a success
    assert "Idempotent-Replayed" not in response


def test_spending_on_a_suspended_budget_is_a_conflict(managed: Managed) -> None:
    managed.budget.state = "suspended"
    managed.budget.save(update_fields=["state"])
    before = _ledger_state(managed.budget)

    body = assert_problem(_spend(managed.api, managed.budget, _spend_body()), 409)

    assert "active budget" in body["detail"]
    assert _ledger_state(managed.budget) == before


def test_the_holders_icb_application_cannot_record_spending(world: Any, icb_api: Any) -> None:
    before = _ledger_state(world.budget_a)

    body = assert_problem(_spend(icb_api, world.budget_a, _spend_body()), 403)

    assert "manages as a third party" in body["detail"]
    assert _ledger_state(world.budget_a) == before


def test_an_application_without_a_responsible_user_cannot_record_spending(
    managed: Managed, token_for: Callable[..., str]
) -> None:
    api = _app_client(token_for, managed.org, user=None)

    body = assert_problem(_spend(api, managed.budget, _spend_body()), 403)

    assert "no responsible user" in body["detail"]
    assert Spend.objects.filter(budget=managed.budget).count() == 0


def test_an_application_whose_responsible_user_has_left_the_manager_cannot_spend(
    managed: Managed, token_for: Callable[..., str]
) -> None:
    api = _app_client(token_for, managed.org)  # its user is no member of the manager

    body = assert_problem(_spend(api, managed.budget, _spend_body()), 403)

    assert "organisation that manages" in body["detail"]
    assert Spend.objects.filter(budget=managed.budget).count() == 0


def test_staff_who_do_not_manage_the_money_cannot_record_spending(
    world: Any, client_for: Callable[..., Any]
) -> None:
    before = _ledger_state(world.budget_a)

    response = _spend(client_for(world.commissioner), world.budget_a, _spend_body())

    assert "organisation that manages" in assert_problem(response, 403)["detail"]
    assert _ledger_state(world.budget_a) == before


# Scopes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "method", "path"),
    [
        ("budgets:read", "post", "/api/v1/budgets/{budget}/spends/"),
        ("budgets:read", "get", "/api/v1/holders/"),
        ("budgets:read", "get", "/api/v1/holders/{holder}/"),
        ("budgets:read", "get", "/api/v1/allocation-runs/"),
        ("holders:read", "get", "/api/v1/budgets/"),
        ("holders:read", "get", "/api/v1/budgets/{budget}/"),
        ("holders:read", "get", "/api/v1/budgets/{budget}/transactions/"),
        ("spending:write", "get", "/api/v1/budgets/"),
    ],
)
def test_a_token_without_the_scope_is_forbidden(
    managed: Managed,
    token_for: Callable[..., str],
    scope: str,
    method: str,
    path: str,
) -> None:
    client = bearer_client(token_for(managed.api.app, scope))  # type: ignore[attr-defined]
    url = path.format(budget=managed.budget.pk, holder=managed.budget.holder_id)

    if method == "post":
        response = _spend(client, managed.budget, _spend_body())
    else:
        response = client.get(url)

    assert_problem(response, 403)
    assert Spend.objects.filter(budget=managed.budget).count() == 0


def test_the_spending_scope_alone_is_enough_to_record_a_spend(
    managed: Managed, token_for: Callable[..., str]
) -> None:
    client = bearer_client(token_for(managed.api.app, "spending:write"))  # type: ignore[attr-defined]

    assert _spend(client, managed.budget, _spend_body()).status_code == 201


def test_an_anonymous_caller_is_not_authenticated(world: Any) -> None:
    assert_problem(Client().get("/api/v1/budgets/"), 401)


# Allocation runs --------------------------------------------------------------------------


def test_allocation_runs_are_platform_wide(world: Any, icb_api: Any, managed: Managed) -> None:
    run = AllocationRun.objects.create(
        as_of=datetime.date(2025, 4, 1),
        status=AllocationRun.Status.SUCCEEDED,
        finished_at=timezone.now(),
        payments_posted=12,
        budgets_paid=10,
        total_pence=6_000_00,
    )
    failed = AllocationRun.objects.create(
        as_of=datetime.date(2025, 4, 2), status=AllocationRun.Status.FAILED, errors="timeout"
    )

    for client in (icb_api, managed.api):
        listed = client.get("/api/v1/allocation-runs/").json()["results"]
        assert [r["id"] for r in listed] == [failed.pk, run.pk]
    body = icb_api.get(f"/api/v1/allocation-runs/{run.pk}/").json()
    assert body["as_of"] == "2025-04-01"
    assert body["status"] == "succeeded"
    assert body["payments_posted"] == 12
    assert body["budgets_paid"] == 10
    assert body["total_pence"] == 6_000_00
    assert body["finished_at"] is not None
    assert listed[0]["errors"] == "timeout"
    assert set(body) == {
        "id",
        "as_of",
        "status",
        "started_at",
        "finished_at",
        "payments_posted",
        "budgets_paid",
        "total_pence",
        "errors",
    }


def test_an_unknown_allocation_run_is_not_found(icb_api: Any) -> None:
    assert_problem(icb_api.get("/api/v1/allocation-runs/987654321/"), 404)
