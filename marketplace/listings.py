"""Every write to the marketplace's listings: providers, their services and locations,
commissioners' verification of providers and their extensions of the category taxonomy.

Each function is one transaction, checks who is asking, and writes its audit event.
Errors: ``ValidationError`` for bad input (nothing changes; a dict keyed by field where
the problem is one field's), ``PermissionDenied`` for a caller without the right."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from budgets.models.holders import normalise_postcode, validate_postcode
from core.locks import sweep_lock
from core.services import audit_record, notification_send
from marketplace.models import (
    Category,
    CostOption,
    Location,
    Provider,
    ProviderKind,
    Schedule,
    Service,
    ServiceAtLocation,
    Taxonomy,
    Weekday,
)
from marketplace.models.listings import normalise_district, validate_district
from marketplace.permissions import (
    PROVIDER_ROLES,
    commissioner_organisation_ids,
    is_commissioner_for_provider,
    is_provider_staff,
    provider_staff,
)
from users.models import Membership, Organisation, Role

# "1-" and digits: the Care Quality Commission's provider and location IDs.
CQC_NUMBER_RE = re.compile(r"^1-[0-9]{4,12}$")
VERIFICATION_LONGEST_YEARS = 3
AREA_KINDS = frozenset({Organisation.Kind.ICB, Organisation.Kind.LOCAL_AUTHORITY})

# The regulated facts (Provider.REGULATED_FACTS) as people read them.
FACT_LABELS = {
    "name": "Name",
    "kind": "Kind of provider",
    "cqc_number": "CQC registration number",
    "dbs_checked_on": "Date of the latest DBS check",
    "insurer": "Insurance provider",
    "insurance_expires_on": "Insurance runs out",
    "user_led": "User-led",
    "not_for_profit": "Not-for-profit",
}

PROVIDER_FIELDS = (
    "name",
    "kind",
    "description",
    "email",
    "phone",
    "website",
    "postcode",
    "cqc_number",
    "dbs_checked_on",
    "insurer",
    "insurance_expires_on",
    "user_led",
    "not_for_profit",
    "listed",
)
SERVICE_FIELDS = (
    "title",
    "description",
    "category",
    "status",
    "is_free",
    "postcode_districts",
    "online",
    "minimum_age",
    "maximum_age",
    "eligibility",
    "languages",
    "contact_name",
    "email",
    "phone",
    "url",
)
LOCATION_FIELDS = (
    "name",
    "description",
    "address_1",
    "city",
    "region",
    "postcode",
    "latitude",
    "longitude",
    "step_free",
)

# ISO 639-1 (two letters), and the three-letter ISO 639-2/3 codes people in England ask
# for that have no two-letter code: sign languages, British Sign Language, Sylheti,
# Cantonese, Mandarin, Western Punjabi, Scots, Central Kurdish, Dari.
ISO_639_1 = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu
    cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi
    ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks
    ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl
    nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl
    sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve
    vi vo wa wo xh yi yo za zh zu""".split()  # noqa: SIM905 - a list of 183 codes reads best as text
)
ISO_639_EXTRA = frozenset({"sgn", "bfi", "syl", "yue", "cmn", "pnb", "sco", "ckb", "prs"})
LANGUAGE_CODES = ISO_639_1 | ISO_639_EXTRA


def _unknown(fields: dict[str, Any], allowed: Iterable[str]) -> None:
    extra = sorted(set(fields) - set(allowed))
    if extra:
        raise TypeError(f"Unknown fields: {', '.join(extra)}")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Category):
        return value.code
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _full_clean(obj: Any, errors: dict[str, list[str]], exclude: Iterable[str] = ()) -> None:
    """Our errors and the model's own, together: the person sees every problem at once."""
    try:
        obj.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            if field not in errors:  # ours say it better
                errors[field] = messages
    _raise(errors)


# Who is told -------------------------------------------------------------------------------


def _commissioners_of(provider: Provider) -> list[Any]:
    members = (
        Membership.objects.filter(organisation__in=provider.areas.all(), role=Role.COMMISSIONER)
        .select_related("user")
        .order_by("user_id")
    )
    return list({m.user_id: m.user for m in members}.values())


