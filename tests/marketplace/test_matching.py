"""Shared Lives matching (marketplace/matching.py) and its pages: exact scores and
reasons on hand-built profiles, the order, each hard requirement leaving a carer out,
every move of a match and every refused one, who may do what, steps and audit events,
and the pages' permissions."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from core.exceptions import Conflict
from core.models import AuditEvent, Notification
from marketplace import matching
from marketplace.models import (
    ArrangementKind,
    CarerProfile,
    Match,
    MatchStep,
    ProviderKind,
    SeekerProfile,
)
from marketplace.permissions import provider_staff
from tests.conftest import World, staff_user
from tests.factories import BudgetHolderFactory, OrganisationFactory, RepresentationFactory
from tests.marketplace.factories import ProviderFactory
from users.models import Organisation, Representation, Role

SHORT = ArrangementKind.SHORT_BREAKS
DAY = ArrangementKind.DAY_SUPPORT
LIVE_IN = ArrangementKind.LIVE_IN
S = Match.State


# Builders ----------------------------------------------------------------------------------


def make_carer(
    world: World, name: str, *, areas: list[Any] | None = None, listed: bool = True, **profile: Any
) -> CarerProfile:
    """A Shared Lives carer run by a new provider organisation (its own staff member
    saves the profile), in org X's market unless ``areas`` says otherwise."""
    provider = ProviderFactory(
        name=name,
        kind=ProviderKind.SHARED_LIVES_CARER,
        areas=areas if areas is not None else [world.org_x],
        listed=listed,
    )
    staff = staff_user(provider.organisation, Role.PROVIDER_STAFF)
    values: dict[str, Any] = {
        "postcode": "LS6 2AB",
        "arrangements": [SHORT],
        "step_free": True,
        **profile,
    }
    return matching.carer_profile_save(provider=provider, saved_by=staff, **values)


def staff_of(carer: CarerProfile) -> Any:
    return provider_staff(carer.provider)[0]


def known_seeker(world: World, **changes: Any) -> SeekerProfile:
    values: dict[str, Any] = {
        "postcode": "LS6 1AA",
        "arrangements": [SHORT, DAY],
        "needs": "autism, epilepsy, diabetes",
        "interests": "gardening, music, cooking, football",
        "languages": "English, Urdu",
        "culture_faith": "Muslim, halal food",
        "pets_ok": False,
        "needs_smoke_free": True,
        "needs_step_free": True,
        **changes,
    }
    return matching.seeker_profile_save(holder=world.holder_a, saved_by=world.staff_x, **values)


def ash(world: World) -> CarerProfile:
    return make_carer(
        world,
        "Ash Carer",
        postcode="LS6 2AB",
        arrangements=[SHORT, DAY],
        skills="autism, epilepsy, personal care",
        interests="gardening, music, cooking",
        languages="English",
        culture_faith="Muslim, halal food",
    )


def bea(world: World) -> CarerProfile:
    return make_carer(
        world,
        "Bea Carer",
        postcode="LS12 3CD",
        arrangements=[DAY, LIVE_IN],
        skills="Autism, epilepsy, diabetes",
        interests="football",
        languages="Urdu, English",
    )


def cal_like(world: World, name: str) -> CarerProfile:
    return make_carer(
        world,
        name,
        postcode="BD1 1AA",
        arrangements=[SHORT],
        languages="Polish",
        culture_faith="Muslim",
    )


@pytest.fixture
def planner(world: World) -> Any:
    return staff_user(world.org_x, Role.SUPPORT_PLANNER)


# Tags --------------------------------------------------------------------------------------


def test_tags_are_lowercased_trimmed_and_each_kept_once() -> None:
    assert matching.normalise_tags("  Gardening , MUSIC,gardening,,  Music  , Art  club") == [
        "gardening",
        "music",
        "art club",
    ]
    assert matching.normalise_tags(["Autism", " autism ", "EPILEPSY"]) == ["autism", "epilepsy"]
    assert matching.normalise_tags(None) == []


def test_saved_profiles_keep_normalised_tags(world: World) -> None:
    carer = make_carer(world, "Tag Carer", skills="Autism, AUTISM , Epilepsy", interests=" ")
    carer.refresh_from_db()
    assert carer.skills == ["autism", "epilepsy"]
    assert carer.interests == []
    seeker = known_seeker(world, needs=["Autism ", "autism", "Diabetes"])
    seeker.refresh_from_db()
    assert seeker.needs == ["autism", "diabetes"]
    assert seeker.arrangements == [SHORT, DAY]


