"""The Open Referral UK 3.0 feed (/oruk/): every answer of every endpoint, over a market
with every kind of provider and service, checked against the standard's own schemas;
what is published and what never is; filters, paging, errors and CORS; and that a list
costs the same few queries whatever its length."""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from marketplace.models import ProviderKind, Service
from marketplace.oruk import views
from marketplace.oruk.filters import MAX_PER_PAGE
from tests.marketplace import oruk_data
from tests.marketplace.factories import ServiceFactory, category
from tests.marketplace.oruk_data import Market, assert_valid, build_market, empty_values

pytestmark = pytest.mark.django_db


@pytest.fixture
def market() -> Market:
    return build_market()


@dataclass
class Answer:
    url: str
    kind: str
    status: int
    body: Any
    headers: Any


def get(client: Client, url: str, kind: str = "") -> Answer:
    response = client.get(url)
    return Answer(url, kind, response.status_code, response.json(), response.headers)


def pages(client: Client, url: str, kind: str, per_page: int = 3) -> Iterator[Answer]:
    """Every page of a list, a few entries at a time."""
    page = 1
    while True:
        sep = "&" if "?" in url else "?"
        answer = get(client, f"{url}{sep}page={page}&per_page={per_page}", kind)
        yield answer
        if answer.body["last_page"]:
            return
        page += 1


def crawl(client: Client, market: Market) -> list[Answer]:
    """Every endpoint: the root, every page of every list (plain and filtered), and
    the detail of everything the lists name."""
    answers = [get(client, "/oruk/", "root")]
    lists = [
        ("/oruk/services", "service_list"),
        ("/oruk/services?search=gardening", "service_list"),
        (f"/oruk/services?taxonomy_term_id={category('sport-fitness').uuid}", "service_list"),
        ("/oruk/service_at_locations", "sal_list"),
        ("/oruk/service_at_locations?postcode=LS2%209JT", "sal_list"),
        ("/oruk/service_at_locations?postcode=LS1%205AB&proximity=2000", "sal_list"),
        ("/oruk/taxonomies", "taxonomy_list"),
        ("/oruk/taxonomy_terms", "term_list"),
    ]
    for url, kind in lists:
        answers += pages(client, url, kind)
    details = {"service_list": "services", "sal_list": "service_at_locations"}
    details |= {"taxonomy_list": "taxonomies", "term_list": "taxonomy_terms"}
    seen: set[str] = set()
    for answer in list(answers):
        if answer.kind not in details:
            continue
        for item in answer.body["contents"]:
            url = f"/oruk/{details[answer.kind]}/{item['id']}"
            if url not in seen:
                seen.add(url)
                answers.append(get(client, url, answer.kind.removesuffix("_list")))
    return answers


def test_the_market_has_every_kind_of_provider(market: Market) -> None:
    assert set(market.providers) == {kind.value for kind in ProviderKind}


