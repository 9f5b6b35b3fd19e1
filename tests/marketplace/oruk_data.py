"""A market with every kind of provider and every kind of service, for the Open
Referral UK feed's tests: paid by the hour, session, week and item; free community
groups; delivered in postcode districts, at places with an address (with and without
coordinates), online; with schedules, languages, ages and contacts; one filed under a
commissioner's own category, a child of a national one. And what must never be
published: an unlisted provider's service and location, withdrawn and paused services."""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.utils import timezone
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from marketplace.models import (
    Category,
    CostOption,
    Location,
    Provider,
    ProviderKind,
    Schedule,
    Service,
    ServiceAtLocation,
)
from tests.factories import OrganisationFactory, UserFactory
from tests.marketplace.factories import (
    LocationFactory,
    ProviderFactory,
    ScheduleFactory,
    ServiceFactory,
    category,
)
from users.models import Organisation

# Places in Leeds (LS1, LS2, LS6) and Bradford (BD1), about 13 km apart.
PARK_ROW = ("LS1 5AB", Decimal("53.799700"), Decimal("-1.549200"))
WOODHOUSE = ("LS2 9JT", Decimal("53.807500"), Decimal("-1.557000"))
BRADFORD = ("BD1 1HY", Decimal("53.793000"), Decimal("-1.752000"))


@dataclass
class Market:
    providers: dict[str, Provider] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    locations: dict[str, Location] = field(default_factory=dict)
    at_locations: dict[str, ServiceAtLocation] = field(default_factory=dict)
    walking_football: Category | None = None
    hidden_services: list[Service] = field(default_factory=list)
    hidden_at_locations: list[ServiceAtLocation] = field(default_factory=list)
    hidden_provider: Provider | None = None

    @property
    def published(self) -> list[Service]:
        return list(self.services.values())


def _place(
    provider: Provider, name: str, where: tuple[str, Decimal, Decimal], **extra: Any
) -> Location:
    postcode, latitude, longitude = where
    return LocationFactory(
        provider=provider,
        name=name,
        postcode=postcode,
        latitude=latitude,
        longitude=longitude,
        **extra,
    )


def _at(service: Service, location: Location) -> ServiceAtLocation:
    return ServiceAtLocation.objects.create(service=service, location=location)


def _verify(provider: Provider, by: Any) -> None:
    provider.verification = Provider.Verification.VERIFIED
    provider.verified_by = by
    provider.verified_at = timezone.now() - datetime.timedelta(days=10)
    provider.verification_expires_on = timezone.localdate() + datetime.timedelta(days=355)
    provider.save()