# Scores and reasons on known profiles ------------------------------------------------------


def test_scores_and_reasons_on_known_profiles(world: World) -> None:
    seeker = known_seeker(world)
    ash(world)
    bea(world)
    cal_like(world, "Cy Carer")  # made first: ties go by name, not by age
    cal_like(world, "Cal Carer")

    ranking = matching.rank_carers(seeker)

    assert [(r.name, r.score) for r in ranking] == [
        ("Ash Carer", 88),
        ("Bea Carer", 66),
        ("Cal Carer", 13),
        ("Cy Carer", 13),
    ]
    by_name = {r.name: r for r in ranking}
    assert by_name["Ash Carer"].reasons == [
        "Has experience of 2 of 3 needs: autism, epilepsy (not: diabetes)",
        "Offers all 2 kinds of arrangement wanted: short breaks, day support",
        "Shares 3 interests: gardening, music, cooking",
        "Same postcode district (LS6)",
        "Speaks 1 language in common: english",
        "Shares the person's culture and faith: muslim, halal food",
    ]
    assert [p.points for p in by_name["Ash Carer"].parts] == [23, 15, 15, 15, 10, 10]
    assert by_name["Bea Carer"].reasons == [
        "Has experience of all 3 needs: autism, epilepsy, diabetes",
        "Offers 1 of 2 kinds of arrangement wanted: day support (not: short breaks)",
        "Shares 1 interest: football",
        "Same postcode area (LS), different district (LS12; the person is in LS6)",
        "Speaks 2 languages in common: english, urdu",
        "Shares none of the person's culture and faith (not: muslim, halal food)",
    ]
    assert [p.points for p in by_name["Bea Carer"].parts] == [35, 8, 5, 8, 10, 0]
    assert by_name["Cal Carer"].reasons == [
        "Has experience of none of the 3 needs (not: autism, epilepsy, diabetes)",
        "Offers 1 of 2 kinds of arrangement wanted: short breaks (not: day support)",
        "Shares none of the person's interests",
        "Different postcode area (BD; the person is in LS)",
        "Speaks none of the person's languages (not: english, urdu)",
        "Shares 1 of 2 on culture and faith: muslim (not: halal food)",
    ]
    assert [p.points for p in by_name["Cal Carer"].parts] == [0, 8, 0, 0, 0, 5]
    assert by_name["Bea Carer"].in_common == [DAY]
    assert ranking.excluded == []


def test_interests_give_five_points_each_up_to_fifteen(world: World) -> None:
    seeker = known_seeker(world, interests="gardening, music, cooking, football")
    make_carer(world, "Four Interests", interests="football, cooking, music, gardening")
    [ranked] = matching.rank_carers(seeker)
    interests = ranked.parts[2]
    assert (interests.points, interests.out_of) == (15, 15)
    # In the person's order, whatever the carer's.
    assert interests.reason == "Shares 4 interests: gardening, music, cooking, football"


def test_a_profile_with_nothing_recorded_scores_nothing_for_that_part_and_says_so(
    world: World,
) -> None:
    seeker = known_seeker(
        world, needs="", interests="", languages="", culture_faith="", arrangements=[SHORT]
    )
    make_carer(world, "Any Carer", skills="autism", interests="music", languages="english")
    [ranked] = matching.rank_carers(seeker)
    assert ranked.score == 30
    assert ranked.reasons == [
        "No support needs recorded for the person to compare",
        "Offers the kind of arrangement wanted: short breaks",
        "No interests recorded for the person to compare",
        "Same postcode district (LS6)",
        "No languages recorded for the person to compare",
        "No culture or faith recorded for the person to compare",
    ]


@pytest.mark.parametrize(
    ("carer_facts", "reason"),
    [
        (
            {"arrangements": [LIVE_IN]},
            "Offers none of the kinds of arrangement wanted (short breaks, day support)",
        ),
        (
            {"smoking_household": True},
            "The household smokes and the person needs a smoke-free home",
        ),
        (
            {"has_pets": True, "pets": "a dog"},
            "Has pets (a dog) and the person is not happy to live with pets",
        ),
        ({"has_pets": True}, "Has pets and the person is not happy to live with pets"),
        (
            {"step_free": False},
            "The home is not step-free and the person needs a step-free home",
        ),
    ],
)
def test_each_hard_requirement_leaves_the_carer_out_with_its_reason(
    world: World, carer_facts: dict[str, Any], reason: str
) -> None:
    seeker = known_seeker(world)
    ash(world)
    make_carer(world, "Left Out", **carer_facts)
    ranking = matching.rank_carers(seeker)
    assert [r.name for r in ranking] == ["Ash Carer"]
    assert [(e.name, e.reasons) for e in ranking.excluded] == [("Left Out", [reason])]


