"""Demo data for `make run`: organisations, staff in every role, budget holders and a
representative. Idempotent: running it again changes nothing that is already there."""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from budgets.demo import HOLDER_DETAILS, load_budget_demo
from budgets.models import BudgetHolder
from core.reporting.demo import load_reporting_demo
from marketplace.demo import load_market_demo
from outcomes.demo import load_outcomes_demo
from plans.demo import load_plan_demo
from users.models import Membership, Organisation, PartnerApplication, Representation, Role, User

DEMO_API_CLIENT_ID = "demo-partner-system"


@dataclass(frozen=True)
class DemoLogin:
    kind: str
    email: str
    mfa: bool


ORGANISATIONS = [
    ("NHS North Example ICB", Organisation.Kind.ICB, "QXX"),
    ("Example Borough Council", Organisation.Kind.LOCAL_AUTHORITY, ""),
    ("Open Door Brokerage", Organisation.Kind.BROKERAGE, ""),
    ("Bright Days Personal Assistants Co-operative", Organisation.Kind.PROVIDER, ""),
    ("Riverside Shared Lives", Organisation.Kind.PROVIDER, ""),
    ("Growing Together Community Gardens CIC", Organisation.Kind.PROVIDER, ""),
    ("Independent Living Budget Support", Organisation.Kind.BUDGET_MANAGER, ""),
]

# (email, name, organisation name, role)
STAFF = [
    ("coordinator@demo.phb.test", "Priya Shah", "NHS North Example ICB", Role.CARE_COORDINATOR),
    ("planner@demo.phb.test", "Tom Okafor", "NHS North Example ICB", Role.SUPPORT_PLANNER),
    ("clinician@demo.phb.test", "Dr Helen Marsh", "NHS North Example ICB", Role.CLINICIAN),
    ("commissioner@demo.phb.test", "Grace Lee", "NHS North Example ICB", Role.COMMISSIONER),
    ("finance@demo.phb.test", "Omar Haddad", "NHS North Example ICB", Role.FINANCE_OFFICER),
    (
        "provider@demo.phb.test",
        "Jo Williams",
        "Bright Days Personal Assistants Co-operative",
        Role.PROVIDER_STAFF,
    ),
    ("orgadmin@demo.phb.test", "Sam Patel", "NHS North Example ICB", Role.ORGANISATION_ADMIN),
    (
        "council-commissioner@demo.phb.test",
        "Ruth Evans",
        "Example Borough Council",
        Role.COMMISSIONER,
    ),
    # Records spending on the parts of budgets that Independent Living manages.
    (
        "manager@demo.phb.test",
        "Lena Fischer",
        "Independent Living Budget Support",
        Role.FINANCE_OFFICER,
    ),
]

# (email or None, name) - the last is a child, who has no account of their own.
HOLDERS = [
    ("holder@demo.phb.test", "Alex Morgan"),
    ("holder2@demo.phb.test", "Bernadette Quinn"),
    ("holder3@demo.phb.test", "Chidi Eze"),
    (None, "Riley Carter"),
]
REPRESENTATIVE = ("representative@demo.phb.test", "Dana Carter")


def _user(email: str, name: str, password: str, *, is_staff: bool = False) -> User:
    user, created = User.objects.get_or_create(
        email=email, defaults={"name": name, "is_staff": is_staff, "is_superuser": is_staff}
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def _mfa(user: User, secret: str) -> None:
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, secret)
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists():
        RecoveryCodes.activate(user)