def build_market() -> Market:
    market = Market()
    icb = OrganisationFactory(name="West Yorkshire ICB", kind=Organisation.Kind.ICB)
    commissioner = UserFactory()
    kinds = {kind.value: kind for kind in ProviderKind}

    def provider(kind: str, name: str, **extra: Any) -> Provider:
        made = ProviderFactory(kind=kinds[kind], name=name, areas=[icb], **extra)
        market.providers[kind] = made
        return made

    # A personal assistant: by the hour, at home in two districts, weekdays, three
    # languages, adults of working age, a named contact. Verified by the commissioner.
    pa = provider(
        "personal_assistant",
        "Sam Patel",
        description="Personal assistant with ten years' experience.",
        website="https://sampatel.example.test/",
    )
    _verify(pa, commissioner)
    market.services["pa"] = ServiceFactory(
        provider=pa,
        title="Personal assistance at home",
        description="Help with washing, dressing, cooking and getting out.",
        category=category("personal-assistance"),
        postcode_districts=["LS1", "LS6"],
        languages=["en", "cy", "ur"],
        minimum_age=18,
        maximum_age=65,
        contact_name="Sam Patel",
        email="sam@sampatel.example.test",
        phone="0113 496 0000",
        url="https://sampatel.example.test/services/home",
        price=(18_50, CostOption.Per.HOUR),
    )
    ScheduleFactory(
        service=market.services["pa"],
        weekday=0,
        opens_at=datetime.time(9),
        closes_at=datetime.time(17),
    )
    ScheduleFactory(
        service=market.services["pa"],
        weekday=2,
        opens_at=datetime.time(9),
        closes_at=datetime.time(13),
        note="Mornings only",
    )

    # A Shared Lives carer: by the week, in one district, no schedule.
    carer = provider("shared_lives_carer", "The Okafor family")
    market.services["shared_lives"] = ServiceFactory(
        provider=carer,
        title="Shared Lives short breaks",
        description="Short breaks with a family in their home.",
        category=category("shared-lives"),
        postcode_districts=["LS6"],
        price=(420_00, CostOption.Per.WEEK),
    )

    # A micro-enterprise: by the session, at a place in LS1 with coordinates, also in
    # LS2, under the commissioner's own category (a child of a national one).
    micro = provider("micro_enterprise", "Kickabout Leeds")
    market.walking_football = Category.objects.create(
        taxonomy=category("sport-fitness").taxonomy,
        code="walking-football",
        name="Walking football",
        description="Football at walking pace, for any fitness.",
        parent=category("sport-fitness"),
        organisation=icb,
        created_by=commissioner,
    )
    market.services["football"] = ServiceFactory(
        provider=micro,
        title="Walking football for over 50s",
        description="Gentle football at walking pace. Boots not needed.",
        category=market.walking_football,
        postcode_districts=["LS2"],
        minimum_age=50,
        price=(5_00, CostOption.Per.SESSION),
    )
    CostOption.objects.create(
        service=market.services["football"],
        amount_pence=40_00,
        per=CostOption.Per.ITEM,
        description="Ten sessions, paid together",
    )
    ScheduleFactory(
        service=market.services["football"],
        weekday=3,
        opens_at=datetime.time(18, 30),
        closes_at=datetime.time(20),
    )
    market.locations["park_row"] = _place(
        micro,
        "Park Row sports hall",
        PARK_ROW,
        description="The hall behind the library.",
        step_free=True,
    )
    market.at_locations["football"] = _at(market.services["football"], market.locations["park_row"])

    # A community group: free, at a community centre in LS2, Saturday mornings, in BSL.
    group = provider("community_group", "Woodhouse Friends", not_for_profit=True, user_led=True)
    market.services["group"] = ServiceFactory(
        provider=group,
        title="Saturday coffee and chat",
        description="A friendly group for anyone who wants company. Signed in BSL.",
        category=category("community-groups"),
        is_free=True,
        postcode_districts=[],
        languages=["en", "sgn"],
    )
    ScheduleFactory(
        service=market.services["group"],
        weekday=5,
        opens_at=datetime.time(10),
        closes_at=datetime.time(12),
    )
    market.locations["woodhouse"] = _place(
        group, "Woodhouse community centre", WOODHOUSE, region="West Yorkshire"
    )
    market.at_locations["group"] = _at(market.services["group"], market.locations["woodhouse"])

    # A social enterprise: equipment by the item, online only.
    social = provider("social_enterprise", "Enable Tech CIC")
    market.services["equipment"] = ServiceFactory(
        provider=social,
        title="Talking clocks and reminders",
        description="Technology that reminds you of the day, the time and your appointments.",
        category=category("equipment"),
        postcode_districts=[],
        online=True,
        price=(35_00, CostOption.Per.ITEM),
    )

    # A co-operative: by the hour, in a district and online, no schedule.
    coop = provider("cooperative", "Leeds Gardening Co-op")
    market.services["gardening"] = ServiceFactory(
        provider=coop,
        title="Gardening together",
        description="Help in your garden, or a video call to plan it.",
        category=category("day-activities"),
        postcode_districts=["LS2"],
        online=True,
        price=(22_00, CostOption.Per.HOUR),
    )

    # A registered care provider (CQC): by the hour, at a home with no coordinates.
    care = provider("registered_care", "Meadow View Care", cqc_number="1-987654321")
    _verify(care, commissioner)
    market.services["care"] = ServiceFactory(
        provider=care,
        title="Care at home from Meadow View",
        description="Personal care visits from a registered agency.",
        category=category("care-at-home"),
        postcode_districts=[],
        price=(26_00, CostOption.Per.HOUR),
    )
    market.locations["meadow"] = LocationFactory(
        provider=care, name="Meadow View office", postcode="LS6 2AA", address_1="2 Meadow Lane"
    )
    market.at_locations["care"] = _at(market.services["care"], market.locations["meadow"])

    # An NHS service: free, in Bradford.
    nhs = provider("nhs_service", "Bradford Wheelchair Service", email="", description="")
    market.services["wheelchairs"] = ServiceFactory(
        provider=nhs,
        title="Wheelchair assessment",
        description="Assessment for a wheelchair or a personal wheelchair budget.",
        category=category("equipment"),
        is_free=True,
        postcode_districts=["BD1"],
    )
    market.locations["bradford"] = _place(nhs, "Bradford health centre", BRADFORD)
    market.at_locations["wheelchairs"] = _at(
        market.services["wheelchairs"], market.locations["bradford"]
    )
    Schedule.objects.create(service=market.services["wheelchairs"], weekday=1)

    # Never published: an unlisted provider (its service and location, in LS1 at the
    # same place as Park Row), a withdrawn service and a paused one.
    hidden = ProviderFactory(name="Unlisted Gardening Ltd", listed=False)
    market.hidden_provider = hidden
    hidden_service = ServiceFactory(
        provider=hidden,
        title="Gardening for the unlisted",
        category=category("day-activities"),
        postcode_districts=["LS1"],
    )
    market.hidden_services.append(hidden_service)
    market.hidden_at_locations.append(_at(hidden_service, _place(hidden, "Hidden hall", PARK_ROW)))
    for status in (Service.Status.WITHDRAWN, Service.Status.INACTIVE):
        gone = ServiceFactory(
            provider=coop,
            title=f"Gardening club ({status})",
            status=status,
            category=category("day-activities"),
            postcode_districts=["LS1"],
        )
        market.hidden_services.append(gone)
        market.hidden_at_locations.append(_at(gone, market.locations["park_row"]))
    return market


