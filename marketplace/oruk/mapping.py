"""Marketplace records as Open Referral UK 3.0 (HSDS-UK-3.0) objects.

Ids are the records' UUIDs. Objects with no row of their own (a service's languages,
service areas, contact and phone, a free service's cost, a location's address) get
ids derived with uuid5 from their parent's UUID, so they never change between reads.
Optional fields with no value are left out, never sent as null or empty.

Two fields go beyond the UK profile, which allows more: a language's ``name`` and
``code``, and a contact's ``email`` and ``phones`` (HSDS 3.0 fields; without them a
language or contact would be an id alone)."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Any

from django.conf.locale import LANG_INFO
from django.utils import timezone

from budgets.ledger import format_pence
from marketplace.models import (
    Category,
    CostOption,
    Location,
    Provider,
    Schedule,
    Service,
    ServiceAtLocation,
    Taxonomy,
    Weekday,
)
from marketplace.oruk.filters import DAY_CODES

JSON = dict[str, Any]

STATUS = {
    Service.Status.ACTIVE: "active",
    Service.Status.INACTIVE: "inactive",
    Service.Status.WITHDRAWN: "defunct",
}
# Codes the marketplace allows that Django's language list does not name.
LANGUAGE_NAMES = {"sgn": "British Sign Language", "bfi": "British Sign Language"}


def compact(**fields: Any) -> JSON:
    """The fields that have a value: the standard wants optional fields without one
    left out rather than sent as null or empty."""
    return {name: value for name, value in fields.items() if value not in (None, "", [])}


def derived_id(parent: uuid.UUID, what: str) -> str:
    return str(uuid.uuid5(parent, what))


def _timestamp(moment: datetime.datetime) -> str:
    utc = moment.astimezone(datetime.UTC)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _clock(value: datetime.time | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def pounds(pence: int) -> int | float:
    """An amount in pence as pounds, the unit the standard's ``amount`` is in."""
    return pence // 100 if pence % 100 == 0 else pence / 100


# Organizations (providers)


def _provider_description(provider: Provider) -> str:
    return provider.description or provider.get_kind_display()


def organization_flat(provider: Provider) -> JSON:
    return compact(
        id=str(provider.uuid),
        name=provider.name,
        description=_provider_description(provider),
        email=provider.email,
        website=provider.website,
    )


def organization_full(provider: Provider) -> JSON:
    identifiers = []
    if provider.cqc_number:
        identifiers.append(
            {
                "id": derived_id(provider.uuid, "identifier:cqc"),
                "organization_id": str(provider.uuid),
                "identifier_type": "CQC registration number",
                "identifier": provider.cqc_number,
            }
        )
    return {**organization_flat(provider), **compact(organization_identifiers=identifiers)}


def _accreditations(provider: Provider) -> str:
    facts = []
    if provider.cqc_number:
        facts.append(f"Registered with the Care Quality Commission ({provider.cqc_number})")
    if provider.is_individual and provider.dbs_checked_on:
        facts.append(f"DBS checked on {provider.dbs_checked_on:%-d %B %Y}")
    if provider.is_verified and provider.verified_at:
        facts.append(
            f"Verified by the commissioner on {timezone.localdate(provider.verified_at):%-d %B %Y}"
        )
    return ". ".join(facts)


def _assured_date(provider: Provider) -> str | None:
    if provider.is_verified and provider.verified_at:
        return timezone.localdate(provider.verified_at).isoformat()
    return None


# Taxonomies (the category vocabulary)


def taxonomy_term(category: Category) -> JSON:
    taxonomy = category.taxonomy
    return compact(
        id=str(category.uuid),
        name=category.name,
        description=category.description or category.name,
        parent_id=str(category.parent.uuid) if category.parent_id and category.parent else None,
        taxonomy=taxonomy.uri or taxonomy.name,
        taxonomy_id=str(taxonomy.uuid),
        term=category.code,
    )


def taxonomy(value: Taxonomy, *, terms: list[Category] | None = None) -> JSON:
    return compact(
        id=str(value.uuid),
        name=value.name,
        description=value.description or value.name,
        uri=value.uri,
        version=value.version,
        taxonomy_terms=[taxonomy_term(term) for term in terms or []],
    )


# Locations


def location_flat(location: Location) -> JSON:
    return compact(
        id=str(location.uuid),
        location_type="physical",
        name=location.name,
        description=location.description,
        latitude=_number(location.latitude),
        longitude=_number(location.longitude),
    )


def location_full(location: Location) -> JSON:
    address = compact(
        id=derived_id(location.uuid, "address"),
        location_id=str(location.uuid),
        address_1=location.address_1,
        city=location.city,
        region=location.region,
        # Required by the standard; the UK's nearest is the county, else the town.
        state_province=location.region or location.city,
        postal_code=location.postcode,
        country="GB",
        address_type="physical",
    )
    accessibility = []
    if location.step_free:
        accessibility.append(
            {
                "id": derived_id(location.uuid, "accessibility:step-free"),
                "location_id": str(location.uuid),
                "description": "Step-free access",
            }
        )
    return {**location_flat(location), **compact(addresses=[address], accessibility=accessibility)}


# Services


def _cost_option(service: Service, option: CostOption) -> JSON:
    per = f"per {option.per}"
    return compact(
        id=str(option.uuid),
        service_id=str(service.uuid),
        option=option.description or per,
        amount=pounds(option.amount_pence),
        amount_description=f"{format_pence(option.amount_pence)} {per}",
    )


