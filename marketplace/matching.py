"""Shared Lives matching: the carers' and the people's profiles, a transparent ranking
of carers for a person, and matches from introduction to arrangement (or their end).

The score (0-100) is the sum of six parts, each with a reason in plain English:

- **needs** (35): the share of the person's support needs that the carer has
  experience of (their skills);
- **arrangements** (15): the share of the kinds of arrangement the person wants that
  the carer offers;
- **interests** (15): 5 points for each interest in common, up to three;
- **distance** (15): from postcodes only, as there is no geocoding here: the same
  postcode district 15, the same postcode area 8, otherwise 0;
- **languages** (10): all 10 when the household speaks at least one of the person's
  languages;
- **culture and faith** (10): the share of what the person named that the household
  shares.

A part with nothing recorded for the person scores 0 for every carer, and says so. A
share is rounded half up to whole points. Hard requirements are not scored: a carer who
fails one is left out of the ranking and listed, with why, for staff only.

Tags (interests, needs, skills, languages, culture and faith) match word for word once
normalised: lower case, trimmed, inner spaces single, each once.

Errors as in every service: ``ValidationError`` for bad input (nothing changes),
``PermissionDenied`` for a caller without the right, ``Conflict`` for a wrong state."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from budgets import services as budget_services
from budgets.models import BudgetHolder
from budgets.models.holders import normalise_postcode, validate_postcode
from budgets.permissions import roles_for_holder
from core.exceptions import Conflict
from core.services import audit_record, notification_send
from marketplace.models import (
    ArrangementKind,
    CarerProfile,
    Match,
    MatchStep,
    Provider,
    ProviderKind,
    SeekerProfile,
)
from marketplace.permissions import is_provider_staff, provider_staff
from plans.permissions import is_holder_side
from users.models import Role

TAG_MAX_LENGTH = 60
TAGS_MAX = 30
TEXT_MAX = 5000
PLACES_MAX = 10

WEIGHTS: dict[str, int] = {
    "needs": 35,
    "arrangements": 15,
    "interests": 15,
    "distance": 15,
    "languages": 10,
    "culture_faith": 10,
}
POINTS_PER_INTEREST = 5
SAME_DISTRICT_POINTS = 15
SAME_AREA_POINTS = 8

# Staff of the holder's ICB or council who propose matches and move them along.
MATCHING_ROLES = frozenset({Role.SUPPORT_PLANNER, Role.CARE_COORDINATOR})
# The moves a carer's own provider staff may make.
CARER_MOVES = frozenset({Match.State.TRIAL_VISITS, Match.State.ENDED})

TAG_FIELDS = ("interests", "needs", "skills", "culture_faith", "languages")


# Tags and postcodes ----------------------------------------------------------------------


def normalise_tags(values: Iterable[str] | str | None) -> list[str]:
    """Lower case, trimmed, inner spaces single, each once (first one kept), no blanks.
    A string is split at commas, as the pages take tags."""
    if values is None:
        return []
    if isinstance(values, str):
        values = values.split(",")
    seen: list[str] = []
    for value in values:
        tag = " ".join(str(value).split()).lower()
        if tag and tag not in seen:
            seen.append(tag)
    return seen


def _clean_tags(
    value: Iterable[str] | str | None, name: str, errors: dict[str, list[str]]
) -> list[str]:
    tags = normalise_tags(value)
    long = [t for t in tags if len(t) > TAG_MAX_LENGTH]
    if long:
        errors.setdefault(name, []).append(
            f"Keep each entry to {TAG_MAX_LENGTH} characters or fewer: separate entries with commas"
        )
    if len(tags) > TAGS_MAX:
        errors.setdefault(name, []).append(f"Enter {TAGS_MAX} entries or fewer")
    return tags


def postcode_district(postcode: str) -> str:
    """The outward code: "LS6" of "LS6 2AB"."""
    return normalise_postcode(postcode).split(" ")[0]


def postcode_area(postcode: str) -> str:
    """The letters the postcode starts with: "LS" of "LS6 2AB"."""
    match = re.match(r"[A-Z]+", normalise_postcode(postcode))
    return match.group(0) if match else ""


def _clean_postcode(value: str, errors: dict[str, list[str]]) -> str:
    postcode = normalise_postcode(value or "")
    try:
        validate_postcode(postcode)
    except ValidationError as error:
        errors.setdefault("postcode", []).extend(error.messages)
    return postcode


def _clean_arrangements(
    value: Iterable[str] | None, errors: dict[str, list[str]], *, who: str
) -> list[str]:
    kinds = list(dict.fromkeys(value or []))
    if not kinds:
        errors.setdefault("arrangements", []).append(
            f"Choose at least one kind of arrangement {who}"
        )
    elif any(k not in ArrangementKind.values for k in kinds):
        errors.setdefault("arrangements", []).append("Choose from the kinds of arrangement listed")
    # In the order the choices are listed, so the record reads the same however entered.
    return [k for k in ArrangementKind.values if k in kinds]


def _clean_text(value: str, name: str, errors: dict[str, list[str]]) -> str:
    text = (value or "").strip()
    if len(text) > TEXT_MAX:
        errors.setdefault(name, []).append(f"Keep it to {TEXT_MAX:,} characters or fewer")
    return text


def arrangement_label(kind: str) -> str:
    return str(ArrangementKind(kind).label).lower() if kind in ArrangementKind.values else kind


# Who may do what -------------------------------------------------------------------------


def can_edit_seeker_profile(user: Any, holder: BudgetHolder) -> bool:
    """The holder, a representative with the plan scope, or a support planner or care
    coordinator of the holder's ICB or council."""
    return is_holder_side(user, holder) or bool(roles_for_holder(user, holder) & MATCHING_ROLES)


