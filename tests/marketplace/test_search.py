"""Finding support: relevance, every filter (what it includes and what it leaves out),
sorting, what never shows, the annotations, a fixed number of queries, and the public
search, service and provider pages."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from marketplace import selectors
from marketplace.models import Category, CostOption, Provider, ProviderKind, Review, Service
from marketplace.selectors import service_search
from tests.factories import UserFactory
from tests.marketplace.factories import (
    LocationFactory,
    ProviderFactory,
    ScheduleFactory,
    ServiceAtLocationFactory,
    ServiceFactory,
    category,
)
from tests.matrix_samples.marketplace_search import delivered_booking

pytestmark = pytest.mark.django_db

HOUR = CostOption.Per.HOUR


def titles(services: Any) -> list[str]:
    return [service.title for service in services]


def verified_provider(**kwargs: Any) -> Provider:
    return ProviderFactory(
        verification=Provider.Verification.VERIFIED,
        verified_by=UserFactory(),
        verified_at=timezone.now(),
        **kwargs,
    )


# Relevance ----------------------------------------------------------------------------


def test_a_title_match_ranks_above_a_description_only_match() -> None:
    ServiceFactory(title="Art club", description="We paint, and in summer we go swimming.")
    ServiceFactory(title="Swimming lessons", description="Lessons for adults.")
    ServiceFactory(title="Knitting circle", description="Bring your needles.")

    assert titles(service_search(query="swimming")) == ["Swimming lessons", "Art club"]


def test_a_keyword_match_ranks_above_a_description_only_match() -> None:
    ServiceFactory(title="Drop-in", description="A friendly garden group on Fridays.")
    ServiceFactory(title="Allotment", description="Grow food.", keywords="garden gardening")

    assert titles(service_search(query="garden")) == ["Allotment", "Drop-in"]


def test_a_service_matching_every_word_ranks_above_those_matching_some() -> None:
    ServiceFactory(title="Walking football", description="Gentle football.")
    ServiceFactory(title="Walking group", description="A walking group for family carers.")
    ServiceFactory(title="Carers cafe", description="Tea and a chat for carers.")
    ServiceFactory(title="Pottery", description="Clay.")

    results = list(service_search(query="walking carers"))

    assert titles(results)[0] == "Walking group"
    assert set(titles(results[1:])) == {"Walking football", "Carers cafe"}
    assert results[0].matches_all
    assert not any(r.matches_all for r in results[1:])


def test_stemming_finds_swim_when_searching_for_swimming() -> None:
    ServiceFactory(title="Swim club", description="In the big pool.")
    ServiceFactory(title="Running club", description="Parks.")

    assert titles(service_search(query="swimming")) == ["Swim club"]
    assert titles(service_search(query="swims")) == ["Swim club"]


def test_a_minus_word_excludes_and_a_quoted_phrase_comes_first() -> None:
    ServiceFactory(title="Walking football", description="Football for older people.")
    ServiceFactory(title="Walking group", description="Walks in the park.")
    ServiceFactory(title="Football and walking", description="Both.")

    assert titles(service_search(query="walking -football")) == ["Walking group"]
    assert titles(service_search(query='"walking football"'))[0] == "Walking football"


def test_a_query_of_only_common_words_finds_nothing_and_does_not_fail() -> None:
    ServiceFactory(title="The club")

    assert list(service_search(query="the and of")) == []
    assert list(service_search(query='-- " or ')) == []


def test_without_a_query_every_listed_service_shows_by_title() -> None:
    ServiceFactory(title="Zumba")
    ServiceFactory(title="Art club")

    assert titles(service_search()) == ["Art club", "Zumba"]


# What never shows ---------------------------------------------------------------------


def test_unlisted_providers_and_withdrawn_or_paused_services_never_appear() -> None:
    ServiceFactory(title="Swimming shown")
    ServiceFactory(title="Swimming unlisted", provider=ProviderFactory(listed=False))
    ServiceFactory(title="Swimming withdrawn", status=Service.Status.WITHDRAWN)
    ServiceFactory(title="Swimming paused", status=Service.Status.INACTIVE)

    assert titles(service_search(query="swimming")) == ["Swimming shown"]
    assert titles(service_search()) == ["Swimming shown"]
    assert titles(service_search(free_only=False, sort="price")) == ["Swimming shown"]


# Filters -----------------------------------------------------------------------------


def test_the_category_filter_includes_child_categories_and_nothing_else() -> None:
    sport = category("sport-fitness")
    swimming = Category.objects.create(
        taxonomy=sport.taxonomy,
        code="swimming",
        name="Swimming",
        description="Pools.",
        parent=sport,
    )
    lanes = Category.objects.create(
        taxonomy=sport.taxonomy,
        code="lanes",
        name="Lane swimming",
        description=".",
        parent=swimming,
    )
    ServiceFactory(title="Gym", category=sport)
    ServiceFactory(title="Pool", category=swimming)
    ServiceFactory(title="Lanes", category=lanes)
    ServiceFactory(title="Choir", category=category("arts-creativity"))

    assert titles(service_search(category=sport)) == ["Gym", "Lanes", "Pool"]
    assert titles(service_search(category=swimming)) == ["Lanes", "Pool"]


def test_the_provider_kind_filter() -> None:
    ServiceFactory(title="PA", provider=ProviderFactory(kind=ProviderKind.PERSONAL_ASSISTANT))
    ServiceFactory(title="Group", provider=ProviderFactory(kind=ProviderKind.COMMUNITY_GROUP))

    assert titles(service_search(kinds=[ProviderKind.PERSONAL_ASSISTANT])) == ["PA"]
    assert titles(service_search(kinds=[ProviderKind.COMMUNITY_GROUP, "personal_assistant"])) == [
        "Group",
        "PA",
    ]


def test_price_up_to_compares_the_lowest_cost_option_and_includes_free() -> None:
    cheap_option = ServiceFactory(title="Cheap option", price=(30_00, HOUR))
    CostOption.objects.create(service=cheap_option, amount_pence=12_00, per=CostOption.Per.SESSION)
    ServiceFactory(title="Exactly", price=(15_00, HOUR))
    ServiceFactory(title="Dear", price=(18_00, HOUR))
    ServiceFactory(title="Free group", is_free=True)
    ServiceFactory(title="No price yet")

    assert titles(service_search(price_max_pence=15_00)) == [
        "Cheap option",
        "Exactly",
        "Free group",
    ]


def test_free_only() -> None:
    ServiceFactory(title="Free group", is_free=True)
    ServiceFactory(title="Paid", price=(10_00, HOUR))

    assert titles(service_search(free_only=True)) == ["Free group"]


def test_user_led_and_not_for_profit() -> None:
    ServiceFactory(title="Ours", provider=ProviderFactory(user_led=True))
    ServiceFactory(title="Charity", provider=ProviderFactory(not_for_profit=True))
    ServiceFactory(title="Company")

    assert titles(service_search(user_led=True)) == ["Ours"]
    assert titles(service_search(not_for_profit=True)) == ["Charity"]


def test_verified_means_verified_and_not_run_out() -> None:
    today = timezone.localdate()
    ServiceFactory(title="Verified", provider=verified_provider())
    ServiceFactory(title="Until today", provider=verified_provider(verification_expires_on=today))
    ServiceFactory(
        title="Ran out",
        provider=verified_provider(verification_expires_on=today - datetime.timedelta(days=1)),
    )
    ServiceFactory(title="Pending", provider=ProviderFactory(verification="pending"))
    ServiceFactory(title="Never checked")

    assert titles(service_search(verified=True)) == ["Until today", "Verified"]


def test_the_district_filter_matches_districts_served_locations_there_and_online() -> None:
    ServiceFactory(title="Comes to LS1", postcode_districts=["LS1", "LS2"])
    ServiceFactory(title="Comes to LS12", postcode_districts=["LS12"])
    ServiceFactory(title="Online", postcode_districts=[], online=True)
    at_hall = ServiceFactory(title="At a hall in LS1", postcode_districts=[])
    ServiceAtLocationFactory(
        service=at_hall, location=LocationFactory(provider=at_hall.provider, postcode="ls1 5ab")
    )
    elsewhere = ServiceFactory(title="At a hall in LS15", postcode_districts=[])
    ServiceAtLocationFactory(
        service=elsewhere,
        location=LocationFactory(provider=elsewhere.provider, postcode="LS15 5AB"),
    )

    expected = ["At a hall in LS1", "Comes to LS1", "Online"]
    assert titles(service_search(district="LS1")) == expected
    assert titles(service_search(district="ls1 4ap")) == expected  # a whole postcode
    assert titles(service_search(district="LS15")) == ["At a hall in LS15", "Online"]
    assert list(service_search(district="not a postcode")) == []


def test_the_day_filter_needs_a_schedule_on_that_day() -> None:
    monday = ServiceFactory(title="Monday club")
    ScheduleFactory(service=monday, weekday=0)
    weekend = ServiceFactory(title="Weekend club")
    ScheduleFactory(service=weekend, weekday=5)
    ScheduleFactory(service=weekend, weekday=6)
    ServiceFactory(title="Any time")

    assert titles(service_search(weekdays=[0])) == ["Monday club"]
    assert titles(service_search(weekdays=[6])) == ["Weekend club"]
    assert titles(service_search(weekdays=[2])) == []


def test_filters_combine_with_a_query() -> None:
    ServiceFactory(title="Swimming for free", is_free=True)
    ServiceFactory(title="Swimming lessons", price=(20_00, HOUR))
    ServiceFactory(title="Free art", is_free=True)

    assert titles(service_search(query="swimming", free_only=True)) == ["Swimming for free"]


# Sorting and annotations -------------------------------------------------------------


def test_sorting_by_price_puts_free_first_then_the_lowest_price_and_unpriced_last() -> None:
    ServiceFactory(title="B twenty", price=(20_00, HOUR))
    ServiceFactory(title="A unpriced")
    ServiceFactory(title="C twelve", price=(12_00, HOUR))
    ServiceFactory(title="D free", is_free=True)

    results = list(service_search(sort="price"))

    assert titles(results) == ["D free", "C twelve", "B twenty", "A unpriced"]
    assert [r.lowest_price_pence for r in results] == [None, 12_00, 20_00, None]


def test_sorting_by_price_applies_to_search_results_too() -> None:
    ServiceFactory(title="Swimming club", price=(20_00, HOUR))
    ServiceFactory(title="Pool", description="Swimming for everyone.", price=(5_00, HOUR))

    assert titles(service_search(query="swimming")) == ["Swimming club", "Pool"]
    assert titles(service_search(query="swimming", sort="price")) == ["Pool", "Swimming club"]


def test_results_carry_rank_and_the_published_rating_only(world: Any) -> None:
    service = ServiceFactory(title="Swimming", provider=ProviderFactory(areas=[world.org_x]))
    for rating, state in [(5, "published"), (4, "published"), (1, "rejected"), (2, "pending")]:
        Review.objects.create(
            booking=delivered_booking(world, service),
            service=service,
            rating=rating,
            written_by=world.holder_a.user,
            state=state,
        )
    ServiceFactory(title="Swimming too")

    found = {s.title: s for s in service_search(query="swimming")}

    assert found["Swimming"].rating == pytest.approx(4.5)
    assert found["Swimming"].review_count == 2
    assert found["Swimming too"].rating is None
    assert found["Swimming"].rank > 0


# Queries ------------------------------------------------------------------------------


def _queries_for_a_page(**search: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        for service in service_search(**search)[:20]:
            service.provider.name, service.category.name  # noqa: B018
            list(service.cost_options.all())
            [link.location.name for link in service.at_locations.all()]
    return len(captured)


def test_a_page_of_results_takes_the_same_few_queries_however_many_there_are() -> None:
    def make(count: int, word: str) -> None:
        for n in range(count):
            service = ServiceFactory(title=f"{word} {n}", price=(10_00 + n, HOUR))
            ServiceAtLocationFactory(service=service)
            CostOption.objects.create(service=service, amount_pence=50_00, per="week")

    make(2, "Rowing")
    few = _queries_for_a_page(query="rowing", free_only=False, district="LS1", sort="price")
    make(15, "Sailing")
    many = _queries_for_a_page(query="sailing", free_only=False, district="LS1", sort="price")

    assert few == many == 3  # the services, their cost options, their locations


def test_the_results_page_takes_the_same_queries_for_2_or_17_results(client: Client) -> None:
    def page_queries(word: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("marketplace:search"), {"q": word, "day": ""})
        assert response.status_code == 200
        return len(captured)

    for n in range(2):
        ServiceAtLocationFactory(service=ServiceFactory(title=f"Rowing {n}", price=(5_00, HOUR)))
    few = page_queries("rowing")
    for n in range(17):
        ServiceAtLocationFactory(service=ServiceFactory(title=f"Sailing {n}", price=(5_00, HOUR)))
    many = page_queries("sailing")

    assert few == many
    assert many <= 8


# Pages --------------------------------------------------------------------------------


def test_anyone_can_search_with_filters_and_see_results(client: Client) -> None:
    ServiceFactory(
        title="Swimming for all",
        is_free=True,
        provider=ProviderFactory(name="Leeds Swim Co-op", user_led=True, not_for_profit=True),
    )
    ServiceFactory(title="Swimming coach", price=(18_00, HOUR))

    response = client.get(reverse("marketplace:search"), {"q": "swimming", "only": "free"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "1 service found" in page
    assert "Swimming for all" in page
    assert "Swimming coach" not in page
    assert "Leeds Swim Co-op" in page
    assert "User-led" in page
    assert "Not for profit" in page
    assert "Free" in page


def test_results_show_the_price_as_people_say_it(client: Client) -> None:
    ServiceFactory(title="Personal assistant", price=(18_00, HOUR))

    page = client.get(reverse("marketplace:search")).content.decode()

    assert "£18.00 an hour" in page


def test_no_results_suggest_removing_filters(client: Client) -> None:
    ServiceFactory(title="Swimming", price=(18_00, HOUR))

    response = client.get(reverse("marketplace:search"), {"q": "swimming", "only": "free"})

    page = response.content.decode()
    assert "No services match your search" in page
    assert "remove the filters" in page


def test_a_wrong_price_or_postcode_is_explained_and_shows_no_results(client: Client) -> None:
    ServiceFactory(title="Swimming")

    response = client.get(
        reverse("marketplace:search"), {"price_max": "cheap", "district": "nowhere"}
    )

    page = response.content.decode()
    assert "Enter a price in pounds, like 20 or 12.50" in page
    assert "Enter a postcode, like LS1 4AP, or its first half, like LS1" in page
    assert "Swimming" not in page
    assert "<title>Error: " in page


def test_the_price_filter_reads_pounds(client: Client) -> None:
    ServiceFactory(title="Twelve fifty", price=(12_50, HOUR))
    ServiceFactory(title="Twelve fifty one", price=(12_51, HOUR))

    page = client.get(reverse("marketplace:search"), {"price_max": "£12.50"}).content.decode()

    assert "Twelve fifty<" in page
    assert "Twelve fifty one" not in page


def test_a_service_page_shows_what_a_buyer_needs(client: Client) -> None:
    provider = verified_provider(
        name="Sam Patel",
        kind=ProviderKind.PERSONAL_ASSISTANT,
        insurer="Carers Mutual",
        insurance_expires_on=datetime.date(2030, 3, 31),
        verification_expires_on=datetime.date(2030, 1, 1),
        user_led=True,
    )
    service = ServiceFactory(
        provider=provider,
        title="Personal assistant in Leeds",
        price=(18_00, HOUR),
        minimum_age=18,
        eligibility="Adults with a learning disability.",
        languages=["en", "ur", "sgn"],
        phone="0113 496 0000",
    )
    ServiceAtLocationFactory(
        service=service,
        location=LocationFactory(provider=provider, name="Hyde Park hub", postcode="LS6 1AA"),
    )
    ScheduleFactory(service=service, weekday=2)

    page = client.get(reverse("marketplace:service_detail", args=[service.pk])).content.decode()

    for text in [
        "Personal assistant in Leeds",
        "Sam Patel",
        "personal assistant",
        "£18.00 an hour",
        "Checked on 15 January 2026",  # the DBS check (factory)
        "Carers Mutual, until 31 March 2030",
        "until 1 January 2030",
        "Verified",
        "User-led",
        "LS1, LS2",
        "Hyde Park hub",
        "LS6 1AA",
        "Wednesday",
        "10:00 to 12:00",
        "18 and over",
        "Adults with a learning disability.",
        "English, Urdu, British Sign Language",
        "0113 496 0000",
        "No reviews yet",
    ]:
        assert text in page, text


def test_a_registered_care_provider_shows_its_cqc_number(client: Client) -> None:
    provider = ProviderFactory(kind=ProviderKind.REGISTERED_CARE, cqc_number="1-987654321")
    service = ServiceFactory(provider=provider)

    page = client.get(reverse("marketplace:service_detail", args=[service.pk])).content.decode()

    assert "CQC registration number" in page
    assert "1-987654321" in page
    assert "DBS check" not in page


def test_only_listed_services_have_a_page(client: Client) -> None:
    withdrawn = ServiceFactory(status=Service.Status.WITHDRAWN)
    unlisted = ServiceFactory(provider=ProviderFactory(listed=False))

    for service in (withdrawn, unlisted):
        url = reverse("marketplace:service_detail", args=[service.pk])
        assert client.get(url).status_code == 404


def test_a_provider_profile_lists_only_its_listed_services(client: Client) -> None:
    provider = ProviderFactory(name="Bright Days")
    ServiceFactory(provider=provider, title="Art afternoons")
    ServiceFactory(provider=provider, title="Old course", status=Service.Status.WITHDRAWN)
    hidden = ProviderFactory(listed=False)

    response = client.get(reverse("marketplace:provider_profile", args=[provider.pk]))

    page = response.content.decode()
    assert "Bright Days" in page
    assert "Art afternoons" in page
    assert "Old course" not in page
    url = reverse("marketplace:provider_profile", args=[hidden.pk])
    assert client.get(url).status_code == 404


def test_service_detail_selector_reads_published_reviews_only(world: Any) -> None:
    service = ServiceFactory(provider=ProviderFactory(areas=[world.org_x]))
    for rating, state in [(5, "published"), (1, "rejected"), (2, "pending")]:
        Review.objects.create(
            booking=delivered_booking(world, service),
            service=service,
            rating=rating,
            written_by=world.holder_a.user,
            state=state,
        )

    detail = selectors.service_detail(service.pk)

    assert [r.rating for r in detail.reviews] == [5]
    assert detail.rating == 5
    assert detail.review_count == 1