def _tell_commissioners(provider: Provider, subject: str, body: str) -> None:
    link = reverse("marketplace:provider_verify", args=[provider.pk])
    for user in _commissioners_of(provider):
        notification_send(user=user, subject=subject, body=body, link=link)


def _tell_provider_staff(provider: Provider, subject: str, body: str) -> None:
    link = reverse("marketplace:provider_edit", args=[provider.pk])
    for user in provider_staff(provider):
        notification_send(user=user, subject=subject, body=body, link=link)


# Providers -------------------------------------------------------------------------------


def _validate_provider(provider: Provider, errors: dict[str, list[str]]) -> None:
    today = timezone.localdate()
    provider.name = (provider.name or "").strip()
    provider.cqc_number = (provider.cqc_number or "").strip().upper()
    if provider.kind in ProviderKind.regulated() and not provider.cqc_number:
        errors.setdefault("cqc_number", []).append(
            "Enter the CQC registration number: registered care providers must have one"
        )
    elif provider.cqc_number and not CQC_NUMBER_RE.match(provider.cqc_number):
        errors.setdefault("cqc_number", []).append(
            "Enter the CQC registration number as it is on the register, like 1-123456789"
        )
    if provider.kind in ProviderKind.individuals() and provider.dbs_checked_on is None:
        errors.setdefault("dbs_checked_on", []).append(
            "Enter the date of the latest DBS check: personal assistants and Shared Lives "
            "carers must have one"
        )
    elif provider.dbs_checked_on is not None and provider.dbs_checked_on > today:
        errors.setdefault("dbs_checked_on", []).append(
            "The date of the DBS check must be today or in the past"
        )
    if provider.postcode:
        try:
            validate_postcode(provider.postcode)
        except ValidationError as error:
            errors.setdefault("postcode", []).extend(error.messages)
        else:
            provider.postcode = normalise_postcode(provider.postcode)


def _areas(areas: Iterable[Any] | None, errors: dict[str, list[str]]) -> list[Organisation]:
    ids = [getattr(a, "pk", a) for a in areas or []]
    found = list(Organisation.objects.filter(pk__in=ids))
    if len(found) != len(set(ids)) or any(o.kind not in AREA_KINDS for o in found):
        errors.setdefault("areas", []).append(
            "Choose only integrated care boards and councils as the areas you work in"
        )
    elif not found:
        errors.setdefault("areas", []).append(
            "Choose at least one integrated care board or council whose area you work in"
        )
    return found


def _may_create_for(user: Any, organisation: Organisation) -> bool:
    return Membership.objects.filter(
        user=user, organisation=organisation, role__in=PROVIDER_ROLES
    ).exists()