def test_hard_requirements_hold_only_when_the_person_needs_them(world: World) -> None:
    seeker = known_seeker(world, pets_ok=True, needs_smoke_free=False, needs_step_free=False)
    make_carer(world, "Pets And Smoke", has_pets=True, smoking_household=True, step_free=False)
    ranking = matching.rank_carers(seeker)
    assert [r.name for r in ranking] == ["Pets And Smoke"]


def test_every_failed_requirement_is_listed(world: World) -> None:
    seeker = known_seeker(world)
    make_carer(world, "Two Reasons", smoking_household=True, step_free=False)
    assert matching.rank_carers(seeker).excluded[0].reasons == [
        "The household smokes and the person needs a smoke-free home",
        "The home is not step-free and the person needs a step-free home",
    ]


def test_carers_without_a_free_place_or_not_taking_people_are_left_out(
    world: World, planner: Any
) -> None:
    seeker = known_seeker(world)
    make_carer(world, "Away Carer", available=False)
    full = make_carer(world, "Full Carer", places=1)
    make_carer(world, "No Places", places=0)
    other = BudgetHolderFactory(organisation=world.org_x)
    other_seeker = matching.seeker_profile_save(
        holder=other, saved_by=planner, postcode="LS6 1AA", arrangements=[SHORT]
    )
    match = matching.match_propose(
        seeker=other_seeker, carer=full, arrangement=SHORT, proposed_by=planner
    )
    matching.match_move(match=match, to_state=S.TRIAL_VISITS, moved_by=planner)
    matching.match_move(match=match, to_state=S.ARRANGEMENT, moved_by=planner)

    ranking = matching.rank_carers(seeker)
    assert list(ranking) == []
    assert [(e.name, e.reasons) for e in ranking.excluded] == [
        ("Away Carer", ["Not taking new arrangements at the moment"]),
        ("Full Carer", ["No places free (1 of 1 in use)"]),
        ("No Places", ["No places free (0 of 0 in use)"]),
    ]


def test_only_listed_carers_in_the_persons_area_are_ranked(world: World) -> None:
    seeker = known_seeker(world)
    ash(world)
    make_carer(world, "Elsewhere", areas=[world.org_y])
    make_carer(world, "Withdrawn", listed=False)
    council = OrganisationFactory(kind=Organisation.Kind.LOCAL_AUTHORITY)
    make_carer(world, "Council Carer", areas=[council])
    ranking = matching.rank_carers(seeker)
    assert [r.name for r in ranking] == ["Ash Carer"]
    assert ranking.excluded == []
    # An integrated budget: the council's market is the person's too.
    world.holder_a.council = council
    world.holder_a.save()
    seeker.refresh_from_db()
    assert [r.name for r in matching.rank_carers(seeker)] == ["Ash Carer", "Council Carer"]


def test_the_limit_keeps_the_best(world: World) -> None:
    seeker = known_seeker(world)
    ash(world)
    bea(world)
    cal_like(world, "Cal Carer")
    assert [r.name for r in matching.rank_carers(seeker, limit=2)] == ["Ash Carer", "Bea Carer"]


# Profiles: who may save them, and bad input --------------------------------------------------


def test_provider_staff_save_their_carer_profile_and_others_may_not(world: World) -> None:
    provider = ProviderFactory(
        organisation=world.provider_org, kind=ProviderKind.SHARED_LIVES_CARER, areas=[world.org_x]
    )
    values = {"postcode": "ls6 2ab", "arrangements": [SHORT]}
    for stranger in (world.staff_x, world.commissioner, world.holder_a.user):
        with pytest.raises(PermissionDenied):
            matching.carer_profile_save(provider=provider, saved_by=stranger, **values)
    profile = matching.carer_profile_save(
        provider=provider, saved_by=world.provider_staff, **values
    )
    assert profile.postcode == "LS6 2AB"
    event = AuditEvent.objects.get(action="shared_lives.carer_profile_saved")
    assert event.actor == world.provider_staff
    assert event.changes["created"] is True


