"""The commissioner's form for an organisation's survey schedule: whether it surveys,
when (months after a person's first plan is approved, then how often), who is asked,
when a reminder goes and how long people have to answer."""

from __future__ import annotations

from typing import Any

from django import forms

from outcomes.models import SurveySchedule

ASK_CHOICES = [
    ("holders", "Budget holders (or their representative)"),
    ("carers", "Family carers named in the person's circle of support"),
    ("staff", "Staff who wrote or approved the person's plan"),
]


def _number(label: str, hint: str, *, low: int, high: int, what: str) -> forms.IntegerField:
    message = f"{what} must be a whole number from {low} to {high}"
    return forms.IntegerField(
        label=label,
        help_text=hint,
        min_value=low,
        max_value=high,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "class": "nhsuk-input--width-3", "autocomplete": "off"}
        ),
        error_messages={
            "required": f"Enter {what.lower()}",
            "invalid": message,
            "min_value": message,
            "max_value": message,
        },
    )


class ScheduleForm(forms.Form):
    active = forms.TypedChoiceField(
        label="Send surveys",
        choices=[("yes", "Yes, send surveys when they fall due"), ("no", "No, stop for now")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether to send surveys"},
    )
    first_after_months = _number(
        "First survey, months after a person's first plan is approved",
        "For example, 6",
        low=1,
        high=36,
        what="The months before the first survey",
    )
    then_every_months = _number(
        "Then a survey every so many months",
        "For example, 12 for once a year",
        low=1,
        high=36,
        what="The months between surveys",
    )
    ask = forms.MultipleChoiceField(
        label="Who is asked",
        help_text="Select all that apply. Nobody who has asked not to be surveyed is sent one.",
        choices=ASK_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select who is asked"},
    )
    remind_after_days = _number(
        "Send one reminder after this many days",
        "To those who have not answered yet. For example, 14",
        low=1,
        high=90,
        what="The days before a reminder",
    )
    answer_within_days = _number(
        "Days people have to answer",
        "The invitation and its link stop working after this. For example, 42",
        low=7,
        high=120,
        what="The days to answer",
    )

    def __init__(self, data: Any = None, *, schedule: SurveySchedule) -> None:
        initial = {
            "active": "yes" if schedule.active else "no",
            "first_after_months": schedule.first_after_months,
            "then_every_months": schedule.then_every_months,
            "ask": [
                name
                for name, flag in (
                    ("holders", schedule.ask_holders),
                    ("carers", schedule.ask_carers),
                    ("staff", schedule.ask_staff),
                )
                if flag
            ],
            "remind_after_days": schedule.remind_after_days,
            "answer_within_days": schedule.answer_within_days,
        }
        super().__init__(data, initial=initial)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        remind, within = data.get("remind_after_days"), data.get("answer_within_days")
        if remind is not None and within is not None and remind >= within:
            self.add_error(
                "remind_after_days",
                "The reminder must go before the time to answer ends: "
                f"choose fewer days than {within}",
            )
        return data

    def schedule_fields(self) -> dict[str, Any]:
        """The cleaned data as the schedule's fields."""
        data = self.cleaned_data
        return {
            "active": data["active"],
            "first_after_months": data["first_after_months"],
            "then_every_months": data["then_every_months"],
            "ask_holders": "holders" in data["ask"],
            "ask_carers": "carers" in data["ask"],
            "ask_staff": "staff" in data["ask"],
            "remind_after_days": data["remind_after_days"],
            "answer_within_days": data["answer_within_days"],
        }


class SweepRunForm(forms.Form):
    """Nothing to fill in: the POST itself is the request (CSRF-checked)."""