@transaction.atomic
def provider_save(
    *,
    saved_by: Any,
    provider: Provider | None = None,
    organisation: Organisation | None = None,
    areas: Iterable[Any] | None = None,
    **fields: Any,
) -> Provider:
    """Create a provider listing (``organisation``: a provider organisation the user is
    staff or admin of) or change one (``provider``: its staff only). New listings wait
    for a commissioner's verification. Changing any of ``Provider.REGULATED_FACTS`` on a
    verified or refused listing sends it back for verification; who verified it before is
    kept in the audit event. The commissioners of its areas are told either way.

    ``areas`` (ICBs and councils, or their ids) replaces the listing's areas when given;
    a new listing needs at least one. Raises ValidationError, PermissionDenied."""
    _unknown(fields, PROVIDER_FIELDS)
    errors: dict[str, list[str]] = {}
    creating = provider is None
    if provider is None:
        if organisation is None:
            raise ValidationError({"organisation": ["Choose the organisation that runs it"]})
        if not _may_create_for(saved_by, organisation):
            raise PermissionDenied
        if organisation.kind != Organisation.Kind.PROVIDER:
            raise ValidationError(
                {"organisation": ["Only a provider organisation can list support"]}
            )
        provider = Provider(organisation=organisation)
        before: dict[str, Any] = {}
    else:
        provider = Provider.objects.select_for_update().get(pk=provider.pk)
        if not is_provider_staff(saved_by, provider):
            raise PermissionDenied
        before = {name: getattr(provider, name) for name in PROVIDER_FIELDS}
    for name, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(provider, name, value)
    _validate_provider(provider, errors)
    new_areas = _areas(areas, errors) if (areas is not None or creating) else None
    _full_clean(provider, errors, exclude=["organisation"])

    changed = {
        name: [_jsonable(before.get(name)), _jsonable(getattr(provider, name))]
        for name in PROVIDER_FIELDS
        if creating or before[name] != getattr(provider, name)
    }
    regulated = [name for name in Provider.REGULATED_FACTS if name in changed]
    sent_back: dict[str, Any] = {}
    if creating:
        provider.verification = Provider.Verification.PENDING
    elif regulated and provider.verification in (
        Provider.Verification.VERIFIED,
        Provider.Verification.REFUSED,
    ):
        sent_back = {
            "verification": provider.verification,
            "verified_by": provider.verified_by_id,
            "verified_at": _jsonable(provider.verified_at),
            "expires_on": _jsonable(provider.verification_expires_on),
        }
        provider.verification = Provider.Verification.PENDING
        provider.verified_by = None
        provider.verified_at = None
        provider.verification_expires_on = None
        provider.verification_note = ""
    elif regulated and provider.verification == Provider.Verification.UNVERIFIED:
        provider.verification = Provider.Verification.PENDING
    provider.save()

    if new_areas is not None:
        old_ids = set() if creating else set(provider.areas.values_list("pk", flat=True))
        new_ids = {o.pk for o in new_areas}
        if old_ids != new_ids:
            provider.areas.set(new_areas)
            changed["areas"] = [sorted(old_ids), sorted(new_ids)]
    if not creating and ({"name", "kind"} & set(changed)):
        _refresh_keywords(provider)

    audit_changes: dict[str, Any] = {"fields": changed, "regulated": regulated}
    if sent_back:
        audit_changes["sent_back_for_verification"] = sent_back
    audit_record(
        actor=saved_by,
        action="provider.created" if creating else "provider.updated",
        obj=provider,
        organisation=provider.organisation,
        changes=audit_changes,
    )
    if creating:
        _tell_commissioners(
            provider,
            f"New listing to verify: {provider.name}",
            f"{provider.name} ({provider.get_kind_display()}) has listed in your area and is "
            "waiting for your verification.",
        )
    elif sent_back:
        _tell_commissioners(
            provider,
            f"Listing to verify again: {provider.name}",
            f"{provider.name} changed facts you checked ("
            + ", ".join(FACT_LABELS[n].lower() for n in regulated)
            + "). The listing is waiting for your verification again.",
        )
    return provider


# Services -------------------------------------------------------------------------------


def service_keywords(service: Service) -> str:
    """The words search finds a service by besides its title and description."""
    provider = service.provider
    category = service.category
    words = [provider.name, provider.get_kind_display(), category.name]
    if category.parent_id:
        words.append(category.parent.name)  # type: ignore[union-attr]
    if service.eligibility:
        words.append(service.eligibility)
    return " ".join(w.strip() for w in words if w and w.strip())


def _refresh_keywords(provider: Provider) -> None:
    for service in provider.services.select_related("category__parent", "provider"):
        keywords = service_keywords(service)
        if keywords != service.keywords:
            Service.objects.filter(pk=service.pk).update(keywords=keywords)


def _category(value: Any, provider: Provider, errors: dict[str, list[str]]) -> Category | None:
    pk = getattr(value, "pk", value)
    allowed = Category.objects.for_area(provider.areas.values("pk")).select_related("parent")
    category = allowed.filter(pk=pk).first() if pk not in (None, "") else None
    if category is None:
        errors.setdefault("category", []).append(
            "Choose a category from the list: a national one, or one added in your area"
        )
    return category


def _districts(values: Iterable[str], errors: dict[str, list[str]]) -> list[str]:
    districts: list[str] = []
    for value in values:
        try:
            validate_district(value)
        except ValidationError:
            errors.setdefault("postcode_districts", []).append(
                f"“{value}” is not a postcode district: enter the first half of a postcode, "
                "like LS1 or SW1A"
            )
            continue
        district = normalise_district(value)
        if district not in districts:
            districts.append(district)
    return districts