def can_propose(user: Any, holder: BudgetHolder) -> bool:
    """Staff of the holder's organisations who arrange support: planners, coordinators."""
    return bool(roles_for_holder(user, holder) & MATCHING_ROLES)


def can_see_ranking(user: Any, holder: BudgetHolder) -> bool:
    """Any staff of the holder's ICB or council (the ranking shows carers' household
    facts and the carers left out, so never the holder's side)."""
    return bool(roles_for_holder(user, holder))


def moves_allowed(user: Any, match: Match) -> list[str]:
    """The states ``user`` may move ``match`` to from where it is now."""
    allowed = Match.TRANSITIONS[match.state]
    if can_propose(user, match.seeker.holder):
        return [s for s in Match.State.values if s in allowed]
    if is_provider_staff(user, match.carer.provider):
        return [s for s in Match.State.values if s in allowed and s in CARER_MOVES]
    return []


def _may_move_to(user: Any, match: Match, to_state: str) -> bool:
    if can_propose(user, match.seeker.holder):
        return True
    return to_state in CARER_MOVES and is_provider_staff(user, match.carer.provider)


# Profiles --------------------------------------------------------------------------------


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def carer_profile_save(
    *,
    provider: Provider,
    saved_by: Any,
    postcode: str,
    arrangements: Iterable[str],
    interests: Iterable[str] | str = (),
    skills: Iterable[str] | str = (),
    household: str = "",
    has_pets: bool = False,
    pets: str = "",
    smoking_household: bool = False,
    culture_faith: Iterable[str] | str = (),
    languages: Iterable[str] | str = (),
    step_free: bool = False,
    places: int = 1,
    travel_miles: int = 10,
    available: bool = True,
) -> CarerProfile:
    """Create or update the Shared Lives profile of a carer's listing. Raises
    PermissionDenied unless ``saved_by`` is staff of the provider's organisation;
    ValidationError for a listing that is not a Shared Lives carer, or bad values."""
    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    if not is_provider_staff(saved_by, provider):
        raise PermissionDenied
    if provider.kind != ProviderKind.SHARED_LIVES_CARER:
        raise ValidationError("Only a Shared Lives carer's listing has a Shared Lives profile.")
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {
        "postcode": _clean_postcode(postcode, errors),
        "arrangements": _clean_arrangements(arrangements, errors, who="you offer"),
        "interests": _clean_tags(interests, "interests", errors),
        "skills": _clean_tags(skills, "skills", errors),
        "household": _clean_text(household, "household", errors),
        "has_pets": bool(has_pets),
        "pets": (pets or "").strip() if has_pets else "",
        "smoking_household": bool(smoking_household),
        "culture_faith": _clean_tags(culture_faith, "culture_faith", errors),
        "languages": _clean_tags(languages, "languages", errors),
        "step_free": bool(step_free),
        "places": places,
        "travel_miles": travel_miles,
        "available": bool(available),
    }
    if len(values["pets"]) > 200:
        errors.setdefault("pets", []).append("Keep it to 200 characters or fewer")
    if not isinstance(places, int) or not 0 <= places <= PLACES_MAX:
        errors.setdefault("places", []).append(
            f"Enter how many people you can support, from 0 to {PLACES_MAX}"
        )
    if not isinstance(travel_miles, int) or not 0 <= travel_miles <= 200:
        errors.setdefault("travel_miles", []).append(
            "Enter how far you travel, from 0 to 200 miles"
        )
    _raise(errors)
    profile = CarerProfile.objects.filter(provider=provider).first()
    creating = profile is None
    if profile is None:
        profile = CarerProfile(provider=provider)
    changed = sorted(k for k, v in values.items() if creating or getattr(profile, k) != v)
    for name, value in values.items():
        setattr(profile, name, value)
    profile.full_clean()
    profile.save()
    audit_record(
        actor=saved_by,
        action="shared_lives.carer_profile_saved",
        obj=profile,
        organisation=provider.organisation,
        changes={"provider": provider.pk, "created": creating, "fields": changed},
    )
    return profile