def _costs(service: Service) -> tuple[str, list[JSON]]:
    """The deprecated free-text ``fees`` and the structured ``cost_options``."""
    if service.is_free:
        free = {
            "id": derived_id(service.uuid, "cost:free"),
            "service_id": str(service.uuid),
            "option": "Free",
            "amount": 0,
            "amount_description": "Free of charge",
        }
        return "Free", [free]
    options = [_cost_option(service, option) for option in service.cost_options.all()]
    return "; ".join(option["amount_description"] for option in options), options


def _attending_type(service: Service) -> str:
    in_person = bool(service.postcode_districts) or bool(service.at_locations.all())
    if service.online and in_person:
        return "in person or online"
    return "online" if service.online else "in person"


def _schedule(service: Service, schedule: Schedule, attending: str) -> JSON:
    day = Weekday(schedule.weekday).label
    opens, closes = _clock(schedule.opens_at), _clock(schedule.closes_at)
    if opens and closes:
        when = f"{day}s, {opens} to {closes}"
    elif opens:
        when = f"{day}s, from {opens}"
    elif closes:
        when = f"{day}s, until {closes}"
    else:
        when = f"{day}s"
    return compact(
        id=str(schedule.uuid),
        service_id=str(service.uuid),
        freq="WEEKLY",
        byday=DAY_CODES[schedule.weekday],
        opens_at=opens,
        closes_at=closes,
        description=when,
        attending_type=attending,
        notes=schedule.note,
    )


def _service_areas(service: Service) -> list[JSON]:
    areas = [
        {
            "id": derived_id(service.uuid, f"service_area:{district}"),
            "service_id": str(service.uuid),
            "name": district,
            "service_area": f"Postcode district {district}",
        }
        for district in service.postcode_districts
    ]
    if service.online:
        areas.append(
            {
                "id": derived_id(service.uuid, "service_area:online"),
                "service_id": str(service.uuid),
                "name": "Online",
                "service_area": "Delivered online, wherever you live",
            }
        )
    return areas


def _languages(service: Service) -> list[JSON]:
    return [
        compact(
            id=derived_id(service.uuid, f"language:{code}"),
            service_id=str(service.uuid),
            name=LANGUAGE_NAMES.get(code) or LANG_INFO.get(code, {}).get("name"),
            code=code,
        )
        for code in service.languages
    ]


def _contacts(service: Service) -> list[JSON]:
    if not (service.contact_name or service.email or service.phone):
        return []
    contact_id = derived_id(service.uuid, "contact")
    phones = []
    if service.phone:
        phones.append(
            {
                "id": derived_id(service.uuid, "phone"),
                "contact_id": contact_id,
                "number": service.phone,
            }
        )
    return [
        compact(
            id=contact_id,
            service_id=str(service.uuid),
            name=service.contact_name,
            email=service.email,
            phones=phones,
        )
    ]


def _attributes(service: Service) -> list[JSON]:
    category = service.category
    return [
        {
            "id": derived_id(service.uuid, f"attribute:{category.uuid}"),
            "link_id": str(service.uuid),
            "taxonomy_term_id": str(category.uuid),
            "taxonomy_term": taxonomy_term(category),
        }
    ]


def _last_modified(service: Service) -> str:
    return _timestamp(max(service.updated_at, service.provider.updated_at))


def _service_fields(service: Service, fees: str) -> JSON:
    provider = service.provider
    return compact(
        id=str(service.uuid),
        organization_id=str(provider.uuid),
        name=service.title,
        description=service.description,
        url=service.url,
        email=service.email,
        status=STATUS[Service.Status(service.status)],
        fees=fees,
        accreditations=_accreditations(provider),
        minimum_age=service.minimum_age,
        maximum_age=service.maximum_age,
        assured_date=_assured_date(provider),
        last_modified=_last_modified(service),
    )


def service_flat(service: Service) -> JSON:
    """A list entry: the service's own fields and its organization's."""
    return {
        **_service_fields(service, _costs(service)[0]),
        "organization": organization_flat(service.provider),
    }


def service_at_location_nested(at: ServiceAtLocation) -> JSON:
    return {
        "id": str(at.uuid),
        "service_id": str(at.service.uuid),
        "location_id": str(at.location.uuid),
        "location": location_full(at.location),
    }


def service_full(service: Service, *, with_locations: bool = True) -> JSON:
    """The fully nested service (``/services/{id}``); without its locations when it is
    itself nested in a service_at_location."""
    fees, cost_options = _costs(service)
    attending = _attending_type(service)
    return {
        **_service_fields(service, fees),
        **compact(
            schedules=[_schedule(service, s, attending) for s in service.schedules.all()],
            service_areas=_service_areas(service),
            service_at_locations=(
                [service_at_location_nested(at) for at in service.at_locations.all()]
                if with_locations
                else []
            ),
            languages=_languages(service),
            organization=organization_full(service.provider),
            cost_options=cost_options,
            contacts=_contacts(service),
            attributes=_attributes(service),
        ),
    }


# Services at locations


def service_at_location_flat(at: ServiceAtLocation) -> JSON:
    return {
        "id": str(at.uuid),
        "service_id": str(at.service.uuid),
        "location_id": str(at.location.uuid),
        "location": location_flat(at.location),
        "service": service_flat(at.service),
    }


def service_at_location_full(at: ServiceAtLocation) -> JSON:
    return {
        **service_at_location_nested(at),
        "service": service_full(at.service, with_locations=False),
    }