def _languages(values: Iterable[str], errors: dict[str, list[str]]) -> list[str]:
    languages: list[str] = []
    for value in values:
        code = (value or "").strip().lower()
        if code not in LANGUAGE_CODES:
            errors.setdefault("languages", []).append(
                f"“{value}” is not a language code: use ISO 639 codes, like en, cy, ur or pl "
                "(bfi for British Sign Language)"
            )
        elif code not in languages:
            languages.append(code)
    return languages


def _cost_options(options: list[dict[str, Any]], errors: dict[str, list[str]]) -> list[CostOption]:
    built: list[CostOption] = []
    for number, option in enumerate(options, start=1):
        amount = option.get("amount_pence")
        per = option.get("per")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            errors.setdefault("cost_options", []).append(
                f"Price {number}: the amount must be a whole number of pence more than 0"
            )
        if per not in CostOption.Per.values:
            errors.setdefault("cost_options", []).append(
                f"Price {number}: say whether it is per hour, session, week or item"
            )
        description = (option.get("description") or "").strip()
        if len(description) > 200:
            errors.setdefault("cost_options", []).append(
                f"Price {number}: keep the description to 200 characters or fewer"
            )
        built.append(CostOption(amount_pence=amount or 0, per=per or "", description=description))
    return built


def _schedules(rows: list[dict[str, Any]], errors: dict[str, list[str]]) -> list[Schedule]:
    built: list[Schedule] = []
    for number, row in enumerate(rows, start=1):
        weekday = row.get("weekday")
        opens, closes = row.get("opens_at"), row.get("closes_at")
        if isinstance(weekday, bool) or weekday not in Weekday.values:
            errors.setdefault("schedules", []).append(f"Time {number}: choose the day")
        for value in (opens, closes):
            if value is not None and not isinstance(value, datetime.time):
                errors.setdefault("schedules", []).append(f"Time {number}: enter times like 09:30")
                break
        else:
            if (opens is None) != (closes is None):
                errors.setdefault("schedules", []).append(
                    f"Time {number}: give both the opening and closing times, or neither"
                )
            elif opens is not None and closes is not None and closes <= opens:
                errors.setdefault("schedules", []).append(
                    f"Time {number}: the closing time must be after the opening time"
                )
        note = (row.get("note") or "").strip()
        if len(note) > 200:
            errors.setdefault("schedules", []).append(
                f"Time {number}: keep the note to 200 characters or fewer"
            )
        built.append(Schedule(weekday=weekday or 0, opens_at=opens, closes_at=closes, note=note))
    return built


