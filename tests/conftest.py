"""Shared fixtures: a small world with every kind of user the authorization matrix names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from budgets.models import SpendCategory
from budgets.services import spend_record
from outcomes.instruments import seed_instruments
from tests.factories import (
    BudgetHolderFactory,
    MembershipFactory,
    OrganisationFactory,
    RepresentationFactory,
    UserFactory,
    make_budget,
    with_mfa,
)
from tests.marketplace.factories import national_categories
from users.models import Organisation, Role


@dataclass
class World:
    org_x: Any
    org_y: Any
    provider_org: Any
    holder_a: Any  # BudgetHolder with an account, served by org X
    holder_b: Any  # BudgetHolder with an account, served by org Y
    budget_a: Any  # holder A's active budget, funded by org X, £500 paid in, one spend
    budget_b: Any  # holder B's active budget, funded by org Y, £500 paid in, one spend
    representative: Any  # represents holder A
    staff_x: Any  # care coordinator at X
    staff_y: Any  # care coordinator at Y
    provider_staff: Any
    commissioner: Any  # at X
    finance_officer: Any  # at X
    org_admin_x: Any
    platform_admin: Any

    def users(self) -> dict[str, Any]:
        """Every kind of user the matrix test walks, by name (anonymous is None)."""
        return {
            "anonymous": None,
            "holder_a": self.holder_a.user,
            "holder_b": self.holder_b.user,
            "representative": self.representative,
            "staff_x": self.staff_x,
            "staff_y": self.staff_y,
            "provider_staff": self.provider_staff,
            "commissioner": self.commissioner,
            "finance_officer": self.finance_officer,
            "org_admin_x": self.org_admin_x,
            "platform_admin": self.platform_admin,
        }


def staff_user(org: Any, role: str) -> Any:
    return with_mfa(MembershipFactory(organisation=org, role=role).user)


@pytest.fixture
def world(db: Any) -> World:
    # Rows a data migration seeds are gone after a test on the transactional database
    # (it empties every table); put the marketplace's national categories and the
    # survey instruments back.
    national_categories()
    seed_instruments()
    org_x = OrganisationFactory(name="North ICB", kind=Organisation.Kind.ICB)
    org_y = OrganisationFactory(name="South ICB", kind=Organisation.Kind.ICB)
    provider_org = OrganisationFactory(name="Bright Days", kind=Organisation.Kind.PROVIDER)
    holder_a = BudgetHolderFactory(name="Alex Holder", organisation=org_x)
    holder_b = BudgetHolderFactory(name="Bea Holder", organisation=org_y)
    staff_x = staff_user(org_x, Role.CARE_COORDINATOR)
    representative = RepresentationFactory(holder=holder_a, recorded_by=staff_x).representative
    admin = with_mfa(UserFactory(is_staff=True, is_superuser=True))
    budget_a = make_budget(holder_a, paid_in_pence=500_00)
    budget_b = make_budget(holder_b, paid_in_pence=500_00)
    for budget in (budget_a, budget_b):
        spend_record(
            budget=budget,
            payee="Personal assistant wages",
            spent_on=budget.period_start,
            amount_pence=120_00,
            category=SpendCategory.PERSONAL_ASSISTANT,
            recorded_by=budget.holder.user,
            idempotency_key=f"world-{budget.pk}",
        )
    return World(
        org_x=org_x,
        org_y=org_y,
        provider_org=provider_org,
        holder_a=holder_a,
        holder_b=holder_b,
        budget_a=budget_a,
        budget_b=budget_b,
        representative=representative,
        staff_x=staff_x,
        staff_y=staff_user(org_y, Role.CARE_COORDINATOR),
        provider_staff=staff_user(provider_org, Role.PROVIDER_STAFF),
        commissioner=staff_user(org_x, Role.COMMISSIONER),
        finance_officer=staff_user(org_x, Role.FINANCE_OFFICER),
        org_admin_x=staff_user(org_x, Role.ORGANISATION_ADMIN),
        platform_admin=admin,
    )


@pytest.fixture
def client_for(db: Any):  # type: ignore[no-untyped-def]
    """A test client signed in as ``user`` (or anonymous for None)."""

    def make(user: Any) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return make
