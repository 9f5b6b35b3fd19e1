"""Who may do what in the marketplace. Records are first narrowed by the models'
``for_user`` / ``managed_by`` / ``commissioned_by`` querysets; these answer which
actions a person may take on a record they can see."""

from __future__ import annotations

from typing import Any

from marketplace.models import Provider
from users.models import Membership, Role

# Who acts for a provider: its staff, and its organisation's admins.
PROVIDER_ROLES = (Role.PROVIDER_STAFF, Role.ORGANISATION_ADMIN)


def is_provider_staff(user: Any, provider: Provider) -> bool:
    """Provider staff (or an admin) of the organisation that runs the listing."""
    if not getattr(user, "is_authenticated", False):
        return False
    return Membership.objects.filter(
        user=user,
        organisation_id=provider.organisation_id,
        role__in=PROVIDER_ROLES,
    ).exists()


def provider_staff(provider: Provider) -> list[Any]:
    """The people who act for a provider (each once), to tell them about its business."""
    members = (
        Membership.objects.filter(organisation_id=provider.organisation_id, role__in=PROVIDER_ROLES)
        .select_related("user")
        .order_by("user_id")
    )
    return list({m.user_id: m.user for m in members}.values())


def commissioner_organisation_ids(user: Any) -> set[int]:
    """The ICBs and councils where the user is a commissioner."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(
        Membership.objects.filter(user=user, role=Role.COMMISSIONER).values_list(
            "organisation_id", flat=True
        )
    )


def is_commissioner_for_provider(user: Any, provider: Provider) -> bool:
    """A commissioner of an ICB or council whose market the provider is in."""
    orgs = commissioner_organisation_ids(user)
    return bool(orgs) and provider.areas.filter(pk__in=orgs).exists()