@transaction.atomic
def service_save(
    *,
    saved_by: Any,
    provider: Provider,
    service: Service | None = None,
    cost_options: list[dict[str, Any]] | None = None,
    schedules: list[dict[str, Any]] | None = None,
    location_ids: Iterable[int] | None = None,
    **fields: Any,
) -> Service:
    """Create or change a service of ``provider`` (its staff only). ``cost_options``
    (dicts of ``amount_pence``, ``per``, ``description``), ``schedules`` (dicts of
    ``weekday``, ``opens_at``, ``closes_at``, ``note``) and ``location_ids`` replace what
    the service had when given. ``category`` is a Category or its id. Fills ``keywords``
    for full-text search. Raises ValidationError, PermissionDenied."""
    _unknown(fields, SERVICE_FIELDS)
    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    if not is_provider_staff(saved_by, provider):
        raise PermissionDenied
    creating = service is None
    if service is None:
        service = Service(provider=provider)
        before: dict[str, Any] = {}
    else:
        service = Service.objects.select_for_update().get(pk=service.pk)
        if service.provider_id != provider.pk:
            raise PermissionDenied
        before = {name: getattr(service, name) for name in SERVICE_FIELDS}
    errors: dict[str, list[str]] = {}
    for name, value in fields.items():
        if name == "category":
            continue
        if isinstance(value, str):
            value = value.strip()
        setattr(service, name, value)
    if "category" in fields or creating:
        category = _category(fields.get("category"), provider, errors)
        if category is not None:
            service.category = category
    if "postcode_districts" in fields:
        service.postcode_districts = _districts(fields["postcode_districts"] or [], errors)
    if "languages" in fields:
        service.languages = _languages(fields["languages"] or [], errors)
    if (
        service.minimum_age is not None
        and service.maximum_age is not None
        and service.maximum_age < service.minimum_age
    ):
        errors.setdefault("maximum_age", []).append(
            "The oldest age must be the same as or more than the youngest age"
        )
    for name in ("minimum_age", "maximum_age"):
        age = getattr(service, name)
        if age is not None and (isinstance(age, bool) or not isinstance(age, int) or age > 120):
            errors.setdefault(name, []).append("Enter an age in years, from 0 to 120")

    options = (
        _cost_options(cost_options, errors)
        if cost_options is not None
        else ([] if creating else list(service.cost_options.all()))
    )
    if service.is_free and options:
        errors.setdefault("cost_options", []).append(
            "A free service has no prices: remove them, or say it is not free"
        )
    elif not service.is_free and not options:
        errors.setdefault("cost_options", []).append(
            "Give at least one price, or say the service is free"
        )
    rows = _schedules(schedules, errors) if schedules is not None else None

    locations: list[Location] | None = None
    if location_ids is not None:
        ids = {int(pk) for pk in location_ids}
        locations = list(provider.locations.filter(pk__in=ids))
        if len(locations) != len(ids):
            errors.setdefault("locations", []).append("Choose from your own locations")
    has_locations = (
        bool(locations)
        if locations is not None
        else (not creating and service.at_locations.exists())
    )
    if not (service.postcode_districts or has_locations or service.online):
        errors.setdefault("postcode_districts", []).append(
            "Say where the service is: the postcode districts it covers, a location, or online"
        )
    _full_clean(service, errors, exclude=["provider", "category", "search_vector", "keywords"])

    service.keywords = service_keywords(service)
    service.save()
    changed = {
        name: [_jsonable(before.get(name)), _jsonable(getattr(service, name))]
        for name in SERVICE_FIELDS
        if creating or before[name] != getattr(service, name)
    }
    if cost_options is not None:
        old = (
            []
            if creating
            else [[o.amount_pence, o.per, o.description] for o in service.cost_options.all()]
        )
        service.cost_options.all().delete()
        for option in options:
            option.service = service
            option.save()
        new = [[o.amount_pence, o.per, o.description] for o in options]
        if old != new:
            changed["cost_options"] = [old, new]
    if rows is not None:
        old = (
            []
            if creating
            else [
                [s.weekday, _jsonable(s.opens_at), _jsonable(s.closes_at), s.note]
                for s in service.schedules.all()
            ]
        )
        service.schedules.all().delete()
        for row in rows:
            row.service = service
            row.save()
        new = [[s.weekday, _jsonable(s.opens_at), _jsonable(s.closes_at), s.note] for s in rows]
        if old != new:
            changed["schedules"] = [old, new]
    if locations is not None:
        old_ids = sorted(service.at_locations.values_list("location_id", flat=True))
        service.at_locations.exclude(location__in=locations).delete()
        for location in locations:
            ServiceAtLocation.objects.get_or_create(service=service, location=location)
        if old_ids != sorted(loc.pk for loc in locations):
            changed["locations"] = [old_ids, sorted(loc.pk for loc in locations)]
    audit_record(
        actor=saved_by,
        action="service.created" if creating else "service.updated",
        obj=service,
        organisation=provider.organisation,
        changes={"provider": provider.pk, "fields": changed},
    )
    return service


@transaction.atomic
def service_withdraw(*, service: Service, withdrawn_by: Any) -> Service:
    """Take a service out of search for good (its bookings stay). Withdrawing a
    withdrawn service changes nothing. Raises PermissionDenied."""
    service = Service.objects.select_for_update().select_related("provider").get(pk=service.pk)
    if not is_provider_staff(withdrawn_by, service.provider):
        raise PermissionDenied
    if service.status == Service.Status.WITHDRAWN:
        return service
    before = service.status
    service.status = Service.Status.WITHDRAWN
    service.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=withdrawn_by,
        action="service.withdrawn",
        obj=service,
        organisation=service.provider.organisation,
        changes={"provider": service.provider_id, "status": [before, service.status]},
    )
    return service


# Locations ------------------------------------------------------------------------------