def test_only_shared_lives_carers_have_a_carer_profile(world: World) -> None:
    provider = ProviderFactory(organisation=world.provider_org, kind=ProviderKind.MICRO_ENTERPRISE)
    with pytest.raises(ValidationError, match="Only a Shared Lives carer"):
        matching.carer_profile_save(
            provider=provider,
            saved_by=world.provider_staff,
            postcode="LS6 2AB",
            arrangements=[SHORT],
        )
    assert not CarerProfile.objects.exists()


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"postcode": "nowhere"}, "postcode", "Enter a real postcode, like LS1 4AP"),
        ({"arrangements": []}, "arrangements", "Choose at least one kind of arrangement you offer"),
        ({"arrangements": ["boarding"]}, "arrangements", "Choose from the kinds of arrangement"),
        ({"skills": "x" * 61}, "skills", "Keep each entry to 60 characters or fewer"),
        ({"places": 11}, "places", "Enter how many people you can support, from 0 to 10"),
    ],
)
def test_bad_carer_profiles_are_refused_and_nothing_is_saved(
    world: World, values: dict[str, Any], field: str, message: str
) -> None:
    provider = ProviderFactory(
        organisation=world.provider_org, kind=ProviderKind.SHARED_LIVES_CARER
    )
    good = {"postcode": "LS6 2AB", "arrangements": [SHORT]}
    with pytest.raises(ValidationError) as raised:
        matching.carer_profile_save(
            provider=provider, saved_by=world.provider_staff, **{**good, **values}
        )
    assert message in " ".join(raised.value.message_dict[field])
    assert not CarerProfile.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="shared_lives.").exists()


def test_who_may_save_a_persons_profile(world: World, planner: Any) -> None:
    holder = world.holder_a
    values = {"postcode": "LS6 1AA", "arrangements": [SHORT]}
    plan_rep = RepresentationFactory(
        holder=holder, recorded_by=world.staff_x, scopes=[Representation.Scope.MANAGE_PLAN]
    ).representative
    allowed = [holder.user, plan_rep, planner, world.staff_x]
    refused = [
        world.representative,  # may only view
        world.commissioner,
        world.finance_officer,
        staff_user(world.org_x, Role.CLINICIAN),
        world.staff_y,  # a care coordinator at another ICB
        world.provider_staff,
        world.holder_b.user,
    ]
    for user in refused:
        with pytest.raises(PermissionDenied):
            matching.seeker_profile_save(holder=holder, saved_by=user, **values)
    assert not SeekerProfile.objects.exists()
    for user in allowed:
        matching.seeker_profile_save(holder=holder, saved_by=user, **values)
    profile = SeekerProfile.objects.get()
    assert profile.created_by == holder.user
    assert AuditEvent.objects.filter(
        action="shared_lives.seeker_profile_saved", person=holder
    ).count() == len(allowed)


def test_a_bad_persons_profile_is_refused_and_nothing_is_saved(world: World) -> None:
    with pytest.raises(ValidationError) as raised:
        matching.seeker_profile_save(
            holder=world.holder_a, saved_by=world.staff_x, postcode="LS6", arrangements=[]
        )
    assert set(raised.value.message_dict) == {"postcode", "arrangements"}
    assert not SeekerProfile.objects.exists()


# Proposing matches -------------------------------------------------------------------------


def test_proposing_records_the_score_reasons_first_step_audit_and_tells_both_sides(
    world: World, planner: Any
) -> None:
    seeker = known_seeker(world)
    carer = ash(world)
    carer_staff = staff_of(carer)
    match = matching.match_propose(seeker=seeker, carer=carer, arrangement=DAY, proposed_by=planner)
    assert (match.state, match.arrangement, match.score) == (S.INTRODUCTION, DAY, 88)
    assert match.reasons[0] == "Has experience of 2 of 3 needs: autism, epilepsy (not: diabetes)"
    [step] = match.steps.all()
    assert (step.from_state, step.to_state, step.recorded_by) == ("", S.INTRODUCTION, planner)
    assert step.happened_on == timezone.localdate()
    event = AuditEvent.objects.get(action="shared_lives.match_proposed")
    assert (event.actor, event.person, event.object_id) == (planner, world.holder_a, str(match.pk))
    assert event.changes == {"carer": carer.pk, "arrangement": DAY, "score": 88}
    link = reverse("marketplace:match_detail", args=[match.pk])
    told = Notification.objects.filter(link=link)
    assert {n.user for n in told} == {world.holder_a.user, world.representative, carer_staff}
    assert told.get(user=world.holder_a.user).subject == (
        "Shared Lives: an introduction to Ash Carer"
    )


def test_the_score_kept_on_a_match_is_the_one_when_proposed(world: World, planner: Any) -> None:
    seeker = known_seeker(world)
    carer = ash(world)
    match = matching.match_propose(seeker=seeker, carer=carer, arrangement=DAY, proposed_by=planner)
    changed = known_seeker(world, needs="autism")
    match.refresh_from_db()
    assert match.score == 88
    assert matching.rank_carers(changed)[0].score == 100


