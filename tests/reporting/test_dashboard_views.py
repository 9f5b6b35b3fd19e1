"""The dashboard page: who may see it, which organisation's figures, the filters, the
message before the first snapshot, refreshing, and a fixed number of queries."""

from __future__ import annotations

import datetime
import html
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from budgets.ledger import format_pence
from core.reporting.dashboard import (
    OPTION_LABELS,
    ROUTE_LABELS,
    DashboardFilters,
    dashboard_figures,
)
from core.reporting.models import FigureSnapshot, MoneySnapshot, PeopleSnapshot, SnapshotRun
from core.reporting.periods import Period
from tests.factories import MembershipFactory, with_mfa
from tests.reporting.test_dashboard_figures import TODAY as DATA_TODAY
from tests.reporting.test_dashboard_figures import Expected
from tests.reporting.test_dashboard_figures import ds as ds
from users.models import Role

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 8, 15)
# people, money, spending, the smaller figures, category links, allocated, targets
SELECTOR_QUERIES = 7


def finished_run(today: datetime.date = TODAY) -> SnapshotRun:
    now = timezone.now()
    return SnapshotRun.objects.create(
        status=SnapshotRun.Status.DONE,
        trigger=SnapshotRun.Trigger.SCHEDULED,
        as_of=now,
        today=today,
        finished_at=now,
    )


def people_row(org: Any, **values: Any) -> PeopleSnapshot:
    fields = {
        "period": "2026",
        "route": "chc",
        "option": "notional",
        "area": "LS",
        "child": False,
        "stream": "",
    }
    fields.update(values)
    return PeopleSnapshot.objects.create(organisation=org, **fields)


