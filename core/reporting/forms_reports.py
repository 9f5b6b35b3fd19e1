"""The form for asking for a report (core/reporting/views_reports.py): which report, of
which of the user's organisations, for which month or period, and as what.

The organisation list holds only the organisations where the user is a commissioner or
finance officer; any other value is an error and nothing is built."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django import forms

from core.reporting.finance_report import Month, month_choices
from core.reporting.models import ReportJob
from core.reporting.periods import Period, financial_year_of, last_completed_quarter

PAGE = "page"


def outcome_period_choices(today: datetime.date, *, years: int = 3) -> list[tuple[str, str]]:
    """Financial years and their quarters that have begun, newest first."""
    choices: list[tuple[str, str]] = []
    for year in range(financial_year_of(today), financial_year_of(today) - years, -1):
        whole = Period(year)
        choices.append((whole.key, f"{whole.label} (the whole year)"))
        choices.extend((q.key, q.label) for q in reversed(whole.quarters) if q.start <= today)
    return choices


class ReportRequestForm(forms.Form):
    kind = forms.ChoiceField(
        label="Which report",
        choices=[
            (
                ReportJob.Kind.FINANCE_MONTHLY,
                "Monthly finance report: allocations, spending, balances and recoveries",
            ),
            (
                ReportJob.Kind.OUTCOMES,
                "Outcomes report: what people say has changed, and improvement actions",
            ),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose which report you want",
            "invalid_choice": "Choose which report you want",
        },
    )
    organisation = forms.TypedChoiceField(
        label="Organisation",
        coerce=int,
        error_messages={
            "required": "Choose one of your organisations",
            "invalid_choice": "Choose one of your organisations",
        },
    )
    month = forms.ChoiceField(
        label="Month",
        help_text="For the monthly finance report.",
        error_messages={
            "required": "Choose a month",
            "invalid_choice": "Choose a month from the list",
        },
    )
    period = forms.ChoiceField(
        label="Period",
        help_text="For the outcomes report: a financial year or a quarter of one.",
        error_messages={
            "required": "Choose a period",
            "invalid_choice": "Choose a period from the list",
        },
    )
    format = forms.ChoiceField(
        label="How you want it",
        choices=[
            (ReportJob.Format.XLSX, "A spreadsheet (XLSX), one sheet for each table"),
            (ReportJob.Format.CSV, "A CSV file, the tables one after another"),
            (PAGE, "A page to read now and print"),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose how you want the report",
            "invalid_choice": "Choose how you want the report",
        },
    )

    def __init__(
        self,
        data: Mapping[str, Any] | None,
        *,
        organisations: list[tuple[int, str]],
        today: datetime.date,
    ) -> None:
        initial: dict[str, Any] = {
            "kind": ReportJob.Kind.FINANCE_MONTHLY,
            "month": Month.last_complete(today).key,
            "period": last_completed_quarter(today).key,
            "format": ReportJob.Format.XLSX,
        }
        if len(organisations) == 1:
            initial["organisation"] = organisations[0][0]
        super().__init__(data, initial=initial)
        self.fields["organisation"].choices = (  # type: ignore[attr-defined]
            [] if len(organisations) == 1 else [("", "Choose an organisation")]
        ) + organisations
        self.fields["month"].choices = month_choices(today)  # type: ignore[attr-defined]
        self.fields["period"].choices = outcome_period_choices(today)  # type: ignore[attr-defined]

    def params(self) -> dict[str, str]:
        """The report's parameters, as a job keeps them."""
        kind = self.cleaned_data["kind"]
        if kind == ReportJob.Kind.FINANCE_MONTHLY:
            return {"month": self.cleaned_data["month"]}
        return {"period": self.cleaned_data["period"]}
