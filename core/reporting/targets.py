"""The commissioner's target for the share of the organisation's relevant spend that
goes through personal budgets (``SpendTarget``): setting it is a service, audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from core.reporting.models import SpendTarget
from core.services import audit_record
from users.models import Membership, Role


def target_organisations(user: Any) -> list[tuple[int, str]]:
    """The organisations whose target the user may set: those where they are a
    commissioner, as (id, name), by name."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        Membership.objects.filter(user=user, role=Role.COMMISSIONER)
        .order_by("organisation__name")
        .values_list("organisation_id", "organisation__name")
    )


def spend_target_set(
    *,
    user: Any,
    organisation_id: int,
    financial_year: int,
    relevant_spend_pence: int,
    target_basis_points: int,
) -> SpendTarget:
    """Set (or change) an organisation's target for a financial year. Only a
    commissioner of the organisation may. Raises PermissionDenied for anyone else and
    ValidationError for a relevant spend that is not above nothing, a target above
    100% or below 0, or a year out of range; nothing changes then."""
    if organisation_id not in {pk for pk, _ in target_organisations(user)}:
        raise PermissionDenied("Only a commissioner of the organisation can set its target.")
    errors: dict[str, str] = {}
    if not 0 < relevant_spend_pence <= 10**15:
        errors["relevant_spend_pence"] = "Enter the relevant spend as an amount above £0"
    if not 0 <= target_basis_points <= 10000:
        errors["target_basis_points"] = "Enter a target from 0% to 100%"
    if not 2000 <= financial_year <= 2100:
        errors["financial_year"] = "Choose a financial year"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        target = (
            SpendTarget.objects.select_for_update()
            .filter(organisation_id=organisation_id, financial_year=financial_year)
            .first()
        )
        before = (
            {
                "relevant_spend_pence": target.relevant_spend_pence,
                "target_basis_points": target.target_basis_points,
            }
            if target
            else None
        )
        if target is None:
            target = SpendTarget(organisation_id=organisation_id, financial_year=financial_year)
        target.relevant_spend_pence = relevant_spend_pence
        target.target_basis_points = target_basis_points
        target.set_by = user
        target.full_clean()
        target.save()
        audit_record(
            actor=user,
            action="spend_target.set",
            obj=target,
            organisation=target.organisation,
            changes={
                "financial_year": financial_year,
                "before": before,
                "after": {
                    "relevant_spend_pence": relevant_spend_pence,
                    "target_basis_points": target_basis_points,
                },
            },
        )
    return target
