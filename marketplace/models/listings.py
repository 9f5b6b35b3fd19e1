"""Providers, the services they offer, where and when, at what cost, and the category
taxonomy commissioners extend. Every record the Open Referral UK feed publishes has a
UUID (``uuid``), its id in the feed; the integer key stays internal."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

# A postcode district (the outward code): "LS1", "LS12", "W1A", "SW1A", "M1".
DISTRICT_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")


def normalise_district(value: str) -> str:
    return "".join((value or "").split()).upper()


def validate_district(value: str) -> None:
    if not DISTRICT_RE.match(normalise_district(value)):
        raise ValidationError(
            "Enter a postcode district, the first half of a postcode, like LS1 or SW1A",
            code="invalid_district",
            params={"value": value},
        )


class ProviderKind(models.TextChoices):
    PERSONAL_ASSISTANT = "personal_assistant", "Personal assistant"
    SHARED_LIVES_CARER = "shared_lives_carer", "Shared Lives carer"
    MICRO_ENTERPRISE = "micro_enterprise", "Community micro-enterprise"
    COMMUNITY_GROUP = "community_group", "Community or neighbourhood group"
    SOCIAL_ENTERPRISE = "social_enterprise", "Social enterprise"
    COOPERATIVE = "cooperative", "Co-operative or community interest company"
    REGISTERED_CARE = "registered_care", "Registered care provider"
    NHS_SERVICE = "nhs_service", "NHS service"

    @classmethod
    def individuals(cls) -> frozenset[str]:
        """Kinds that are one person, who needs a DBS check."""
        return frozenset({cls.PERSONAL_ASSISTANT, cls.SHARED_LIVES_CARER})

    @classmethod
    def regulated(cls) -> frozenset[str]:
        """Kinds registered with the Care Quality Commission."""
        return frozenset({cls.REGISTERED_CARE})


class ProviderQuerySet(models.QuerySet["Provider"]):
    def listed(self) -> ProviderQuerySet:
        """Providers anyone can find: listed, and not withdrawn."""
        return self.filter(listed=True)

    def managed_by(self, user: Any) -> ProviderQuerySet:
        """Providers whose organisation the user works for as provider staff or admin."""
        from users.models import Role

        if not getattr(user, "is_authenticated", False):
            return self.none()
        orgs = user.memberships.filter(
            role__in=[Role.PROVIDER_STAFF, Role.ORGANISATION_ADMIN]
        ).values("organisation_id")
        return self.filter(organisation_id__in=orgs)

    def commissioned_by(self, user: Any) -> ProviderQuerySet:
        """Providers in the market of an ICB or council the user is a commissioner at."""
        from users.models import Role

        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_platform_admin:
            return self.all()
        orgs = user.memberships.filter(role=Role.COMMISSIONER).values("organisation_id")
        return self.filter(areas__in=orgs).distinct()


class Provider(models.Model):
    """Anyone who offers support: one person, a group, a business, an NHS service."""

    class Verification(models.TextChoices):
        UNVERIFIED = "unverified", "Not yet checked"
        PENDING = "pending", "Waiting for a commissioner's check"
        VERIFIED = "verified", "Verified"
        REFUSED = "refused", "Not verified"

    # Facts a commissioner checks: changing any of them on a verified listing sends it
    # back for verification.
    REGULATED_FACTS: tuple[str, ...] = (
        "name",
        "kind",
        "cqc_number",
        "dbs_checked_on",
        "insurer",
        "insurance_expires_on",
        "user_led",
        "not_for_profit",
    )

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        "users.Organisation",
        on_delete=models.PROTECT,
        related_name="providers",
        help_text="The provider organisation whose staff manage this listing.",
    )
    areas = models.ManyToManyField(
        "users.Organisation",
        related_name="market_providers",
        blank=True,
        help_text="The ICBs and councils whose market this provider is in.",
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=ProviderKind.choices)
    description = models.TextField(blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    website = models.URLField(blank=True)
    postcode = models.CharField(max_length=8, blank=True, help_text="Where the provider is based.")
    cqc_number = models.CharField(
        "CQC registration number",
        max_length=20,
        blank=True,
        help_text="Care Quality Commission location or provider ID, e.g. 1-123456789.",
    )
    dbs_checked_on = models.DateField(
        "DBS check date", null=True, blank=True, help_text="For individuals: the latest check."
    )
    insurer = models.CharField("insurance provider", max_length=200, blank=True)
    insurance_expires_on = models.DateField(null=True, blank=True)
    user_led = models.BooleanField(
        default=False, help_text="Run by and for people who use the support (user-led)."
    )
    not_for_profit = models.BooleanField(default=False)
    listed = models.BooleanField(default=True, help_text="Shown in search and the public feed.")
    verification = models.CharField(
        max_length=16, choices=Verification.choices, default=Verification.UNVERIFIED
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verification_expires_on = models.DateField(null=True, blank=True)
    verification_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProviderQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["verification"]), models.Index(fields=["kind"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="registered_care") | ~Q(cqc_number=""),
                name="provider_registered_care_has_cqc_number",
            ),
            models.CheckConstraint(
                condition=~Q(verification="verified")
                | Q(verified_at__isnull=False, verified_by__isnull=False),
                name="provider_verified_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_individual(self) -> bool:
        return self.kind in ProviderKind.individuals()

    @property
    def is_micro_enterprise(self) -> bool:
        return self.kind == ProviderKind.MICRO_ENTERPRISE

    @property
    def is_verified(self) -> bool:
        """Verified, and the verification has not run out."""
        return self.verification == self.Verification.VERIFIED and (
            self.verification_expires_on is None
            or self.verification_expires_on >= timezone.localdate()
        )


class Taxonomy(models.Model):
    """A vocabulary of service categories (the feed's taxonomy)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    description = models.TextField()
    uri = models.URLField(blank=True)
    version = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "taxonomies"

    def __str__(self) -> str:
        return self.name


class CategoryQuerySet(models.QuerySet["Category"]):
    def for_area(self, organisation_ids: Any = None) -> CategoryQuerySet:
        """The national categories, and those the given organisations added."""
        if organisation_ids is None:
            return self.all()
        return self.filter(Q(organisation__isnull=True) | Q(organisation_id__in=organisation_ids))


class Category(models.Model):
    """A term in a taxonomy. National terms have no organisation; a commissioner extends
    the taxonomy with terms of their own organisation's."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    taxonomy = models.ForeignKey(Taxonomy, on_delete=models.PROTECT, related_name="terms")
    code = models.SlugField(max_length=60)
    name = models.CharField(max_length=100)
    description = models.TextField()
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    organisation = models.ForeignKey(
        "users.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for a national category; else the commissioner's organisation.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["taxonomy", "code"], name="category_unique_code")
        ]

    def __str__(self) -> str:
        return self.name


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class ServiceQuerySet(models.QuerySet["Service"]):
    def listed(self) -> ServiceQuerySet:
        """Services anyone can find: active, from a listed provider."""
        return self.filter(status=Service.Status.ACTIVE, provider__listed=True)


# Searched: the title most, then the description, then the other words (filled by the
# listings service from the provider's name, the category and eligibility).
SERVICE_SEARCH_VECTOR = (
    SearchVector("title", weight="A", config="english")
    + SearchVector("keywords", weight="B", config="english")
    + SearchVector("description", weight="C", config="english")
)


class Service(models.Model):
    """Something a provider offers: paid support, or a free group or activity."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Not taking people now"
        WITHDRAWN = "withdrawn", "Withdrawn"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="services")
    title = models.CharField(max_length=200)
    description = models.TextField()
    keywords = models.TextField(
        blank=True, help_text="Other words to find it by (the provider, the category)."
    )
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="services")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    is_free = models.BooleanField(default=False, help_text="Free to use: no cost options.")
    # Where it is delivered: in these postcode districts (at home or in the community),
    # and/or at its locations (ServiceAtLocation); online services need neither.
    postcode_districts = ArrayField(
        models.CharField(max_length=4, validators=[validate_district]), blank=True, default=list
    )
    online = models.BooleanField(default=False)
    minimum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    maximum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    eligibility = models.TextField(
        blank=True, help_text="Who it is for: needs, conditions, circumstances."
    )
    languages = ArrayField(
        models.CharField(max_length=3),
        blank=True,
        default=list,
        help_text="ISO 639 language codes, e.g. en, cy, ur, pl; sgn for British Sign Language.",
    )
    contact_name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    url = models.URLField(blank=True)
    search_vector = models.GeneratedField(
        expression=SERVICE_SEARCH_VECTOR, output_field=SearchVectorField(), db_persist=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        indexes = [
            GinIndex(fields=["search_vector"], name="service_search"),
            GinIndex(fields=["postcode_districts"], name="service_districts"),
            models.Index(fields=["category", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(minimum_age__isnull=True)
                | Q(maximum_age__isnull=True)
                | Q(maximum_age__gte=models.F("minimum_age")),
                name="service_ages_in_order",
            )
        ]

    def __str__(self) -> str:
        return self.title


class CostOption(models.Model):
    """A price: an amount per hour, session, week or item."""

    class Per(models.TextChoices):
        HOUR = "hour", "an hour"
        SESSION = "session", "a session"
        WEEK = "week", "a week"
        ITEM = "item", "an item"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="cost_options")
    amount_pence = models.BigIntegerField()
    per = models.CharField(max_length=8, choices=Per.choices)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["amount_pence"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_pence__gt=0), name="cost_option_amount_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount_pence}p {self.get_per_display()}"


class Location(models.Model):
    """A place where services are delivered."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="locations")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    address_1 = models.CharField("address line 1", max_length=200)
    city = models.CharField("town or city", max_length=100)
    region = models.CharField("county", max_length=100, blank=True)
    postcode = models.CharField(max_length=8)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    step_free = models.BooleanField("step-free access", default=False)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["postcode"])]

    def __str__(self) -> str:
        return self.name


class ServiceAtLocation(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="at_locations")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="services_here")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "location"], name="service_at_location_once")
        ]

    def __str__(self) -> str:
        return f"{self.service} at {self.location}"


class Schedule(models.Model):
    """When a service runs: a day of the week and, optionally, hours."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="schedules")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens_at = models.TimeField(null=True, blank=True)
    closes_at = models.TimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["weekday", "opens_at"]
        indexes = [models.Index(fields=["weekday", "service"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True)
                | Q(closes_at__isnull=True)
                | Q(closes_at__gt=models.F("opens_at")),
                name="schedule_closes_after_opening",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at or ''}-{self.closes_at or ''}"
