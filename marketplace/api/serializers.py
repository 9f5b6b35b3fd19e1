"""What partner systems read about the marketplace, and what provider organisations send
to list themselves and their services.

Money is integer pence. Every record has its integer ``id`` (used in this API's paths and
filters) and its ``uuid`` (its id in the Open Referral UK feed). Choice fields are their
own schema components (``ProviderKind``, ``BookingState``...): other parts of the API have
a ``kind`` or a ``state`` with other values, and one shared name would make clients' enums
collide."""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from budgets.api.serializers import MAX_ID, PenceField
from marketplace.listings import PROVIDER_FIELDS
from marketplace.models import (
    Booking,
    Category,
    CostOption,
    Location,
    Pool,
    PoolMember,
    Provider,
    ProviderKind,
    Schedule,
    Service,
    Weekday,
)

# --- Choices, each a named schema component ----------------------------------------------


def _enum(choices: type[models.Choices], component_name: str) -> Any:
    """A ChoiceField class described as its own enum component, with each value's label."""
    values = list(choices.values)
    schema = {
        "type": "integer" if all(isinstance(v, int) for v in values) else "string",
        "enum": values,
        "description": "; ".join(f"`{value}`: {label}" for value, label in choices.choices),
    }

    class Field(serializers.ChoiceField):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(choices=choices.choices, **kwargs)

    Field.__name__ = f"{component_name}Field"
    return extend_schema_field(schema, component_name=component_name)(Field)


ProviderKindField = _enum(ProviderKind, "ProviderKind")
VerificationField = _enum(Provider.Verification, "ProviderVerification")
ServiceStatusField = _enum(Service.Status, "ServiceStatus")
CostPerField = _enum(CostOption.Per, "CostPer")
WeekdayField = _enum(Weekday, "Weekday")
BookingStateField = _enum(Booking.State, "BookingState")
PoolStateField = _enum(Pool.State, "PoolState")
PoolSplitField = _enum(Pool.Split, "PoolSplit")


class StrictBooleanField(serializers.BooleanField):
    """``true`` or ``false`` only, not DRF's ``"yes"``, ``1`` or ``"on"``."""

    default_error_messages = {"invalid": "Send true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer, not ``"3"`` or ``3.0``."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


def _blank_or(what: str) -> serializers.CharField:
    """An email address or web address as stored: empty when there is none (so not
    described with a format an empty string would break)."""
    return serializers.CharField(read_only=True, help_text=f"{what}, or empty if none.")


# --- Reading ------------------------------------------------------------------------------


class CategorySerializer(serializers.ModelSerializer):
    taxonomy = serializers.CharField(source="taxonomy.name", read_only=True)
    # A declared field, not Serializer.parent: the metaclass moves it into the fields.
    parent: Any = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        allow_null=True,
        help_text="The parent category's code, if any.",
    )
    organisation: Any = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="The ICB or council that added it; null for a national category.",
    )

    class Meta:
        model = Category
        fields = ["id", "uuid", "code", "name", "description", "taxonomy", "parent", "organisation"]
        read_only_fields = fields


# Expects ``areas`` prefetched (see the views).
class ProviderSerializer(serializers.ModelSerializer):
    """A provider's public listing: what a buyer needs to trust it."""

    kind = ProviderKindField(read_only=True)
    verification = VerificationField(read_only=True)
    verified = serializers.BooleanField(
        source="is_verified",
        read_only=True,
        help_text="Verified by a commissioner, and the verification has not run out.",
    )
    email = _blank_or("An email address")
    website = _blank_or("A web address")
    areas: Any = serializers.PrimaryKeyRelatedField(
        many=True,
        read_only=True,
        help_text="The ICBs and councils whose market the provider is in.",
    )

    class Meta:
        model = Provider
        fields = [
            "id",
            "uuid",
            "organisation",
            *PROVIDER_FIELDS,
            "verification",
            "verified",
            "verified_at",
            "verification_expires_on",
            "areas",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CostOptionSerializer(serializers.ModelSerializer):
    per = CostPerField(read_only=True)

    class Meta:
        model = CostOption
        fields = ["id", "uuid", "amount_pence", "per", "description"]
        read_only_fields = fields


class ScheduleSerializer(serializers.ModelSerializer):
    weekday = WeekdayField(read_only=True)

    class Meta:
        model = Schedule
        fields = ["id", "uuid", "weekday", "opens_at", "closes_at", "note"]
        read_only_fields = fields


class LocationSerializer(serializers.ModelSerializer):
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, coerce_to_string=False, read_only=True, allow_null=True
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, coerce_to_string=False, read_only=True, allow_null=True
    )

    class Meta:
        model = Location
        fields = [
            "id",
            "uuid",
            "name",
            "address_1",
            "city",
            "region",
            "postcode",
            "latitude",
            "longitude",
            "step_free",
        ]
        read_only_fields = fields