def test_every_answer_of_every_endpoint_keeps_to_the_standards_schemas(
    client: Client, market: Market
) -> None:
    answers = crawl(client, market)
    envelope = oruk_data.page_envelope()
    item_schemas = {
        "service_list": oruk_data.compiled("service_list"),
        "sal_list": oruk_data.compiled("service_at_location_list"),
        "taxonomy_list": oruk_data.per_object("taxonomy"),
        "term_list": oruk_data.per_object("taxonomy_term"),
    }
    detail_schemas = {
        "root": oruk_data.root_schema(),
        "service": oruk_data.compiled("service"),
        "sal": oruk_data.compiled("service_at_location"),
        "taxonomy": oruk_data.per_object("taxonomy"),
        "term": oruk_data.per_object("taxonomy_term"),
    }
    organization = oruk_data.compiled("organization")
    organization_list = oruk_data.compiled("organization_list")
    counts: dict[str, int] = {}
    for answer in answers:
        assert answer.status == 200, answer.url
        counts[answer.kind] = counts.get(answer.kind, 0) + 1
        if answer.kind in item_schemas:
            assert_valid(envelope, answer.body, answer.url)
            for index, item in enumerate(answer.body["contents"]):
                assert_valid(item_schemas[answer.kind], item, f"{answer.url} #{index}")
                if "organization" in item:
                    assert_valid(organization_list, item["organization"], answer.url)
                if "service" in item:
                    assert_valid(organization_list, item["service"]["organization"], answer.url)
        else:
            assert_valid(detail_schemas[answer.kind], answer.body, answer.url)
        if answer.kind == "service":
            assert_valid(organization, answer.body["organization"], answer.url)
    # The package forms: every full service, and every full service at a location.
    everything = {kind: [a.body for a in answers if a.kind == kind] for kind in ("service", "sal")}
    assert_valid(oruk_data.compiled("service_package"), everything["service"], "services")
    assert_valid(
        oruk_data.compiled("service_at_location_package"), everything["sal"], "at locations"
    )
    assert_valid(
        oruk_data.compiled("organization_package"),
        [service["organization"] for service in everything["service"]],
        "organizations",
    )
    assert counts["service"] == len(market.services)
    assert counts["sal"] == len(market.at_locations)
    assert counts["term"] == 19
    assert counts["taxonomy"] == 1


def test_optional_fields_are_left_out_rather_than_sent_empty(
    client: Client, market: Market
) -> None:
    for answer in crawl(client, market):
        assert not empty_values(answer.body), (answer.url, empty_values(answer.body))


def test_every_answer_is_open_to_any_origin(client: Client, market: Market) -> None:
    for answer in crawl(client, market):
        assert answer.headers["Access-Control-Allow-Origin"] == "*", answer.url
    errors = [
        client.get(f"/oruk/services/{uuid.uuid4()}"),
        client.get("/oruk/services?page=0"),
        client.get("/oruk/organizations"),
        client.post("/oruk/services"),
        client.options("/oruk/services"),
    ]
    assert [r.status_code for r in errors] == [404, 400, 404, 405, 204]
    for response in errors:
        assert response["Access-Control-Allow-Origin"] == "*"
    assert errors[3]["Allow"] == "GET, HEAD, OPTIONS"


def test_the_root_gives_the_version_of_the_standard(client: Client) -> None:
    body = client.get("/oruk/").json()
    assert body == {
        "version": "HSDS-UK-3.0",
        "profile": views.PROFILE_URL,
        "openapi_url": views.OPENAPI_URL,
    }


def test_only_listed_records_are_published(client: Client, market: Market) -> None:
    listed = {str(s.uuid) for s in market.published}
    answers = crawl(client, market)
    ids = {a.body["id"] for a in answers if a.kind == "service"}
    assert ids == listed
    at_ids = {a.body["id"] for a in answers if a.kind == "sal"}
    assert at_ids == {str(at.uuid) for at in market.at_locations.values()}
    for service in market.hidden_services:
        assert client.get(f"/oruk/services/{service.uuid}").status_code == 404
    for at in market.hidden_at_locations:
        assert client.get(f"/oruk/service_at_locations/{at.uuid}").status_code == 404
    # Nor through a filter that would find them.
    found = client.get("/oruk/service_at_locations?postcode=LS1").json()["contents"]
    assert {item["service"]["name"] for item in found} == {"Walking football for over 50s"}
    hidden_org = market.hidden_provider.uuid  # type: ignore[union-attr]
    assert client.get(f"/oruk/services?organization_id={hidden_org}").json()["total_items"] == 0


def test_withdrawing_a_service_takes_it_out_of_the_feed(client: Client, market: Market) -> None:
    service = market.services["group"]
    assert client.get(f"/oruk/services/{service.uuid}").status_code == 200
    Service.objects.filter(pk=service.pk).update(status=Service.Status.WITHDRAWN)
    assert client.get(f"/oruk/services/{service.uuid}").status_code == 404
    at = market.at_locations["group"]
    assert client.get(f"/oruk/service_at_locations/{at.uuid}").status_code == 404
    market.providers["nhs_service"].__class__.objects.filter(
        pk=market.providers["nhs_service"].pk
    ).update(listed=False)
    names = {s["name"] for s in client.get("/oruk/services").json()["contents"]}
    assert "Wheelchair assessment" not in names
    assert "Saturday coffee and chat" not in names
    assert len(names) == len(market.services) - 2