def test_one_open_match_per_person_and_carer(world: World, planner: Any) -> None:
    seeker, carer = known_seeker(world), ash(world)
    match = matching.match_propose(seeker=seeker, carer=carer, arrangement=DAY, proposed_by=planner)
    with pytest.raises(Conflict, match="already have an open match"):
        matching.match_propose(seeker=seeker, carer=carer, arrangement=SHORT, proposed_by=planner)
    assert Match.objects.count() == 1
    # Once it has ended, they may be matched again.
    matching.match_move(match=match, to_state=S.ENDED, note="Not the right time", moved_by=planner)
    again = matching.match_propose(
        seeker=seeker, carer=carer, arrangement=SHORT, proposed_by=planner
    )
    assert again.pk != match.pk
    # The ranking links the open match instead of offering another.
    assert matching.rank_carers(seeker)[0].open_match == again


def test_who_may_propose(world: World, planner: Any) -> None:
    seeker, carer = known_seeker(world), ash(world)
    refused = [
        world.staff_y,  # another ICB's care coordinator
        staff_of(carer),  # the carer's own staff
        world.commissioner,
        world.finance_officer,
        world.holder_a.user,
        world.representative,
    ]
    for user in refused:
        with pytest.raises(PermissionDenied):
            matching.match_propose(seeker=seeker, carer=carer, arrangement=DAY, proposed_by=user)
    assert not Match.objects.exists()
    assert matching.match_propose(seeker=seeker, carer=carer, arrangement=DAY, proposed_by=planner)
    other = bea(world)
    assert matching.match_propose(
        seeker=seeker, carer=other, arrangement=DAY, proposed_by=world.staff_x
    )


def test_a_carer_left_out_cannot_be_proposed(world: World, planner: Any) -> None:
    seeker = known_seeker(world)
    smoker = make_carer(world, "Smoker", smoking_household=True)
    with pytest.raises(ValidationError) as raised:
        matching.match_propose(seeker=seeker, carer=smoker, arrangement=SHORT, proposed_by=planner)
    assert raised.value.message_dict["carer"] == [
        "The household smokes and the person needs a smoke-free home"
    ]
    elsewhere = make_carer(world, "Elsewhere", areas=[world.org_y])
    with pytest.raises(ValidationError, match="not listed in the person's area"):
        matching.match_propose(
            seeker=seeker, carer=elsewhere, arrangement=SHORT, proposed_by=planner
        )
    away = make_carer(world, "Away", available=False)
    with pytest.raises(Conflict, match="Away: not taking new arrangements at the moment"):
        matching.match_propose(seeker=seeker, carer=away, arrangement=SHORT, proposed_by=planner)
    assert not Match.objects.exists()


def test_the_arrangement_must_be_one_both_want(world: World, planner: Any) -> None:
    seeker, carer = known_seeker(world), bea(world)
    with pytest.raises(ValidationError) as raised:
        matching.match_propose(seeker=seeker, carer=carer, arrangement=SHORT, proposed_by=planner)
    assert raised.value.message_dict["arrangement"] == [
        "Choose an arrangement both want: day support"
    ]
    assert not Match.objects.exists()


# Moving matches ------------------------------------------------------------------------------

ROUTES = {
    S.INTRODUCTION: [],
    S.TRIAL_VISITS: [S.TRIAL_VISITS],
    S.ARRANGEMENT: [S.TRIAL_VISITS, S.ARRANGEMENT],
    S.ENDED: [S.ENDED],
}


def match_at(world: World, planner: Any, state: str) -> Match:
    match = matching.match_propose(
        seeker=known_seeker(world), carer=ash(world), arrangement=DAY, proposed_by=planner
    )
    for step in ROUTES[S(state)]:
        match = matching.match_move(match=match, to_state=step, note="On we go", moved_by=planner)
    assert match.state == state
    return match


ALLOWED = [(a, b) for a in S.values for b in S.values if b in Match.TRANSITIONS[a]]
REFUSED = [(a, b) for a in S.values for b in S.values if b not in Match.TRANSITIONS[a]]


def test_the_moves_are_exactly_these() -> None:
    assert sorted(ALLOWED) == sorted(
        [
            (S.INTRODUCTION, S.TRIAL_VISITS),
            (S.INTRODUCTION, S.ENDED),
            (S.TRIAL_VISITS, S.ARRANGEMENT),
            (S.TRIAL_VISITS, S.ENDED),
            (S.ARRANGEMENT, S.ENDED),
        ]
    )