@transaction.atomic
def location_save(
    *, saved_by: Any, provider: Provider, location: Location | None = None, **fields: Any
) -> Location:
    """Create or change a place where the provider delivers services (its staff only).
    Raises ValidationError, PermissionDenied."""
    _unknown(fields, LOCATION_FIELDS)
    if not is_provider_staff(saved_by, provider):
        raise PermissionDenied
    creating = location is None
    if location is None:
        location = Location(provider=provider)
        before: dict[str, Any] = {}
    else:
        location = Location.objects.select_for_update().get(pk=location.pk)
        if location.provider_id != provider.pk:
            raise PermissionDenied
        before = {name: getattr(location, name) for name in LOCATION_FIELDS}
    for name, value in fields.items():
        setattr(location, name, value.strip() if isinstance(value, str) else value)
    errors: dict[str, list[str]] = {}
    try:
        validate_postcode(location.postcode)
    except ValidationError as error:
        errors.setdefault("postcode", []).extend(error.messages)
    else:
        location.postcode = normalise_postcode(location.postcode)
    if (location.latitude is None) != (location.longitude is None):
        errors.setdefault("longitude", []).append(
            "Give both the latitude and longitude, or neither"
        )
    _full_clean(location, errors, exclude=["provider"])
    location.save()
    changed = {
        name: [_jsonable(before.get(name)), _jsonable(getattr(location, name))]
        for name in LOCATION_FIELDS
        if creating or before[name] != getattr(location, name)
    }
    audit_record(
        actor=saved_by,
        action="location.created" if creating else "location.updated",
        obj=location,
        organisation=provider.organisation,
        changes={"provider": provider.pk, "fields": changed},
    )
    return location


# Verification ---------------------------------------------------------------------------


def latest_expiry(today: datetime.date) -> datetime.date:
    try:
        return today.replace(year=today.year + VERIFICATION_LONGEST_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year + VERIFICATION_LONGEST_YEARS, day=28)


@transaction.atomic
def provider_verify(
    *,
    provider: Provider,
    verified_by: Any,
    decision: str,
    expires_on: datetime.date | None = None,
    note: str = "",
) -> Provider:
    """A commissioner of one of the provider's areas verifies the listing (until
    ``expires_on``: in the future, at most 3 years away) or refuses it (``note`` says
    why). The provider's staff are told. Raises ValidationError, PermissionDenied."""
    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    if not is_commissioner_for_provider(verified_by, provider):
        raise PermissionDenied
    note = (note or "").strip()
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    if decision == Provider.Verification.VERIFIED:
        if expires_on is None:
            errors["expires_on"] = ["Enter the date the verification runs out"]
        elif expires_on <= today:
            errors["expires_on"] = ["The date the verification runs out must be in the future"]
        elif expires_on > latest_expiry(today):
            errors["expires_on"] = [
                "The verification can last at most 3 years: choose a date on or before "
                f"{latest_expiry(today):%-d %B %Y}"
            ]
    elif decision == Provider.Verification.REFUSED:
        if not note:
            errors["note"] = ["Say why the listing is not verified: the provider is told"]
        expires_on = None
    else:
        errors["decision"] = ["Choose whether you verify the listing or not"]
    _raise(errors)
    before = provider.verification
    provider.verification = decision
    provider.verified_by = verified_by
    provider.verified_at = timezone.now()
    provider.verification_expires_on = expires_on
    provider.verification_note = note
    provider.save(
        update_fields=[
            "verification",
            "verified_by",
            "verified_at",
            "verification_expires_on",
            "verification_note",
            "updated_at",
        ]
    )
    audit_record(
        actor=verified_by,
        action=f"provider.{decision}",
        obj=provider,
        organisation=provider.organisation,
        changes={
            "verification": [before, decision],
            "expires_on": _jsonable(expires_on),
            "note": note,
            "facts": {
                name: _jsonable(getattr(provider, name)) for name in Provider.REGULATED_FACTS
            },
        },
    )
    if decision == Provider.Verification.VERIFIED:
        _tell_provider_staff(
            provider,
            f"{provider.name} is verified",
            f"A commissioner has verified your listing {provider.name} until "
            f"{expires_on:%-d %B %Y}. People searching for support will see it is verified.",
        )
    else:
        _tell_provider_staff(
            provider,
            f"{provider.name} is not verified",
            f"A commissioner has not verified your listing {provider.name}. They said: {note}",
        )
    return provider


