"""Spends that say which item of the support plan they pay for: through the spend
service (in its one write), afterwards (``spend_plan_item_link``), on the holder's
"record a spend" page and through the API."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from budgets import services
from budgets.models import (
    FundingStream,
    LedgerTransaction,
    ManagementOption,
    MonitoringFlag,
    Spend,
    SpendCategory,
)
from core.models import AuditEvent
from plans import services as plan_services
from plans.models import SupportItem, SupportPlan
from plans.reviews import review_sweep
from tests.api.conftest import token_for  # noqa: F401 (a fixture)
from tests.api.partners import bearer_client, new_key
from tests.conftest import World
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    PartnerApplicationFactory,
    RepresentationFactory,
    add_contribution,
)
from tests.plans import conftest as plan_fixtures
from tests.plans.conftest import PlanWorld, fill_plan, make_active
from users.models import Organisation, Representation, Role

# The plan fixtures, from the plans tests' conftest.
pw = plan_fixtures.pw
active_plan = plan_fixtures.active_plan


def _item(plan: SupportPlan) -> SupportItem:
    return plan.items.get()


def _record(world: World, key: str | None = None, **changes: Any) -> Spend:
    kwargs: dict[str, Any] = {
        "budget": world.budget_a,
        "payee": "Sam",
        "spent_on": timezone.localdate(),
        "amount_pence": 50_00,
        "category": SpendCategory.PERSONAL_ASSISTANT,
        "recorded_by": world.holder_a.user,
        "idempotency_key": key or uuid.uuid4().hex,
    }
    kwargs.update(changes)
    return services.spend_record(**kwargs)


def _money_state(world: World) -> tuple[int, int, int]:
    account = world.budget_a.contributions.get().account
    account.refresh_from_db()
    return (
        Spend.objects.filter(budget=world.budget_a).count(),
        LedgerTransaction.objects.filter(budget=world.budget_a).count(),
        account.balance_pence,
    )


# Recording a spend ------------------------------------------------------------------------


def test_a_spend_names_an_item_of_the_active_plan_in_its_one_write(
    pw: PlanWorld, active_plan: SupportPlan
) -> None:
    item = _item(active_plan)
    spend = _record(pw.world, plan_item=item)
    stored = Spend.objects.get(pk=spend.pk)
    assert stored.plan_item == item
    assert spend.plan_item_id == item.pk
    event = AuditEvent.objects.get(action="spend.recorded", object_id=str(spend.pk))
    assert event.changes["plan_item"] == item.pk


def test_an_item_given_by_its_id_is_taken_too(pw: PlanWorld, active_plan: SupportPlan) -> None:
    item = _item(active_plan)
    spend = _record(pw.world, plan_item=item.pk)
    assert Spend.objects.get(pk=spend.pk).plan_item_id == item.pk


def test_naming_an_item_costs_no_extra_round_trip(pw: PlanWorld, active_plan: SupportPlan) -> None:
    item = _item(active_plan)
    _record(pw.world, payee="Warm up")  # the payee account and prepared statements exist
    with CaptureQueriesContext(connection) as without:
        _record(pw.world, payee="Warm up")
    with CaptureQueriesContext(connection) as linked:
        _record(pw.world, payee="Warm up", plan_item=item)
    assert len(linked) == len(without)


@pytest.mark.parametrize("bad", ["not a number", True, -3, 0, 3.5, 2**70])
def test_a_plan_item_that_is_not_an_id_is_refused(
    pw: PlanWorld, active_plan: SupportPlan, bad: Any
) -> None:
    before = _money_state(pw.world)
    with pytest.raises(ValidationError) as error:
        _record(pw.world, plan_item=bad)
    assert "plan_item" in error.value.message_dict
    assert _money_state(pw.world) == before


def test_an_item_of_a_draft_version_is_refused_and_nothing_moves(
    pw: PlanWorld, active_plan: SupportPlan
) -> None:
    draft = plan_services.plan_start(budget=pw.world.budget_a, started_by=pw.world.holder_a.user)
    draft_item = draft.items.get()
    before = _money_state(pw.world)
    with pytest.raises(ValidationError) as error:
        _record(pw.world, plan_item=draft_item)
    assert error.value.message_dict["plan_item"] == [services.PLAN_ITEM_NOT_ACTIVE]
    assert _money_state(pw.world) == before


def test_an_item_of_a_budget_with_no_plan_in_force_is_refused(pw: PlanWorld) -> None:
    draft = plan_services.plan_start(budget=pw.world.budget_a, started_by=pw.world.holder_a.user)
    fill_plan(draft, pw.world.holder_a.user)
    with pytest.raises(ValidationError, match="support plan now in force"):
        _record(pw.world, plan_item=draft.items.get())


def test_an_item_of_someone_elses_plan_is_refused(pw: PlanWorld, active_plan: SupportPlan) -> None:
    world = pw.world
    before = Spend.objects.filter(budget=world.budget_b).count()
    with pytest.raises(ValidationError, match="support plan now in force"):
        services.spend_record(
            budget=world.budget_b,
            payee="Sam",
            spent_on=timezone.localdate(),
            amount_pence=10_00,
            category=SpendCategory.OTHER,
            recorded_by=world.holder_b.user,
            idempotency_key=uuid.uuid4().hex,
            plan_item=_item(active_plan),
        )
    assert Spend.objects.filter(budget=world.budget_b).count() == before


def _two_stream_plan(pw: PlanWorld) -> tuple[SupportPlan, Any, Any]:
    """Holder A's budget with council funding too, and an active plan with an item paid
    from each stream."""
    world = pw.world
    council = OrganisationFactory(name="Town Council", kind=Organisation.Kind.LOCAL_AUTHORITY)
    council_funding = add_contribution(
        world.budget_a,
        funder=council,
        stream=FundingStream.COUNCIL_SOCIAL_CARE,
        yearly_pence=1_200_00,
        paid_in_pence=300_00,
    )
    holder = world.holder_a.user
    plan = plan_services.plan_start(budget=world.budget_a, started_by=holder)
    fill_plan(plan, holder, weekly_pence=250_00)
    plan_services.item_save(
        plan=plan,
        saved_by=holder,
        description="Gardening club",
        provider_kind=SupportItem.ProviderKind.COMMUNITY,
        times=1,
        per=SupportItem.Per.MONTH,
        unit_cost_pence=100_00,
        stream=FundingStream.COUNCIL_SOCIAL_CARE,
    )
    plan_services.money_save(
        plan=plan,
        saved_by=holder,
        stream=FundingStream.COUNCIL_SOCIAL_CARE,
        management_option=ManagementOption.NOTIONAL,
    )
    plan = make_active(plan, pw)
    nhs_funding = world.budget_a.contributions.get(stream=FundingStream.NHS_CHC)
    return plan, nhs_funding, council_funding


def test_an_item_paid_from_another_stream_is_refused(pw: PlanWorld) -> None:
    plan, nhs_funding, council_funding = _two_stream_plan(pw)
    club = plan.items.get(stream=FundingStream.COUNCIL_SOCIAL_CARE)
    with pytest.raises(ValidationError) as error:
        _record(pw.world, contribution=nhs_funding, plan_item=club)
    assert error.value.message_dict["plan_item"] == [
        "That support is paid from Council adult social care, not from the NHS continuing "
        "healthcare funding this spend comes from."
    ]
    spend = _record(pw.world, contribution=council_funding, plan_item=club)
    assert spend.plan_item_id == club.pk


def test_a_replayed_spend_returns_the_first_with_its_item(
    pw: PlanWorld, active_plan: SupportPlan
) -> None:
    item = _item(active_plan)
    first = _record(pw.world, key="same-key", plan_item=item)
    again = _record(pw.world, key="same-key", plan_item=item)
    assert again.pk == first.pk
    assert Spend.objects.filter(plan_item=item).count() == 1


# Linking afterwards -----------------------------------------------------------------------


def test_the_holder_links_a_spend_to_a_plan_item_and_it_is_audited(
    pw: PlanWorld, active_plan: SupportPlan
) -> None:
    spend = _record(pw.world)
    item = _item(active_plan)
    services.spend_plan_item_link(spend=spend, plan_item=item, linked_by=pw.world.holder_a.user)
    assert Spend.objects.get(pk=spend.pk).plan_item == item
    event = AuditEvent.objects.get(action="spend.plan_item_linked", object_id=str(spend.pk))
    assert event.changes == {"plan_item": [None, item.pk]}
    # Linking again changes nothing and writes no second event.
    services.spend_plan_item_link(spend=spend, plan_item=item, linked_by=pw.world.holder_a.user)
    assert AuditEvent.objects.filter(action="spend.plan_item_linked").count() == 1
    # None says it paid for nothing in the plan.
    services.spend_plan_item_link(spend=spend, plan_item=None, linked_by=pw.world.holder_a.user)
    assert Spend.objects.get(pk=spend.pk).plan_item is None


def test_finance_and_a_representative_with_the_money_scope_may_link(
    pw: PlanWorld, active_plan: SupportPlan
) -> None:
    world = pw.world
    item = _item(active_plan)
    spend = _record(world)
    services.spend_plan_item_link(spend=spend, plan_item=item, linked_by=world.finance_officer)
    money_rep = RepresentationFactory(
        holder=world.holder_a, scopes=[Representation.Scope.MANAGE_MONEY]
    ).representative
    services.spend_plan_item_link(spend=spend, plan_item=None, linked_by=money_rep)
    assert Spend.objects.get(pk=spend.pk).plan_item is None


@pytest.mark.parametrize("who", ["representative", "staff_x", "commissioner", "holder_b", "pw"])
def test_others_may_not_link_a_spend(pw: PlanWorld, active_plan: SupportPlan, who: str) -> None:
    world = pw.world
    user = pw.clinician if who == "pw" else world.users()[who]
    spend = _record(world)
    with pytest.raises(PermissionDenied):
        services.spend_plan_item_link(spend=spend, plan_item=_item(active_plan), linked_by=user)
    assert Spend.objects.get(pk=spend.pk).plan_item is None
    assert not AuditEvent.objects.filter(action="spend.plan_item_linked").exists()


def test_linking_to_an_item_not_in_force_is_refused(
    pw: PlanWorld, active_plan: SupportPlan
) -> None:
    spend = _record(pw.world)
    draft = plan_services.plan_start(budget=pw.world.budget_a, started_by=pw.world.holder_a.user)
    with pytest.raises(ValidationError, match="support plan now in force"):
        services.spend_plan_item_link(
            spend=spend, plan_item=draft.items.get(), linked_by=pw.world.holder_a.user
        )
    assert Spend.objects.get(pk=spend.pk).plan_item is None


def test_a_linked_spend_is_not_spending_outside_the_plan(
    pw: PlanWorld, active_plan: SupportPlan
) -> None:
    spend = _record(pw.world)
    services.spend_plan_item_link(
        spend=spend, plan_item=_item(active_plan), linked_by=pw.world.holder_a.user
    )
    assert review_sweep()["outside_plan"] == 0  # type: ignore[index]
    assert not MonitoringFlag.objects.filter(kind=MonitoringFlag.Kind.OUTSIDE_PLAN).exists()


# The holder's page ------------------------------------------------------------------------


def _post(client: Any, budget: Any, **changes: Any) -> Any:
    today = timezone.localdate()
    data = {
        "idempotency_key": uuid.uuid4().hex,
        "payee": "Sam",
        "spent_on_day": today.day,
        "spent_on_month": today.month,
        "spent_on_year": today.year,
        "amount": "12.50",
        "category": SpendCategory.PERSONAL_ASSISTANT,
        "note": "",
    }
    data.update(changes)
    return client.post(reverse("budgets:spend_create", args=[budget.pk]), data)


def test_the_spend_page_offers_the_plans_items_with_not_in_my_plan(
    pw: PlanWorld, active_plan: SupportPlan, client_for: Any
) -> None:
    page = client_for(pw.world.holder_a.user).get(
        reverse("budgets:spend_create", args=[pw.world.budget_a.pk])
    )
    text = page.content.decode()
    assert 'name="plan_item"' in text
    assert "Not in my plan" in text
    assert "Personal assistant for walks" in text


def test_the_spend_page_has_no_plan_question_without_a_plan_in_force(
    pw: PlanWorld, client_for: Any
) -> None:
    page = client_for(pw.world.holder_a.user).get(
        reverse("budgets:spend_create", args=[pw.world.budget_a.pk])
    )
    assert 'name="plan_item"' not in page.content.decode()


def test_a_spend_recorded_on_the_page_is_linked_to_the_chosen_item(
    pw: PlanWorld, active_plan: SupportPlan, client_for: Any
) -> None:
    item = _item(active_plan)
    response = _post(client_for(pw.world.holder_a.user), pw.world.budget_a, plan_item=item.pk)
    assert response.status_code == 302
    spend = Spend.objects.filter(budget=pw.world.budget_a).order_by("-pk").first()
    assert spend is not None
    assert spend.plan_item == item
    # "Not in my plan" (the empty choice) records it unlinked.
    _post(client_for(pw.world.holder_a.user), pw.world.budget_a, plan_item="")
    assert Spend.objects.filter(budget=pw.world.budget_a).order_by("-pk")[0].plan_item is None


def test_an_item_not_offered_is_an_error_on_the_page_and_nothing_is_recorded(
    pw: PlanWorld, active_plan: SupportPlan, client_for: Any
) -> None:
    before = _money_state(pw.world)
    draft = plan_services.plan_start(budget=pw.world.budget_a, started_by=pw.world.holder_a.user)
    response = _post(
        client_for(pw.world.holder_a.user), pw.world.budget_a, plan_item=draft.items.get().pk
    )
    assert response.status_code == 200
    assert "Choose an item from the support plan" in response.content.decode()
    assert _money_state(pw.world) == before


# The API ----------------------------------------------------------------------------------


@pytest.fixture
def third_party(pw: PlanWorld, token_for: Any) -> Any:  # noqa: F811
    """Holder A's budget managed by a third party whose partner system records spends."""
    world = pw.world
    org = OrganisationFactory(name="Ledger Brokers", kind=Organisation.Kind.BUDGET_MANAGER)
    funding = world.budget_a.contributions.get()
    funding.managed_by = org
    funding.management_option = ManagementOption.THIRD_PARTY
    funding.save()
    app = PartnerApplicationFactory(
        organisation=org, scopes="holders:read budgets:read spending:write"
    )
    MembershipFactory(organisation=org, user=app.user, role=Role.FINANCE_OFFICER)
    return bearer_client(token_for(app))