# The standard's own schemas, unchanged, kept in tests/standards/oruk-3.0 (with their
# licence and provenance in its README) so a clean clone can check against them;
# ORUK_STANDARD_DIR points elsewhere, e.g. at a newer copy.

STANDARD = Path(
    os.environ.get("ORUK_STANDARD_DIR")
    or Path(__file__).resolve().parents[1] / "standards" / "oruk-3.0"
)


def standard_file(name: str) -> Any:
    path = STANDARD / name
    if not path.exists():
        raise AssertionError(
            f"The Open Referral UK 3.0 standard's files are missing ({path}): the feed's "
            "tests check against them. Set ORUK_STANDARD_DIR to their folder."
        )
    return json.loads(path.read_text())


FORMATS = FormatChecker()


@FORMATS.checks("uri", raises=ValueError)
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return datetime.datetime.fromisoformat(value).tzinfo is not None


def compiled(name: str) -> Draft202012Validator:
    """A validator for one of the standard's self-contained ``compiled/*.json``."""
    return Draft202012Validator(standard_file(f"compiled/{name}.json"), format_checker=FORMATS)


def per_object(name: str) -> Draft202012Validator:
    """A validator for one of the per-object schemas, whose ``$ref``s name the other
    files of the folder: resolved through a registry of all of them."""
    base = STANDARD.as_uri() + "/"
    registry: Registry[Any] = Registry().with_resources(
        (base + path.name, DRAFT202012.create_resource(json.loads(path.read_text())))
        for path in STANDARD.glob("*.json")
        if not path.name.startswith("openapi")
    )
    standard_file(f"{name}.json")  # says clearly when the folder is missing
    return Draft202012Validator(
        {"$ref": base + f"{name}.json"}, registry=registry, format_checker=FORMATS
    )


def page_envelope() -> Draft202012Validator:
    """The standard's ``Page`` (from its OpenAPI components), every field present, and
    the page's ``contents``."""
    page = standard_file("openapi.local.json")["components"]["schemas"]["Page"]
    return Draft202012Validator(
        {
            "allOf": [page],
            "required": [*page["properties"], "contents"],
            "properties": {"contents": {"type": "array"}},
        },
        format_checker=FORMATS,
    )


def root_schema() -> Draft202012Validator:
    openapi = standard_file("openapi.local.json")
    schema = openapi["paths"]["/"]["get"]["responses"]["200"]["content"]["application/json"]
    return Draft202012Validator(
        {"allOf": [schema["schema"]], "required": ["version", "profile", "openapi_url"]},
        format_checker=FORMATS,
    )


def assert_valid(validator: Draft202012Validator, body: Any, where: str) -> None:
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, f"{where}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors[:5]
    )


def empty_values(value: Any, path: str = "") -> list[str]:
    """Where in a response a field is null, an empty string or an empty list or object:
    the standard wants optional fields without a value left out."""
    if value is None or value in ("", [], {}):
        return [path or "(top)"]
    found: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += empty_values(inner, f"{path}/{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += empty_values(inner, f"{path}/{index}")
    return found
