"""The feed's query parameters, read and checked. Every bad value raises
``BadParameter`` naming the parameter, which the views answer with a 400; parameters
the feed does not know are ignored, as the standard lets a client send them."""

from __future__ import annotations

import datetime
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from budgets.models.holders import POSTCODE_RE, normalise_postcode
from marketplace.models.listings import DISTRICT_RE, normalise_district

DEFAULT_PER_PAGE = 50
# Larger pages are cut to this size (the envelope's ``size`` says how many came).
MAX_PER_PAGE = 200
MAX_AGE = 200
# 1,000 km covers the whole of the UK from anywhere in it.
MAX_PROXIMITY_METRES = 1_000_000

# RFC 5545 day codes, as the standard's schedules use them (``byday``), Monday first
# like ``marketplace.models.Weekday``.
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BadParameter(ValueError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


@dataclass(frozen=True)
class Paging:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE


@dataclass(frozen=True)
class Place:
    """Where a client asked about: a full postcode or just its district."""

    postcode: str  # normalised, "LS1 4AP"; empty when only a district was given
    district: str  # "LS1"


@dataclass(frozen=True)
class ServiceFilters:
    search: str = ""
    taxonomy_term_id: uuid.UUID | None = None
    taxonomy_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    minimum_age: Decimal | None = None
    maximum_age: Decimal | None = None
    start_time: datetime.time | None = None
    end_time: datetime.time | None = None
    day: int | None = None
    place: Place | None = None
    proximity_metres: float | None = None


def _value(params: Mapping[str, str], name: str) -> str:
    """The parameter's value, stripped; empty when missing or blank."""
    value = (params.get(name) or "").strip()
    if _CONTROL.search(value):
        raise BadParameter(name, "contains control characters")
    return value


def _integer(params: Mapping[str, str], name: str, default: int) -> int:
    value = _value(params, name)
    if not value:
        return default
    if not re.fullmatch(r"[+-]?\d{1,18}", value):
        raise BadParameter(name, f"must be a whole number, not “{value}”")
    number = int(value)
    if number < 1:
        raise BadParameter(name, "must be 1 or more")
    return number


def paging(params: Mapping[str, str]) -> Paging:
    page = _integer(params, "page", 1)
    per_page = min(_integer(params, "per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE)
    return Paging(page=page, per_page=per_page)


def uuid_param(params: Mapping[str, str], name: str) -> uuid.UUID | None:
    value = _value(params, name)
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise BadParameter(name, f"must be a UUID, not “{value}”") from None


def _number(params: Mapping[str, str], name: str) -> Decimal | None:
    value = _value(params, name)
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise BadParameter(name, f"must be a number, not “{value}”") from None
    if not number.is_finite():
        raise BadParameter(name, "must be a finite number")
    return number


def _age(params: Mapping[str, str], name: str) -> Decimal | None:
    age = _number(params, name)
    if age is not None and not 0 <= age <= MAX_AGE:
        raise BadParameter(name, f"must be an age in years, from 0 to {MAX_AGE}")
    return age


def _time(params: Mapping[str, str], name: str) -> datetime.time | None:
    """A time of day, HH:MM or HH:MM:SS. Schedules are in UK local time, so an offset
    or a "Z" is accepted and the clock time used as given."""
    value = _value(params, name)
    if not value:
        return None
    try:
        parsed = datetime.time.fromisoformat(value)
    except ValueError:
        raise BadParameter(name, f"must be a time like 09:30, not “{value}”") from None
    return parsed.replace(tzinfo=None)


def _day(params: Mapping[str, str], name: str) -> int | None:
    value = _value(params, name)
    if not value:
        return None
    key = value.lower()
    for index, (code, day_name) in enumerate(zip(DAY_CODES, DAY_NAMES, strict=True)):
        if key in (code.lower(), day_name):
            return index
    raise BadParameter(name, f"must be a day such as MO or Monday, not “{value}”")


def _place(params: Mapping[str, str], name: str) -> Place | None:
    value = _value(params, name)
    if not value:
        return None
    postcode = normalise_postcode(value)
    if POSTCODE_RE.match(postcode):
        return Place(postcode=postcode, district=postcode.split()[0])
    district = normalise_district(value)
    if DISTRICT_RE.match(district):
        return Place(postcode="", district=district)
    raise BadParameter(name, f"must be a UK postcode or postcode district, not “{value}”")


def _proximity(params: Mapping[str, str], name: str) -> float | None:
    metres = _number(params, name)
    if metres is None:
        return None
    if not 0 < metres <= MAX_PROXIMITY_METRES:
        raise BadParameter(
            name, f"must be a distance in metres, above 0 and up to {MAX_PROXIMITY_METRES}"
        )
    return float(metres)


def service_filters(params: Mapping[str, str], *, places: bool = False) -> ServiceFilters:
    """The filters of ``/services`` and (with ``places``) of ``/service_at_locations``,
    which alone takes ``postcode`` and ``proximity``."""
    # The standard names full-text search ``search``; ``text`` is its name in the
    # earlier Open Referral UK API, still sent by some clients.
    search = _value(params, "search") or _value(params, "text")
    filters = ServiceFilters(
        search=search[:200],
        taxonomy_term_id=uuid_param(params, "taxonomy_term_id"),
        taxonomy_id=uuid_param(params, "taxonomy_id"),
        organization_id=uuid_param(params, "organization_id"),
        minimum_age=_age(params, "minimum_age"),
        maximum_age=_age(params, "maximum_age"),
        start_time=_time(params, "start_time"),
        end_time=_time(params, "end_time"),
        day=_day(params, "day"),
        place=_place(params, "postcode") if places else None,
        proximity_metres=_proximity(params, "proximity") if places else None,
    )
    if filters.proximity_metres is not None and filters.place is None:
        raise BadParameter("proximity", "needs a postcode to measure from")
    return filters


def page_count(total: int, per_page: int) -> int:
    """Pages in a listing; an empty listing still has its one (empty) first page."""
    return max(1, math.ceil(total / per_page))
