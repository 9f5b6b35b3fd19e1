"""What partner systems read and send about outcome surveys: instrument versions with
their questions, rounds as counts, aggregated results, and a response collected
elsewhere. No serializer here shows anyone's answers: a response recorded through the
API answers with what was recorded (counts and dimensions), not the answers back, so
no copy of them is kept with the idempotency record either."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from budgets.api.serializers import MAX_ID
from marketplace.api.serializers import _enum
from outcomes.models import (
    Instrument,
    OutcomeArea,
    Question,
    QuestionOption,
    RespondentKind,
    SurveyResponse,
    SurveyRound,
)

InstrumentStatusField = _enum(Instrument.Status, "InstrumentStatus")


class InstrumentSerializer(serializers.ModelSerializer):
    status = InstrumentStatusField(read_only=True)

    class Meta:
        model = Instrument
        fields = [
            "id",
            "respondent_kind",
            "version",
            "title",
            "status",
            "published_at",
            "created_at",
        ]
        read_only_fields = fields


class OptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = QuestionOption
        fields = ["code", "label", "polarity"]
        read_only_fields = fields


class QuestionSerializer(serializers.ModelSerializer):
    area = serializers.ChoiceField(
        choices=OutcomeArea.choices,
        allow_blank=True,
        read_only=True,
        help_text="For a 'better, the same or worse' question, the area of life it asks "
        "about; empty for other questions.",
    )
    options = OptionSerializer(many=True, read_only=True)

    class Meta:
        model = Question
        fields = [
            "code",
            "section",
            "position",
            "text",
            "hint",
            "kind",
            "area",
            "measure",
            "options",
        ]
        read_only_fields = fields


class InstrumentDetailSerializer(InstrumentSerializer):
    questions = QuestionSerializer(many=True, read_only=True)

    class Meta(InstrumentSerializer.Meta):
        fields = [*InstrumentSerializer.Meta.fields, "introduction", "questions"]
        read_only_fields = fields


# Expects the counts annotated (see outcomes/api/views.py ``RoundList``).
class RoundSerializer(serializers.ModelSerializer):
    instrument_version = serializers.IntegerField(source="instrument.version", read_only=True)
    invited = serializers.IntegerField(read_only=True, help_text="Invitations sent.")
    answered = serializers.IntegerField(read_only=True)
    declined = serializers.IntegerField(read_only=True)
    expired = serializers.IntegerField(read_only=True)
    waiting = serializers.IntegerField(
        read_only=True, help_text="Sent or started, not yet answered, declined or expired."
    )

    class Meta:
        model = SurveyRound
        fields = [
            "id",
            "organisation",
            "respondent_kind",
            "instrument",
            "instrument_version",
            "period_start",
            "closes_on",
            "state",
            "closed_at",
            "invited",
            "answered",
            "declined",
            "expired",
            "waiting",
        ]
        read_only_fields = fields


@extend_schema_field(
    {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {
            "oneOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ]
        },
        "description": "Question code → answer: for a 'better, the same or worse' question "
        "one of a_lot_worse, worse, same, better, a_lot_better, not_applicable; for a "
        "one-choice question an option's code; for an 'any that apply' question a list "
        "of option codes; for a free-text question the text.",
        "example": {"physical_health": "better", "planning_ease": "fairly_easy"},
    }
)
class AnswersField(serializers.JSONField):
    default_error_messages = {"invalid": "Send the answers as an object of question code → answer."}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.fail("invalid")
        return dict(data)


class ResponseInputSerializer(serializers.Serializer):
    holder = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="The holder's id. Send this or nhs_number.",
    )
    nhs_number = serializers.CharField(
        required=False,
        max_length=20,
        help_text="The holder's NHS number (spaces and hyphens are ignored). Send this or holder.",
    )
    instrument = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The id of the instrument version answered."
    )
    respondent_kind = serializers.ChoiceField(choices=RespondentKind.choices)
    answered_by = serializers.ChoiceField(
        choices=SurveyResponse.AnsweredBy.choices,
        default=SurveyResponse.AnsweredBy.SELF,
        help_text="For a holder's survey: the holder, or a representative on their behalf.",
    )
    answers = AnswersField()
    collected_on = serializers.DateField(help_text="The day the person answered.")
    external_reference = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        default="",
        help_text="The partner system's own reference; one response per reference.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("holder" in attrs) == ("nhs_number" in attrs):
            raise serializers.ValidationError(
                {"holder": ["Send the holder's id or their NHS number (one of them)."]}
            )
        return attrs


class ResponseSerializer(serializers.ModelSerializer):
    instrument_version = serializers.IntegerField(source="instrument.version", read_only=True)
    collected_on = serializers.DateField(source="submitted_on", read_only=True)
    questions_answered = serializers.IntegerField(read_only=True)

    class Meta:
        model = SurveyResponse
        fields = [
            "id",
            "holder",
            "instrument",
            "instrument_version",
            "respondent_kind",
            "answered_by",
            "source",
            "state",
            "collected_on",
            "submitted_at",
            "external_reference",
            "questions_answered",
        ]
        read_only_fields = fields
