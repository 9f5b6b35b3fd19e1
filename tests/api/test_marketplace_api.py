"""The marketplace API (``marketplace/api/``): who reads which providers, services,
bookings and pools; provider organisations creating and changing their own listings
through the listings services (with an Idempotency-Key on POST); filters, search and
paging; the schema, and schemathesis over the new operations with data behind them."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from core.models import AuditEvent
from marketplace import listings
from marketplace.models import (
    Booking,
    Category,
    CostOption,
    Pool,
    PoolMember,
    Provider,
    ProviderKind,
    Service,
)
from tests.api.partners import PROBLEM_JSON, assert_problem, bearer_client, new_key
from tests.api.test_schemathesis import CHECKS
from tests.conftest import World, staff_user
from tests.factories import (
    BudgetHolderFactory,
    OrganisationFactory,
    PartnerApplicationFactory,
    make_budget,
)
from tests.marketplace.factories import (
    LocationFactory,
    ProviderFactory,
    ScheduleFactory,
    ServiceAtLocationFactory,
    ServiceFactory,
    category,
)
from users.models import Organisation, Role

pytestmark = pytest.mark.django_db

MARKET_SCOPES = "marketplace:read listings:write"
MARKET_PATHS = r"^/api/v1/(categories|providers|services|bookings|pools)/"


@dataclass
class Market:
    """The world's provider organisation with a listed provider (in org X's market) and
    a paid service; another provider organisation with a listed provider, a free service
    and an unlisted provider; partner applications of each provider organisation (acting
    as one of its staff) and of org X."""

    world: World
    provider: Provider
    service: Service
    other_org: Any
    other_provider: Provider
    other_service: Service
    hidden: Provider
    provider_api: Client
    other_api: Client
    icb_api: Client
    token_for: Callable[..., str]

    def api(self, organisation: Any, scopes: str = MARKET_SCOPES, user: Any = None) -> Client:
        app = PartnerApplicationFactory(organisation=organisation, scopes=scopes, user=user)
        client = bearer_client(self.token_for(app))
        client.app = app  # type: ignore[attr-defined]
        return client


@pytest.fixture
def market(world: World, token_for: Callable[..., str]) -> Market:
    provider = ProviderFactory(
        organisation=world.provider_org, name="Bright Days", areas=[world.org_x], user_led=True
    )
    service = ServiceFactory(
        provider=provider, title="Personal assistant mornings", price=(18_00, "hour")
    )
    other_org = OrganisationFactory(name="Green Shoots", kind=Organisation.Kind.PROVIDER)
    other_staff = staff_user(other_org, Role.PROVIDER_STAFF)
    other_provider = ProviderFactory(
        organisation=other_org,
        name="Green Shoots Gardening",
        kind=ProviderKind.COMMUNITY_GROUP,
        areas=[world.org_y],
    )
    other_service = ServiceFactory(
        provider=other_provider,
        title="Gardening group",
        category=category("community-groups"),
        is_free=True,
        postcode_districts=["LS6"],
    )
    hidden = ProviderFactory(organisation=other_org, name="Not yet listed", listed=False)
    made = Market(
        world=world,
        provider=provider,
        service=service,
        other_org=other_org,
        other_provider=other_provider,
        other_service=other_service,
        hidden=hidden,
        provider_api=Client(),
        other_api=Client(),
        icb_api=Client(),
        token_for=token_for,
    )
    made.provider_api = made.api(world.provider_org, user=world.provider_staff)
    made.other_api = made.api(other_org, user=other_staff)
    made.icb_api = made.api(world.org_x, scopes="marketplace:read")
    return made


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


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


def _post(client: Client, url: str, body: Any, key: str | None = None) -> Any:
    return client.post(
        url, body, content_type="application/json", headers={"Idempotency-Key": key or new_key()}
    )


def _patch(client: Client, url: str, body: Any) -> Any:
    return client.patch(url, body, content_type="application/json")


def _new_provider(world: World, **changes: Any) -> dict[str, Any]:
    body = {
        "name": "Sunrise Support",
        "kind": "micro_enterprise",
        "description": "Help at home in the mornings.",
        "email": "hello@sunrise.example",
        "postcode": "ls1 4ap",
        "insurer": "Community Mutual",
        "insurance_expires_on": "2027-03-31",
        "user_led": True,
        "not_for_profit": False,
        "areas": [world.org_x.pk],
    }
    body.update(changes)
    return body


def _new_service(provider: Provider, **changes: Any) -> dict[str, Any]:
    body = {
        "provider": provider.pk,
        "title": "Cooking together",
        "description": "Learn to cook a meal each week, in your own kitchen.",
        "category": "personal-assistance",
        "postcode_districts": ["ls1", "LS12"],
        "languages": ["en", "ur"],
        "cost_options": [
            {"amount_pence": 20_00, "per": "hour", "description": "Weekdays"},
            {"amount_pence": 25_00, "per": "hour", "description": "Weekends"},
        ],
        "schedules": [
            {"weekday": 1, "opens_at": "09:30", "closes_at": "12:00", "note": ""},
            {"weekday": 5, "opens_at": None, "closes_at": None, "note": "By arrangement"},
        ],
    }
    body.update(changes)
    return body


# Categories -----------------------------------------------------------------------------


def test_categories_list_the_taxonomy_page_by_page(market: Market) -> None:
    national = Category.objects.filter(organisation__isnull=True).count()
    commissioner_term = listings.category_add(
        organisation=market.world.org_x,
        added_by=market.world.commissioner,
        name="Allotments",
        description="Growing food on a shared plot.",
        parent=category("community-groups"),
    )

    rows = _all_pages(market.icb_api, "/api/v1/categories/", page_size=5)

    assert len(rows) == national + 1
    assert len({row["id"] for row in rows}) == len(rows)
    added = next(row for row in rows if row["id"] == commissioner_term.pk)
    assert added == {
        "id": commissioner_term.pk,
        "uuid": str(commissioner_term.uuid),
        "code": "allotments",
        "name": "Allotments",
        "description": "Growing food on a shared plot.",
        "taxonomy": commissioner_term.taxonomy.name,
        "parent": "community-groups",
        "organisation": market.world.org_x.pk,
    }
    assert _ids(market.icb_api.get("/api/v1/categories/", {"national": "false"})) == [
        commissioner_term.pk
    ]


# Providers: reading ---------------------------------------------------------------------


def test_any_caller_with_the_scope_reads_listed_providers_with_their_trust_facts(
    market: Market,
) -> None:
    response = market.icb_api.get(f"/api/v1/providers/{market.provider.pk}/")

    assert response.status_code == 200
    body = response.json()
    p = market.provider
    assert body["id"] == p.pk
    assert body["uuid"] == str(p.uuid)
    assert body["organisation"] == market.world.provider_org.pk
    assert body["kind"] == "micro_enterprise"
    assert body["user_led"] is True
    assert body["verification"] == "unverified"
    assert body["verified"] is False
    assert body["areas"] == [market.world.org_x.pk]
    assert "verified_by" not in body
    assert "verification_note" not in body


def test_unlisted_providers_are_seen_only_by_their_own_organisation(
    market: Market, client_for: Callable[..., Any]
) -> None:
    url = f"/api/v1/providers/{market.hidden.pk}/"

    assert_problem(market.icb_api.get(url), 404)
    assert_problem(market.provider_api.get(url), 404)
    assert_problem(client_for(market.world.holder_a.user).get(url), 404)
    assert market.other_api.get(url).status_code == 200
    assert market.hidden.pk not in _ids(market.icb_api.get("/api/v1/providers/"))
    assert market.hidden.pk in _ids(market.other_api.get("/api/v1/providers/"))
    other_staff = market.other_api.app.user  # type: ignore[attr-defined]
    assert client_for(other_staff).get(url).status_code == 200


def test_a_signed_in_holder_reads_the_listed_providers(
    market: Market, client_for: Callable[..., Any]
) -> None:
    response = client_for(market.world.holder_a.user).get("/api/v1/providers/")

    assert set(_ids(response)) == {market.provider.pk, market.other_provider.pk}


def test_providers_filter_by_kind_verified_user_led_and_area(market: Market) -> None:
    listings.provider_verify(
        provider=market.provider,
        verified_by=market.world.commissioner,
        decision="verified",
        expires_on=timezone.localdate() + datetime.timedelta(days=365),
    )
    api = market.icb_api
    url = "/api/v1/providers/"

    assert _ids(api.get(url, {"kind": "community_group"})) == [market.other_provider.pk]
    assert _ids(api.get(url, {"verified": "true"})) == [market.provider.pk]
    assert _ids(api.get(url, {"verified": "false"})) == [market.other_provider.pk]
    assert _ids(api.get(url, {"user_led": "true"})) == [market.provider.pk]
    assert _ids(api.get(url, {"area": market.world.org_y.pk})) == [market.other_provider.pk]
    assert _ids(api.get(url, {"organisation": market.other_org.pk})) == [market.other_provider.pk]
    body = assert_problem(api.get(url, {"kind": "wizard"}), 400)
    assert "kind" in body["errors"]


def test_providers_page_with_a_cursor(market: Market) -> None:
    extra = [ProviderFactory(areas=[market.world.org_x]) for _ in range(5)]

    rows = _all_pages(market.icb_api, "/api/v1/providers/", page_size=2)

    expected = {market.provider.pk, market.other_provider.pk, *(p.pk for p in extra)}
    assert [row["id"] for row in rows] == sorted(expected, reverse=True)


def test_reading_without_the_marketplace_scope_is_forbidden(market: Market) -> None:
    api = market.api(market.world.org_x, scopes="organisation:read")

    for url in (
        "/api/v1/providers/",
        f"/api/v1/providers/{market.provider.pk}/",
        "/api/v1/services/",
        "/api/v1/categories/",
        "/api/v1/bookings/",
        "/api/v1/pools/",
    ):
        assert_problem(api.get(url), 403)


def test_unauthenticated_callers_are_told_to_authenticate(market: Market) -> None:
    response = Client().get("/api/v1/providers/")

    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


# Providers: writing ---------------------------------------------------------------------


def test_a_provider_organisations_application_lists_a_new_provider_of_its_own(
    market: Market,
) -> None:
    world = market.world

    response = _post(market.provider_api, "/api/v1/providers/", _new_provider(world))

    assert response.status_code == 201, response.content
    body = response.json()
    provider = Provider.objects.get(pk=body["id"])
    assert provider.organisation == world.provider_org
    assert provider.name == "Sunrise Support"
    assert provider.postcode == "LS1 4AP"
    assert list(provider.areas.all()) == [world.org_x]
    assert body["verification"] == "pending"
    assert body["uuid"] == str(provider.uuid)
    event = AuditEvent.objects.get(action="provider.created", object_id=str(provider.pk))
    app = market.provider_api.app  # type: ignore[attr-defined]
    assert event.actor == world.provider_staff
    assert event.actor_label == f"Partner application {app.pk}: {app.name}"


def test_provider_staff_signed_in_list_a_provider_of_their_organisation(
    market: Market, client_for: Callable[..., Any]
) -> None:
    response = _post(
        client_for(market.world.provider_staff),
        "/api/v1/providers/",
        _new_provider(market.world, name="Morning Club"),
    )

    assert response.status_code == 201, response.content
    created = Provider.objects.get(pk=response.json()["id"])
    assert created.organisation == market.world.provider_org
    event = AuditEvent.objects.get(action="provider.created", object_id=str(created.pk))
    assert event.actor_label == market.world.provider_staff.email


def test_an_application_cannot_list_for_another_organisation(market: Market) -> None:
    body = _new_provider(market.world, organisation=market.other_org.pk)

    problem = assert_problem(_post(market.provider_api, "/api/v1/providers/", body), 400)

    assert "organisation" in problem["errors"]
    assert not Provider.objects.filter(name="Sunrise Support").exists()


def test_people_who_are_not_provider_staff_cannot_write_listings(
    market: Market, client_for: Callable[..., Any]
) -> None:
    world = market.world
    for user in (world.holder_a.user, world.commissioner, world.staff_x):
        response = _post(client_for(user), "/api/v1/providers/", _new_provider(world))
        assert_problem(response, 403)
        response = _patch(
            client_for(user), f"/api/v1/providers/{market.provider.pk}/", {"name": "Taken"}
        )
        assert_problem(response, 403)
    assert not Provider.objects.filter(name__in=["Sunrise Support", "Taken"]).exists()


def test_writing_without_the_listings_scope_is_forbidden(market: Market) -> None:
    reader = market.api(
        market.world.provider_org, scopes="marketplace:read", user=market.world.provider_staff
    )

    assert_problem(_post(reader, "/api/v1/providers/", _new_provider(market.world)), 403)
    assert_problem(
        _patch(reader, f"/api/v1/providers/{market.provider.pk}/", {"name": "Renamed"}), 403
    )
    assert_problem(_post(reader, "/api/v1/services/", _new_service(market.provider)), 403)
    market.provider.refresh_from_db()
    assert market.provider.name == "Bright Days"


def test_an_application_whose_user_is_not_provider_staff_is_refused(market: Market) -> None:
    stranger_app = market.api(market.world.provider_org)  # its user works nowhere

    response = _post(stranger_app, "/api/v1/providers/", _new_provider(market.world))

    assert_problem(response, 403)
    assert not Provider.objects.filter(name="Sunrise Support").exists()


def test_a_listing_with_bad_facts_is_refused_with_the_fields_named_and_nothing_saved(
    market: Market,
) -> None:
    body = _new_provider(market.world, kind="registered_care", cqc_number="", areas=[])

    problem = assert_problem(_post(market.provider_api, "/api/v1/providers/", body), 400)

    assert set(problem["errors"]) >= {"cqc_number", "areas"}
    assert not Provider.objects.filter(name="Sunrise Support").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("user_led", "yes"), ("kind", "wizard"), ("areas", ["1"]), ("name", "")],
)
def test_badly_typed_input_is_refused(market: Market, field: str, value: Any) -> None:
    body = _new_provider(market.world, **{field: value})

    problem = assert_problem(_post(market.provider_api, "/api/v1/providers/", body), 400)

    assert field in problem["errors"]


def test_a_post_is_idempotent_per_key(market: Market) -> None:
    body = _new_provider(market.world)
    key = new_key()

    first = _post(market.provider_api, "/api/v1/providers/", body, key)
    again = _post(market.provider_api, "/api/v1/providers/", body, key)
    other = _post(market.provider_api, "/api/v1/providers/", {**body, "name": "Else"}, key)

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Provider.objects.filter(name="Sunrise Support").count() == 1
    assert_problem(other, 422)
    assert not Provider.objects.filter(name="Else").exists()


def test_a_post_without_an_idempotency_key_is_refused(market: Market) -> None:
    response = market.provider_api.post(
        "/api/v1/providers/", _new_provider(market.world), content_type="application/json"
    )

    problem = assert_problem(response, 400)
    assert "Idempotency-Key" in problem["errors"]
    assert not Provider.objects.filter(name="Sunrise Support").exists()


def test_an_application_updates_its_own_provider(market: Market) -> None:
    url = f"/api/v1/providers/{market.provider.pk}/"

    response = _patch(market.provider_api, url, {"description": "Now on Saturdays too."})

    assert response.status_code == 200, response.content
    assert response.json()["description"] == "Now on Saturdays too."
    market.provider.refresh_from_db()
    assert market.provider.description == "Now on Saturdays too."
    assert market.provider.name == "Bright Days"
    event = AuditEvent.objects.get(action="provider.updated", object_id=str(market.provider.pk))
    assert event.actor_label.startswith("Partner application ")


def test_an_application_cannot_touch_another_organisations_provider(market: Market) -> None:
    url = f"/api/v1/providers/{market.other_provider.pk}/"

    assert_problem(_patch(market.provider_api, url, {"name": "Taken over"}), 404)
    assert_problem(_patch(market.provider_api, f"/api/v1/providers/{market.hidden.pk}/", {}), 404)
    market.other_provider.refresh_from_db()
    assert market.other_provider.name == "Green Shoots Gardening"


def test_changing_a_regulated_fact_of_a_verified_listing_sends_it_back_for_verification(
    market: Market,
) -> None:
    listings.provider_verify(
        provider=market.provider,
        verified_by=market.world.commissioner,
        decision="verified",
        expires_on=timezone.localdate() + datetime.timedelta(days=365),
    )
    url = f"/api/v1/providers/{market.provider.pk}/"

    unregulated = _patch(market.provider_api, url, {"phone": "0113 496 0001"})
    regulated = _patch(market.provider_api, url, {"insurer": "Other Mutual"})

    assert unregulated.json()["verification"] == "verified"
    assert unregulated.json()["verified"] is True
    assert regulated.status_code == 200
    assert regulated.json()["verification"] == "pending"
    assert regulated.json()["verified"] is False
    market.provider.refresh_from_db()
    assert market.provider.verified_by is None


def test_a_listing_does_not_move_to_another_organisation(market: Market) -> None:
    url = f"/api/v1/providers/{market.provider.pk}/"

    problem = assert_problem(
        _patch(market.provider_api, url, {"organisation": market.other_org.pk}), 400
    )

    assert "organisation" in problem["errors"]


# Services ------------------------------------------------------------------------------


def test_a_service_reads_with_prices_schedules_and_locations(market: Market) -> None:
    ScheduleFactory(service=market.service, weekday=2)
    at = ServiceAtLocationFactory(service=market.service)

    response = market.icb_api.get(f"/api/v1/services/{market.service.pk}/")

    assert response.status_code == 200
    body = response.json()
    option = market.service.cost_options.get()
    assert body["uuid"] == str(market.service.uuid)
    assert body["provider"] == market.provider.pk
    assert body["provider_name"] == "Bright Days"
    assert body["category"] == "personal-assistance"
    assert body["cost_options"] == [
        {
            "id": option.pk,
            "uuid": str(option.uuid),
            "amount_pence": 1800,
            "per": "hour",
            "description": "",
        }
    ]
    assert [(s["weekday"], s["opens_at"], s["closes_at"]) for s in body["schedules"]] == [
        (2, "10:00:00", "12:00:00")
    ]
    assert [loc["id"] for loc in body["locations"]] == [at.location.pk]
    assert body["locations"][0]["postcode"] == at.location.postcode


def test_services_of_unlisted_providers_and_inactive_services_are_only_their_owners(
    market: Market,
) -> None:
    hidden_service = ServiceFactory(provider=market.hidden)
    paused = ServiceFactory(provider=market.other_provider, status=Service.Status.INACTIVE)

    seen = set(_ids(market.icb_api.get("/api/v1/services/")))
    own = set(_ids(market.other_api.get("/api/v1/services/")))

    assert seen == {market.service.pk, market.other_service.pk}
    assert own == {market.service.pk, market.other_service.pk, hidden_service.pk, paused.pk}
    assert_problem(market.icb_api.get(f"/api/v1/services/{paused.pk}/"), 404)


def test_services_filter_by_category_provider_free_kind_and_district(market: Market) -> None:
    api, url = market.icb_api, "/api/v1/services/"

    assert _ids(api.get(url, {"category": "community-groups"})) == [market.other_service.pk]
    assert _ids(api.get(url, {"provider": market.provider.pk})) == [market.service.pk]
    assert _ids(api.get(url, {"free": "true"})) == [market.other_service.pk]
    assert _ids(api.get(url, {"kind": "community_group"})) == [market.other_service.pk]
    assert _ids(api.get(url, {"district": "ls 6"})) == [market.other_service.pk]
    assert _ids(api.get(url, {"district": "LS2"})) == [market.service.pk]
    assert "district" in assert_problem(api.get(url, {"district": "nowhere"}), 400)["errors"]


def test_text_search_ranks_the_better_match_first(market: Market) -> None:
    title_match = ServiceFactory(provider=market.provider, title="Swimming lessons")
    description_match = ServiceFactory(
        provider=market.provider,
        title="Leisure centre visits",
        description="We go to the pool; swimming if you like.",
    )

    ids = _ids(market.icb_api.get("/api/v1/services/", {"q": "swimming"}))

    assert ids == [title_match.pk, description_match.pk]
    assert _ids(market.icb_api.get("/api/v1/services/", {"q": "astronomy"})) == []


def test_search_results_page_in_rank_order_without_repeats_or_gaps(market: Market) -> None:
    for n in range(7):
        ServiceFactory(
            provider=market.provider,
            title="Swimming " * (7 - n) + f"group {n}",
            description="Swimming together.",
        )
    ServiceFactory(provider=market.provider, title="Swimming", description="Swimming")

    one_page = _ids(market.icb_api.get("/api/v1/services/", {"q": "swimming", "page_size": 50}))
    paged = [
        row["id"] for row in _all_pages(market.icb_api, "/api/v1/services/", q="swim", page_size=3)
    ]

    assert len(one_page) == 8
    assert paged == one_page


def test_an_application_creates_a_service_with_prices_and_times(market: Market) -> None:
    location = LocationFactory(provider=market.provider)
    body = _new_service(market.provider, locations=[location.pk])

    response = _post(market.provider_api, "/api/v1/services/", body)

    assert response.status_code == 201, response.content
    created = response.json()
    service = Service.objects.get(pk=created["id"])
    assert service.provider == market.provider
    assert service.postcode_districts == ["LS1", "LS12"]
    assert [(o.amount_pence, o.per) for o in service.cost_options.order_by("amount_pence")] == [
        (20_00, "hour"),
        (25_00, "hour"),
    ]
    assert [(s.weekday, str(s.opens_at)) for s in service.schedules.all()] == [
        (1, "09:30:00"),
        (5, "None"),
    ]
    assert [loc["id"] for loc in created["locations"]] == [location.pk]
    assert "Bright Days" in service.keywords
    event = AuditEvent.objects.get(action="service.created", object_id=str(service.pk))
    assert event.actor_label.startswith("Partner application ")


def test_a_service_for_another_organisations_provider_is_not_found(market: Market) -> None:
    body = _new_service(market.other_provider)

    assert_problem(_post(market.provider_api, "/api/v1/services/", body), 404)
    assert not Service.objects.filter(title="Cooking together").exists()


def test_a_service_with_bad_parts_is_refused_with_the_fields_named(market: Market) -> None:
    body = _new_service(
        market.provider,
        category="no-such-category",
        cost_options=[{"amount_pence": 12.5, "per": "hour"}],
        schedules=[{"weekday": 9}],
    )

    problem = assert_problem(_post(market.provider_api, "/api/v1/services/", body), 400)

    assert {"cost_options", "schedules"} <= set(problem["errors"])
    unknown = _new_service(market.provider, category="no-such-category")
    problem = assert_problem(_post(market.provider_api, "/api/v1/services/", unknown), 400)
    assert "category" in problem["errors"]
    mixed = _new_service(market.provider, is_free=True)
    problem = assert_problem(_post(market.provider_api, "/api/v1/services/", mixed), 400)
    assert "cost_options" in problem["errors"]
    assert not Service.objects.filter(title="Cooking together").exists()


def test_an_application_updates_its_own_service_and_replaces_its_prices(
    market: Market,
) -> None:
    url = f"/api/v1/services/{market.service.pk}/"

    response = _patch(
        market.provider_api,
        url,
        {
            "title": "Personal assistant, mornings",
            "cost_options": [{"amount_pence": 19_50, "per": "hour"}],
        },
    )

    assert response.status_code == 200, response.content
    assert [o["amount_pence"] for o in response.json()["cost_options"]] == [19_50]
    market.service.refresh_from_db()
    assert market.service.title == "Personal assistant, mornings"
    assert list(
        CostOption.objects.filter(service=market.service).values_list("amount_pence", flat=True)
    ) == [19_50]


def test_an_application_cannot_touch_another_organisations_service(market: Market) -> None:
    url = f"/api/v1/services/{market.other_service.pk}/"

    assert_problem(_patch(market.provider_api, url, {"title": "Ours now"}), 404)
    moved = _patch(
        market.provider_api,
        f"/api/v1/services/{market.service.pk}/",
        {"provider": market.other_provider.pk},
    )
    assert "provider" in assert_problem(moved, 400)["errors"]
    market.other_service.refresh_from_db()
    assert market.other_service.title == "Gardening group"


# Bookings ------------------------------------------------------------------------------


def _booking(service: Service, holder: Any, budget: Any, **changes: Any) -> Booking:
    fields: dict[str, Any] = {
        "service": service,
        "holder": holder,
        "budget": budget,
        "contribution": budget.contributions.get(),
        "quantity": 4,
        "unit_price_pence": 18_00,
        "amount_pence": 72_00,
        "starts_on": datetime.date(2026, 6, 1),
        "requested_by": holder.user,
    }
    fields.update(changes)
    return Booking.objects.create(**fields)


@pytest.fixture
def bookings(market: Market) -> tuple[Booking, Booking]:
    w = market.world
    mine = _booking(market.service, w.holder_a, w.budget_a, state=Booking.State.ACCEPTED)
    theirs = _booking(market.other_service, w.holder_b, w.budget_b)
    return mine, theirs


def test_a_holder_reads_their_own_bookings_only(
    market: Market, bookings: tuple[Booking, Booking], client_for: Callable[..., Any]
) -> None:
    mine, theirs = bookings
    client = client_for(market.world.holder_a.user)

    assert _ids(client.get("/api/v1/bookings/")) == [mine.pk]
    body = client.get(f"/api/v1/bookings/{mine.pk}/").json()
    assert body["uuid"] == str(mine.uuid)
    assert body["state"] == "accepted"
    assert body["amount_pence"] == 72_00
    assert body["committed_pence"] == 72_00
    assert body["provider"] == market.provider.pk
    assert_problem(client.get(f"/api/v1/bookings/{theirs.pk}/"), 404)


def test_an_icb_application_reads_the_bookings_of_its_holders(
    market: Market, bookings: tuple[Booking, Booking]
) -> None:
    mine, theirs = bookings

    assert _ids(market.icb_api.get("/api/v1/bookings/")) == [mine.pk]
    assert_problem(market.icb_api.get(f"/api/v1/bookings/{theirs.pk}/"), 404)


def test_a_provider_application_reads_the_bookings_of_its_services(
    market: Market, bookings: tuple[Booking, Booking], client_for: Callable[..., Any]
) -> None:
    mine, theirs = bookings

    assert _ids(market.provider_api.get("/api/v1/bookings/")) == [mine.pk]
    assert _ids(market.other_api.get("/api/v1/bookings/")) == [theirs.pk]
    assert_problem(market.provider_api.get(f"/api/v1/bookings/{theirs.pk}/"), 404)
    assert _ids(client_for(market.world.provider_staff).get("/api/v1/bookings/")) == [mine.pk]


def test_bookings_filter_by_state_and_service(
    market: Market, bookings: tuple[Booking, Booking], client_for: Callable[..., Any]
) -> None:
    mine, _ = bookings
    w = market.world
    requested = _booking(market.service, w.holder_a, w.budget_a)
    api = market.icb_api

    assert _ids(api.get("/api/v1/bookings/", {"state": "accepted"})) == [mine.pk]
    assert _ids(api.get("/api/v1/bookings/", {"state": "requested"})) == [requested.pk]
    assert _ids(api.get("/api/v1/bookings/", {"service": market.other_service.pk})) == []
    assert_problem(api.get("/api/v1/bookings/", {"state": "paid"}), 400)


# Pools ---------------------------------------------------------------------------------


@dataclass
class Pooled:
    pool: Pool
    a: PoolMember  # holder A, who keeps their name to themselves
    named: PoolMember  # another holder of org X, who agreed to show their first name
    elsewhere: PoolMember  # a holder of org Y, who did not
    other_pool: Pool  # org Y's pool, with holder B only


def _member(pool: Pool, holder: Any, budget: Any, **changes: Any) -> PoolMember:
    return PoolMember.objects.create(
        pool=pool,
        holder=holder,
        budget=budget,
        contribution=budget.contributions.get(),
        joined_by=holder.user,
        **changes,
    )


@pytest.fixture
def pooled(market: Market) -> Pooled:
    w = market.world
    pool = Pool.objects.create(
        purpose="Art classes together",
        service=market.service,
        organisation=w.org_x,
        organiser=w.staff_x,
        cost_pence=300_00,
        deadline=datetime.date(2026, 12, 1),
    )
    named_holder = BudgetHolderFactory(name="Nia Okafor", organisation=w.org_x)
    far_holder = BudgetHolderFactory(name="Ola Brown", organisation=w.org_y)
    other_pool = Pool.objects.create(
        purpose="Walking group",
        service=market.other_service,
        organisation=w.org_y,
        organiser=w.staff_y,
        cost_pence=100_00,
        deadline=datetime.date(2026, 12, 1),
    )
    _member(other_pool, w.holder_b, w.budget_b)
    return Pooled(
        pool=pool,
        a=_member(pool, w.holder_a, w.budget_a),
        named=_member(pool, named_holder, make_budget(named_holder), show_name=True),
        elsewhere=_member(pool, far_holder, make_budget(far_holder)),
        other_pool=other_pool,
    )


def test_a_pool_member_sees_only_the_names_others_agreed_to_show(
    market: Market, pooled: Pooled, client_for: Callable[..., Any]
) -> None:
    response = client_for(market.world.holder_a.user).get(f"/api/v1/pools/{pooled.pool.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["uuid"] == str(pooled.pool.uuid)
    assert body["member_count"] == 3
    me, named, elsewhere = body["members"]
    assert me["yours"] is True
    assert me["name"] == "Alex"
    assert me["budget"] == market.world.budget_a.pk
    assert named == {
        "yours": False,
        "show_name": True,
        "name": "Nia",
        "joined_at": named["joined_at"],
    }
    assert elsewhere == {"yours": False, "show_name": False, "joined_at": elsewhere["joined_at"]}
    assert "Ola" not in response.content.decode()
    assert "Okafor" not in response.content.decode()


def test_a_pool_member_who_leaves_is_no_longer_shown(
    market: Market, pooled: Pooled, client_for: Callable[..., Any]
) -> None:
    PoolMember.objects.filter(pk=pooled.named.pk).update(
        left_at=datetime.datetime.now(datetime.UTC)
    )

    body = client_for(market.world.holder_a.user).get(f"/api/v1/pools/{pooled.pool.pk}/").json()

    assert body["member_count"] == 2
    assert "Nia" not in str(body["members"])


def test_someone_elses_pool_is_not_found(
    market: Market, pooled: Pooled, client_for: Callable[..., Any]
) -> None:
    client = client_for(market.world.holder_a.user)

    assert _ids(client.get("/api/v1/pools/")) == [pooled.pool.pk]
    assert_problem(client.get(f"/api/v1/pools/{pooled.other_pool.pk}/"), 404)
    assert_problem(market.icb_api.get(f"/api/v1/pools/{pooled.other_pool.pk}/"), 404)


def test_an_icb_application_sees_its_holders_in_full_and_others_as_they_agreed(
    market: Market, pooled: Pooled
) -> None:
    (row,) = market.icb_api.get("/api/v1/pools/").json()["results"]

    a, named, elsewhere = row["members"]
    assert (a["yours"], a["name"], a["holder"]) == (True, "Alex", market.world.holder_a.pk)
    assert (named["yours"], named["name"]) == (True, "Nia")
    assert elsewhere["yours"] is False
    assert "name" not in elsewhere
    assert "holder" not in elsewhere
    assert "budget" not in elsewhere
    assert "share_pence" not in elsewhere


def test_a_provider_sees_pools_buying_its_services_without_members_details(
    market: Market, pooled: Pooled
) -> None:
    (row,) = market.provider_api.get("/api/v1/pools/").json()["results"]

    assert row["id"] == pooled.pool.pk
    assert [m.get("name") for m in row["members"]] == [None, "Nia", None]
    assert not any(m["yours"] for m in row["members"])
    assert _ids(market.other_api.get("/api/v1/pools/")) == [pooled.other_pool.pk]


def test_pools_filter_by_state(market: Market, pooled: Pooled) -> None:
    api = market.api(market.world.org_y, scopes="marketplace:read")

    Pool.objects.filter(pk=pooled.other_pool.pk).update(state=Pool.State.CANCELLED)

    # Org Y's own pool, and org X's pool that one of org Y's holders is in.
    assert _ids(api.get("/api/v1/pools/", {"state": "open"})) == [pooled.pool.pk]
    assert _ids(api.get("/api/v1/pools/", {"state": "cancelled"})) == [pooled.other_pool.pk]
    assert _ids(api.get("/api/v1/pools/", {"state": "funded"})) == []
    assert_problem(api.get("/api/v1/pools/", {"state": "sunk"}), 400)


# The schema ----------------------------------------------------------------------------


@pytest.fixture
def schema(client_for: Callable[..., Any]) -> dict[str, Any]:
    response = client_for(None).get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return dict(response.json())


def test_the_schema_documents_the_marketplace_with_its_scopes_and_examples(
    schema: dict[str, Any],
) -> None:
    from drf_spectacular.validation import validate_schema

    validate_schema(schema)

    def scopes(path: str, method: str) -> list[list[str]]:
        security = schema["paths"][path][method]["security"]
        return [r["oauth2"] for r in security if "oauth2" in r]

    reads = [
        "/api/v1/categories/",
        "/api/v1/providers/",
        "/api/v1/providers/{id}/",
        "/api/v1/services/",
        "/api/v1/services/{id}/",
        "/api/v1/bookings/",
        "/api/v1/bookings/{id}/",
        "/api/v1/pools/",
        "/api/v1/pools/{id}/",
    ]
    for path in reads:
        assert scopes(path, "get") == [["marketplace:read"]], path
    for path, method in [
        ("/api/v1/providers/", "post"),
        ("/api/v1/providers/{id}/", "patch"),
        ("/api/v1/services/", "post"),
        ("/api/v1/services/{id}/", "patch"),
    ]:
        assert scopes(path, method) == [["listings:write"]], path
        body = schema["paths"][path][method]["requestBody"]["content"]["application/json"]
        assert body["examples"], path
    for path in ("/api/v1/providers/", "/api/v1/services/"):
        (header,) = [p for p in schema["paths"][path]["post"]["parameters"] if p["in"] == "header"]
        assert header["name"] == "Idempotency-Key"
        assert header["required"] is True
    flows = schema["components"]["securitySchemes"]["oauth2"]["flows"]
    assert {"marketplace:read", "listings:write"} <= set(flows["clientCredentials"]["scopes"])
    assert schema["components"]["schemas"]["BookingState"]["enum"] == list(Booking.State.values)
    member = schema["components"]["schemas"]["PoolMember"]
    assert set(member["required"]) == {"yours", "show_name", "joined_at"}


# Schemathesis over the marketplace operations, with data and scopes behind them ----------


@pytest.fixture
def market_schema(market: Market, pooled: Pooled) -> Any:
    loaded = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())
    w = market.world
    booking = _booking(market.service, w.holder_a, w.budget_a)
    ids = [
        market.provider.pk,
        market.other_provider.pk,
        market.hidden.pk,
        market.service.pk,
        market.other_service.pk,
        booking.pk,
        pooled.pool.pk,
        pooled.other_pool.pk,
    ]

    @loaded.hook
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
        """Often name a real record: the caller's own provider or service (so reads and
        changes succeed), another organisation's (so they are not found)."""
        if not path_parameters or "id" not in path_parameters:
            return st.just(path_parameters)
        return st.sampled_from([path_parameters] + [{**path_parameters, "id": pk} for pk in ids])

    return loaded


@pytest.fixture
def market_token(market: Market) -> str:
    """The world's provider organisation's application, with every scope."""
    app = PartnerApplicationFactory(
        organisation=market.world.provider_org,
        user=market.world.provider_staff,
        scopes=f"{MARKET_SCOPES} organisation:read",
    )
    return market.token_for(app)


market_api = schemathesis.pytest.from_fixture("market_schema").include(path_regex=MARKET_PATHS)


@pytest.mark.schemathesis
@pytest.mark.django_db(transaction=True)
@market_api.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_marketplace_api_keeps_to_its_schema(case: Any, market_token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {market_token}"}, checks=CHECKS)


def test_problem_responses_are_problem_json(market: Market) -> None:
    response = market.icb_api.get("/api/v1/services/999999/")

    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM_JSON
