"""Budget holders: the people a personal health budget is for."""

from __future__ import annotations

import re
from typing import Any

import nhs_number
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

# The shape of a full UK postcode (outward code, a space, inward code), after
# upper-casing and normalising the space. It does not prove the postcode exists.
POSTCODE_RE = re.compile(r"^(GIR 0AA|[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][A-Z]{2})$")


def normalise_postcode(value: str) -> str:
    compact = re.sub(r"\s+", "", value or "").upper()
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


def validate_postcode(value: str) -> None:
    if not POSTCODE_RE.match(normalise_postcode(value)):
        raise ValidationError(
            "Enter a real postcode, like LS1 4AP", code="invalid_postcode", params={"value": value}
        )


def normalise_nhs_number(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "")


def validate_nhs_number(value: str) -> None:
    digits = normalise_nhs_number(value)
    if not re.fullmatch(r"\d{10}", digits):
        raise ValidationError("NHS number must be 10 digits", code="nhs_number_length")
    if not nhs_number.is_valid(digits):
        raise ValidationError(
            "Enter a valid NHS number: the last digit does not match the others",
            code="nhs_number_checksum",
        )


def format_nhs_number(value: str) -> str:
    """NHS numbers are shown as 3 3 4 digits, as on NHS letters."""
    digits = normalise_nhs_number(value)
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}" if len(digits) == 10 else value


class EligibilityRoute(models.TextChoices):
    CHC = "chc", "NHS continuing healthcare"
    CHILDRENS_CONTINUING_CARE = "childrens_continuing_care", "Children's continuing care"
    S117_AFTERCARE = "s117_aftercare", "Section 117 aftercare"
    WHEELCHAIR = "wheelchair", "Wheelchair"
    END_OF_LIFE = "end_of_life", "End of life care"
    MATERNITY = "maternity", "Maternity"
    LEARNING_DISABILITY_AUTISM = "learning_disability_autism", "Learning disability and autism"
    MENTAL_HEALTH = "mental_health", "Mental health"
    SOCIAL_CARE = "social_care", "Social care"
    OTHER = "other", "Other"


# The NHS (Personal Health Budgets and Integrated Personal Commissioning) Regulations
# give a legal right to a personal health budget on these routes; elsewhere a budget is
# offered at the ICB's discretion.
LEGAL_RIGHT_ROUTES = frozenset(
    {
        EligibilityRoute.CHC,
        EligibilityRoute.CHILDRENS_CONTINUING_CARE,
        EligibilityRoute.S117_AFTERCARE,
        EligibilityRoute.WHEELCHAIR,
    }
)


class BudgetHolderQuerySet(models.QuerySet["BudgetHolder"]):
    def for_user(self, user: Any) -> BudgetHolderQuerySet:
        """The holder record itself, those the user currently represents, and those of
        the user's organisations (the responsible ICB or council)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        from users.models import Membership, Representation

        represented = Representation.objects.current().filter(representative=user)
        organisations = Membership.objects.filter(user=user).values("organisation_id")
        return self.filter(
            Q(user=user)
            | Q(pk__in=represented.values("holder_id"))
            | Q(organisation_id__in=organisations)
            | Q(council_id__in=organisations)
        )

    def for_staff(self, user: Any) -> BudgetHolderQuerySet:
        """Only the holders of the user's organisations (what staff search and list)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        from users.models import Membership

        organisations = Membership.objects.filter(user=user).values("organisation_id")
        return self.filter(Q(organisation_id__in=organisations) | Q(council_id__in=organisations))


class BudgetHolder(models.Model):
    """A person with a personal health budget (or on the way to one)."""

    class Status(models.TextChoices):
        REFERRED = "referred", "Referred"
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"

    nhs_number = models.CharField(
        "NHS number", max_length=10, unique=True, validators=[validate_nhs_number]
    )
    name = models.CharField(max_length=200)
    date_of_birth = models.DateField()
    postcode = models.CharField(max_length=8, validators=[validate_postcode])
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="budget_holder",
        help_text="The person's own account, if they sign in themselves.",
    )
    organisation = models.ForeignKey(
        "users.Organisation",
        on_delete=models.PROTECT,
        related_name="budget_holders",
        verbose_name="responsible ICB",
        help_text="The ICB responsible for this person's budget.",
    )
    council = models.ForeignKey(
        "users.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="council_budget_holders",
        help_text="The council responsible, for an integrated budget.",
    )
    eligibility_route = models.CharField(max_length=32, choices=EligibilityRoute.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REFERRED)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BudgetHolderQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(nhs_number__regex=r"^[0-9]{10}$"), name="holder_nhs_number_digits"
            ),
            models.CheckConstraint(
                condition=~Q(council=models.F("organisation")), name="holder_council_not_icb"
            ),
        ]
        indexes = [models.Index(fields=["date_of_birth"]), models.Index(fields=["organisation"])]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.nhs_number = normalise_nhs_number(self.nhs_number)
        self.postcode = normalise_postcode(self.postcode)
        if self.date_of_birth and self.date_of_birth > timezone.localdate():
            raise ValidationError({"date_of_birth": "Date of birth must be in the past"})

    @property
    def has_legal_right(self) -> bool:
        """Whether the eligibility route carries the legal right to a PHB."""
        return self.eligibility_route in LEGAL_RIGHT_ROUTES

    @property
    def nhs_number_display(self) -> str:
        return format_nhs_number(self.nhs_number)

    @property
    def is_child(self) -> bool:
        today = timezone.localdate()
        born = self.date_of_birth
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        return age < 18