@transaction.atomic
def seeker_profile_save(
    *,
    holder: BudgetHolder,
    saved_by: Any,
    postcode: str,
    arrangements: Iterable[str],
    interests: Iterable[str] | str = (),
    needs: Iterable[str] | str = (),
    about: str = "",
    pets_ok: bool = True,
    needs_smoke_free: bool = False,
    needs_step_free: bool = False,
    culture_faith: Iterable[str] | str = (),
    languages: Iterable[str] | str = (),
) -> SeekerProfile:
    """Create or update the Shared Lives profile of a person. Raises PermissionDenied
    unless ``saved_by`` may edit it (``can_edit_seeker_profile``); ValidationError for
    bad values."""
    holder = BudgetHolder.objects.select_for_update().get(pk=holder.pk)
    if not can_edit_seeker_profile(saved_by, holder):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {
        "postcode": _clean_postcode(postcode, errors),
        "arrangements": _clean_arrangements(arrangements, errors, who="the person wants"),
        "interests": _clean_tags(interests, "interests", errors),
        "needs": _clean_tags(needs, "needs", errors),
        "about": _clean_text(about, "about", errors),
        "pets_ok": bool(pets_ok),
        "needs_smoke_free": bool(needs_smoke_free),
        "needs_step_free": bool(needs_step_free),
        "culture_faith": _clean_tags(culture_faith, "culture_faith", errors),
        "languages": _clean_tags(languages, "languages", errors),
    }
    _raise(errors)
    profile = SeekerProfile.objects.filter(holder=holder).first()
    creating = profile is None
    if profile is None:
        profile = SeekerProfile(holder=holder, created_by=saved_by)
    changed = sorted(k for k, v in values.items() if creating or getattr(profile, k) != v)
    for name, value in values.items():
        setattr(profile, name, value)
    profile.full_clean()
    profile.save()
    audit_record(
        actor=saved_by,
        action="shared_lives.seeker_profile_saved",
        obj=profile,
        organisation=holder.organisation,
        person=holder,
        acting_for=holder if holder.user_id != getattr(saved_by, "pk", None) else None,
        changes={"created": creating, "fields": changed},
    )
    return profile


# Ranking ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One part of a score: its points out of its weight, and why."""

    name: str
    points: int
    out_of: int
    reason: str


@dataclass
class Ranked:
    carer: CarerProfile
    score: int
    parts: list[Part]
    in_common: list[str]  # the kinds of arrangement both want, in choice order
    open_match: Match | None = None

    @property
    def reasons(self) -> list[str]:
        return [part.reason for part in self.parts]

    @property
    def name(self) -> str:
        return self.carer.provider.name


@dataclass
class Excluded:
    """A carer left out of the ranking, and why (for staff only)."""

    carer: CarerProfile
    reasons: list[str]

    @property
    def name(self) -> str:
        return self.carer.provider.name


class Ranking(list[Ranked]):
    """The ranked carers, best first; ``excluded`` holds those left out and why."""

    def __init__(self, ranked: Iterable[Ranked] = (), excluded: Iterable[Excluded] = ()) -> None:
        super().__init__(ranked)
        self.excluded: list[Excluded] = list(excluded)