@pytest.mark.parametrize(("from_state", "to_state"), ALLOWED)
def test_each_allowed_move_is_made_recorded_and_audited(
    world: World, planner: Any, from_state: str, to_state: str
) -> None:
    match = match_at(world, planner, from_state)
    steps = match.steps.count()
    day = timezone.localdate()
    moved = matching.match_move(
        match=match, to_state=to_state, note="Met at the cafe", happened_on=day, moved_by=planner
    )
    assert moved.state == to_state
    assert Match.objects.get(pk=match.pk).state == to_state
    step = match.steps.order_by("-id").first()
    assert match.steps.count() == steps + 1
    assert step is not None
    assert (step.from_state, step.to_state, step.note, step.happened_on, step.recorded_by) == (
        from_state,
        to_state,
        "Met at the cafe",
        day,
        planner,
    )
    event = AuditEvent.objects.filter(action="shared_lives.match_moved").latest("id")
    assert event.changes["from_state"] == from_state
    assert event.changes["to_state"] == to_state
    assert event.changes["step"] == step.pk
    assert (event.actor, event.person) == (planner, world.holder_a)


@pytest.mark.parametrize(("from_state", "to_state"), REFUSED)
def test_each_disallowed_move_is_a_conflict_and_changes_nothing(
    world: World, planner: Any, from_state: str, to_state: str
) -> None:
    match = match_at(world, planner, from_state)
    steps, events = match.steps.count(), AuditEvent.objects.count()
    with pytest.raises(Conflict) as raised:
        matching.match_move(match=match, to_state=to_state, note="Try", moved_by=planner)
    if from_state == S.ENDED:
        expected = "This match has ended: it cannot move any more."
    elif from_state == to_state:
        expected = f"This match is already at {S(from_state).label.lower()}."
    else:
        onward = " or ".join(
            str(S(s).label).lower() for s in S.values if s in Match.TRANSITIONS[from_state]
        )
        expected = (
            f"This match is at {S(from_state).label.lower()}: it can move only to {onward}, "
            f"not to {S(to_state).label.lower()}."
        )
    assert raised.value.message == expected
    assert Match.objects.get(pk=match.pk).state == from_state
    assert (match.steps.count(), AuditEvent.objects.count()) == (steps, events)


def test_a_refusal_reads_plainly(world: World, planner: Any) -> None:
    match = match_at(world, planner, S.INTRODUCTION)
    with pytest.raises(Conflict) as raised:
        matching.match_move(match=match, to_state=S.ARRANGEMENT, moved_by=planner)
    assert raised.value.message == (
        "This match is at introduction: it can move only to trial visits or ended, "
        "not to arrangement in place."
    )


def test_who_may_move_a_match(world: World, planner: Any) -> None:
    match = match_at(world, planner, S.INTRODUCTION)
    carer_staff = staff_of(match.carer)
    for stranger in (
        world.staff_y,
        world.commissioner,
        world.holder_a.user,
        world.representative,
        world.provider_staff,  # staff of another provider
    ):
        with pytest.raises(PermissionDenied):
            matching.match_move(match=match, to_state=S.TRIAL_VISITS, moved_by=stranger)
    # The carer's staff start trial visits and may end a match, but not set it up.
    matching.match_move(match=match, to_state=S.TRIAL_VISITS, moved_by=carer_staff)
    with pytest.raises(PermissionDenied):
        matching.match_move(match=match, to_state=S.ARRANGEMENT, moved_by=carer_staff)
    matching.match_move(match=match, to_state=S.ARRANGEMENT, moved_by=world.staff_x)
    matching.match_move(match=match, to_state=S.ENDED, note="Moved away", moved_by=carer_staff)
    match.refresh_from_db()
    assert match.state == S.ENDED
    assert [s.recorded_by for s in match.steps.all()] == [
        planner,
        carer_staff,
        world.staff_x,
        carer_staff,
    ]