@pytest.mark.parametrize(
    "path",
    [
        f"services/{uuid.UUID(int=1)}",
        "services/not-a-uuid",
        f"service_at_locations/{uuid.UUID(int=2)}",
        "taxonomies/42",
        f"taxonomy_terms/{uuid.UUID(int=3)}",
        "organizations",
        "services/",
    ],
)
def test_an_unknown_id_or_path_answers_404_as_problem_details(client: Client, path: str) -> None:
    response = client.get(f"/oruk/{path}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404
    assert body["title"] == "Not found"
    assert body["detail"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("services?page=0", "page"),
        ("services?page=two", "page"),
        ("services?per_page=-1", "per_page"),
        ("services?taxonomy_term_id=sport", "taxonomy_term_id"),
        ("services?organization_id=1", "organization_id"),
        ("services?minimum_age=old", "minimum_age"),
        ("services?maximum_age=NaN", "maximum_age"),
        ("services?minimum_age=500", "minimum_age"),
        ("services?day=Funday", "day"),
        ("services?start_time=25:00", "start_time"),
        ("services?search=a%00b", "search"),
        ("service_at_locations?postcode=NOWHERE", "postcode"),
        ("service_at_locations?proximity=1000", "proximity"),
        ("service_at_locations?postcode=LS1&proximity=-5", "proximity"),
        ("service_at_locations?postcode=YO1%207HH&proximity=1000", "proximity"),
        ("taxonomy_terms?taxonomy_id=x", "taxonomy_id"),
        ("taxonomies?per_page=none", "per_page"),
    ],
)
def test_a_bad_parameter_answers_400_naming_it(
    client: Client, market: Market, query: str, parameter: str
) -> None:
    response = client.get(f"/oruk/{query}")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["status"] == 400
    assert body["detail"].startswith(f"The {parameter} parameter ")


def test_lists_are_paged_in_the_standards_envelope(client: Client, market: Market) -> None:
    seen: list[str] = []
    answers = list(pages(client, "/oruk/services", "service_list", per_page=3))
    assert len(answers) == 3  # 8 services, 3 a page
    for number, answer in enumerate(answers, start=1):
        body = answer.body
        assert body["page_number"] == number
        assert body["total_items"] == 8
        assert body["total_pages"] == 3
        assert body["first_page"] is (number == 1)
        assert body["last_page"] is (number == 3)
        assert body["size"] == len(body["contents"]) == (3 if number < 3 else 2)
        assert body["empty"] is False
        seen += [item["id"] for item in body["contents"]]
    assert sorted(seen) == sorted(str(s.uuid) for s in market.published)
    beyond = client.get("/oruk/services?page=4&per_page=3").json()
    assert beyond["contents"] == []
    assert beyond["empty"] is True
    assert beyond["size"] == 0
    assert beyond["last_page"] is True
    assert beyond["first_page"] is False
    nothing = client.get(f"/oruk/services?organization_id={uuid.uuid4()}").json()
    assert nothing["total_items"] == 0
    assert nothing["total_pages"] == 1
    assert nothing["empty"]


def test_a_page_larger_than_the_limit_is_cut_to_it(client: Client, market: Market) -> None:
    for n in range(MAX_PER_PAGE - len(market.services) + 5):
        ServiceFactory(provider=market.providers["cooperative"], title=f"Extra {n:03d}")
    body = client.get(f"/oruk/services?per_page={MAX_PER_PAGE * 5}").json()
    assert body["size"] == MAX_PER_PAGE
    assert body["total_pages"] == 2
    assert body["last_page"] is False


def _names(client: Client, url: str) -> list[str]:
    body = client.get(url).json()
    return [item.get("service", item)["name"] for item in body["contents"]]