def _share(weight: int, have: int, of: int) -> int:
    """``weight * have / of`` rounded half up, in whole points (no floats)."""
    return (2 * weight * have + of) // (2 * of) if of else 0


def _listing(items: Sequence[str]) -> str:
    return ", ".join(items)


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def hard_requirements_failed(seeker: SeekerProfile, carer: CarerProfile) -> list[str]:
    """Why the carer cannot be matched with the person at all (empty when they can)."""
    failed = []
    if not set(seeker.arrangements) & set(carer.arrangements):
        wanted = _listing([arrangement_label(k) for k in seeker.arrangements])
        failed.append(f"Offers none of the kinds of arrangement wanted ({wanted})")
    if seeker.needs_smoke_free and carer.smoking_household:
        failed.append("The household smokes and the person needs a smoke-free home")
    if not seeker.pets_ok and carer.has_pets:
        pets = f" ({carer.pets})" if carer.pets else ""
        failed.append(f"Has pets{pets} and the person is not happy to live with pets")
    if seeker.needs_step_free and not carer.step_free:
        failed.append("The home is not step-free and the person needs a step-free home")
    return failed


def _needs(seeker: SeekerProfile, carer: CarerProfile) -> Part:
    weight = WEIGHTS["needs"]
    needs = list(seeker.needs)
    if not needs:
        return Part("needs", 0, weight, "No support needs recorded for the person to compare")
    covered = [n for n in needs if n in carer.skills]
    missing = [n for n in needs if n not in carer.skills]
    total = len(needs)
    noun = _plural(total, "need", "needs")
    if not missing:
        reason = (
            f"Has experience of the need: {covered[0]}"
            if total == 1
            else f"Has experience of all {total} needs: {_listing(covered)}"
        )
    elif not covered:
        reason = f"Has experience of none of the {total} {noun} (not: {_listing(missing)})"
    else:
        reason = (
            f"Has experience of {len(covered)} of {total} {noun}: {_listing(covered)} "
            f"(not: {_listing(missing)})"
        )
    return Part("needs", _share(weight, len(covered), total), weight, reason)


def _arrangements(seeker: SeekerProfile, carer: CarerProfile) -> Part:
    weight = WEIGHTS["arrangements"]
    wanted = list(seeker.arrangements)
    offered = [arrangement_label(k) for k in wanted if k in carer.arrangements]
    missing = [arrangement_label(k) for k in wanted if k not in carer.arrangements]
    total = len(wanted)
    if not missing:
        reason = (
            f"Offers the kind of arrangement wanted: {offered[0]}"
            if total == 1
            else f"Offers all {total} kinds of arrangement wanted: {_listing(offered)}"
        )
    else:
        reason = (
            f"Offers {len(offered)} of {total} kinds of arrangement wanted: "
            f"{_listing(offered)} (not: {_listing(missing)})"
        )
    return Part("arrangements", _share(weight, len(offered), total), weight, reason)


def _interests(seeker: SeekerProfile, carer: CarerProfile) -> Part:
    weight = WEIGHTS["interests"]
    if not seeker.interests:
        return Part("interests", 0, weight, "No interests recorded for the person to compare")
    shared = [i for i in seeker.interests if i in carer.interests]
    if not shared:
        return Part("interests", 0, weight, "Shares none of the person's interests")
    points = min(weight, POINTS_PER_INTEREST * len(shared))
    noun = _plural(len(shared), "interest", "interests")
    return Part("interests", points, weight, f"Shares {len(shared)} {noun}: {_listing(shared)}")


def _distance(seeker: SeekerProfile, carer: CarerProfile) -> Part:
    weight = WEIGHTS["distance"]
    mine, theirs = postcode_district(seeker.postcode), postcode_district(carer.postcode)
    if mine == theirs:
        return Part("distance", SAME_DISTRICT_POINTS, weight, f"Same postcode district ({mine})")
    area = postcode_area(seeker.postcode)
    if area == postcode_area(carer.postcode):
        return Part(
            "distance",
            SAME_AREA_POINTS,
            weight,
            f"Same postcode area ({area}), different district ({theirs}; the person is in {mine})",
        )
    return Part(
        "distance",
        0,
        weight,
        f"Different postcode area ({postcode_area(carer.postcode)}; the person is in {area})",
    )