def test_ending_needs_a_note_and_dates_cannot_be_in_the_future_or_go_back(
    world: World, planner: Any
) -> None:
    match = match_at(world, planner, S.INTRODUCTION)
    today = timezone.localdate()
    with pytest.raises(ValidationError) as raised:
        matching.match_move(match=match, to_state=S.ENDED, note="  ", moved_by=planner)
    assert raised.value.message_dict["note"] == ["Say why the match is ending"]
    with pytest.raises(ValidationError) as raised:
        matching.match_move(
            match=match,
            to_state=S.TRIAL_VISITS,
            happened_on=today + datetime.timedelta(days=1),
            moved_by=planner,
        )
    assert raised.value.message_dict["happened_on"] == ["The date must be today or in the past"]
    with pytest.raises(ValidationError, match="on or after the last step"):
        matching.match_move(
            match=match,
            to_state=S.TRIAL_VISITS,
            happened_on=today - datetime.timedelta(days=1),
            moved_by=planner,
        )
    match.refresh_from_db()
    assert match.state == S.INTRODUCTION
    assert MatchStep.objects.filter(match=match).count() == 1


def test_an_arrangement_needs_a_free_place(world: World, planner: Any) -> None:
    carer = make_carer(world, "One Place", places=1)
    first = matching.match_propose(
        seeker=known_seeker(world), carer=carer, arrangement=SHORT, proposed_by=planner
    )
    other = matching.seeker_profile_save(
        holder=BudgetHolderFactory(organisation=world.org_x),
        saved_by=planner,
        postcode="LS6 1AA",
        arrangements=[SHORT],
    )
    second = matching.match_propose(
        seeker=other, carer=carer, arrangement=SHORT, proposed_by=planner
    )
    for match in (first, second):
        matching.match_move(match=match, to_state=S.TRIAL_VISITS, moved_by=planner)
    matching.match_move(match=first, to_state=S.ARRANGEMENT, moved_by=planner)
    with pytest.raises(Conflict, match=r"One Place has no place free \(1 of 1 in use\)"):
        matching.match_move(match=second, to_state=S.ARRANGEMENT, moved_by=planner)
    second.refresh_from_db()
    assert second.state == S.TRIAL_VISITS


def test_moving_tells_the_other_side(world: World, planner: Any) -> None:
    match = match_at(world, planner, S.INTRODUCTION)
    carer_staff = staff_of(match.carer)
    Notification.objects.all().delete()
    matching.match_move(match=match, to_state=S.TRIAL_VISITS, moved_by=carer_staff)
    told = {n.user: n.subject for n in Notification.objects.all()}
    assert told == {
        world.holder_a.user: "Shared Lives: your match with Ash Carer moved on to trial visits",
        world.representative: "Shared Lives: your match with Ash Carer moved on to trial visits",
        planner: f"Shared Lives: the match with {world.holder_a.name} moved on to trial visits",
    }


# Pages -------------------------------------------------------------------------------------------


def test_another_holders_profile_is_not_found(world: World, client_for: Any) -> None:
    known_seeker(world)
    url = reverse("marketplace:seeker_profile", args=[world.holder_a.pk])
    for stranger in (world.holder_b.user, world.staff_y, world.provider_staff):
        assert client_for(stranger).get(url).status_code == 404
    assert client_for(world.holder_a.user).get(url).status_code == 200


