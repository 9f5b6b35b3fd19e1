"""Demo marketplace: providers of every kind in North Example's market, their services
(paid and free), a booking with an invoice waiting, an open pool, and a Shared Lives
carer and seeker. Made through the marketplace services, so it is what a real area
would build; run again, it finds what it made."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from budgets.models import Budget, BudgetHolder
from marketplace import buying, listings, matching, pooling
from marketplace.models import (
    ArrangementKind,
    Booking,
    Category,
    CostOption,
    Pool,
    Provider,
    ProviderKind,
    Service,
)
from users.models import Membership, Organisation, Role, User

# (organisation, provider name, kind, extras); each provider organisation gets a member
# of staff in the demo (the first is Jo Williams at Bright Days, who can sign in).
PROVIDERS: list[tuple[str, str, str, dict[str, Any]]] = [
    (
        "Bright Days Personal Assistants Co-operative",
        "Bright Days Personal Assistants",
        ProviderKind.COOPERATIVE,
        {"user_led": True, "not_for_profit": True, "insurer": "Mutual Care Insurance"},
    ),
    (
        "Riverside Shared Lives",
        "Riverside Shared Lives: the Ahmed family",
        ProviderKind.SHARED_LIVES_CARER,
        {"dbs_checked_on": datetime.date(2026, 2, 10), "insurer": "Shared Lives Plus cover"},
    ),
    (
        "Growing Together Community Gardens CIC",
        "Growing Together Community Gardens",
        ProviderKind.SOCIAL_ENTERPRISE,
        {"not_for_profit": True, "insurer": "Community Insure"},
    ),
    (
        "Maya Singh, personal assistant",
        "Maya Singh",
        ProviderKind.PERSONAL_ASSISTANT,
        {"dbs_checked_on": datetime.date(2026, 5, 1), "insurer": "PA Cover UK"},
    ),
    (
        "Swim Together",
        "Swim Together",
        ProviderKind.MICRO_ENTERPRISE,
        {"user_led": True, "insurer": "Leisure Insure"},
    ),
    (
        "Chapeltown Carers' Cafe",
        "Chapeltown Carers' Cafe",
        ProviderKind.COMMUNITY_GROUP,
        {"user_led": True, "not_for_profit": True},
    ),
    (
        "Homecare North Ltd",
        "Homecare North",
        ProviderKind.REGISTERED_CARE,
        {"cqc_number": "1-101234567", "insurer": "Care Sector Mutual"},
    ),
    (
        "North Community Physiotherapy",
        "North Community Physiotherapy (NHS)",
        ProviderKind.NHS_SERVICE,
        {},
    ),
]

# (provider name, title, category code, description, price (pence, per) or None if free,
#  postcode districts, weekdays)
SERVICES: list[tuple[str, str, str, str, tuple[int, str] | None, list[str], list[int]]] = [
    (
        "Bright Days Personal Assistants",
        "Personal assistants for days out and at home",
        "personal-assistance",
        "A personal assistant you choose, for help at home, getting out, shopping, "
        "appointments and hobbies. Regular or occasional hours.",
        (18_50, CostOption.Per.HOUR),
        ["LS6", "LS7", "LS8", "LS11"],
        [0, 1, 2, 3, 4, 5],
    ),
    (
        "Riverside Shared Lives: the Ahmed family",
        "Short breaks with a Shared Lives family",
        "shared-lives",
        "Stay for a weekend or a week with the Ahmed family: a calm home, a garden, "
        "cooking together and trips to the coast.",
        (95_00, CostOption.Per.SESSION),
        ["LS8"],
        [4, 5, 6],
    ),
    (
        "Growing Together Community Gardens",
        "Community gardening mornings",
        "community-groups",
        "Grow vegetables and flowers with neighbours at the Potternewton allotments. "
        "Tools, tea and a warm welcome; no experience needed.",
        None,
        ["LS7", "LS8"],
        [2, 5],
    ),
    (
        "Growing Together Community Gardens",
        "Horticulture skills course",
        "learning",
        "A ten-week course in growing food, with a certificate at the end. Small groups, "
        "supported learning.",
        (45_00, CostOption.Per.SESSION),
        ["LS6", "LS7", "LS8"],
        [1],
    ),
    (
        "Maya Singh",
        "Personal assistant: Punjabi and Urdu speaking",
        "personal-assistance",
        "Help with personal care, cooking and getting out, from a PA who speaks "
        "English, Punjabi and Urdu.",
        (17_00, CostOption.Per.HOUR),
        ["LS11", "LS12"],
        [0, 2, 4],
    ),
    (
        "Swim Together",
        "Supported swimming sessions",
        "sport-fitness",
        "A swimming session with a support worker at the leisure centre: changing "
        "places toilet, hoist and a quiet changing room.",
        (25_00, CostOption.Per.SESSION),
        ["LS6", "LS7"],
        [1, 3],
    ),
    (
        "Chapeltown Carers' Cafe",
        "Carers' cafe and peer support",
        "carers-support",
        "Family carers meet for coffee, advice and a break every Thursday. Free, "
        "and the people you care for are welcome too.",
        None,
        ["LS7", "LS8"],
        [3],
    ),
    (
        "Homecare North",
        "Care and support at home",
        "care-at-home",
        "Registered home care: personal care, medication support and night sitting, "
        "with the same small team each week.",
        (24_00, CostOption.Per.HOUR),
        ["LS6", "LS7", "LS8", "LS11", "LS12"],
        [0, 1, 2, 3, 4, 5, 6],
    ),
    (
        "North Community Physiotherapy (NHS)",
        "Hydrotherapy and physiotherapy",
        "therapies",
        "Hydrotherapy pool sessions and exercise plans with an NHS physiotherapist.",
        (40_00, CostOption.Per.SESSION),
        ["LS6", "LS7", "LS8", "LS11"],
        [0, 3],
    ),
]


def _staff(org: Organisation, index: int, password: str, jo: User) -> User:
    if org.name == PROVIDERS[0][0]:
        return jo
    email = f"provider{index}@demo.phb.test"
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password, name=f"{org.name} staff")
    Membership.objects.get_or_create(
        user=user, organisation=org, defaults={"role": Role.PROVIDER_STAFF}
    )
    return user


def load_market_demo(
    *,
    icb: Organisation,
    council: Organisation,
    provider_staff: User,
    commissioner: User,
    planner: User,
    password: str,
) -> None:
    if Provider.objects.exists():
        return
    staff_by_provider: dict[str, User] = {}
    providers: dict[str, Provider] = {}
    for index, (org_name, name, kind, extras) in enumerate(PROVIDERS, start=1):
        org, _ = Organisation.objects.get_or_create(
            name=org_name, defaults={"kind": Organisation.Kind.PROVIDER}
        )
        staff = _staff(org, index, password, provider_staff)
        providers[name] = listings.provider_save(
            saved_by=staff,
            organisation=org,
            areas=[icb, council],
            name=name,
            kind=kind,
            description=f"{name} supports people in North Example.",
            email=f"hello{index}@provider.demo.phb.test",
            postcode="LS7 3HB",
            **extras,
        )
        staff_by_provider[name] = staff
    for provider, title, code, description, price, districts, days in SERVICES:
        listings.service_save(
            saved_by=staff_by_provider[provider],
            provider=providers[provider],
            title=title,
            description=description,
            category=Category.objects.get(code=code, organisation__isnull=True),
            is_free=price is None,
            postcode_districts=districts,
            languages=["en", "pa", "ur"] if "Punjabi" in title else ["en"],
            cost_options=[] if price is None else [{"amount_pence": price[0], "per": price[1]}],
            schedules=[{"weekday": day} for day in days],
        )
    # The commissioner has checked all but the newest two listings.
    expires = timezone.localdate() + datetime.timedelta(days=365)
    for name in list(providers)[:-2]:
        listings.provider_verify(
            provider=providers[name],
            verified_by=commissioner,
            decision="verified",
            expires_on=expires,
        )
    _buying(provider_staff)
    _pool(planner)
    _shared_lives(providers["Riverside Shared Lives: the Ahmed family"], staff_by_provider, planner)


def _active_budget(email: str) -> Budget | None:
    return Budget.objects.filter(holder__user__email=email, state=Budget.State.ACTIVE).first()


def _buying(provider_staff: User) -> None:
    """Alex has booked a PA; Bright Days accepted and has sent an invoice to approve."""
    budget = _active_budget("holder@demo.phb.test")
    if budget is None or Booking.objects.exists():
        return
    service = Service.objects.get(title="Personal assistants for days out and at home")
    today = timezone.localdate()
    booking = buying.booking_request(
        service=service,
        budget=budget,
        contribution=budget.contributions.order_by("pk").first(),
        requested_by=budget.holder.user,
        quantity=20,
        starts_on=today,
        details="Tuesday and Thursday afternoons, to get to the library and the shops.",
    )
    booking = buying.booking_decide(booking=booking, accept=True, decided_by=provider_staff)
    buying.invoice_submit(
        booking=booking,
        reference="BD-1001",
        amount_pence=74_00,
        period_start=today,
        period_end=today,
        issued_by=provider_staff,
        details="4 hours on the first afternoon.",
    )


def _pool(planner: User) -> None:
    """An open pool for a horticulture course; Bernadette has joined, one more needed."""
    if Pool.objects.exists():
        return
    service = Service.objects.get(title="Horticulture skills course")
    icb = BudgetHolder.objects.get(user__email="holder2@demo.phb.test").organisation
    pool = pooling.pool_create(
        organiser=planner,
        service=service,
        organisation=icb,
        purpose="Learn to grow food together",
        description="Ten sessions for a small group of people who want to garden.",
        cost_pence=450_00,
        split=Pool.Split.EQUAL,
        share_pence=None,
        minimum_members=2,
        maximum_members=6,
        deadline=timezone.localdate() + datetime.timedelta(days=21),
    )
    budget = _active_budget("holder2@demo.phb.test")
    if budget is not None:
        pooling.pool_join(
            pool=pool,
            budget=budget,
            contribution=budget.contributions.order_by("pk").first(),
            show_name=True,
            joined_by=budget.holder.user,
        )


def _shared_lives(carer: Provider, staff: dict[str, User], planner: User) -> None:
    matching.carer_profile_save(
        provider=carer,
        saved_by=staff[carer.name],
        postcode="LS8 2PF",
        arrangements=[ArrangementKind.SHORT_BREAKS, ArrangementKind.DAY_SUPPORT],
        interests="cooking, gardening, music, football",
        skills="learning disability, autism, epilepsy",
        household="Aisha and Karim Ahmed and their teenage son; a quiet house with a garden.",
        has_pets=True,
        pets="An elderly cat",
        culture_faith="Muslim",
        languages="English, Urdu",
        places=2,
    )
    holder = BudgetHolder.objects.filter(name="Chidi Eze").first()
    if holder is not None:
        matching.seeker_profile_save(
            holder=holder,
            saved_by=planner,
            postcode="LS11 5HR",
            arrangements=[ArrangementKind.SHORT_BREAKS],
            interests="football, music, cooking",
            needs="autism, epilepsy",
            about="I like routine, football on the telly and helping to cook.",
            languages="English",
        )