# Expects provider and category selected, and cost options, schedules and locations
# prefetched (see ``with_parts`` in the views).
class ServiceSerializer(serializers.ModelSerializer):
    """A service with its prices, its days and times and where it is delivered."""

    provider_name = serializers.CharField(source="provider.name", read_only=True)
    category: Any = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="The category's code."
    )
    category_name = serializers.CharField(source="category.name", read_only=True)
    status = ServiceStatusField(read_only=True)
    cost_options = CostOptionSerializer(many=True, read_only=True)
    schedules = ScheduleSerializer(many=True, read_only=True)
    locations = serializers.SerializerMethodField(help_text="The places it is delivered at.")
    email = _blank_or("An email address")
    url = _blank_or("A web address")

    class Meta:
        model = Service
        fields = [
            "id",
            "uuid",
            "provider",
            "provider_name",
            "title",
            "description",
            "keywords",
            "category",
            "category_name",
            "status",
            "is_free",
            "postcode_districts",
            "online",
            "minimum_age",
            "maximum_age",
            "eligibility",
            "languages",
            "contact_name",
            "email",
            "phone",
            "url",
            "cost_options",
            "schedules",
            "locations",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(LocationSerializer(many=True))
    def get_locations(self, service: Service) -> list[dict[str, Any]]:
        places = [at.location for at in service.at_locations.all()]
        return list(LocationSerializer(places, many=True).data)


class BookingSerializer(serializers.ModelSerializer):
    """A booking: what was agreed, for how much, and where it has got to."""

    state = BookingStateField(read_only=True)
    service_title = serializers.CharField(source="service.title", read_only=True)
    provider = serializers.IntegerField(source="service.provider_id", read_only=True)
    committed_pence = serializers.IntegerField(
        read_only=True, help_text="Promised and not yet paid (accepted or delivered bookings)."
    )

    class Meta:
        model = Booking
        fields = [
            "id",
            "uuid",
            "service",
            "service_title",
            "provider",
            "cost_option",
            "holder",
            "budget",
            "contribution",
            "plan_item",
            "enquiry",
            "state",
            "quantity",
            "unit_price_pence",
            "amount_pence",
            "paid_pence",
            "committed_pence",
            "starts_on",
            "ends_on",
            "details",
            "requested_at",
            "decided_at",
            "reason",
            "delivered_at",
        ]
        read_only_fields = fields


class PoolMemberSerializer(serializers.Serializer):
    """A pool member as this caller may see them. Whose record the caller may read (their
    own, someone they represent, or a holder their organisation serves) shows in full;
    anyone else shows only a first name, and only if they agreed to it."""

    yours = serializers.BooleanField(
        help_text="The caller may read this member's record (their own, someone they "
        "represent, or a holder their organisation serves)."
    )
    name = serializers.CharField(
        required=False,
        help_text="The member's first name: omitted unless they agreed to show it "
        "(`show_name`) or the member is yours.",
    )
    show_name = serializers.BooleanField(
        help_text="Whether the member agreed to show their first name to other members."
    )
    joined_at = serializers.DateTimeField()
    holder = serializers.IntegerField(required=False, help_text="Only for members who are yours.")
    budget = serializers.IntegerField(required=False, help_text="Only for members who are yours.")
    contribution = serializers.IntegerField(
        required=False, help_text="Only for members who are yours."
    )
    plan_item = serializers.IntegerField(
        required=False, allow_null=True, help_text="Only for members who are yours."
    )
    share_pence = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="What the member paid, set when the pool is funded; only for members "
        "who are yours.",
    )

    def to_representation(self, member: PoolMember) -> dict[str, Any]:
        readable: set[int] = self.context.get("readable_holders", set())
        yours = member.holder_id in readable
        data: dict[str, Any] = {
            "yours": yours,
            "show_name": member.show_name,
            "joined_at": serializers.DateTimeField().to_representation(member.joined_at),
        }
        if yours or member.show_name:
            data["name"] = (member.holder.name.split() or [""])[0]
        if yours:
            data.update(
                holder=member.holder_id,
                budget=member.budget_id,
                contribution=member.contribution_id,
                plan_item=member.plan_item_id,
                share_pence=member.share_pence,
            )
        return data