def test_the_holder_saves_their_profile_from_the_page(world: World, client_for: Any) -> None:
    client = client_for(world.holder_a.user)
    url = reverse("marketplace:seeker_profile", args=[world.holder_a.pk])
    page = client.get(url)
    assert "Save the profile" in page.content.decode()
    data = {
        "postcode": "ls6 1aa",
        "arrangements": [SHORT],
        "needs": "Autism,  epilepsy, autism",
        "interests": "Music",
        "pets_ok": "yes",
        "needs_smoke_free": "no",
        "needs_step_free": "no",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    profile = SeekerProfile.objects.get(holder=world.holder_a)
    assert (profile.postcode, profile.needs, profile.interests) == (
        "LS6 1AA",
        ["autism", "epilepsy"],
        ["music"],
    )
    assert profile.pets_ok is True
    assert profile.needs_smoke_free is False
    # Errors come back on the page and nothing changes.
    response = client.post(url, {**data, "postcode": "", "arrangements": []})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Enter a postcode, like LS6 2AB" in body
    assert "Choose at least one kind of arrangement the person wants" in body
    assert SeekerProfile.objects.get(holder=world.holder_a).postcode == "LS6 1AA"


def test_someone_who_may_only_view_sees_the_profile_but_cannot_change_it(
    world: World, client_for: Any
) -> None:
    known_seeker(world)
    url = reverse("marketplace:seeker_profile", args=[world.holder_a.pk])
    client = client_for(world.representative)  # view scope only
    body = client.get(url).content.decode()
    assert "Save the profile" not in body
    assert "autism, epilepsy, diabetes" in body
    assert client.post(url, {"postcode": "LS1 1AA"}).status_code == 403


def test_the_ranking_page_is_for_the_holders_staff(
    world: World, client_for: Any, planner: Any
) -> None:
    known_seeker(world)
    ash(world)
    make_carer(world, "Smoker", smoking_household=True)
    url = reverse("marketplace:seeker_matches", args=[world.holder_a.pk])
    assert client_for(world.holder_a.user).get(url).status_code == 403
    assert client_for(world.representative).get(url).status_code == 403
    assert client_for(world.staff_y).get(url).status_code == 404
    body = client_for(planner).get(url).content.decode()
    assert "1. Ash Carer" in body
    assert "88 out of 100" in body
    assert "Has experience of 2 of 3 needs: autism, epilepsy (not: diabetes)" in body
    assert "Same postcode district (LS6)" in body
    assert "Carers left out" in body
    assert "The household smokes and the person needs a smoke-free home" in body
    assert "Propose a match with Ash Carer" in body
    # A commissioner sees the ranking but cannot propose.
    commissioner_page = client_for(world.commissioner).get(url).content.decode()
    assert "88 out of 100" in commissioner_page
    assert "Propose a match" not in commissioner_page


def test_proposing_and_moving_from_the_pages(world: World, client_for: Any, planner: Any) -> None:
    known_seeker(world)
    carer = ash(world)
    client = client_for(planner)
    url = reverse("marketplace:seeker_matches", args=[world.holder_a.pk])
    data = {"carer": carer.pk, "arrangement": DAY}
    assert client_for(world.commissioner).post(url, data).status_code == 403
    response = client.post(url, data)
    match = Match.objects.get()
    detail = reverse("marketplace:match_detail", args=[match.pk])
    assert response["Location"] == detail
    # A second press: nothing new, and a clear message.
    again = client.post(url, data, follow=True)
    assert Match.objects.count() == 1
    assert "already have an open match" in again.content.decode()

    carer_client = client_for(staff_of(carer))
    page = carer_client.get(detail).content.decode()
    assert "Start trial visits" in page
    assert "The arrangement is in place" not in page
    response = carer_client.post(detail, {"to_state": S.TRIAL_VISITS, "note": "First visit"})
    assert response.status_code == 302
    match.refresh_from_db()
    assert match.state == S.TRIAL_VISITS
    # The same move again is refused with the service's message.
    response = carer_client.post(detail, {"to_state": S.TRIAL_VISITS}, follow=True)
    assert "Nothing was changed. This match is already at trial visits." in (
        response.content.decode()
    )
    # Ending without a note: the error is on the page.
    response = carer_client.post(detail, {"to_state": S.ENDED, "note": ""})
    assert response.status_code == 200
    assert "Say why the match is ending" in response.content.decode()
    match.refresh_from_db()
    assert match.state == S.TRIAL_VISITS


def test_a_match_is_seen_only_by_its_people(world: World, client_for: Any, planner: Any) -> None:
    match = match_at(world, planner, S.INTRODUCTION)
    detail = reverse("marketplace:match_detail", args=[match.pk])
    for stranger in (world.holder_b.user, world.staff_y, world.provider_staff):
        assert client_for(stranger).get(detail).status_code == 404
    holder_page = client_for(world.holder_a.user).get(detail)
    assert holder_page.status_code == 200
    assert "Record the next step" not in holder_page.content.decode()
    assert client_for(world.holder_a.user).post(detail, {"to_state": S.ENDED}).status_code == 403


def test_carer_staff_edit_only_their_own_carer_profile(world: World, client_for: Any) -> None:
    carer = ash(world)
    url = reverse("marketplace:carer_profile", args=[carer.provider_id])
    assert client_for(world.provider_staff).get(url).status_code == 404
    other_kind = ProviderFactory(organisation=world.provider_org, kind=ProviderKind.COMMUNITY_GROUP)
    assert (
        client_for(world.provider_staff)
        .get(reverse("marketplace:carer_profile", args=[other_kind.pk]))
        .status_code
        == 404
    )
    client = client_for(staff_of(carer))
    assert "autism, epilepsy, personal care" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "postcode": "LS6 2AB",
            "arrangements": [SHORT],
            "places": "2",
            "travel_miles": "5",
            "available": "yes",
            "skills": "Dementia, dementia , Autism",
            "has_pets": "yes",
            "pets": "A cat",
            "smoking_household": "no",
            "step_free": "yes",
        },
    )
    assert response.status_code == 302
    carer.refresh_from_db()
    assert (carer.skills, carer.places, carer.pets, carer.arrangements) == (
        ["dementia", "autism"],
        2,
        "A cat",
        [SHORT],
    )
