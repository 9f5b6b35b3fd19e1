"""Who reaches which admin screens and rows: platform admins everything; commissioners
their budgets, plans, market and audit log, scoped to their organisations; finance
officers the budgets screens; everyone else nothing. Plus the theme and the index's
order, and the audit log and reporting lists being read-only."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse

from core.reporting.models import ReportJob, SnapshotRun
from core.services import audit_record
from plans.models import SupportPlan
from tests.conftest import staff_user
from tests.marketplace.factories import ProviderFactory, ServiceFactory
from users.models import Role

pytestmark = pytest.mark.django_db

PAGES = {
    "index": "admin:index",
    "providers": "admin:marketplace_provider_changelist",
    "services": "admin:marketplace_service_changelist",
    "plans": "admin:plans_supportplan_changelist",
    "audit": "admin:core_auditevent_changelist",
    "flags": "admin:budgets_monitoringflag_changelist",
    "ledger": "admin:budgets_ledgertransaction_changelist",
    "notifications": "admin:core_notification_changelist",
    "report_jobs": "admin:core_reportjob_changelist",
    "returns": "admin:core_quarterlyreturn_changelist",
    "snapshots": "admin:core_snapshotrun_changelist",
    "users": "admin:users_user_changelist",
}

# role -> the pages above it opens (200); every other page refuses it (403).
OPENS = {
    "platform_admin": set(PAGES),
    "commissioner": {"index", "providers", "services", "plans", "audit", "flags", "ledger"},
    "commissioner_y": {"index", "providers", "services", "plans", "audit", "flags", "ledger"},
    "finance_officer": {"index", "flags", "ledger"},
    "care_coordinator": set(),
    "holder": set(),
}


def user_for(world: Any, role: str) -> Any:
    return {
        "platform_admin": world.platform_admin,
        "commissioner": world.commissioner,
        "commissioner_y": staff_user(world.org_y, Role.COMMISSIONER),
        "finance_officer": world.finance_officer,
        "care_coordinator": world.staff_x,
        "holder": world.holder_a.user,
    }[role]


def listed(response: Any) -> set[Any]:
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


@pytest.mark.parametrize("role", sorted(OPENS))
def test_each_role_reaches_only_the_admin_screens_opened_to_it(
    world: Any, client_for: Any, role: str
) -> None:
    client = client_for(user_for(world, role))
    got = {page: client.get(reverse(url)).status_code for page, url in PAGES.items()}
    expected = {page: 200 if page in OPENS[role] else 403 for page in PAGES}
    assert got == expected


@pytest.fixture
def market(world: Any) -> dict[str, Any]:
    commissioner_y = staff_user(world.org_y, Role.COMMISSIONER)
    north = ProviderFactory(name="North Helpers", areas=[world.org_x])
    south = ProviderFactory(name="South Helpers", areas=[world.org_y])
    both = ProviderFactory(name="Both Ways", areas=[world.org_x, world.org_y])
    return {
        "commissioner_y": commissioner_y,
        "north": north,
        "south": south,
        "both": both,
        "north_service": ServiceFactory(provider=north, title="Walks in the park"),
        "south_service": ServiceFactory(provider=south, title="Cooking together"),
    }


def test_commissioners_list_the_providers_and_services_of_their_own_areas(
    world: Any, client_for: Any, market: dict[str, Any]
) -> None:
    providers = reverse(PAGES["providers"])
    services = reverse(PAGES["services"])
    north = client_for(world.commissioner)
    south = client_for(market["commissioner_y"])
    assert listed(north.get(providers)) == {market["north"], market["both"]}
    assert listed(south.get(providers)) == {market["south"], market["both"]}
    assert listed(north.get(services)) == {market["north_service"]}
    assert listed(south.get(services)) == {market["south_service"]}
    assert listed(client_for(world.platform_admin).get(providers)) == {
        market["north"],
        market["south"],
        market["both"],
    }


def test_another_areas_provider_or_service_is_not_found(
    world: Any, client_for: Any, market: dict[str, Any]
) -> None:
    client = client_for(world.commissioner)
    south = market["south"]
    assert (
        client.get(reverse("admin:marketplace_provider_change", args=[south.pk])).status_code == 404
    )
    service = market["south_service"]
    assert (
        client.get(reverse("admin:marketplace_service_change", args=[service.pk])).status_code
        == 404
    )
    north = market["north"]
    assert (
        client.get(reverse("admin:marketplace_provider_change", args=[north.pk])).status_code == 200
    )


def test_providers_are_filtered_by_verification_and_found_by_postcode(
    world: Any, client_for: Any, market: dict[str, Any]
) -> None:
    market["north"].postcode = "LS6 1AB"
    market["north"].verification = "pending"
    market["north"].save()
    client = client_for(world.commissioner)
    url = reverse(PAGES["providers"])
    assert listed(client.get(url, {"verification__exact": "pending"})) == {market["north"]}
    assert listed(client.get(url, {"q": "LS6 1AB"})) == {market["north"]}
    # The area filter offers the commissioner's market's areas, not every organisation.
    page = client.get(url).content.decode()
    assert "North ICB" in page
    assert world.provider_org.name not in page


def test_the_market_is_read_only_even_for_platform_admins(
    world: Any, client_for: Any, market: dict[str, Any]
) -> None:
    north = market["north"]
    for user in (world.commissioner, world.platform_admin):
        client = client_for(user)
        url = reverse("admin:marketplace_provider_change", args=[north.pk])
        page = client.get(url)
        assert page.status_code == 200
        assert b'name="_save"' not in page.content
        response = client.post(url, {"name": "Renamed"})
        assert response.status_code == 403
        assert client.get(reverse("admin:marketplace_provider_add")).status_code == 403
    north.refresh_from_db()
    assert north.name == "North Helpers"


# The audit log --------------------------------------------------------------------------


def test_commissioners_read_their_organisations_audit_events_only(
    world: Any, client_for: Any
) -> None:
    mine = audit_record(actor=world.platform_admin, action="test.north", organisation=world.org_x)
    about_mine = audit_record(actor=world.platform_admin, action="test.alex", person=world.holder_a)
    theirs = audit_record(actor=world.platform_admin, action="test.south", organisation=world.org_y)
    url = reverse(PAGES["audit"])
    seen = listed(client_for(world.commissioner).get(url, {"action__startswith": "test."}))
    assert {e for e in seen if e.action.startswith("test.")} == {mine, about_mine}
    everything = listed(client_for(world.platform_admin).get(url))
    assert {mine, about_mine, theirs} <= everything
    client = client_for(world.commissioner)
    assert client.get(reverse("admin:core_auditevent_change", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("admin:core_auditevent_change", args=[mine.pk])).status_code == 200


def test_the_audit_log_cannot_be_added_to_changed_or_deleted(world: Any, client_for: Any) -> None:
    event = audit_record(actor=world.platform_admin, action="test.north", organisation=world.org_x)
    for user in (world.commissioner, world.platform_admin):
        client = client_for(user)
        change = reverse("admin:core_auditevent_change", args=[event.pk])
        page = client.get(change)
        assert page.status_code == 200
        assert b'name="_save"' not in page.content
        assert b"Delete" not in page.content
        assert client.post(change, {"action": "tampered"}).status_code == 403
        assert client.get(reverse("admin:core_auditevent_add")).status_code == 403
        delete = reverse("admin:core_auditevent_delete", args=[event.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.action == "test.north"


def test_opening_the_audit_log_does_not_open_the_rest_of_core(world: Any, client_for: Any) -> None:
    client = client_for(world.commissioner)
    response = client.get(reverse("admin:app_list", args=["core"]))
    assert response.status_code == 200
    names = [m["object_name"] for app in response.context["app_list"] for m in app["models"]]
    assert names == ["AuditEvent"]


# Reporting lists: platform admins only, read-only --------------------------------------------


def test_reporting_lists_are_read_only_for_platform_admins(world: Any, client_for: Any) -> None:
    run = SnapshotRun.objects.create(
        trigger=SnapshotRun.Trigger.SCHEDULED,
        as_of=datetime.datetime(2026, 6, 1, 2, 0, tzinfo=datetime.UTC),
        today=datetime.date(2026, 6, 1),
    )
    job = ReportJob.objects.create(
        public_id="00000000-0000-0000-0000-000000000001",
        kind=ReportJob.Kind.FINANCE_MONTHLY,
        format=ReportJob.Format.CSV,
        organisation=world.org_x,
        requested_by=world.finance_officer,
    )
    client = client_for(world.platform_admin)
    assert listed(client.get(reverse(PAGES["snapshots"]))) == {run}
    assert listed(client.get(reverse(PAGES["report_jobs"]))) == {job}
    for url in (
        reverse("admin:core_snapshotrun_change", args=[run.pk]),
        reverse("admin:core_reportjob_change", args=[job.pk]),
    ):
        page = client.get(url)
        assert page.status_code == 200
        assert b'name="_save"' not in page.content
        assert client.post(url, {"state": "done"}).status_code == 403
    for name in ("snapshotrun", "reportjob", "quarterlyreturn", "quarterlyreturndownload"):
        assert client.get(reverse(f"admin:core_{name}_add")).status_code == 403
    job.refresh_from_db()
    assert job.state == ReportJob.State.QUEUED
    assert (
        client_for(world.commissioner)
        .get(reverse("admin:core_reportjob_change", args=[job.pk]))
        .status_code
        == 403
    )


# The index and the theme ------------------------------------------------------------------


def test_the_index_puts_a_commissioners_lists_first_in_plain_words(
    world: Any, client_for: Any
) -> None:
    response = client_for(world.commissioner).get(reverse("admin:index"))
    apps = response.context["app_list"]
    assert [app["name"] for app in apps] == [
        "Budgets and money",
        "Support plans",
        "Marketplace",
        "Audit log and reporting",
    ]
    budgets = [m["name"] for m in apps[0]["models"]]
    assert budgets[:3] == ["Monitoring flags", "Surplus recoveries", "Spending"]
    assert [m["name"] for m in apps[3]["models"]] == ["Audit log"]


def test_the_admin_wears_the_nhs_theme_and_links_back_to_the_service(
    world: Any, client_for: Any
) -> None:
    page = client_for(world.finance_officer).get(reverse("admin:index")).content.decode()
    assert "Personal health budgets administration" in page
    assert 'href="/static/core/admin.css"' in page
    assert '<a href="/">Back to the service</a>' in page
    assert '<a href="/dashboard/">Dashboard</a>' in page
    assert "Django administration" not in page


def test_the_admin_stylesheet_is_served_and_uses_the_nhs_colours(client: Any) -> None:
    response = client.get("/static/core/admin.css")
    assert response.status_code == 200
    css = b"".join(response.streaming_content).decode()
    assert "#005eb8" in css  # NHS blue header
    assert "#ffeb3b" in css  # NHS yellow focus


def test_plans_open_only_to_commissioners(world: Any, client_for: Any) -> None:
    plan = SupportPlan.objects.create(
        holder=world.holder_a, budget=world.budget_a, created_by=world.staff_x
    )
    url = reverse("admin:plans_supportplan_change", args=[plan.pk])
    assert client_for(world.finance_officer).get(url).status_code == 403
    assert client_for(world.commissioner).get(url).status_code == 200
