"""What partner systems read about support plans, and what they send to move one on.

Money is integer pence; each part of a plan keeps its ``key``, the same across versions,
so a partner can follow one outcome or item from version to version."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from plans.models import (
    CircleMember,
    LifeArea,
    MoneyArrangement,
    PlanApproval,
    PlanOutcome,
    PlanReview,
    PlanRisk,
    SupportItem,
    SupportPlan,
)


@extend_schema_field(
    {
        "type": "string",
        "enum": SupportPlan.State.values,
        "description": "; ".join(
            f"`{value}`: {label}" for value, label in SupportPlan.State.choices
        ),
    },
    component_name="PlanState",
)
class PlanStateField(serializers.ChoiceField):
    """The plan's state, as its own schema component: budgets have a ``state`` too, with
    other values, and one shared name would make clients' enums collide."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=SupportPlan.State.choices, read_only=True, **kwargs)


class PlanSummarySerializer(serializers.ModelSerializer):
    """A plan version as lists show it."""

    state = PlanStateField()

    class Meta:
        model = SupportPlan
        fields = [
            "id",
            "holder",
            "budget",
            "version",
            "revises",
            "state",
            "yearly_cost_pence",
            "needs_commissioner",
            "first_review_on",
            "next_review_on",
            "review_every_months",
            "created_at",
            "submitted_at",
            "approved_at",
            "active_from",
            "ended_at",
        ]
        read_only_fields = fields


class LifeAreaSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=LifeArea.choices)
    display = serializers.CharField()


class OutcomeSerializer(serializers.ModelSerializer):
    life_areas = serializers.SerializerMethodField(
        help_text="The areas of life the outcome is about (those outcome surveys ask about)."
    )

    class Meta:
        model = PlanOutcome
        fields = ["id", "key", "goal", "how_we_know", "by_when", "life_areas"]
        read_only_fields = fields

    @extend_schema_field(LifeAreaSerializer(many=True))
    def get_life_areas(self, outcome: PlanOutcome) -> list[dict[str, str]]:
        return [{"code": area, "display": LifeArea(area).label} for area in outcome.life_areas]


# Expects ``outcomes`` prefetched (see the views): the ids are read from them.
class ItemSerializer(serializers.ModelSerializer):
    outcomes = serializers.SerializerMethodField(help_text="The ids of the outcomes it serves.")

    class Meta:
        model = SupportItem
        fields = [
            "id",
            "key",
            "description",
            "provider_kind",
            "provider_name",
            "times",
            "per",
            "unit_cost_pence",
            "yearly_cost_pence",
            "stream",
            "outcomes",
            "carer",
            "carer_support",
        ]
        read_only_fields = fields

    def get_outcomes(self, item: SupportItem) -> list[int]:
        return sorted(outcome.pk for outcome in item.outcomes.all())


class MoneySerializer(serializers.ModelSerializer):
    class Meta:
        model = MoneyArrangement
        fields = ["stream", "management_option", "managed_by"]
        read_only_fields = fields


class RiskSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanRisk
        fields = ["id", "key", "description", "how_managed", "agreed_by", "positive_risk"]
        read_only_fields = fields


class CircleMemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = CircleMember
        fields = ["id", "key", "name", "relationship", "role", "is_backup", "phone", "email"]
        read_only_fields = fields


class ApprovalSerializer(serializers.ModelSerializer):
    by_name = serializers.CharField(source="by.name", read_only=True, help_text="Who signed.")

    class Meta:
        model = PlanApproval
        fields = ["step", "by_name", "at", "note"]
        read_only_fields = fields


class ReviewSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanReview
        fields = [
            "id",
            "due_on",
            "held_on",
            "what_is_working",
            "what_is_not_working",
            "plan_changes",
            "new_version",
        ]
        read_only_fields = fields


# Expects every part prefetched (see ``with_parts`` in the views).
class PlanSerializer(PlanSummarySerializer):
    """A plan version with every part: what matters, outcomes, support items and their
    costs, how the money is managed, risks, back-up, the circle of support, review
    dates, reviews held and the sign-off history."""

    outcomes = OutcomeSerializer(many=True, read_only=True)
    items = ItemSerializer(many=True, read_only=True)
    money = MoneySerializer(many=True, read_only=True)
    risks = RiskSerializer(many=True, read_only=True)
    circle = CircleMemberSerializer(many=True, read_only=True)
    sign_offs = ApprovalSerializer(source="approvals", many=True, read_only=True)
    reviews = ReviewSerializer(many=True, read_only=True)

    class Meta(PlanSummarySerializer.Meta):
        fields = [
            *PlanSummarySerializer.Meta.fields,
            "what_matters",
            "if_support_fails",
            "carer_emergency",
            "changes_requested",
            "clinician_approved_at",
            "commissioner_approved_at",
            "agreed_at",
            "outcomes",
            "items",
            "money",
            "risks",
            "circle",
            "sign_offs",
            "reviews",
        ]
        read_only_fields = fields


class StrictBooleanField(serializers.BooleanField):
    """``true`` or ``false`` only: DRF's own takes ``"yes"``, ``1`` and ``"on"``, and a
    person's agreement to their plan should not rest on a guess."""

    default_error_messages = {"invalid": "Send true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class SubmitInputSerializer(serializers.Serializer):
    agree = StrictBooleanField(
        required=False,
        default=False,
        help_text="The holder or their representative confirms they agree with the plan.",
    )
    agreed_in_person = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="For a support planner submitting: how and when the person (or their "
        "representative) agreed. Recorded with the sign-off.",
    )


class ApproveInputSerializer(serializers.Serializer):
    step = serializers.ChoiceField(
        choices=[("clinician", "A clinician"), ("commissioner", "A commissioner")],
        help_text="Which sign-off this is; the caller must hold that role.",
    )
    reduction_reasons = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=5000,
        help_text="Needed when the plan costs less than an agreed budget: the budget is "
        "reduced and the person is sent these reasons.",
    )


class RequestChangesInputSerializer(serializers.Serializer):
    what_and_why = serializers.CharField(
        max_length=5000, help_text="What needs to change, and why. The holder is sent it."
    )
