"""Forms for setting budgets up: periods, funding, state, indicative budgets
(budgets/views/setup.py). Money is typed in pounds and pence and becomes whole pence
exactly (Decimal, never float)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from budgets.forms.holders import NHSDateField
from budgets.ledger import MAX_YEARLY_PENCE, format_pence
from budgets.models import (
    Budget,
    FundingContribution,
    FundingStream,
    ManagementOption,
    PaymentSchedule,
    RasAssessment,
)
from users.models import Organisation

# Digits with optional thousands commas, then optionally a point and up to 2 places.
# Anything else (exponents, signs, "NaN", three decimal places) is refused.
_POUNDS_RE = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$")


class PoundsField(forms.Field):
    """An amount in pounds and pence, like 12,500.00 or £12.50, cleaned to whole pence."""

    def __init__(self, *, allow_zero: bool = False, **kwargs: Any) -> None:
        self.allow_zero = allow_zero
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "inputmode": "decimal",
                    "autocomplete": "off",
                    "class": "nhsuk-input--width-10",
                }
            ),
        )
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        text = str(value or "").strip().replace(" ", "")
        if not text:
            return None
        label = self.label or "The amount"
        if text.startswith("-") or text.startswith("£-"):
            raise ValidationError(f"{label} must be more than £0.00")
        text = text.removeprefix("£")
        if re.fullmatch(r"\d+\.\d{3,}", text.replace(",", "")):
            raise ValidationError(f"{label} must be in pounds and pence: no fractions of a penny")
        if not _POUNDS_RE.match(text):
            raise ValidationError(f"{label} must be an amount in pounds, like 12,500.00")
        try:
            pence = Decimal(text.replace(",", "")) * 100
        except InvalidOperation:  # the pattern above makes this unreachable; be safe
            raise ValidationError(f"{label} must be an amount in pounds, like 12,500.00") from None
        if pence != pence.to_integral_value():
            raise ValidationError(f"{label} must be in pounds and pence: no fractions of a penny")
        amount = int(pence)
        if amount == 0 and not self.allow_zero:
            raise ValidationError(f"{label} must be more than £0.00")
        if amount > MAX_YEARLY_PENCE:
            raise ValidationError(f"{label} must be {format_pence(MAX_YEARLY_PENCE)} or less")
        return amount


class BudgetCreateForm(forms.Form):
    period_start = NHSDateField(
        label="Start date",
        help_text="The first day of the budget year, for example 1 4 2026",
        error_messages={"required": "Enter the start date"},
    )
    period_end = NHSDateField(
        label="End date",
        help_text="The last day of the budget year, for example 31 3 2027",
        error_messages={"required": "Enter the end date"},
    )
    payment_schedule = forms.ChoiceField(
        label="How often is money paid in?",
        choices=PaymentSchedule.choices,
        initial=PaymentSchedule.FOUR_WEEKLY,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose how often money is paid in",
            "invalid_choice": "Choose a payment schedule from the list",
        },
    )
    indicative_assessment = forms.ModelChoiceField(
        label="Indicative amount",
        queryset=RasAssessment.objects.none(),
        required=False,
        empty_label="None yet",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose one of this person's indicative budgets"},
    )

    def __init__(self, *args: Any, assessments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["indicative_assessment"]
        field.queryset = assessments  # type: ignore[attr-defined]
        field.label_from_instance = lambda a: (  # type: ignore[attr-defined]
            f"{format_pence(a.indicative_pence)}: {a.questionnaire or a.get_method_display()}, "
            f"{timezone.localtime(a.completed_at):%-d %B %Y}"
        )
        if not assessments:
            del self.fields["indicative_assessment"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end <= start:
            self.add_error("period_end", "The end date must be after the start date")
        elif start and end and (end - start).days > 366:
            self.add_error("period_end", "A budget covers one year at most")
        return data


class ContributionAddForm(forms.Form):
    funder = forms.ModelChoiceField(
        label="Funder",
        queryset=Organisation.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": "Choose who funds this part",
            "invalid_choice": "Choose the person's ICB or council",
        },
    )
    stream = forms.ChoiceField(
        label="Funding stream",
        choices=[("", "Choose the stream"), *FundingStream.choices],
        error_messages={
            "required": "Choose the funding stream",
            "invalid_choice": "Choose a funding stream from the list",
        },
    )
    yearly_amount = PoundsField(
        label="Amount a year",
        help_text="In pounds, for example 12,500.00",
        error_messages={"required": "Enter the amount a year"},
    )
    management_option = forms.ChoiceField(
        label="How is this part managed?",
        choices=ManagementOption.choices,
        initial=ManagementOption.NOTIONAL,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose how this part is managed",
            "invalid_choice": "Choose a way of managing it from the list",
        },
    )
    managed_by = forms.ModelChoiceField(
        label="Third-party manager",
        queryset=Organisation.objects.filter(kind=Organisation.Kind.BUDGET_MANAGER),
        required=False,
        empty_label="None",
        help_text="Only for a third-party budget: the organisation that manages the money",
        error_messages={"invalid_choice": "Choose a third-party manager from the list"},
    )

    def __init__(self, *args: Any, budget: Budget, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget = budget
        holder = budget.holder
        funders = Organisation.objects.filter(
            pk__in=[pk for pk in (holder.organisation_id, holder.council_id) if pk]
        ).order_by("kind", "name")
        self.fields["funder"].queryset = funders  # type: ignore[attr-defined]
        if len(funders) == 1:
            self.fields["funder"].initial = funders[0].pk

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        option, manager = data.get("management_option"), data.get("managed_by")
        if option == ManagementOption.THIRD_PARTY and not manager:
            self.add_error(
                "managed_by", "Choose the organisation that manages a third-party budget"
            )
        elif manager and option and option != ManagementOption.THIRD_PARTY:
            self.add_error(
                "managed_by", "Only a third-party budget has a manager: choose None, or third-party"
            )
        funder, stream = data.get("funder"), data.get("stream")
        if (
            funder
            and stream
            and FundingContribution.objects.filter(
                budget=self.budget, funder=funder, stream=stream
            ).exists()
        ):
            self.add_error(
                "stream",
                f"{funder.name} already funds this budget from that stream: "
                "change that amount instead",
            )
        return data


class ContributionChangeForm(forms.Form):
    yearly_amount = PoundsField(
        label="New amount a year",
        help_text="In pounds, for example 12,500.00",
        error_messages={"required": "Enter the new amount a year"},
    )
    reasons = forms.CharField(
        label="Reasons for a reduction",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args: Any, holder_name: str, needs_reasons: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if needs_reasons:
            self.fields["reasons"].help_text = (
                f"Needed if you reduce the amount. {holder_name} will be sent these reasons "
                "as a written notice, and they stay on their record."
            )
        else:
            self.fields["reasons"].help_text = (
                "This budget is still indicative, so a reduction does not need a notice. "
                "Anything you write is kept in the audit log."
            )


class BudgetTransitionForm(forms.Form):
    to_state = forms.ChoiceField(
        label="Change the budget to",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the new state",
            "invalid_choice": "Choose one of the states this budget can move to",
        },
    )
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=5000,
        help_text="Needed to suspend or close a budget. It is kept in the audit log.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, budget: Budget, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = Budget.TRANSITIONS[budget.state]
        self.fields["to_state"].choices = [  # type: ignore[attr-defined]
            (state.value, state.label) for state in Budget.State if state in allowed
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        to_state = data.get("to_state")
        if (
            to_state in (Budget.State.SUSPENDED, Budget.State.CLOSED)
            and not (data.get("reason") or "").strip()
        ):
            self.add_error("reason", "Give the reason for suspending or closing the budget")
        return data


def _stream_label(stream: str) -> str:
    return str(FundingStream(stream).label) if stream in FundingStream.values else stream


class RasMethodForm(forms.Form):
    """The first step of an indicative budget: which questionnaire, or the package."""

    method = forms.ChoiceField(
        label="How will you work out the indicative budget?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose how to work out the indicative budget",
            "invalid_choice": "Choose one of the ways listed",
        },
    )

    def __init__(self, *args: Any, questionnaires: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [
            (
                f"questionnaire-{q.pk}",
                f"{q.name} ({_stream_label(q.stream)}, {q.organisation.name}, version {q.version})",
            )
            for q in questionnaires
        ]
        choices.append(("package", "The cost of the current package of care"))
        self.fields["method"].choices = choices  # type: ignore[attr-defined]


class RasQuestionnaireForm(forms.Form):
    """One radio group per question; the labels are the questions."""

    def __init__(self, *args: Any, domains: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.domains = []
        for domain in domains:
            names = []
            for question in domain.questions.all():
                name = f"question_{question.pk}"
                self.fields[name] = forms.TypedChoiceField(
                    label=question.text,
                    help_text=question.hint,
                    choices=[(option.pk, option.label) for option in question.options.all()],
                    coerce=int,
                    widget=forms.RadioSelect,
                    error_messages={
                        "required": f"Answer: {question.text}",
                        "invalid_choice": f"Choose one of the answers for: {question.text}",
                    },
                )
                names.append(name)
            self.domains.append((domain, names))

    def answers(self) -> dict[int, int]:
        return {
            int(name.removeprefix("question_")): option
            for name, option in self.cleaned_data.items()
        }


class RasPackageForm(forms.Form):
    package_amount = PoundsField(
        label="What the current package costs a year",
        help_text="In pounds, for example 18,200.00",
        error_messages={"required": "Enter what the current package costs a year"},
    )
    description = forms.CharField(
        label="What the package is",
        max_length=5000,
        help_text="For example, 20 hours a week of home care from an agency",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Describe the current package"},
    )


class RasOverrideForm(forms.Form):
    override_amount = PoundsField(
        label="Indicative amount a year",
        allow_zero=True,
        help_text="In pounds, for example 15,000.00",
        error_messages={"required": "Enter the indicative amount a year"},
    )
    override_reason = forms.CharField(
        label="Reason for the change",
        max_length=5000,
        help_text="Kept with the assessment and shown wherever the amount is shown",
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Give the reason for the override"},
    )

    def clean_override_reason(self) -> str:
        reason = self.cleaned_data["override_reason"].strip()
        if not reason:
            raise ValidationError("Give the reason for the override")
        return reason