def test_postcode_finds_services_covering_it_or_located_in_its_district(
    client: Client, market: Market
) -> None:
    sal = "/oruk/service_at_locations"
    # LS2: football is delivered there; the coffee group meets there.
    assert sorted(_names(client, f"{sal}?postcode=LS2%201AA")) == [
        "Saturday coffee and chat",
        "Walking football for over 50s",
    ]
    assert _names(client, f"{sal}?postcode=ls62aa") == ["Care at home from Meadow View"]
    assert _names(client, f"{sal}?postcode=BD1") == ["Wheelchair assessment"]
    assert _names(client, f"{sal}?postcode=YO1%207HH") == []


def test_proximity_finds_places_near_the_postcode_nearest_first(
    client: Client, market: Market
) -> None:
    sal = "/oruk/service_at_locations?postcode=LS1%205AB&proximity="
    # Woodhouse is about 1 km from Park Row; Bradford about 13 km; Meadow View has no
    # coordinates, so it is never near anywhere.
    assert _names(client, sal + "500") == ["Walking football for over 50s"]
    assert _names(client, sal + "2000") == [
        "Walking football for over 50s",
        "Saturday coffee and chat",
    ]
    assert _names(client, sal + "20000") == [
        "Walking football for over 50s",
        "Saturday coffee and chat",
        "Wheelchair assessment",
    ]
    # A district is placed by the locations the feed knows in it.
    assert _names(client, "/oruk/service_at_locations?postcode=BD1&proximity=1000") == [
        "Wheelchair assessment"
    ]


def test_text_search_finds_matching_services(client: Client, market: Market) -> None:
    assert _names(client, "/oruk/services?search=gardening") == ["Gardening together"]
    assert _names(client, "/oruk/services?text=gardens") == ["Gardening together"]
    assert _names(client, "/oruk/services?search=wheelchair%20budget") == ["Wheelchair assessment"]
    assert _names(client, "/oruk/service_at_locations?search=football") == [
        "Walking football for over 50s"
    ]
    assert _names(client, "/oruk/services?search=zebra") == []


def test_taxonomy_organization_age_and_time_filters(client: Client, market: Market) -> None:
    services = "/oruk/services?"
    sport = category("sport-fitness").uuid
    football = market.walking_football.uuid  # type: ignore[union-attr]
    assert _names(client, f"{services}taxonomy_term_id={sport}") == [
        "Walking football for over 50s"
    ]
    assert _names(client, f"{services}taxonomy_term_id={football}") == [
        "Walking football for over 50s"
    ]
    assert _names(client, f"{services}taxonomy_id={football}") == []
    taxonomy = category("sport-fitness").taxonomy.uuid
    assert len(_names(client, f"{services}taxonomy_id={taxonomy}")) == 8
    carer = market.providers["shared_lives_carer"].uuid
    assert _names(client, f"{services}organization_id={carer}") == ["Shared Lives short breaks"]
    assert _names(client, f"{services}minimum_age=50") == ["Walking football for over 50s"]
    assert _names(client, f"{services}maximum_age=65") == ["Personal assistance at home"]
    assert _names(client, f"{services}day=SA") == ["Saturday coffee and chat"]
    assert _names(client, f"{services}day=tuesday") == ["Wheelchair assessment"]
    assert _names(client, f"{services}start_time=18:00") == ["Walking football for over 50s"]
    assert _names(client, f"{services}end_time=12:00") == ["Saturday coffee and chat"]
    # Day and times meet in one schedule: the PA's Wednesday closes at 13:00.
    assert _names(client, f"{services}day=WE&end_time=13:00") == ["Personal assistance at home"]
    assert _names(client, f"{services}day=MO&end_time=13:00") == []
    sal = "/oruk/service_at_locations?"
    assert _names(client, f"{sal}day=SA&postcode=LS2") == ["Saturday coffee and chat"]