def _languages(seeker: SeekerProfile, carer: CarerProfile) -> Part:
    weight = WEIGHTS["languages"]
    if not seeker.languages:
        return Part("languages", 0, weight, "No languages recorded for the person to compare")
    shared = [lang for lang in seeker.languages if lang in carer.languages]
    if not shared:
        return Part(
            "languages",
            0,
            weight,
            f"Speaks none of the person's languages (not: {_listing(seeker.languages)})",
        )
    noun = _plural(len(shared), "language", "languages")
    return Part(
        "languages", weight, weight, f"Speaks {len(shared)} {noun} in common: {_listing(shared)}"
    )


def _culture_faith(seeker: SeekerProfile, carer: CarerProfile) -> Part:
    weight = WEIGHTS["culture_faith"]
    named = list(seeker.culture_faith)
    if not named:
        return Part(
            "culture_faith", 0, weight, "No culture or faith recorded for the person to compare"
        )
    shared = [c for c in named if c in carer.culture_faith]
    missing = [c for c in named if c not in carer.culture_faith]
    if not shared:
        reason = f"Shares none of the person's culture and faith (not: {_listing(missing)})"
    elif not missing:
        reason = f"Shares the person's culture and faith: {_listing(shared)}"
    else:
        reason = (
            f"Shares {len(shared)} of {len(named)} on culture and faith: {_listing(shared)} "
            f"(not: {_listing(missing)})"
        )
    return Part("culture_faith", _share(weight, len(shared), len(named)), weight, reason)


PARTS = (_needs, _arrangements, _interests, _distance, _languages, _culture_faith)


def score_carer(seeker: SeekerProfile, carer: CarerProfile) -> Ranked | Excluded:
    """The carer's score for the person with its reasons, or why they are left out."""
    failed = hard_requirements_failed(seeker, carer)
    if failed:
        return Excluded(carer=carer, reasons=failed)
    parts = [part(seeker, carer) for part in PARTS]
    in_common = [k for k in seeker.arrangements if k in carer.arrangements]
    return Ranked(carer=carer, score=sum(p.points for p in parts), parts=parts, in_common=in_common)


def _places_in_use() -> Any:
    return Count("matches", filter=Q(matches__state=Match.State.ARRANGEMENT))


def _in_use(carer: CarerProfile) -> int:
    """Places taken, as annotated by ``market_carers``."""
    return int(getattr(carer, "in_use", 0))


def _unavailable(carer: CarerProfile, in_use: int) -> str:
    if not carer.available:
        return "Not taking new arrangements at the moment"
    if in_use >= carer.places:
        return f"No places free ({in_use} of {carer.places} in use)"
    return ""


def market_carers(holder: BudgetHolder) -> Any:
    """Listed Shared Lives carers in the market of the holder's ICB or council, each
    with ``in_use``: their places taken by arrangements in place."""
    areas = [pk for pk in (holder.organisation_id, holder.council_id) if pk]
    providers = Provider.objects.listed().filter(
        kind=ProviderKind.SHARED_LIVES_CARER, areas__in=areas
    )
    return (
        CarerProfile.objects.filter(provider__in=providers.values("pk"))
        .select_related("provider")
        .annotate(in_use=_places_in_use())
    )


def rank_carers(seeker: SeekerProfile, *, limit: int = 20) -> Ranking:
    """Every available carer with a free place in the person's area, scored, best
    first (ties by name), at most ``limit``; ``.excluded`` lists the carers left out
    and why: a hard requirement, or no place or availability."""
    ranked: list[Ranked] = []
    excluded: list[Excluded] = []
    open_matches = {
        m.carer_id: m for m in Match.objects.filter(seeker=seeker).exclude(state=Match.State.ENDED)
    }
    for carer in market_carers(seeker.holder).order_by("provider__name", "pk"):
        result = score_carer(seeker, carer)
        why_not = _unavailable(carer, _in_use(carer))
        if why_not:
            reasons = [why_not] + (result.reasons if isinstance(result, Excluded) else [])
            excluded.append(Excluded(carer=carer, reasons=reasons))
        elif isinstance(result, Excluded):
            excluded.append(result)
        else:
            result.open_match = open_matches.get(carer.pk)
            ranked.append(result)
    ranked.sort(key=lambda r: (-r.score, r.carer.provider.name.lower(), r.carer.pk))
    return Ranking(ranked[:limit], excluded)


