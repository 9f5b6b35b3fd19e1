"""Factories for every model (factory_boy)."""

from __future__ import annotations

import datetime
import itertools
import uuid

import factory
import nhs_number
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.db import transaction
from django.utils import timezone

from budgets.ledger import Leg, funder_account, post
from budgets.models import (
    Budget,
    BudgetHolder,
    EligibilityRoute,
    FundingContribution,
    FundingStream,
    LedgerAccount,
    LedgerTransaction,
    ManagementOption,
)
from core.models import Notification
from users.models import (
    Invitation,
    Membership,
    Organisation,
    PartnerApplication,
    Representation,
    Role,
    User,
)

PASSWORD = "correct-horse-battery-staple"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    name = factory.Faker("name", locale="en_GB")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified_email(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


def with_mfa(user: User, secret: str = TOTP_SECRET) -> User:
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, secret)
    return user


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = Organisation.Kind.ICB


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.CARE_COORDINATOR


_nhs_serial = itertools.count(100_000)


def next_test_nhs_number() -> str:
    """Unique per test session (skipping serials that have no valid check digit)."""
    while True:
        serial = next(_nhs_serial)
        stem = f"999{serial:06d}"
        check = nhs_number.calculate_checksum(stem)
        if check != 10:
            return f"{stem}{check}"


class BudgetHolderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BudgetHolder

    nhs_number = factory.LazyFunction(next_test_nhs_number)
    name = factory.Faker("name", locale="en_GB")
    date_of_birth = datetime.date(1980, 5, 17)
    postcode = "LS1 4AP"
    eligibility_route = EligibilityRoute.CHC
    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)


def make_budget(
    holder: BudgetHolder,
    *,
    funder: Organisation | None = None,
    stream: str = FundingStream.NHS_CHC,
    yearly_pence: int = 13_000_00,
    state: str = Budget.State.ACTIVE,
    period_start: datetime.date | None = None,
    paid_in_pence: int = 0,
    overdraft_pence: int = 0,
    management_option: str = ManagementOption.NOTIONAL,
    managed_by: Organisation | None = None,
    created_by: User | None = None,
) -> Budget:
    """A budget with one funding contribution, its ledger accounts, and (optionally) a
    payment in already posted through the real ledger."""
    start = period_start or timezone.localdate().replace(day=1)
    budget = Budget.objects.create(
        holder=holder,
        period_start=start,
        period_end=start.replace(year=start.year + 1) - datetime.timedelta(days=1),
        state=state,
        # As budget_transition would have recorded it, for a budget made already active.
        active_from=start if state in (Budget.State.ACTIVE, Budget.State.SUSPENDED) else None,
        created_by=created_by or UserFactory(),
    )
    add_contribution(
        budget,
        funder=funder or holder.organisation,
        stream=stream,
        yearly_pence=yearly_pence,
        paid_in_pence=paid_in_pence,
        overdraft_pence=overdraft_pence,
        management_option=management_option,
        managed_by=managed_by,
    )
    return budget


def add_contribution(
    budget: Budget,
    *,
    funder: Organisation,
    stream: str,
    yearly_pence: int,
    paid_in_pence: int = 0,
    overdraft_pence: int = 0,
    management_option: str = ManagementOption.NOTIONAL,
    managed_by: Organisation | None = None,
) -> FundingContribution:
    contribution = FundingContribution.objects.create(
        budget=budget,
        funder=funder,
        stream=stream,
        yearly_pence=yearly_pence,
        management_option=management_option,
        managed_by=managed_by,
    )
    LedgerAccount.objects.create(
        kind=LedgerAccount.Kind.BUDGET,
        name=str(contribution),
        contribution=contribution,
        budget=budget,
        overdraft_pence=overdraft_pence,
    )
    funder_account(organisation=funder, stream=stream)
    if paid_in_pence:
        pay_in(contribution, paid_in_pence)
    return contribution


def pay_in(
    contribution: FundingContribution, pence: int, *, due_on: datetime.date | None = None
) -> LedgerTransaction:
    """Post a payment in from the funder, as the allocation job would."""
    earlier = LedgerTransaction.objects.filter(
        contribution=contribution, kind=LedgerTransaction.Kind.ALLOCATION
    ).count()
    due = due_on or contribution.budget.period_start + datetime.timedelta(days=28 * earlier)
    funder = funder_account(organisation=contribution.funder, stream=contribution.stream)
    with transaction.atomic():
        posted = post(
            kind=LedgerTransaction.Kind.ALLOCATION,
            idempotency_key=f"test-allocation:{contribution.pk}:{due}:{uuid.uuid4().hex}",
            legs=[
                Leg(contribution.account.pk, pence),
                Leg(funder.pk, -pence),
            ],
            occurred_on=due,
            due_on=due,
            budget=contribution.budget,
            contribution=contribution,
        )
    return posted


class RepresentationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Representation

    representative = factory.SubFactory(UserFactory)
    holder = factory.SubFactory(BudgetHolderFactory)
    kind = Representation.Kind.FAMILY_CARER
    scopes = factory.LazyFunction(lambda: [Representation.Scope.VIEW])
    authority = Representation.AuthorityRecord.HOLDER_CONSENT
    recorded_by = factory.SubFactory(UserFactory)
    starts_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    organisation = factory.SubFactory(OrganisationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.test")
    role = Role.CLINICIAN
    invited_by = factory.SubFactory(UserFactory)
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=14))


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    user = factory.SubFactory(UserFactory)
    subject = "Your plan has been approved"
    body = "Your support plan was approved today."
    email_requested = False


class PartnerApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerApplication

    name = factory.Sequence(lambda n: f"Partner system {n}")
    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    client_id = factory.Sequence(lambda n: f"partner-{n}")
    client_secret = "partner-secret"
    client_type = PartnerApplication.CLIENT_CONFIDENTIAL
    authorization_grant_type = PartnerApplication.GRANT_CLIENT_CREDENTIALS
    scopes = "organisation:read members:read members:write"