def test_a_service_in_full(client: Client, market: Market) -> None:
    pa = market.services["pa"]
    body = client.get(f"/oruk/services/{pa.uuid}").json()
    assert body["name"] == "Personal assistance at home"
    assert body["status"] == "active"
    assert body["organization_id"] == str(pa.provider.uuid)
    assert body["minimum_age"] == 18
    assert body["maximum_age"] == 65
    assert body["cost_options"] == [
        {
            "id": str(pa.cost_options.get().uuid),
            "service_id": str(pa.uuid),
            "option": "per hour",
            "amount": 18.5,
            "amount_description": "£18.50 per hour",
        }
    ]
    assert body["fees"] == "£18.50 per hour"
    assert [(s["byday"], s["opens_at"], s["closes_at"]) for s in body["schedules"]] == [
        ("MO", "09:00", "17:00"),
        ("WE", "09:00", "13:00"),
    ]
    assert all(s["freq"] == "WEEKLY" for s in body["schedules"])
    assert [a["name"] for a in body["service_areas"]] == ["LS1", "LS6"]
    assert [(lang["code"], lang["name"]) for lang in body["languages"]] == [
        ("en", "English"),
        ("cy", "Welsh"),
        ("ur", "Urdu"),
    ]
    contact = body["contacts"][0]
    assert contact["name"] == "Sam Patel"
    assert contact["phones"][0]["number"] == "0113 496 0000"
    assert datetime.date.fromisoformat(body["assured_date"])
    assert "DBS checked" in body["accreditations"]
    assert "service_at_locations" not in body  # delivered at home only
    term = body["attributes"][0]["taxonomy_term"]
    assert term["id"] == body["attributes"][0]["taxonomy_term_id"] == str(pa.category.uuid)
    # Derived ids are uuid5 of the parent's UUID: the same on every read.
    again = client.get(f"/oruk/services/{pa.uuid}").json()
    assert again["languages"] == body["languages"]
    assert again["contacts"] == body["contacts"]
    assert body["languages"][0]["id"] == str(uuid.uuid5(pa.uuid, "language:en"))


def test_free_online_located_and_regulated_services(client: Client, market: Market) -> None:
    group = client.get(f"/oruk/services/{market.services['group'].uuid}").json()
    assert group["fees"] == "Free"
    assert [(c["option"], c["amount"]) for c in group["cost_options"]] == [("Free", 0)]
    assert [lang["name"] for lang in group["languages"]] == ["English", "British Sign Language"]
    place = group["service_at_locations"][0]["location"]
    assert (place["latitude"], place["longitude"]) == (53.8075, -1.557)
    address = place["addresses"][0]
    assert address["postal_code"] == "LS2 9JT"
    assert address["country"] == "GB"
    assert address["state_province"] == "West Yorkshire"

    online = client.get(f"/oruk/services/{market.services['equipment'].uuid}").json()
    assert [a["name"] for a in online["service_areas"]] == ["Online"]
    assert online["cost_options"][0]["amount"] == 35
    assert online["cost_options"][0]["amount_description"] == "£35.00 per item"

    week = client.get(f"/oruk/services/{market.services['shared_lives'].uuid}").json()
    assert week["cost_options"][0]["amount"] == 420
    assert week["fees"] == "£420.00 per week"

    football = client.get(f"/oruk/services/{market.services['football'].uuid}").json()
    assert [c["amount_description"] for c in football["cost_options"]] == [
        "£5.00 per session",
        "£40.00 per item",
    ]
    hall = football["service_at_locations"][0]["location"]
    assert hall["accessibility"][0]["description"] == "Step-free access"
    assert football["schedules"][0]["opens_at"] == "18:30"
    term = football["attributes"][0]["taxonomy_term"]
    assert term["name"] == "Walking football"
    assert term["parent_id"] == str(category("sport-fitness").uuid)

    care = client.get(f"/oruk/services/{market.services['care'].uuid}").json()
    identifiers = care["organization"]["organization_identifiers"]
    assert [(i["identifier_type"], i["identifier"]) for i in identifiers] == [
        ("CQC registration number", "1-987654321")
    ]
    assert "latitude" not in care["service_at_locations"][0]["location"]

    nhs = client.get(f"/oruk/services/{market.services['wheelchairs'].uuid}").json()
    # No description of its own: the provider's kind stands in (the field is required).
    assert nhs["organization"]["description"] == "NHS service"
    assert "email" not in nhs["organization"]
    assert nhs["schedules"][0]["description"] == "Tuesdays"