# Matches ---------------------------------------------------------------------------------


def _match_link(match: Match) -> str:
    return reverse("marketplace:match_detail", args=[match.pk])


def _notify(match: Match, *, holder_subject: str, carer_subject: str, body: str, skip: Any) -> None:
    """The holder's side, then the carer's provider staff and the proposer (except
    ``skip``, who made the change)."""
    link = _match_link(match)
    budget_services.holder_notify(match.seeker.holder, subject=holder_subject, body=body, link=link)
    told = {getattr(skip, "pk", None)}
    for person in [*provider_staff(match.carer.provider), match.proposed_by]:
        if person.pk not in told:
            told.add(person.pk)
            notification_send(user=person, subject=carer_subject, body=body, link=link)


def _audit_match(match: Match, actor: Any, action: str, **changes: Any) -> None:
    holder = match.seeker.holder
    audit_record(
        actor=actor,
        action=action,
        obj=match,
        organisation=holder.organisation,
        person=holder,
        changes=changes,
    )


@transaction.atomic
def match_propose(
    *,
    seeker: SeekerProfile,
    carer: CarerProfile,
    arrangement: str,
    proposed_by: Any,
    note: str = "",
) -> Match:
    """Propose a match: it starts at introduction, with the score and reasons of the
    moment kept on it and a first step recorded. The holder's side and the carer's
    provider staff are told.

    Raises PermissionDenied unless ``proposed_by`` is a support planner or care
    coordinator of the holder's ICB or council; ValidationError for a carer outside
    the person's area, a hard requirement the carer fails, or an arrangement they do
    not both want; Conflict when the carer is not available, has no place free, or
    the two already have an open match."""
    seeker = SeekerProfile.objects.select_related("holder").get(pk=seeker.pk)
    if not can_propose(proposed_by, seeker.holder):
        raise PermissionDenied
    # Locking the carer serialises proposals and moves that use their places.
    CarerProfile.objects.select_for_update().filter(pk=carer.pk).first()
    found = market_carers(seeker.holder).filter(pk=carer.pk).first()
    if found is None:
        raise ValidationError(
            {"carer": "This carer is not listed in the person's area, so cannot be matched"}
        )
    carer = found
    result = score_carer(seeker, carer)
    if isinstance(result, Excluded):
        raise ValidationError({"carer": result.reasons})
    if arrangement not in result.in_common:
        both = _listing([arrangement_label(k) for k in result.in_common])
        raise ValidationError({"arrangement": f"Choose an arrangement both want: {both}"})
    why_not = _unavailable(carer, _in_use(carer))
    if why_not:
        raise Conflict(f"{carer.provider.name}: {why_not[0].lower()}{why_not[1:]}.")
    note = (note or "").strip()
    if len(note) > TEXT_MAX:
        raise ValidationError({"note": f"Keep the note to {TEXT_MAX:,} characters or fewer"})
    existing = Match.objects.filter(seeker=seeker, carer=carer).exclude(state=Match.State.ENDED)
    if existing.exists():
        raise Conflict(
            f"{seeker.holder.name} and {carer.provider.name} already have an open match: "
            "end it before proposing another."
        )
    match = Match(
        seeker=seeker,
        carer=carer,
        arrangement=arrangement,
        score=result.score,
        reasons=result.reasons,
        proposed_by=proposed_by,
    )
    match.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            match.save()
    except IntegrityError:
        # Two proposals at once: the database's one-open-match constraint decides.
        raise Conflict(
            f"{seeker.holder.name} and {carer.provider.name} already have an open match."
        ) from None
    MatchStep.objects.create(
        match=match,
        from_state="",
        to_state=Match.State.INTRODUCTION,
        note=note,
        happened_on=timezone.localdate(),
        recorded_by=proposed_by,
    )
    _audit_match(
        match,
        proposed_by,
        "shared_lives.match_proposed",
        carer=carer.pk,
        arrangement=arrangement,
        score=result.score,
    )
    label = arrangement_label(arrangement)
    _notify(
        match,
        holder_subject=f"Shared Lives: an introduction to {carer.provider.name}",
        carer_subject=f"Shared Lives: an introduction to {seeker.holder.name}",
        body=(
            f"{proposed_by} proposed a Shared Lives match ({label}) between "
            f"{seeker.holder.name} and {carer.provider.name}. The next step is to meet."
        ),
        skip=proposed_by,
    )
    return match


