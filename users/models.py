"""People, organisations, roles and representation.

Every record a person may see is reached through a ``for_user`` queryset, so another
person's record is simply not found (404), never forbidden with a hint.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from oauth2_provider.models import AbstractApplication


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields: Any) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **fields)


_TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame", "rev"}


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who signs in. Email is the login.

    ``is_staff`` here means a platform administrator (Django admin). Working staff
    (coordinators, clinicians, commissioners...) are users with a ``Membership``.
    """

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        "platform administrator", default=False, help_text="Can use the Django admin."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["name", "email"]

    def __str__(self) -> str:
        return self.name or self.email

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        """The name to greet someone by: their first name, skipping a title."""
        words = [w for w in self.name.split() if w.rstrip(".").lower() not in _TITLES]
        return words[0] if words else (self.name or self.email)

    @property
    def is_platform_admin(self) -> bool:
        return self.is_active and self.is_staff

    @property
    def is_staff_member(self) -> bool:
        """Any user who works for an organisation, or runs the platform: MFA is required."""
        return self.is_platform_admin or self.memberships.exists()


class OrganisationQuerySet(models.QuerySet["Organisation"]):
    def for_user(self, user: Any) -> OrganisationQuerySet:
        """Organisations the user is a member of."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(memberships__user=user).distinct()


class Organisation(models.Model):
    class Kind(models.TextChoices):
        ICB = "icb", "Integrated care board"
        LOCAL_AUTHORITY = "local_authority", "Local authority"
        PROVIDER = "provider", "Provider"
        BROKERAGE = "brokerage", "Brokerage"
        BUDGET_MANAGER = "budget_manager", "Third-party budget manager"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    ods_code = models.CharField(
        "ODS code",
        max_length=12,
        blank=True,
        help_text="Organisation Data Service code, where the organisation has one.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["ods_code"], condition=~Q(ods_code=""), name="organisation_ods_code_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    CARE_COORDINATOR = "care_coordinator", "Care coordinator"
    SUPPORT_PLANNER = "support_planner", "Support planner or broker"
    CLINICIAN = "clinician", "Clinician"
    COMMISSIONER = "commissioner", "Commissioner"
    FINANCE_OFFICER = "finance_officer", "Finance officer"
    PROVIDER_STAFF = "provider_staff", "Provider staff"
    ORGANISATION_ADMIN = "organisation_admin", "Organisation admin"


class MembershipQuerySet(models.QuerySet["Membership"]):
    def for_user(self, user: Any) -> MembershipQuerySet:
        """Memberships of organisations the user belongs to (colleagues can see each other)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(organisation__memberships__user=user).distinct()


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["organisation__name", "user__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"], name="membership_one_role_per_organisation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} - {self.get_role_display()} at {self.organisation}"


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def pending(self) -> InvitationQuerySet:
        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )


class Invitation(models.Model):
    """An organisation admin's invitation to join with a role, sent by email."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(max_length=32, choices=Role.choices)
    token = models.CharField(max_length=64, unique=True, default=_invitation_token)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_pending_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.organisation}"

    @property
    def is_pending(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


class RepresentationQuerySet(models.QuerySet["Representation"]):
    def current(self) -> RepresentationQuerySet:
        today = timezone.localdate()
        return self.filter(Q(starts_on__lte=today), Q(ends_on__isnull=True) | Q(ends_on__gte=today))


class Representation(models.Model):
    """A user who acts for a budget holder, within a scope and for a period."""

    class Kind(models.TextChoices):
        PARENT_OR_GUARDIAN = "parent_or_guardian", "Parent or guardian"
        DEPUTY_OR_ATTORNEY = "deputy_or_attorney", "Deputy or attorney"
        NOMINEE = "nominee", "Nominee"
        FAMILY_CARER = "family_carer", "Family carer"

    class Scope(models.TextChoices):
        VIEW = "view", "View"
        MANAGE_PLAN = "manage_plan", "Manage the plan"
        MANAGE_MONEY = "manage_money", "Manage the money"

    class AuthorityRecord(models.TextChoices):
        HOLDER_CONSENT = "holder_consent", "Consent given by the budget holder"
        PARENTAL_RESPONSIBILITY = "parental_responsibility", "Parental responsibility"
        LASTING_POWER_OF_ATTORNEY = "lasting_power_of_attorney", "Lasting power of attorney"
        COURT_OF_PROTECTION = "court_of_protection", "Court of Protection deputyship"
        BEST_INTERESTS = "best_interests", "Best-interests decision"

    representative = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="representations"
    )
    holder = models.ForeignKey(
        "budgets.BudgetHolder", on_delete=models.PROTECT, related_name="representations"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # A representative may hold several scopes (e.g. plan and money) at once.
    scopes = models.JSONField(default=list)
    starts_on = models.DateField(default=timezone.localdate)
    ends_on = models.DateField(null=True, blank=True)
    authority = models.CharField(
        "how consent or authority was recorded", max_length=32, choices=AuthorityRecord.choices
    )
    authority_reference = models.CharField(
        max_length=200, blank=True, help_text="E.g. the LPA or court order reference."
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RepresentationQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="representation_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["representative", "holder", "starts_on"],
                name="representation_unique_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.representative} for {self.holder} ({self.get_kind_display()})"

    def allows(self, scope: str) -> bool:
        return scope in self.scopes

    def scope_labels(self) -> list[str]:
        labels = dict(self.Scope.choices)
        return [str(labels[scope]) for scope in self.scopes if scope in labels]


class PartnerApplication(AbstractApplication):
    """An OAuth2 client of a partner system. It belongs to one organisation and sees
    only that organisation's records, within its scopes."""

    # Annotated because oauth2_provider's base model is untyped.
    organisation: models.ForeignKey[Organisation, Organisation] = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="applications"
    )
    scopes: models.CharField[str, str] = models.CharField(
        max_length=500,
        blank=True,
        help_text="Space-separated scopes this application may be granted.",
    )

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"