def test_a_service_at_a_location_in_full(client: Client, market: Market) -> None:
    at = market.at_locations["football"]
    body = client.get(f"/oruk/service_at_locations/{at.uuid}").json()
    assert body["id"] == str(at.uuid)
    assert body["service_id"] == body["service"]["id"] == str(at.service.uuid)
    assert body["location_id"] == body["location"]["id"] == str(at.location.uuid)
    assert body["location"]["addresses"][0]["address_1"] == "1 Park Row"
    assert body["service"]["cost_options"]
    assert "service_at_locations" not in body["service"]


def test_the_taxonomy_and_a_commissioners_own_term(client: Client, market: Market) -> None:
    taxonomy = category("sport-fitness").taxonomy
    body = client.get(f"/oruk/taxonomies/{taxonomy.uuid}").json()
    assert body["name"] == taxonomy.name
    assert body["version"] == "1"
    assert len(body["taxonomy_terms"]) == 19
    football = market.walking_football
    assert football is not None
    term = client.get(f"/oruk/taxonomy_terms/{football.uuid}").json()
    assert term == {
        "id": str(football.uuid),
        "name": "Walking football",
        "description": "Football at walking pace, for any fitness.",
        "parent_id": str(category("sport-fitness").uuid),
        "taxonomy": taxonomy.name,
        "taxonomy_id": str(taxonomy.uuid),
        "term": "walking-football",
    }
    listed = client.get(f"/oruk/taxonomy_terms?taxonomy_id={taxonomy.uuid}").json()
    assert listed["total_items"] == 19
    assert "parent_id" not in client.get(f"/oruk/taxonomy_terms/{category().uuid}").json()


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # count, page, the page's cost options (for ``fees``)
        ("/oruk/services", 3),
        ("/oruk/service_at_locations", 3),
        ("/oruk/service_at_locations?postcode=LS1%205AB&proximity=20000", 4),  # + where LS1 5AB is
        ("/oruk/taxonomy_terms", 2),
        ("/oruk/taxonomies", 2),
    ],
)
def test_a_list_costs_the_same_few_queries_whatever_its_length(
    client: Client, market: Market, url: str, expected: int
) -> None:
    sep = "&" if "?" in url else "?"
    one = _queries(client, f"{url}{sep}per_page=1")
    for n in range(6):
        ServiceFactory(provider=market.providers["cooperative"], title=f"More gardening {n}")
    many = _queries(client, f"{url}{sep}per_page=50")
    assert one == many == expected


def test_a_detail_costs_a_fixed_number_of_queries(client: Client, market: Market) -> None:
    # The service with its provider and category; then its cost options, schedules and
    # locations.
    assert _queries(client, f"/oruk/services/{market.services['football'].uuid}") == 4
    assert _queries(client, f"/oruk/services/{market.services['pa'].uuid}") == 4
    at = market.at_locations["group"]
    assert _queries(client, f"/oruk/service_at_locations/{at.uuid}") == 4
    taxonomy = category().taxonomy
    assert _queries(client, f"/oruk/taxonomies/{taxonomy.uuid}") == 2


def test_times_and_dates_are_in_the_forms_the_standard_gives(
    client: Client, market: Market
) -> None:
    for answer in crawl(client, market):
        if answer.kind != "service":
            continue
        for schedule in answer.body.get("schedules", []):
            for key in ("opens_at", "closes_at"):
                if key in schedule:
                    assert re.fullmatch(r"\d\d:\d\d", schedule[key])
        if "assured_date" in answer.body:
            datetime.date.fromisoformat(answer.body["assured_date"])
        assert answer.body["last_modified"].endswith("Z")