def verification_expire_sweep(*, today: datetime.date | None = None) -> dict[str, Any] | None:
    """Verified listings whose verification ran out go back to pending, and their staff
    and commissioners are told. Returns what it did, or None if another sweep runs."""
    today = today or timezone.localdate()
    expired = 0
    with sweep_lock("marketplace.verification_expire_sweep") as acquired:
        if not acquired:
            return None
        due = Provider.objects.filter(
            verification=Provider.Verification.VERIFIED, verification_expires_on__lt=today
        ).order_by("pk")
        for provider in due:
            with transaction.atomic():
                previous = {
                    "verified_by": provider.verified_by_id,
                    "verified_at": _jsonable(provider.verified_at),
                    "expires_on": _jsonable(provider.verification_expires_on),
                }
                # Compare-and-set: a commissioner re-verifying at this moment wins.
                moved = Provider.objects.filter(
                    pk=provider.pk,
                    verification=Provider.Verification.VERIFIED,
                    verification_expires_on=provider.verification_expires_on,
                ).update(
                    verification=Provider.Verification.PENDING,
                    verified_by=None,
                    verified_at=None,
                    verification_expires_on=None,
                    updated_at=timezone.now(),
                )
                if not moved:
                    continue
                expired += 1
                audit_record(
                    actor=None,
                    action="provider.verification_expired",
                    obj=provider,
                    organisation=provider.organisation,
                    changes={"verification": ["verified", "pending"], "previous": previous},
                )
                _tell_provider_staff(
                    provider,
                    f"{provider.name}: verification has run out",
                    f"The verification of {provider.name} ran out on "
                    f"{provider.verification_expires_on:%-d %B %Y}. It is waiting for a "
                    "commissioner to check it again.",
                )
                _tell_commissioners(
                    provider,
                    f"Listing to verify again: {provider.name}",
                    f"The verification of {provider.name} ran out. It is waiting for your check.",
                )
    return {"expired": expired}


# Categories -----------------------------------------------------------------------------


@transaction.atomic
def category_add(
    *,
    organisation: Organisation,
    added_by: Any,
    name: str,
    description: str,
    parent: Category | None = None,
) -> Category:
    """A commissioner adds a category of their organisation's to the taxonomy (under a
    national one, or one of their own, if ``parent``). Its code is the name slugified,
    made unique. Raises ValidationError, PermissionDenied."""
    if organisation.pk not in commissioner_organisation_ids(added_by):
        raise PermissionDenied
    name = (name or "").strip()
    description = (description or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Enter the name of the category"]
    elif len(name) > 100:
        errors["name"] = ["Keep the name to 100 characters or fewer"]
    elif Category.objects.for_area([organisation.pk]).filter(name__iexact=name).exists():
        errors["name"] = [f"There is already a category called “{name}”"]
    elif not slugify(name):
        errors["name"] = ["Use letters or numbers in the name"]
    if not description:
        errors["description"] = ["Describe what the category is for"]
    if parent is not None and not (
        parent.organisation_id is None or parent.organisation_id == organisation.pk
    ):
        errors["parent"] = ["Choose a national category or one of your own"]
    _raise(errors)
    taxonomy = (
        parent.taxonomy
        if parent is not None
        else Taxonomy.objects.filter(terms__organisation__isnull=True).order_by("pk").first()
    )
    if taxonomy is None:  # pragma: no cover - migration 0002 seeds it
        raise ValidationError("There is no national taxonomy to extend")
    base = slugify(name)[:50].strip("-")
    code, number = base, 1
    while Category.objects.filter(taxonomy=taxonomy, code=code).exists():
        number += 1
        code = f"{base}-{number}"
    category = Category(
        taxonomy=taxonomy,
        code=code,
        name=name,
        description=description,
        parent=parent,
        organisation=organisation,
        created_by=added_by,
    )
    category.full_clean(validate_unique=False)
    category.save()
    audit_record(
        actor=added_by,
        action="category.added",
        obj=category,
        organisation=organisation,
        changes={"code": code, "name": name, "parent": getattr(parent, "code", None)},
    )
    return category
