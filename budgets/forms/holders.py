"""Forms for finding and opening budget holders' records (budgets/views/holders.py)."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from budgets.models import BudgetHolder, EligibilityRoute
from budgets.models.holders import (
    LEGAL_RIGHT_ROUTES,
    normalise_nhs_number,
    normalise_postcode,
    validate_nhs_number,
    validate_postcode,
)
from users.models import Organisation


class NHSDateWidget(forms.MultiWidget):
    """Day, month and year boxes, as the NHS.UK date input has them."""

    def __init__(self) -> None:
        super().__init__(
            [forms.TextInput(attrs={"inputmode": "numeric"}) for _ in ("day", "month", "year")]
        )

    def decompress(self, value: Any) -> list[Any]:
        if isinstance(value, datetime.date):
            return [value.day, value.month, value.year]
        return [None, None, None]


class NHSDateField(forms.MultiValueField):
    """A date typed as day, month and year (NHS.UK date input), rendered by
    budgets/jinja2/budgets/fields/date.html. Boxes are named ``<name>_0`` (day),
    ``_1`` (month) and ``_2`` (year)."""

    widget = NHSDateWidget

    def __init__(self, *, past_only: bool = False, **kwargs: Any) -> None:
        self.past_only = past_only
        part = forms.CharField(required=False, max_length=4)
        kwargs.setdefault("require_all_fields", False)
        kwargs.setdefault("template_name", "budgets/fields/date.html")
        super().__init__(fields=[part, part, part], **kwargs)

    def compress(self, data_list: list[str]) -> datetime.date | None:
        label = self.label or "The date"
        if not data_list or not any(data_list):
            return None
        day, month, year = ((value or "").strip() for value in data_list)
        missing = [
            name for name, value in (("day", day), ("month", month), ("year", year)) if not value
        ]
        if missing:
            raise ValidationError(f"{label} must include a {' and a '.join(missing)}")
        if not (day.isdigit() and month.isdigit() and year.isdigit()) or len(year) != 4:
            raise ValidationError(f"{label} must be a real date, like 15 3 1984")
        try:
            date = datetime.date(int(year), int(month), int(day))
        except ValueError:
            raise ValidationError(f"{label} must be a real date, like 15 3 1984") from None
        if date.year < 1900:
            raise ValidationError(f"{label} must be after 1900")
        if self.past_only and date > timezone.localdate():
            raise ValidationError(f"{label} must be in the past")
        return date


class NHSNumberField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 14)  # 10 digits with spaces or hyphens
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "inputmode": "numeric",
                    "autocomplete": "off",
                    "class": "nhsuk-input--width-10",
                }
            ),
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if not value:
            return ""
        validate_nhs_number(value)
        return normalise_nhs_number(value)


class HolderSearchForm(forms.Form):
    """Staff find a person by any of NHS number, name and date of birth."""

    nhs_number = NHSNumberField(
        label="NHS number",
        required=False,
        help_text="10 digits, like 999 123 4567",
        error_messages={"max_length": "NHS number must be 10 digits"},
    )
    name = forms.CharField(
        label="Name",
        required=False,
        max_length=200,
        help_text="All or part of their name",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    date_of_birth = NHSDateField(
        label="Date of birth", required=False, help_text="For example, 15 3 1984"
    )

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data.get("name", "").split())

    def filters(self) -> dict[str, Any]:
        """What was searched for (empty when nothing was)."""
        return {key: value for key, value in self.cleaned_data.items() if value}


def _route_label(route: EligibilityRoute) -> str:
    if route in LEGAL_RIGHT_ROUTES:
        return f"{route.label} (legal right to a personal health budget)"
    return str(route.label)


class HolderCreateForm(forms.Form):
    nhs_number = NHSNumberField(
        label="NHS number",
        help_text="10 digits, like 999 123 4567",
        error_messages={
            "required": "Enter their NHS number",
            "max_length": "NHS number must be 10 digits",
        },
    )
    name = forms.CharField(
        label="Full name",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": "Enter their full name"},
    )
    date_of_birth = NHSDateField(
        label="Date of birth",
        past_only=True,
        help_text="For example, 15 3 1984",
        error_messages={"required": "Enter their date of birth"},
    )
    postcode = forms.CharField(
        label="Postcode",
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "nhsuk-input--width-10"}),
        error_messages={
            "required": "Enter their postcode",
            "max_length": "Enter a real postcode, like LS1 4AP",
        },
    )
    organisation = forms.ModelChoiceField(
        label="Responsible ICB",
        queryset=Organisation.objects.none(),
        empty_label="Choose the ICB",
        error_messages={
            "required": "Choose the ICB responsible",
            "invalid_choice": "Choose an ICB from the list",
        },
    )
    council = forms.ModelChoiceField(
        label="Council (optional)",
        queryset=Organisation.objects.filter(kind=Organisation.Kind.LOCAL_AUTHORITY),
        required=False,
        empty_label="No council: not an integrated budget",
        help_text="For an integrated budget that a council also funds",
        error_messages={"invalid_choice": "Choose a council from the list"},
    )
    eligibility_route = forms.ChoiceField(
        label="Eligibility route",
        choices=[(route.value, _route_label(route)) for route in EligibilityRoute],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose their eligibility route",
            "invalid_choice": "Choose an eligibility route from the list",
        },
    )

    def __init__(self, *args: Any, icbs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organisation"]
        field.queryset = icbs  # type: ignore[attr-defined]
        only = list(icbs[:2])
        if len(only) == 1:
            field.initial = only[0].pk

    def clean_nhs_number(self) -> str:
        value = self.cleaned_data["nhs_number"]
        if BudgetHolder.objects.filter(nhs_number=value).exists():
            raise ValidationError(
                "Someone with this NHS number already has a record: search for them instead"
            )
        return value

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError("Enter their full name")
        return name

    def clean_postcode(self) -> str:
        value = self.cleaned_data["postcode"]
        validate_postcode(value)
        return normalise_postcode(value)