# Expects ``current_members`` prefetched with their holders (see the views), and the
# holders the caller may read in the context as ``readable_holders``.
class PoolSerializer(serializers.ModelSerializer):
    """A pooled purchase: what it is for, what it costs, how it is shared and who is in
    it, as far as each member agreed to be seen."""

    state = PoolStateField(read_only=True)
    split = PoolSplitField(read_only=True)
    member_count = serializers.SerializerMethodField(help_text="Members now in the pool.")
    members = serializers.SerializerMethodField()

    class Meta:
        model = Pool
        fields = [
            "id",
            "uuid",
            "purpose",
            "description",
            "service",
            "organisation",
            "cost_pence",
            "split",
            "share_pence",
            "minimum_members",
            "maximum_members",
            "deadline",
            "state",
            "created_at",
            "funded_at",
            "closed_at",
            "close_reason",
            "member_count",
            "members",
        ]
        read_only_fields = fields

    def get_member_count(self, pool: Pool) -> int:
        return len(pool.current_members)  # type: ignore[attr-defined]

    @extend_schema_field(PoolMemberSerializer(many=True))
    def get_members(self, pool: Pool) -> list[dict[str, Any]]:
        members = pool.current_members  # type: ignore[attr-defined]
        return list(PoolMemberSerializer(members, many=True, context=self.context).data)


# --- Writing ------------------------------------------------------------------------------


class ProviderInputSerializer(serializers.Serializer):
    """A provider organisation's listing. Changing a regulated fact (name, kind, CQC
    number, DBS check date, insurance, user-led, not-for-profit) of a verified listing
    sends it back for a commissioner's verification."""

    organisation = StrictIntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="The provider organisation the listing belongs to (on creation only). "
        "An application's listing is always its own organisation's; a person who works "
        "for one provider organisation may leave it out.",
    )
    name = serializers.CharField(max_length=200)
    kind = ProviderKindField()
    description = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=30)
    website = serializers.URLField(required=False, allow_blank=True, max_length=200)
    postcode = serializers.CharField(required=False, allow_blank=True, max_length=8)
    cqc_number = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20,
        help_text="Care Quality Commission registration; needed for a registered care provider.",
    )
    dbs_checked_on = serializers.DateField(required=False, allow_null=True)
    insurer = serializers.CharField(required=False, allow_blank=True, max_length=200)
    insurance_expires_on = serializers.DateField(required=False, allow_null=True)
    user_led = StrictBooleanField(required=False)
    not_for_profit = StrictBooleanField(required=False)
    listed = StrictBooleanField(required=False, help_text="Shown in search and the public feed.")
    areas = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=100,
        help_text="The ids of the ICBs and councils whose market the provider is in.",
    )


class CostOptionInputSerializer(serializers.Serializer):
    amount_pence = PenceField(help_text="The price, in whole pence.")
    per = CostPerField()
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)


class ScheduleInputSerializer(serializers.Serializer):
    weekday = WeekdayField(help_text="0 is Monday, 6 is Sunday.")
    opens_at = serializers.TimeField(required=False, allow_null=True)
    closes_at = serializers.TimeField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)


class ServiceInputSerializer(serializers.Serializer):
    """A service of one of the caller's providers. ``cost_options``, ``schedules`` and
    ``locations``, when sent, replace the service's own."""

    provider = StrictIntegerField(
        min_value=1,
        max_value=MAX_ID,
        help_text="One of the caller's providers (on creation only; a service does not "
        "move to another provider).",
    )
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=10000)
    category = serializers.CharField(
        max_length=60,
        help_text="A category's code (see /categories/): a national one, or one added "
        "in one of the provider's areas.",
    )
    status = ServiceStatusField(required=False)
    is_free = StrictBooleanField(required=False, help_text="Free to use: no cost options.")
    postcode_districts = serializers.ListField(
        child=serializers.CharField(max_length=8),
        required=False,
        max_length=200,
        help_text="The postcode districts it is delivered in (the first half of a "
        "postcode, like LS1).",
    )
    online = StrictBooleanField(required=False)
    minimum_age = StrictIntegerField(required=False, allow_null=True, min_value=0, max_value=150)
    maximum_age = StrictIntegerField(required=False, allow_null=True, min_value=0, max_value=150)
    eligibility = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    languages = serializers.ListField(
        child=serializers.CharField(max_length=3),
        required=False,
        max_length=50,
        help_text="ISO 639 codes, e.g. en, cy, ur; sgn for British Sign Language.",
    )
    contact_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=30)
    url = serializers.URLField(required=False, allow_blank=True, max_length=200)
    cost_options = CostOptionInputSerializer(many=True, required=False, max_length=20)  # type: ignore[call-arg]
    schedules = ScheduleInputSerializer(many=True, required=False, max_length=50)  # type: ignore[call-arg]
    locations = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=50,
        help_text="The ids of the provider's locations where it is delivered.",
    )
