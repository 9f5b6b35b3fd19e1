"""Forms for the outcome report pages (outcomes/views/reports.py): the report's filters
as a GET form, and adding a published reference figure.

The organisation filter offers only the user's own organisations; a value naming any
other organisation is an error the view answers with 404, so the page never shows a
figure of it."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms

from budgets.models import EligibilityRoute
from outcomes.models import MANAGEMENT_CHOICES, BudgetBand, OutcomeArea, RespondentKind
from outcomes.reports import Breakdown, ReportFilter, period_bounds, period_choices

FILTER_FIELDS = ("kind", "organisation", "route", "management", "band", "period", "breakdown")


class ReportFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label="Whose answers",
        required=False,
        choices=[
            (RespondentKind.HOLDER, "Budget holders"),
            (RespondentKind.CARER, "Family carers"),
            (RespondentKind.STAFF, "Staff"),
        ],
        error_messages={"invalid_choice": "Choose whose answers from the list"},
    )
    organisation = forms.TypedChoiceField(
        label="Organisation",
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": "Choose one of your organisations"},
    )
    route = forms.ChoiceField(
        label="Eligibility route",
        required=False,
        choices=[("", "All routes"), *EligibilityRoute.choices],
        error_messages={"invalid_choice": "Choose an eligibility route from the list"},
    )
    management = forms.ChoiceField(
        label="How the budget is managed",
        required=False,
        choices=[("", "All ways"), *MANAGEMENT_CHOICES],
        error_messages={"invalid_choice": "Choose a way of managing the budget from the list"},
    )
    band = forms.ChoiceField(
        label="Budget size",
        required=False,
        choices=[("", "All sizes"), *BudgetBand.choices],
        error_messages={"invalid_choice": "Choose a budget size from the list"},
    )
    period = forms.ChoiceField(
        label="Period",
        required=False,
        error_messages={"invalid_choice": "Choose a period from the list"},
    )
    breakdown = forms.ChoiceField(
        label="Break down by",
        required=False,
        choices=list(Breakdown.choices),
        error_messages={"invalid_choice": "Choose a breakdown from the list"},
    )

    def __init__(
        self,
        data: Mapping[str, Any] | None,
        *,
        organisations: list[tuple[int, str]],
        today: datetime.date,
    ) -> None:
        super().__init__(data)
        self.organisation_ids = frozenset(pk for pk, _ in organisations)
        org_field = self.fields["organisation"]
        assert isinstance(org_field, forms.TypedChoiceField)  # noqa: S101 - declared above
        org_field.choices = [("", "All your organisations"), *organisations]
        period_field = self.fields["period"]
        assert isinstance(period_field, forms.ChoiceField)  # noqa: S101 - declared above
        period_field.choices = [("", "All time"), *period_choices(today)]

    def report_filter(self) -> ReportFilter:
        data = self.cleaned_data
        date_from = date_to = None
        if data.get("period"):
            date_from, date_to = period_bounds(data["period"])
        return ReportFilter(
            organisation_ids=self.organisation_ids,
            respondent_kind=data.get("kind") or RespondentKind.HOLDER,
            organisation_id=data.get("organisation"),
            eligibility_route=data.get("route") or "",
            management_option=data.get("management") or "",
            budget_band=data.get("band") or "",
            date_from=date_from,
            date_to=date_to,
        )

    @property
    def chosen_breakdown(self) -> str:
        return str(self.cleaned_data.get("breakdown") or "")

    def query_string(self, **overrides: str) -> str:
        """The valid filters as a query string (for the export links and tabs)."""
        values = {name: self.cleaned_data.get(name) for name in FILTER_FIELDS}
        values.update(overrides)
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})

    def description(self) -> list[tuple[str, str]]:
        """The chosen filters as (label, value) for the page and the exports."""
        described = []
        for name in FILTER_FIELDS:
            if name == "breakdown":
                continue
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                continue
            field = self.fields[name]
            choices = dict(getattr(field, "choices", []))
            described.append((str(field.label), str(choices.get(value, value))))
        return described


def _percent_field(label: str, example: str, *, help_text: str = "") -> forms.DecimalField:
    """An optional percentage from 0 to 100 with one decimal place, as a source gives it."""
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=1,
        max_digits=4,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "nhsuk-input--width-4"}),
        error_messages={
            "invalid": f"Enter a percentage, like {example} or {example}.5",
            "min_value": "Enter a percentage from 0 to 100",
            "max_value": "Enter a percentage from 0 to 100",
            "max_decimal_places": "Enter the percentage with at most one decimal place",
        },
    )


class ReferenceFigureForm(forms.Form):
    respondent_kind = forms.ChoiceField(
        label="Whose answers",
        choices=RespondentKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whose answers the figure is about"},
    )
    area = forms.ChoiceField(
        label="Outcome area",
        choices=[("", "Choose an area"), *OutcomeArea.choices],
        error_messages={"required": "Choose the outcome area"},
    )
    better_percent = _percent_field(
        "Per cent saying better",
        "86",
        help_text="As the source states it. Leave empty if it does not say.",
    )
    same_percent = _percent_field("Per cent saying about the same", "10")
    worse_percent = _percent_field("Per cent saying worse", "4")
    respondents = forms.IntegerField(
        label="How many answered",
        required=False,
        min_value=1,
        help_text="Where the source says.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-5"}),
        error_messages={
            "invalid": "Enter how many answered as a whole number",
            "min_value": "Enter how many answered as a whole number",
        },
    )
    source = forms.CharField(
        label="Source",
        max_length=300,
        help_text="The title of the published report or page.",
        error_messages={"required": "Enter the source of the figure"},
    )
    source_url = forms.URLField(
        label="Web address of the source",
        required=False,
        max_length=200,
        assume_scheme="https",
        error_messages={"invalid": "Enter a web address, like https://www.example.org/report"},
    )
    published_year = forms.IntegerField(
        label="Year published",
        min_value=1990,
        max_value=2100,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-4"}),
        error_messages={
            "required": "Enter the year the source was published",
            "invalid": "Enter the year as four digits, like 2015",
            "min_value": "Enter the year as four digits, like 2015",
            "max_value": "Enter the year as four digits, like 2015",
        },
    )
    note = forms.CharField(
        label="What the source says",
        required=False,
        max_length=400,
        help_text="Quote the sentence the figure comes from.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        figures = [data.get(f"{part}_percent") for part in ("better", "same", "worse")]
        if not any(f is not None for f in figures) and not self.errors:
            self.add_error("better_percent", "Enter at least one percentage the source states")
        return data