@transaction.atomic
def load_demo_data() -> list[DemoLogin]:
    """Create the demo world (or find it) and return the demo logins."""
    password, secret = settings.DEMO_PASSWORD, settings.DEMO_TOTP_SECRET
    if not password or not secret:
        raise ImproperlyConfigured(
            "Demo data needs DEMO_PASSWORD and DEMO_TOTP_SECRET, which only local settings set."
        )
    organisations = {}
    for name, kind, ods in ORGANISATIONS:
        organisations[name], _ = Organisation.objects.get_or_create(
            name=name, defaults={"kind": kind, "ods_code": ods}
        )
    icb = organisations["NHS North Example ICB"]
    logins: list[DemoLogin] = []

    admin = _user("admin@demo.phb.test", "Platform Admin", password, is_staff=True)
    _mfa(admin, secret)
    logins.append(DemoLogin("Platform admin", admin.email, True))

    for email, name, org_name, role in STAFF:
        user = _user(email, name, password)
        Membership.objects.get_or_create(
            user=user, organisation=organisations[org_name], defaults={"role": role}
        )
        _mfa(user, secret)
        logins.append(DemoLogin(f"{role.label} ({org_name})", email, True))

    holders = []
    for email, name in HOLDERS:
        user = _user(email, name, password) if email else None
        number, born, postcode, route, integrated = HOLDER_DETAILS[name]
        holder, _ = BudgetHolder.objects.get_or_create(
            nhs_number=number,
            defaults={
                "name": name,
                "user": user,
                "organisation": icb,
                "council": organisations["Example Borough Council"] if integrated else None,
                "date_of_birth": born,
                "postcode": postcode,
                "eligibility_route": route,
            },
        )
        holders.append(holder)
        if email:
            logins.append(DemoLogin("Budget holder", email, False))

    rep_email, rep_name = REPRESENTATIVE
    representative = _user(rep_email, rep_name, password)
    child = holders[-1]
    if not Representation.objects.filter(representative=representative, holder=child).exists():
        coordinator = User.objects.get(email="coordinator@demo.phb.test")
        from users.services import representation_create

        representation_create(
            representative=representative,
            holder=child,
            kind=Representation.Kind.PARENT_OR_GUARDIAN,
            scopes=[s.value for s in Representation.Scope],
            authority=Representation.AuthorityRecord.PARENTAL_RESPONSIBILITY,
            recorded_by=coordinator,
        )
    logins.append(DemoLogin(f"Representative (parent of {child.name})", rep_email, False))

    load_budget_demo(
        icb=icb,
        council=organisations["Example Borough Council"],
        manager_org=organisations["Independent Living Budget Support"],
        users={
            "commissioner": User.objects.get(email="commissioner@demo.phb.test"),
            "finance": User.objects.get(email="finance@demo.phb.test"),
            "council_commissioner": User.objects.get(email="council-commissioner@demo.phb.test"),
        },
    )
    load_plan_demo(
        clinician=User.objects.get(email="clinician@demo.phb.test"),
        commissioner=User.objects.get(email="commissioner@demo.phb.test"),
    )
    load_market_demo(
        icb=icb,
        council=organisations["Example Borough Council"],
        provider_staff=User.objects.get(email="provider@demo.phb.test"),
        commissioner=User.objects.get(email="commissioner@demo.phb.test"),
        planner=User.objects.get(email="planner@demo.phb.test"),
        password=password,
    )
    load_outcomes_demo(icb=icb, commissioner=User.objects.get(email="commissioner@demo.phb.test"))
    load_reporting_demo(
        icb=icb,
        council=organisations["Example Borough Council"],
        manager_org=organisations["Independent Living Budget Support"],
        users={
            "commissioner": User.objects.get(email="commissioner@demo.phb.test"),
            "council_commissioner": User.objects.get(email="council-commissioner@demo.phb.test"),
            "manager": User.objects.get(email="manager@demo.phb.test"),
        },
    )

    scopes = (
        "organisation:read members:read members:write "
        "holders:read budgets:read spending:write allocation:read plans:read plans:write "
        "marketplace:read outcomes:read outcomes:write responses:read reports:read"
    )
    # An application made by an earlier version of the demo gains the newer scopes.
    PartnerApplication.objects.filter(client_id=DEMO_API_CLIENT_ID).update(scopes=scopes)
    if not PartnerApplication.objects.filter(client_id=DEMO_API_CLIENT_ID).exists():
        PartnerApplication.objects.create(
            name="Demo case-management system",
            organisation=icb,
            user=User.objects.get(email="orgadmin@demo.phb.test"),
            client_id=DEMO_API_CLIENT_ID,
            client_secret=password,
            client_type=PartnerApplication.CLIENT_CONFIDENTIAL,
            authorization_grant_type=PartnerApplication.GRANT_CLIENT_CREDENTIALS,
            scopes=scopes,
        )
    return logins