def _api_spend(client: Any, budget: Any, **changes: Any) -> Any:
    body = {
        "payee": "Sam",
        "spent_on": (timezone.localdate() - datetime.timedelta(days=0)).isoformat(),
        "amount_pence": 20_00,
        "category": "personal_assistant",
        **changes,
    }
    return client.post(
        f"/api/v1/budgets/{budget.pk}/spends/",
        body,
        content_type="application/json",
        headers={"Idempotency-Key": new_key()},
    )


def test_a_partner_system_records_a_spend_against_a_plan_item(
    pw: PlanWorld, active_plan: SupportPlan, third_party: Any
) -> None:
    item = _item(active_plan)
    response = _api_spend(third_party, pw.world.budget_a, plan_item=item.pk)
    assert response.status_code == 201, response.content
    assert response.json()["plan_item"] == item.pk
    assert Spend.objects.get(pk=response.json()["id"]).plan_item == item
    unlinked = _api_spend(third_party, pw.world.budget_a)
    assert unlinked.status_code == 201, unlinked.content
    assert unlinked.json()["plan_item"] is None


def test_the_api_refuses_an_item_not_in_force_and_moves_nothing(
    pw: PlanWorld, active_plan: SupportPlan, third_party: Any
) -> None:
    draft = plan_services.plan_start(budget=pw.world.budget_a, started_by=pw.world.holder_a.user)
    before = _money_state(pw.world)
    response = _api_spend(third_party, pw.world.budget_a, plan_item=draft.items.get().pk)
    assert response.status_code == 400, response.content
    assert "plan_item" in response.content.decode()
    bad = _api_spend(third_party, pw.world.budget_a, plan_item="seven")
    assert bad.status_code == 400
    assert _money_state(pw.world) == before