def test_a_commissioner_sees_their_organisations_dashboard(world, client_for) -> None:
    finished_run()
    people_row(world.org_x, in_period=7, at_end=6, active_now=6, new=2)
    people_row(world.org_y, in_period=50, at_end=50)
    response = client_for(world.commissioner).get("/dashboard/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Dashboard: North ICB" in page
    assert ">7<" in page
    assert ">50<" not in page


def test_before_the_first_snapshot_the_page_says_there_are_no_figures(world, client_for) -> None:
    response = client_for(world.finance_officer).get("/dashboard/")
    assert response.status_code == 200
    assert "No figures yet" in response.content.decode()


def test_another_organisation_is_not_found(world, client_for) -> None:
    finished_run()
    response = client_for(world.commissioner).get(f"/dashboard/?organisation={world.org_y.pk}")
    assert response.status_code == 404


@pytest.mark.parametrize("who", ["staff_x", "holder_a"])
def test_care_coordinators_and_holders_are_refused(world, client_for, who) -> None:
    user = world.users()[who]
    assert client_for(user).get("/dashboard/").status_code == 403


def test_the_target_form_page_opens_for_a_commissioner(world, client_for) -> None:
    response = client_for(world.commissioner).get(
        f"/dashboard/target/?organisation={world.org_x.pk}"
    )
    assert response.status_code == 200
    assert "Target for personal budgets" in response.content.decode()


# On the known data set ---------------------------------------------------------------


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(with_mfa(user), backend="django.contrib.auth.backends.ModelBackend")
    return client


def _page(client: Client, **query: Any) -> str:
    response = client.get("/dashboard/", query)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_the_page_shows_the_records_figures_and_links_to_them(ds) -> None:
    data, _run = ds
    f = DashboardFilters(period=Period.parse("2026"))
    expected = Expected(DATA_TODAY)
    people = expected.people(data.icb_a.pk, f)["total"]
    page = _page(signed_in(data.users["commissioner_a"]), period="2026")
    assert "Dashboard: North ICB" in page
    assert "Figures as of" in page
    holders = reverse("budgets:holder_list")
    assert f'<a href="{holders}?organisation={data.icb_a.pk}">{people["in_period"]}<' in page
    flags = expected.flags(data.icb_a.pk, f)
    flag_list = reverse("budgets:flag_list")
    for key, count in flags.items():
        kind, state = key.split(":")
        assert f'<a href="{flag_list}?kind={kind}&state={state}">{count}<' in page
    money = expected.money(data.icb_a.pk, f)
    spent = sum(m["spent_pence"] for m in money.values())
    assert format_pence(spent) in page


def test_a_finance_officer_sees_no_links_to_pages_they_cannot_open(ds) -> None:
    data, _run = ds
    page = _page(signed_in(data.users["finance_a"]))
    assert reverse("marketplace:verification_queue") not in page
    assert reverse("plans:queue") not in page
    assert reverse("reporting:target_edit") not in page
    assert reverse("budgets:recovery_list") in page


def test_the_combined_view_says_what_it_adds_up(ds) -> None:
    data, _run = ds
    user = data.users["commissioner_b"]
    MembershipFactory(user=user, organisation=data.council, role=Role.COMMISSIONER)
    client = signed_in(user)
    page = _page(client, organisation="all")
    assert "Dashboard: All your organisations" in page
    assert "counted once in each" in page
    f = DashboardFilters(period=Period.parse("2026"))
    expected = Expected(DATA_TODAY)
    both = sum(expected.people(o.pk, f)["total"]["in_period"] for o in (data.icb_b, data.council))
    assert f">{both}<" in page
    # Without a choice, a user in several organisations sees the first by name.
    assert "Dashboard: Leeds City Council" in _page(client)


def test_a_filtered_page_says_what_is_shown(ds) -> None:
    data, _run = ds
    page = _page(signed_in(data.users["commissioner_a"]), period="2026Q2", route="chc", area="LS")
    assert "Showing Q2 2026/27 (July to September 2026); eligibility route: NHS continuing" in page
    assert "postcode area: LS" in page


def test_a_bad_filter_shows_an_error_and_no_figures(ds) -> None:
    data, _run = ds
    page = _page(signed_in(data.users["commissioner_a"]), route="nonsense")
    assert "Choose an eligibility route from the list" in page
    assert 'id="people"' not in page


def test_the_page_and_the_selector_use_a_fixed_number_of_queries(ds) -> None:
    """A handful of aggregate queries over the snapshot tables, however many rows."""
    data, run = ds
    client = signed_in(data.users["commissioner_a"])
    org = data.icb_a
    f = DashboardFilters(period=Period.parse("2026"))

    def selector_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            dashboard_figures(
                organisation_ids=[org.pk], organisation_names={org.pk: org.name}, filters=f, run=run
            )
        return len(captured)

    def page_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            _page(client)
        return len(captured)

    small = (selector_queries(), page_queries())
    assert small[0] == SELECTOR_QUERIES
    # A much larger organisation: thousands more snapshot rows in every table.
    areas = [f"{a}{b}" for a in "ABCDEFGH" for b in "ABCDEFGHIJKLMNOPQRSTUVWXY"]
    routes = ["chc", "mental_health", "other", "wheelchair"]
    PeopleSnapshot.objects.bulk_create(
        PeopleSnapshot(
            organisation=org,
            period="2026",
            route=r,
            option="notional",
            area=a,
            child=False,
            stream="",
            in_period=3,
            at_end=2,
        )
        for a in areas
        for r in routes
    )
    MoneySnapshot.objects.bulk_create(
        MoneySnapshot(
            organisation=org,
            funder=org,
            period="2026",
            route=r,
            option="notional",
            area=a,
            child=False,
            stream="nhs_chc",
            integrated=False,
            paid_in_pence=100,
            spent_pence=50,
        )
        for a in areas
        for r in routes
    )
    FigureSnapshot.objects.bulk_create(
        FigureSnapshot(
            organisation=org,
            section="plans",
            measure="waiting",
            route=r,
            area=a,
            key="draft",
            count=1,
            value=4,
        )
        for a in areas
        for r in routes
    )
    larger = (selector_queries(), page_queries())
    assert larger == small


def test_the_holder_list_narrows_to_one_organisation_and_route(ds) -> None:
    """The dashboard's people figures link to the holder list filtered this way."""
    data, _run = ds
    client = signed_in(data.users["commissioner_c"])
    url = reverse("budgets:holder_list")
    page = client.get(url, {"organisation": data.council.pk, "route": "s117_aftercare"})
    names = {h.name for h in data.holders.values()}
    shown = {name for name in names if name in page.content.decode()}
    assert shown == {data.holders["cara"].name}
    everyone = client.get(url, {"organisation": data.council.pk}).content.decode()
    council_people = {h.name for h in data.holders.values() if h.council_id == data.council.pk}
    assert {name for name in names if name in everyone} == council_people
    # Naming another organisation finds only the user's own people there (the
    # council's people whose ICB it is), never anyone else.
    other = client.get(url, {"organisation": data.icb_b.pk}).content.decode()
    assert {name for name in names if name in other} == {
        h.name
        for h in data.holders.values()
        if h.organisation_id == data.icb_b.pk and h.council_id == data.council.pk
    }


def test_refresh_now_queues_a_refresh_then_refuses_a_second_within_minutes(
    world, client_for
) -> None:
    client = client_for(world.finance_officer)
    response = client.post("/dashboard/refresh/", {"organisation": world.org_x.pk}, follow=True)
    assert "The figures are being worked out again" in response.content.decode()
    response = client.post("/dashboard/refresh/", follow=True)
    assert "less than 5 minutes ago" in response.content.decode()


def test_refresh_now_is_a_post(world, client_for) -> None:
    assert client_for(world.commissioner).get("/dashboard/refresh/").status_code == 405


def test_the_figures_are_those_of_the_latest_finished_run(world, client_for) -> None:
    done = finished_run()
    later = timezone.now() + datetime.timedelta(hours=3)
    SnapshotRun.objects.create(
        status=SnapshotRun.Status.RUNNING, trigger="on_demand", as_of=later, today=TODAY
    )
    SnapshotRun.objects.create(
        status=SnapshotRun.Status.FAILED,
        trigger="scheduled",
        as_of=later,
        today=TODAY,
        finished_at=later,
    )
    page = html.unescape(client_for(world.commissioner).get("/dashboard/").content.decode())
    text = page.replace("<strong>", "").replace("</strong>", "")
    local = timezone.localtime(done.as_of)
    assert f"Figures as of {local:%-d %B %Y} at {local:%H:%M}" in text
    ahead = timezone.localtime(later)
    assert f"at {ahead:%H:%M}" not in text


def _admin_holders(client: Client, url: str) -> set[int]:
    """The holders of the budgets (or plans) an admin list shows at that link."""
    path, _, query = url.partition("?")
    response = client.get(f"{path}?{query}")
    assert response.status_code == 200, url
    return set(response.context["cl"].queryset.values_list("holder_id", flat=True))


def _links(page: str) -> dict[str, str]:
    """Each link's hidden words (what it opens) to its address."""
    import re

    return {
        words.strip(): href
        for href, words in re.findall(
            r'<a href="([^"]+)">[^<]*<span class="nhsuk-u-visually-hidden">([^<]+)</span></a>',
            page,
        )
    }


@pytest.mark.parametrize(
    ("who", "org", "period", "chosen"),
    [
        ("commissioner_a", "icb_a", "2026", {}),
        ("commissioner_a", "icb_a", "2025", {}),
        ("commissioner_a", "icb_a", "2026Q1", {}),
        ("commissioner_a", "icb_a", "2026", {"area": "LS"}),
        ("commissioner_a", "icb_a", "2026", {"option": "notional"}),
        ("commissioner_c", "council", "2026", {}),
        ("commissioner_c", "council", "2026", {"route": "s117_aftercare"}),
    ],
)
def test_each_people_figure_links_to_the_budgets_of_the_people_it_counts(
    ds, who: str, org: str, period: str, chosen: dict[str, str]
) -> None:
    """Every people figure's link opens the admin's budget list narrowed to the budgets
    of exactly the people the figure counts, with the filters chosen."""
    data, _run = ds
    organisation = getattr(data, org)
    client = signed_in(data.users[who])
    page = _page(client, organisation=organisation.pk, period=period, **chosen)
    links = _links(page)
    filters = DashboardFilters(Period.parse(period), **chosen)
    expected = Expected(DATA_TODAY).people(organisation.pk, filters)
    measures = {
        "at the end": "at_end",
        "active today": "active_now",
        "new": "new",
        "ended": "ended",
        "integrated": "integrated",
    }
    checked = 0
    for words, measure in measures.items():
        url = links.get(f"{words}: open their budgets")
        if not expected["total"][measure]:
            assert url is None  # no link to an empty list
            continue
        assert url is not None
        assert len(_admin_holders(client, url)) == expected["total"][measure], (words, url)
        checked += 1
    for route, counts in expected["route"].items():
        label = ROUTE_LABELS[route]
        for words, measure in measures.items():
            if words == "integrated" or not counts[measure]:
                continue
            url = links[f"{words}: {label}"]
            assert len(_admin_holders(client, url)) == counts[measure], (route, words, url)
            checked += 1
    for option, counts in expected["option"].items():
        label = OPTION_LABELS[option]
        for words, measure in measures.items():
            if words == "integrated" or not counts[measure]:
                continue
            url = links[f"{words}: {label}"]
            assert len(_admin_holders(client, url)) == counts[measure], (option, words, url)
            checked += 1
    for group, counts in expected["age"].items():
        for words, measure in measures.items():
            if words == "integrated" or not counts[measure]:
                continue
            url = links[f"{words}: {group.capitalize()}"]
            assert len(_admin_holders(client, url)) == counts[measure], (group, words, url)
            checked += 1
    assert checked > 5


def test_referral_to_plan_links_to_each_holders_first_approved_plan(ds) -> None:
    from plans.models import SupportPlan

    data, _run = ds
    client = signed_in(data.users["commissioner_a"])
    page = _page(client, organisation=data.icb_a.pk, period="2026")
    url = _links(page)["first plans approved: open the list"]
    path, _, query = url.partition("?")
    plans = client.get(f"{path}?{query}").context["cl"].queryset
    first = {}
    for plan in SupportPlan.objects.filter(approved_at__isnull=False).order_by("approved_at"):
        first.setdefault(plan.holder_id, plan)
    period = Period.parse("2026")
    expected = {
        plan.pk
        for plan in first.values()
        if period.start <= timezone.localdate(plan.approved_at) <= period.ends_by(DATA_TODAY)
        and data.icb_a.pk in (plan.holder.organisation_id, plan.holder.council_id)
    }
    assert set(plans.values_list("pk", flat=True)) == expected
    assert f">{len(expected)}<" in page


def test_a_finance_officer_gets_no_link_to_the_plans_admin(ds) -> None:
    data, _run = ds
    page = _page(signed_in(data.users["finance_a"]), period="2026")
    assert reverse("admin:plans_supportplan_changelist") not in page
    assert reverse("admin:budgets_budget_changelist") in page
