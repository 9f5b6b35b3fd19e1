"""Forms of the dashboard: its filters (a GET form that works without JavaScript; the
API validates the same values with it) and the commissioner's spend target."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from budgets.models import EligibilityRoute, FundingStream
from core.reporting.dashboard import OPTION_LABELS, DashboardFilters
from core.reporting.periods import Period

ALL = "all"
# Pounds as typed: digits with optional thousands commas and pence.
_POUNDS_RE = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$")
_PERCENT_RE = re.compile(r"^\d{1,3}(\.\d{1,2})?$")
MAX_RELEVANT_SPEND_PENCE = 10**15  # ten trillion pounds: far above any organisation's


# Filter fields as drawn, by (name, value, choices, errors); see field_group.
_RENDERED: dict[tuple[Any, ...], str] = {}
RENDERED_KEPT = 2000


class DashboardFilterForm(forms.Form):
    organisation = forms.ChoiceField(
        label="Organisation",
        required=False,
        error_messages={"invalid_choice": "Choose one of your organisations"},
    )
    period = forms.ChoiceField(
        label="Period",
        required=False,
        error_messages={"invalid_choice": "Choose a period from the list"},
    )
    stream = forms.ChoiceField(
        label="Funding stream",
        required=False,
        choices=[("", "All funding streams"), *FundingStream.choices],
        error_messages={"invalid_choice": "Choose a funding stream from the list"},
    )
    route = forms.ChoiceField(
        label="Eligibility route",
        required=False,
        choices=[("", "All routes"), *EligibilityRoute.choices],
        error_messages={"invalid_choice": "Choose an eligibility route from the list"},
    )
    option = forms.ChoiceField(
        label="How the budget is managed",
        required=False,
        choices=[("", "All ways"), *OPTION_LABELS.items()],
        error_messages={"invalid_choice": "Choose a way of managing the budget from the list"},
    )
    area = forms.ChoiceField(
        label="Postcode area",
        required=False,
        error_messages={"invalid_choice": "Choose a postcode area from the list"},
    )

    def __init__(
        self,
        data: Mapping[str, Any] | None,
        *,
        organisations: list[tuple[int, str]],
        periods: list[Period],
        default_period: Period | None,
        areas: list[str],
    ) -> None:
        super().__init__(data)
        self.organisations = organisations
        self.default_period = default_period
        org_choices: list[tuple[str, str]] = [(str(pk), name) for pk, name in organisations]
        if len(organisations) > 1:
            org_choices.append((ALL, "All your organisations together"))
        self._set_choices("organisation", org_choices)
        self._set_choices("period", [(p.key, p.label) for p in periods])
        self._set_choices("area", [("", "All areas"), *((a, a) for a in areas)])

    def _set_choices(self, name: str, choices: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        field.choices = choices

    def field_group(self, name: str) -> str:
        """``self[name].as_field_group()``, remembered across requests: the NHS.UK
        select is the slowest part of the page to draw, and the same fields (name,
        choices, value and errors) come back request after request."""
        bound = self[name]
        field = self.fields[name]
        choices = tuple(getattr(field, "choices", ()))
        key = (name, str(bound.value()), choices, tuple(bound.errors))
        html = _RENDERED.get(key)
        if html is None:
            html = bound.as_field_group()
            if len(_RENDERED) >= RENDERED_KEPT:
                _RENDERED.clear()
            _RENDERED[key] = html
        return html

    def organisation_ids(self) -> list[int]:
        """The organisations the figures are for: the chosen one, all of them for
        ``all``, or the first when none is chosen."""
        chosen = self.cleaned_data.get("organisation") or ""
        if chosen == ALL:
            return [pk for pk, _ in self.organisations]
        if chosen:
            return [int(chosen)]
        return [self.organisations[0][0]] if self.organisations else []

    @property
    def combined(self) -> bool:
        return self.cleaned_data.get("organisation") == ALL

    def filters(self) -> DashboardFilters | None:
        key = self.cleaned_data.get("period") or ""
        period = Period.parse(key) if key else self.default_period
        if period is None:
            return None
        data = self.cleaned_data
        return DashboardFilters(
            period=period,
            stream=data.get("stream") or "",
            route=data.get("route") or "",
            option=data.get("option") or "",
            area=data.get("area") or "",
        )

    def description(self) -> list[tuple[str, str]]:
        """The chosen filters other than organisation and period, as (label, value)."""
        described = []
        for name in ("stream", "route", "option", "area"):
            value = self.cleaned_data.get(name)
            if not value:
                continue
            field = self.fields[name]
            described.append((str(field.label), str(dict(field.choices).get(value, value))))  # type: ignore[attr-defined]
        return described


def _pounds_to_pence(text: str) -> int:
    value = (text or "").strip().replace(" ", "").removeprefix("£")
    if not value:
        raise ValidationError("Enter the organisation's relevant spend for the year")
    if not _POUNDS_RE.match(value):
        raise ValidationError("Enter the relevant spend in pounds, like 25,000,000 or 25000000.00")
    try:
        pence = Decimal(value.replace(",", "")) * 100
    except InvalidOperation as error:  # pragma: no cover - the pattern rules it out
        raise ValidationError("Enter the relevant spend in pounds") from error
    if pence <= 0:
        raise ValidationError("The relevant spend must be more than £0")
    if pence > MAX_RELEVANT_SPEND_PENCE:
        raise ValidationError("The relevant spend is too large: check the number of digits")
    return int(pence)


def _percent_to_basis_points(text: str) -> int:
    value = (text or "").strip().removesuffix("%").strip()
    if not value:
        raise ValidationError("Enter the target share as a percentage")
    if not _PERCENT_RE.match(value):
        raise ValidationError("Enter the target as a percentage, like 12 or 12.5")
    points = Decimal(value) * 100
    if points > 10000:
        raise ValidationError("The target must be 100% or less")
    return int(points)


class SpendTargetForm(forms.Form):
    relevant_spend = forms.CharField(
        label="Relevant spend for the year, in pounds",
        help_text="What the organisation spends in the year on the services personal "
        "budgets could fund, for example 25,000,000",
        max_length=30,
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off", "class": "nhsuk-input--width-10"}
        ),
    )
    target_percent = forms.CharField(
        label="Target share through personal budgets, as a percentage",
        help_text="For example, 12.5",
        max_length=10,
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off", "class": "nhsuk-input--width-4"}
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["relevant_spend"].error_messages["required"] = (
            "Enter the organisation's relevant spend for the year"
        )
        self.fields["target_percent"].error_messages["required"] = (
            "Enter the target share as a percentage"
        )

    def clean_relevant_spend(self) -> int:
        return _pounds_to_pence(self.cleaned_data.get("relevant_spend", ""))

    def clean_target_percent(self) -> int:
        return _percent_to_basis_points(self.cleaned_data.get("target_percent", ""))
