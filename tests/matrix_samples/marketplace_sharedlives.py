"""Matrix samples for the Shared Lives pages (marketplace/views/sharedlives.py): holder
A's profile (org X), a carer run by the world's provider organisation in org X's market,
and a match between them proposed by org X's care coordinator."""

from __future__ import annotations

from typing import Any

from marketplace import matching
from marketplace.models import ArrangementKind, CarerProfile, Match, ProviderKind, SeekerProfile
from tests.marketplace.factories import ProviderFactory
from tests.matrix_samples import ORG_X_STAFF, Sample


def _carer(w: Any) -> CarerProfile:
    found = CarerProfile.objects.filter(provider__organisation=w.provider_org).first()
    if found is not None:
        return found
    provider = ProviderFactory(
        organisation=w.provider_org,
        kind=ProviderKind.SHARED_LIVES_CARER,
        name="Sam Carer",
        areas=[w.org_x],
    )
    return matching.carer_profile_save(
        provider=provider,
        saved_by=w.provider_staff,
        postcode="LS6 2AB",
        arrangements=[ArrangementKind.SHORT_BREAKS],
        skills="autism",
        interests="music",
    )


def _seeker(w: Any) -> SeekerProfile:
    found = SeekerProfile.objects.filter(holder=w.holder_a).first()
    return found or matching.seeker_profile_save(
        holder=w.holder_a,
        saved_by=w.staff_x,
        postcode="LS6 1AA",
        arrangements=[ArrangementKind.SHORT_BREAKS],
        needs="autism",
        interests="music",
    )


def _match(w: Any) -> Match:
    seeker, carer = _seeker(w), _carer(w)
    found = Match.objects.filter(seeker=seeker, carer=carer).first()
    return found or matching.match_propose(
        seeker=seeker, carer=carer, arrangement=ArrangementKind.SHORT_BREAKS, proposed_by=w.staff_x
    )


def _ranking_kwargs(w: Any) -> dict[str, Any]:
    _seeker(w)
    _carer(w)
    return {"holder_pk": w.holder_a.pk}


SAMPLES: dict[str, Sample] = {
    "marketplace:seeker_profile": Sample(
        kwargs=lambda w: {"holder_pk": _seeker(w).holder_id},
        owners=lambda w: {"holder_a", "representative", *ORG_X_STAFF},
    ),
    # Staff of org X who serve the holder (the matrix refuses org admins first).
    "marketplace:seeker_matches": Sample(
        kwargs=_ranking_kwargs, owners=lambda w: {"staff_x", "commissioner", "finance_officer"}
    ),
    "marketplace:match_detail": Sample(
        kwargs=lambda w: {"pk": _match(w).pk},
        owners=lambda w: {"holder_a", "representative", "provider_staff", *ORG_X_STAFF},
    ),
    "marketplace:carer_profile": Sample(
        kwargs=lambda w: {"provider_pk": _carer(w).provider_id},
        owners=lambda w: {"provider_staff"},
    ),
}