def _state_label(state: str) -> str:
    return str(Match.State(state).label).lower()


def _refusal(match: Match, to_state: str) -> str:
    current = _state_label(match.state)
    if match.state == Match.State.ENDED:
        return "This match has ended: it cannot move any more."
    if match.state == to_state:
        return f"This match is already at {current}."
    onward = [_state_label(s) for s in Match.State.values if s in Match.TRANSITIONS[match.state]]
    return (
        f"This match is at {current}: it can move only to {' or '.join(onward)}, "
        f"not to {_state_label(to_state)}."
    )


@transaction.atomic
def match_move(
    *,
    match: Match,
    to_state: str,
    note: str = "",
    happened_on: datetime.date | None = None,
    moved_by: Any,
) -> Match:
    """Move a match along (introduction -> trial visits -> arrangement) or end it,
    recording the step (when it happened and a note) and auditing it.

    Raises ValidationError for an unknown state, a date in the future or before the
    last step, or an ending without a note; PermissionDenied unless ``moved_by`` is
    a planner or coordinator of the holder's ICB or council, or (for trial visits and
    ending) staff of the carer's provider; Conflict for a move the match's state does
    not allow, or an arrangement when the carer has no place free."""
    if to_state not in Match.State.values:
        raise ValidationError({"to_state": "Choose what happens next."})
    match = (
        Match.objects.select_for_update(of=("self",))
        .select_related("seeker__holder", "carer__provider", "proposed_by")
        .get(pk=match.pk)
    )
    if not _may_move_to(moved_by, match, to_state):
        raise PermissionDenied
    if to_state not in Match.TRANSITIONS[match.state]:
        raise Conflict(_refusal(match, to_state))
    today = timezone.localdate()
    happened_on = happened_on or today
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if to_state == Match.State.ENDED and not note:
        errors["note"] = ["Say why the match is ending"]
    if len(note) > TEXT_MAX:
        errors.setdefault("note", []).append(f"Keep the note to {TEXT_MAX:,} characters or fewer")
    if happened_on > today:
        errors["happened_on"] = ["The date must be today or in the past"]
    last = match.steps.order_by("-happened_on").first()
    if last is not None and happened_on < last.happened_on:
        errors.setdefault("happened_on", []).append(
            f"The date must be on or after the last step ({last.happened_on:%-d %B %Y})"
        )
    _raise(errors)
    if to_state == Match.State.ARRANGEMENT:
        carer = CarerProfile.objects.select_for_update().get(pk=match.carer_id)
        in_use = Match.objects.filter(carer=carer, state=Match.State.ARRANGEMENT).count()
        if in_use >= carer.places:
            raise Conflict(
                f"{match.carer.provider.name} has no place free ({in_use} of "
                f"{carer.places} in use): end another arrangement or add a place first."
            )
    from_state = match.state
    updated = Match.objects.filter(pk=match.pk, state=from_state).update(state=to_state)
    if updated != 1:  # the row is locked above, so this is a guard, not a path
        raise Conflict("This match changed while you were looking at it: try again.")
    match.state = to_state
    step = MatchStep.objects.create(
        match=match,
        from_state=from_state,
        to_state=to_state,
        note=note,
        happened_on=happened_on,
        recorded_by=moved_by,
    )
    _audit_match(
        match,
        moved_by,
        "shared_lives.match_moved",
        from_state=from_state,
        to_state=to_state,
        step=step.pk,
        happened_on=happened_on.isoformat(),
    )
    holder, carer_name = match.seeker.holder, match.carer.provider.name
    what = {
        Match.State.TRIAL_VISITS: "moved on to trial visits",
        Match.State.ARRANGEMENT: "is now an arrangement in place",
        Match.State.ENDED: "has ended",
    }[Match.State(to_state)]
    _notify(
        match,
        holder_subject=f"Shared Lives: your match with {carer_name} {what}",
        carer_subject=f"Shared Lives: the match with {holder.name} {what}",
        body=f"The Shared Lives match between {holder.name} and {carer_name} {what}."
        + (f" Note: {note[:300]}" if note else ""),
        skip=moved_by,
    )
    return match
