"""The commissioner's market view (marketplace/market.py and views/market.py) and the
provider pages (views/provider.py).

Every market figure is checked against the same figure computed straight from the known
data set below (plain Python over its description, not the selectors), on the selector
and on the page. Then the pages: who sees which records (404 for someone else's), the
verification queue and verify page, categories, and the provider forms."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from budgets.models import BudgetHolder
from marketplace import listings, market
from marketplace.models import Booking, Category, Provider, ProviderKind, Service
from tests.conftest import World, staff_user
from tests.factories import BudgetHolderFactory, OrganisationFactory
from tests.marketplace.factories import (
    LocationFactory,
    ProviderFactory,
    ServiceAtLocationFactory,
    ServiceFactory,
    category,
)
from users.models import Organisation, Role

TODAY = timezone.localdate()


# The known data set ----------------------------------------------------------------------


@dataclass
class P:
    key: str
    kind: str
    areas: tuple[str, ...] = ("x",)
    user_led: bool = False
    not_for_profit: bool = False
    listed: bool = True


@dataclass
class S:
    key: str
    provider: str
    category: str  # a national code, or "ours" (org X's, under day-activities)
    districts: list[str] = field(default_factory=list)
    status: str = "active"
    online: bool = False
    location: str = ""  # a full postcode
    booked: bool = False


PROVIDERS = [
    P("p1", ProviderKind.MICRO_ENTERPRISE, user_led=True, not_for_profit=True),
    P("p2", ProviderKind.PERSONAL_ASSISTANT),
    P("p3", ProviderKind.REGISTERED_CARE, not_for_profit=True),
    P("p4", ProviderKind.COMMUNITY_GROUP, listed=False),
    P("p5", ProviderKind.MICRO_ENTERPRISE, areas=("y",), user_led=True),
    P("p6", ProviderKind.SOCIAL_ENTERPRISE, areas=("x", "y"), user_led=True),
    P("p7", ProviderKind.MICRO_ENTERPRISE),
]
SERVICES = [
    S("s1", "p1", "personal-assistance", ["LS1", "LS2"], booked=True),
    S("s2", "p1", "community-groups", ["LS2"]),
    S("s3", "p2", "personal-assistance", ["LS6"]),
    S("s4", "p2", "short-breaks", ["LS7"], status="withdrawn"),
    S("s5", "p3", "care-at-home", location="LS9 7TF", booked=True),
    S("s6", "p3", "mental-wellbeing", online=True),
    S("s7", "p4", "transport", ["LS1"]),
    S("s8", "p5", "transport", ["LS1"]),
    S("s9", "p6", "ours", ["LS1"]),
    S("s10", "p6", "learning", ["LS1"], status="inactive"),
    S("s11", "p7", "personal-assistance", ["LS2"], location="LS2 3AA"),
]
# (organisation, postcode) of people with budgets; the world's holder_a (X, LS1 4AP) and
# holder_b (Y, LS1 4AP) come on top.
HOLDERS = [("x", "LS11 5AA"), ("x", "LS11 6BB"), ("y", "LS25 1AA")]


@dataclass
class Market:
    providers: dict[str, Provider]
    services: dict[str, Service]
    ours: Category


def _build(world: World) -> Market:
    orgs = {"x": world.org_x, "y": world.org_y}
    ours = listings.category_add(
        organisation=world.org_x,
        added_by=world.commissioner,
        name="Gardening clubs",
        description="Growing things",
        parent=category("day-activities"),
    )
    providers = {}
    for p in PROVIDERS:
        providers[p.key] = ProviderFactory(
            name=f"Provider {p.key}",
            kind=p.kind,
            user_led=p.user_led,
            not_for_profit=p.not_for_profit,
            listed=p.listed,
            areas=[orgs[a] for a in p.areas],
        )
    services = {}
    contribution = world.budget_a.contributions.first()
    for s in SERVICES:
        service = ServiceFactory(
            title=f"Service {s.key}",
            provider=providers[s.provider],
            category=ours if s.category == "ours" else category(s.category),
            postcode_districts=s.districts,
            status=s.status,
            online=s.online,
            price=(20_00, "hour"),
        )
        if s.location:
            ServiceAtLocationFactory(
                service=service,
                location=LocationFactory(provider=service.provider, postcode=s.location),
            )
        if s.booked:
            Booking.objects.create(
                service=service,
                holder=world.holder_a,
                budget=world.budget_a,
                contribution=contribution,
                unit_price_pence=20_00,
                amount_pence=20_00,
                starts_on=TODAY,
                requested_by=world.holder_a.user,
            )
        services[s.key] = service
    for org, postcode in HOLDERS:
        BudgetHolderFactory(organisation=orgs[org], postcode=postcode)
    return Market(providers=providers, services=services, ours=ours)


# The figures, straight from the data set ----------------------------------------------------


def _in_market(p: P) -> bool:
    return "x" in p.areas and p.listed


PROVIDER_BY_KEY = {p.key: p for p in PROVIDERS}
MARKET_PROVIDERS = [p for p in PROVIDERS if _in_market(p)]
MARKET_SERVICES = [
    s for s in SERVICES if s.status == "active" and _in_market(PROVIDER_BY_KEY[s.provider])
]


def _covers(s: S, district: str) -> bool:
    return district in s.districts or (bool(s.location) and s.location.split()[0] == district)


def _national(s: S) -> str:
    return "day-activities" if s.category == "ours" else s.category


def _area_districts(world: World) -> set[str]:
    districts = {d for s in MARKET_SERVICES for d in s.districts}
    districts |= {s.location.split()[0] for s in MARKET_SERVICES if s.location}
    holders = [p for org, p in HOLDERS if org == "x"] + [world.holder_a.postcode]
    return districts | {postcode.split()[0] for postcode in holders}


@pytest.fixture
def data(world: World) -> Market:
    return _build(world)


@pytest.mark.django_db
class TestMarketFigures:
    def test_the_data_set_is_what_the_figures_assume(self, world: World, data: Market) -> None:
        # 5 listed providers in X's area (p4 is not listed, p5 is only in Y's).
        assert [p.key for p in MARKET_PROVIDERS] == ["p1", "p2", "p3", "p6", "p7"]
        assert [s.key for s in MARKET_SERVICES] == ["s1", "s2", "s3", "s5", "s6", "s9", "s11"]
        assert world.holder_a.organisation == world.org_x
        assert BudgetHolder.objects.count() == 2 + len(HOLDERS)

    def test_totals_kinds_and_shares(self, world: World, data: Market) -> None:
        overview = market.market_overview(user=world.commissioner)
        assert overview.providers == len(MARKET_PROVIDERS)
        assert overview.services == len(MARKET_SERVICES)
        for row in overview.by_kind:
            assert row.providers == sum(1 for p in MARKET_PROVIDERS if p.kind == row.kind), row
            assert row.services == sum(
                1 for s in MARKET_SERVICES if PROVIDER_BY_KEY[s.provider].kind == row.kind
            ), row
        assert [r.kind for r in overview.by_kind] == list(ProviderKind.values)
        shares = {share.key: (share.count, share.total) for share in overview.shares}
        total = len(MARKET_PROVIDERS)
        assert shares == {
            "user_led": (sum(p.user_led for p in MARKET_PROVIDERS), total),
            "not_for_profit": (sum(p.not_for_profit for p in MARKET_PROVIDERS), total),
            "micro_enterprise": (
                sum(p.kind == ProviderKind.MICRO_ENTERPRISE for p in MARKET_PROVIDERS),
                total,
            ),
        }
        share = next(s for s in overview.shares if s.key == "user_led")
        assert share.percent == round(100 * 2 / 5)

    def test_categories(self, world: World, data: Market) -> None:
        overview = market.market_overview(user=world.commissioner)
        rows = {row.category.code: row for row in overview.by_category}
        national = set(
            Category.objects.filter(organisation__isnull=True).values_list("code", flat=True)
        )
        assert set(rows) == national | {data.ours.code}
        for code, row in rows.items():
            key = "ours" if code == data.ours.code else code
            offering = [s for s in MARKET_SERVICES if s.category == key]
            assert row.services == len(offering), code
            assert row.providers == len({s.provider for s in offering}), code

    def test_services_with_no_bookings(self, world: World, data: Market) -> None:
        overview = market.market_overview(user=world.commissioner)
        assert overview.unbooked == sum(1 for s in MARKET_SERVICES if not s.booked)
        unbooked = market.market_service_list(user=world.commissioner, unbooked=True)
        assert {s.title for s in unbooked} == {
            f"Service {s.key}" for s in MARKET_SERVICES if not s.booked
        }

    def test_districts_and_gaps(self, world: World, data: Market) -> None:
        overview = market.market_overview(user=world.commissioner)
        districts = _area_districts(world)
        assert [row.district for row in overview.by_district] == sorted(districts)
        national = list(
            Category.objects.filter(organisation__isnull=True)
            .order_by("name")
            .values_list("code", flat=True)
        )
        online = {_national(s) for s in MARKET_SERVICES if s.online}
        holders = [p for org, p in HOLDERS if org == "x"] + [world.holder_a.postcode]
        total_gaps = 0
        for row in overview.by_district:
            here = [s for s in MARKET_SERVICES if _covers(s, row.district)]
            assert row.services == len(here), row.district
            assert row.providers == len({s.provider for s in here}), row.district
            assert row.holders == sum(1 for p in holders if p.split()[0] == row.district)
            present = {_national(s) for s in here} | online
            missing = [code for code in national if code not in present]
            assert sorted(c.code for c in row.missing) == sorted(missing), row.district
            total_gaps += len(missing)
        assert overview.gaps == total_gaps
        assert overview.online == sum(1 for s in MARKET_SERVICES if s.online)
        # Spot checks a person would make: LS11 has people but no services; everything
        # but mental wellbeing (online) is missing there.
        ls11 = next(r for r in overview.by_district if r.district == "LS11")
        assert (ls11.services, ls11.holders) == (0, 2)
        assert len(ls11.missing) == len(national) - 1
        ls1 = next(r for r in overview.by_district if r.district == "LS1")
        assert "day-activities" not in {c.code for c in ls1.missing}  # s9, org X's own category

    def test_the_list_behind_each_district_kind_and_category(
        self, world: World, data: Market
    ) -> None:
        for district in _area_districts(world):
            listed = market.market_service_list(user=world.commissioner, district=district)
            expected = {f"Service {s.key}" for s in MARKET_SERVICES if _covers(s, district)}
            assert {s.title for s in listed} == expected, district
        for kind in ProviderKind.values:
            listed = market.market_service_list(user=world.commissioner, kind=kind)
            assert {s.title for s in listed} == {
                f"Service {s.key}"
                for s in MARKET_SERVICES
                if PROVIDER_BY_KEY[s.provider].kind == kind
            }
            providers = market.market_provider_list(user=world.commissioner, kind=kind)
            assert {p.name for p in providers} == {
                f"Provider {p.key}" for p in MARKET_PROVIDERS if p.kind == kind
            }
        user_led = market.market_provider_list(user=world.commissioner, share="user_led")
        assert {p.name for p in user_led} == {
            f"Provider {p.key}" for p in MARKET_PROVIDERS if p.user_led
        }

    def test_a_commissioner_elsewhere_sees_their_own_market(
        self, world: World, data: Market
    ) -> None:
        commissioner_y = staff_user(world.org_y, Role.COMMISSIONER)
        overview = market.market_overview(user=commissioner_y)
        in_y = [p for p in PROVIDERS if "y" in p.areas and p.listed]
        assert overview.providers == len(in_y)
        assert overview.services == sum(
            1 for s in SERVICES if s.status == "active" and PROVIDER_BY_KEY[s.provider] in in_y
        )
        assert data.ours.code not in {r.category.code for r in overview.by_category}

    def test_the_page_shows_the_same_figures_with_links(
        self, world: World, data: Market, client_for: Any
    ) -> None:
        response = client_for(world.commissioner).get(reverse("marketplace:market_overview"))
        assert response.status_code == 200
        html = response.content.decode()
        assert re.search(r'data-figure="providers"><a href="[^"]+">5<', html)
        assert re.search(r'data-figure="services"><a href="[^"]+">7<', html)
        services_url = reverse("marketplace:market_service_list")
        assert f'href="{services_url}?district=LS1"' in html
        assert f'href="{services_url}?unbooked=1"' in html
        row = re.search(r'data-kind="micro_enterprise">(.*?)</tr>', html, re.S)
        assert row is not None
        assert ">2<" in row.group(1)
        assert 'data-district="LS11"' in html
        page = client_for(world.commissioner).get(services_url + "?district=LS2")
        titles = set(re.findall(r"<td[^>]*>.*?(Service s\d+)</td>", page.content.decode()))
        assert titles == {f"Service {s.key}" for s in MARKET_SERVICES if _covers(s, "LS2")}


# Who sees the market pages ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "marketplace:market_overview",
        "marketplace:market_provider_list",
        "marketplace:market_service_list",
        "marketplace:verification_queue",
        "marketplace:category_list",
        "marketplace:category_create",
    ],
)
def test_market_pages_are_for_commissioners(name: str, world: World, client_for: Any) -> None:
    assert client_for(world.commissioner).get(reverse(name)).status_code == 200
    for user in (world.provider_staff, world.staff_x, world.finance_officer, world.holder_a.user):
        assert client_for(user).get(reverse(name)).status_code == 403


@pytest.mark.django_db
class TestVerificationPages:
    def test_the_queue_has_pending_and_soon_expiring_listings_of_the_market_only(
        self, world: World, client_for: Any
    ) -> None:
        pending = ProviderFactory(name="Waiting", verification="pending", areas=[world.org_x])
        soon = ProviderFactory(name="Soon", areas=[world.org_x])
        later = ProviderFactory(name="Later", areas=[world.org_x])
        ProviderFactory(name="Elsewhere", verification="pending", areas=[world.org_y])
        for provider, days in ((soon, 30), (later, 31)):
            Provider.objects.filter(pk=provider.pk).update(
                verification="verified",
                verified_by=world.commissioner,
                verified_at=timezone.now(),
                verification_expires_on=TODAY + datetime.timedelta(days=days),
            )
        queue = market.verification_queue(user=world.commissioner)
        assert queue.pending == [pending]
        assert queue.expiring == [soon]
        html = (
            client_for(world.commissioner)
            .get(reverse("marketplace:verification_queue"))
            .content.decode()
        )
        assert f'data-provider="{pending.pk}"' in html
        assert f'data-expiring="{soon.pk}"' in html
        assert "Later" not in html
        assert "Elsewhere" not in html

    def test_the_verify_page_shows_what_changed_since_the_last_verification(
        self, world: World, client_for: Any
    ) -> None:
        provider = listings.provider_save(
            saved_by=world.provider_staff,
            organisation=world.provider_org,
            areas=[world.org_x],
            name="Bright Days",
            kind=ProviderKind.MICRO_ENTERPRISE,
        )
        url = reverse("marketplace:provider_verify", args=[provider.pk])
        client = client_for(world.commissioner)
        assert "this is a new listing" in client.get(url).content.decode()
        response = client.post(
            url,
            {
                "decision": "verified",
                "expires_on_0": "1",
                "expires_on_1": "1",
                "expires_on_2": str(TODAY.year + 1),
            },
        )
        assert response.status_code == 302
        provider.refresh_from_db()
        assert provider.verification == "verified"
        assert provider.verification_expires_on == datetime.date(TODAY.year + 1, 1, 1)
        listings.provider_save(
            saved_by=world.provider_staff, provider=provider, insurer="Mutual", description="New"
        )
        changes = market.verification_changes(provider=provider)
        assert changes.facts == {"insurer": ["", "Mutual"]}
        html = client.get(url).content.decode()
        assert re.search(
            r"Insurance provider</td>\s*<td[^>]*>Not given</td>\s*<td[^>]*><strong>Mutual", html
        )

    def test_refusing_without_a_note_shows_the_error(self, world: World, client_for: Any) -> None:
        provider = ProviderFactory(verification="pending", areas=[world.org_x])
        url = reverse("marketplace:provider_verify", args=[provider.pk])
        response = client_for(world.commissioner).post(url, {"decision": "refused"})
        assert response.status_code == 200
        html = response.content.decode()
        assert "<title>Error: " in html
        assert 'href="#id_note"' in html
        provider.refresh_from_db()
        assert provider.verification == "pending"

    def test_a_listing_outside_the_market_is_404(self, world: World, client_for: Any) -> None:
        provider = ProviderFactory(verification="pending", areas=[world.org_y])
        url = reverse("marketplace:provider_verify", args=[provider.pk])
        assert client_for(world.commissioner).get(url).status_code == 404
        assert (
            client_for(world.commissioner)
            .post(url, {"decision": "refused", "note": "x"})
            .status_code
            == 404
        )


@pytest.mark.django_db
def test_a_commissioner_adds_a_category_from_the_page(world: World, client_for: Any) -> None:
    client = client_for(world.commissioner)
    parent = category("sport-fitness")
    response = client.post(
        reverse("marketplace:category_create"),
        {
            "organisation": world.org_x.pk,
            "name": "Boccia",
            "description": "A bowls game",
            "parent": parent.pk,
        },
    )
    assert response.status_code == 302
    added = Category.objects.get(organisation=world.org_x)
    assert (added.code, added.parent) == ("boccia", parent)
    assert "Boccia" in client.get(reverse("marketplace:category_list")).content.decode()
    response = client.post(
        reverse("marketplace:category_create"),
        {"organisation": world.org_y.pk, "name": "Other", "description": "x"},
    )
    assert response.status_code == 200  # not one of their organisations: not a choice
    assert not Category.objects.filter(name="Other").exists()


# Provider pages -----------------------------------------------------------------------------


def _listing(world: World, **kwargs: Any) -> Provider:
    return listings.provider_save(
        saved_by=world.provider_staff,
        organisation=world.provider_org,
        areas=[world.org_x],
        name=kwargs.pop("name", "Bright Days"),
        kind=kwargs.pop("kind", ProviderKind.MICRO_ENTERPRISE),
        **kwargs,
    )


@pytest.mark.django_db
class TestProviderPages:
    def test_staff_see_only_their_own_listings(self, world: World, client_for: Any) -> None:
        ours = _listing(world)
        ServiceFactory(provider=ours, title="Our walking group", price=(5_00, "session"))
        theirs = ProviderFactory(name="Someone Else", areas=[world.org_x])
        html = (
            client_for(world.provider_staff)
            .get(reverse("marketplace:provider_home"))
            .content.decode()
        )
        assert "Bright Days" in html
        assert "Our walking group" in html
        assert "Someone Else" not in html
        assert reverse("marketplace:booking_list") in html
        assert theirs.pk  # exists, just not shown

    def test_another_provider_s_records_are_404(self, world: World, client_for: Any) -> None:
        theirs = ProviderFactory(areas=[world.org_x])
        service = ServiceFactory(provider=theirs, price=(5_00, "hour"))
        location = LocationFactory(provider=theirs)
        client = client_for(world.provider_staff)
        for name, pk in (
            ("marketplace:provider_edit", theirs.pk),
            ("marketplace:service_create", theirs.pk),
            ("marketplace:location_create", theirs.pk),
            ("marketplace:service_edit", service.pk),
            ("marketplace:service_withdraw", service.pk),
            ("marketplace:location_edit", location.pk),
        ):
            url = reverse(name, args=[pk])
            assert client.get(url).status_code == 404, name
            assert client.post(url, {"name": "Mine", "title": "Mine"}).status_code == 404, name
        service.refresh_from_db()
        assert service.status == Service.Status.ACTIVE

    def test_the_edit_page_ticks_the_areas_already_chosen(
        self, world: World, client_for: Any
    ) -> None:
        provider = _listing(world)
        html = (
            client_for(world.provider_staff)
            .get(reverse("marketplace:provider_edit", args=[provider.pk]))
            .content.decode()
        )
        ticked = re.findall(r'<input[^>]*name="areas"[^>]*>', html)
        assert [
            ("checked" in box, f'value="{world.org_x.pk}"' in box)
            for box in ticked
            if "checked" in box
        ] == [(True, True)]

    def test_listing_needs_a_provider_organisation(self, world: World, client_for: Any) -> None:
        url = reverse("marketplace:provider_create")
        assert client_for(world.provider_staff).get(url).status_code == 200
        assert client_for(world.org_admin_x).get(url).status_code == 403  # an ICB's admin

    def test_listing_a_provider_from_the_page(self, world: World, client_for: Any) -> None:
        response = client_for(world.provider_staff).post(
            reverse("marketplace:provider_create"),
            {
                "organisation": world.provider_org.pk,
                "name": "Jo Bloggs PA",
                "kind": "personal_assistant",
                "postcode": "ls6 1aa",
                "dbs_checked_on_0": "3",
                "dbs_checked_on_1": "2",
                "dbs_checked_on_2": "2025",
                "areas": [world.org_x.pk],
                "listed": "on",
            },
        )
        assert response.status_code == 302
        provider = Provider.objects.get(name="Jo Bloggs PA")
        assert response["Location"] == reverse("marketplace:provider_edit", args=[provider.pk])
        assert provider.dbs_checked_on == datetime.date(2025, 2, 3)
        assert provider.verification == "pending"

    def test_the_page_names_each_missing_fact(self, world: World, client_for: Any) -> None:
        response = client_for(world.provider_staff).post(
            reverse("marketplace:provider_create"),
            {"organisation": world.provider_org.pk, "name": "Care Co", "kind": "registered_care"},
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert 'href="#id_cqc_number"' in html
        assert 'href="#id_areas"' in html
        assert not Provider.objects.exists()

    def _post_listing(self, client: Client, provider: Provider, **changes: Any) -> Any:
        data: dict[str, Any] = {
            "name": provider.name,
            "kind": provider.kind,
            "postcode": provider.postcode,
            "areas": [a.pk for a in provider.areas.all()],
            "listed": "on",
        }
        data.update(changes)
        return client.post(
            reverse("marketplace:provider_edit", args=[provider.pk]), data, follow=True
        )

    def test_the_page_says_plainly_when_a_change_sent_it_back(
        self, world: World, client_for: Any
    ) -> None:
        provider = _listing(world)
        listings.provider_verify(
            provider=provider,
            verified_by=world.commissioner,
            decision="verified",
            expires_on=TODAY + datetime.timedelta(days=90),
        )
        client = client_for(world.provider_staff)
        html = self._post_listing(
            client, provider, description="Now with gardening"
        ).content.decode()
        assert "gone back for verification" not in html
        provider.refresh_from_db()
        assert provider.verification == "verified"
        html = self._post_listing(client, provider, user_led="on").content.decode()
        assert "the listing has gone back for verification" in html
        provider.refresh_from_db()
        assert provider.verification == "pending"

    def _service_data(self, world: World, **changes: Any) -> dict[str, Any]:
        data: dict[str, Any] = {
            "title": "Help at home",
            "description": "Everyday help",
            "category": category("personal-assistance").pk,
            "status": "active",
            "postcode_districts": "LS1, ls2",
            "languages": "en, ur",
            "price-TOTAL_FORMS": "3",
            "price-INITIAL_FORMS": "0",
            "price-0-amount": "18.50",
            "price-0-per": "hour",
            "price-1-amount": "120",
            "price-1-per": "week",
            "price-1-description": "Full week",
            "time-TOTAL_FORMS": "3",
            "time-INITIAL_FORMS": "0",
            "time-0-weekday": "0",
            "time-0-opens_at": "09:30",
            "time-0-closes_at": "17:00",
            "time-1-weekday": "5",
        }
        data.update(changes)
        return data

    def test_adding_a_paid_service_with_prices_and_times(
        self, world: World, client_for: Any
    ) -> None:
        provider = _listing(world)
        client = client_for(world.provider_staff)
        url = reverse("marketplace:service_create", args=[provider.pk])
        assert client.get(url).status_code == 200
        response = client.post(url, self._service_data(world))
        assert response.status_code == 302
        service = provider.services.get()
        assert service.postcode_districts == ["LS1", "LS2"]
        assert [(o.amount_pence, o.per) for o in service.cost_options.all()] == [
            (18_50, "hour"),
            (120_00, "week"),
        ]
        assert [(s.weekday, s.opens_at, s.closes_at) for s in service.schedules.all()] == [
            (0, datetime.time(9, 30), datetime.time(17)),
            (5, None, None),
        ]
        # The edit page shows them again, with an empty row to add one.
        html = client.get(reverse("marketplace:service_edit", args=[service.pk])).content.decode()
        assert 'value="18.50"' in html
        assert 'name="price-2-amount"' in html
        assert 'value="09:30"' in html

    def test_add_another_row_saves_nothing(self, world: World, client_for: Any) -> None:
        provider = _listing(world)
        client = client_for(world.provider_staff)
        url = reverse("marketplace:service_create", args=[provider.pk])
        response = client.post(url, {**self._service_data(world, title=""), "add": "price"})
        html = response.content.decode()
        assert response.status_code == 200
        assert 'name="price-3-amount"' in html
        assert 'value="18.50"' in html
        assert "There is a problem" not in html
        assert not Service.objects.exists()

    def test_row_errors_link_to_their_fields(self, world: World, client_for: Any) -> None:
        provider = _listing(world)
        client = client_for(world.provider_staff)
        url = reverse("marketplace:service_create", args=[provider.pk])
        data = self._service_data(world, **{"price-0-per": "", "time-0-closes_at": "08:00"})
        html = client.post(url, data).content.decode()
        assert 'href="#id_price-0-per"' in html
        assert 'href="#id_time-0-closes_at"' in html
        assert "Price 1: choose whether it is per hour" in html
        data = self._service_data(
            world,
            **{
                "price-0-amount": "",
                "price-0-per": "",
                "price-1-amount": "",
                "price-1-per": "",
                "price-1-description": "",
            },
        )
        html = client.post(url, data).content.decode()
        assert 'href="#id_price-0-amount"' in html
        assert "Give at least one price" in html
        assert not Service.objects.exists()

    def test_withdrawing_a_service(self, world: World, client_for: Any) -> None:
        provider = _listing(world)
        service = ServiceFactory(provider=provider, price=(5_00, "hour"))
        client = client_for(world.provider_staff)
        url = reverse("marketplace:service_withdraw", args=[service.pk])
        assert client.get(url).status_code == 200
        assert client.post(url).status_code == 302
        service.refresh_from_db()
        assert service.status == Service.Status.WITHDRAWN

    def test_adding_a_location(self, world: World, client_for: Any) -> None:
        provider = _listing(world)
        client = client_for(world.provider_staff)
        response = client.post(
            reverse("marketplace:location_create", args=[provider.pk]),
            {
                "name": "St Mark's hall",
                "address_1": "1 Park Row",
                "city": "Leeds",
                "postcode": "ls1 5ab",
            },
        )
        assert response.status_code == 302
        assert provider.locations.get().postcode == "LS1 5AB"

    def test_a_colleague_at_another_provider_organisation_is_a_stranger(
        self, world: World, client_for: Any
    ) -> None:
        provider = _listing(world)
        other = staff_user(
            OrganisationFactory(kind=Organisation.Kind.PROVIDER), Role.PROVIDER_STAFF
        )
        colleague = staff_user(world.provider_org, Role.PROVIDER_STAFF)
        url = reverse("marketplace:provider_edit", args=[provider.pk])
        assert client_for(colleague).get(url).status_code == 200
        assert client_for(other).get(url).status_code == 404
