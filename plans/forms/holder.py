"""Forms for writing a support plan: one per step of the "write your plan" journey,
plus submitting, commenting and choosing two versions to compare.

Field names follow the service arguments (plans/services.py), so a service's
ValidationError lands on the field it is about. Amounts are typed in pounds and become
whole pence exactly (budgets' PoundsField, through Decimal)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from budgets.forms.holders import NHSDateField
from budgets.forms.setup import PoundsField
from budgets.models import FundingStream, ManagementOption
from plans.models import CircleMember, LifeArea, PlanOutcome, SupportItem, SupportPlan


def _text(label: str, required: str | None = None, *, hint: str = "", rows: int = 5) -> Any:
    return forms.CharField(
        label=label,
        help_text=hint,
        required=required is not None,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"required": required or ""},
    )


class WhatMattersForm(forms.Form):
    what_matters = _text(
        "What matters to you",
        "Say what matters to you",
        hint="In your own words: the people, places and things that are important to you, "
        "and how you like to be supported.",
        rows=8,
    )


class OutcomeForm(forms.Form):
    goal = _text(
        "What you want to achieve",
        "Say what you want to achieve",
        hint="For example, walk to the park on my own",
        rows=3,
    )
    how_we_know = _text(
        "How you will know you have achieved it (optional)",
        hint="For example, I go twice a week without help",
        rows=3,
    )
    by_when = NHSDateField(
        label="By when", required=False, help_text="Optional. For example, 31 3 2027"
    )
    life_areas = forms.MultipleChoiceField(
        label="Which areas of your life it is about",
        help_text="Select all that apply",
        required=False,
        choices=LifeArea.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose areas of life from the list"},
    )

    @staticmethod
    def initial_for(outcome: PlanOutcome) -> dict[str, Any]:
        return {
            "goal": outcome.goal,
            "how_we_know": outcome.how_we_know,
            "by_when": outcome.by_when,
            "life_areas": list(outcome.life_areas),
        }


class ItemForm(forms.Form):
    """A piece of support. Which funding pays is limited to the budget's own streams;
    which outcomes it serves to the plan's outcomes; and it can be support for a family
    carer in the circle (training, a break or emergency back-up)."""

    description = forms.CharField(
        label="What the support is",
        help_text="For example, a personal assistant to help me go out",
        max_length=300,
        error_messages={"required": "Say what the support is"},
    )
    provider_kind = forms.ChoiceField(
        label="Who provides it",
        choices=SupportItem.ProviderKind.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose who provides it",
            "invalid_choice": "Choose who provides it",
        },
    )
    provider_name = forms.CharField(
        label="Their name (optional)",
        help_text="The person, organisation or group",
        max_length=200,
        required=False,
    )
    times = forms.IntegerField(
        label="How many times",
        min_value=1,
        max_value=1000,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-4"}),
        error_messages={
            "required": "Enter how many times",
            "invalid": "Enter how many times as a number, like 2",
            "min_value": "Enter how many times, from 1 to 1000",
            "max_value": "Enter how many times, from 1 to 1000",
        },
    )
    per = forms.ChoiceField(
        label="How often",
        choices=SupportItem.Per.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose how often: a week, a month or a year",
            "invalid_choice": "Choose how often: a week, a month or a year",
        },
    )
    unit_cost_pence = PoundsField(
        label="Cost each time",
        allow_zero=True,
        help_text="In pounds and pence, for example 45.50. Enter 0 if it is free.",
        error_messages={"required": "Enter the cost each time (0 if it is free)"},
    )
    stream = forms.ChoiceField(
        label="Which funding pays for it",
        help_text="Leave this if the support is free",
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose funding that pays for this budget"},
    )
    outcome_ids = forms.TypedMultipleChoiceField(
        label="Which of your outcomes it helps with (optional)",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose outcomes from this plan"},
    )
    carer = forms.TypedChoiceField(
        label="Is this support for a family carer?",
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose a family carer from your circle of support"},
    )
    carer_support = forms.ChoiceField(
        label="What kind of support for the carer",
        help_text="Only if the support is for a family carer",
        required=False,
        choices=SupportItem.CarerSupport.choices,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose training, a break or emergency back-up"},
    )

    def __init__(
        self,
        *args: Any,
        streams: Iterable[str],
        outcomes: Iterable[PlanOutcome],
        carers: Iterable[CircleMember],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(FundingStream.choices)
        self.fields["stream"].choices = [(s, labels.get(s, s)) for s in streams]  # type: ignore[attr-defined]
        choices = [(o.pk, o.goal) for o in outcomes]
        if choices:
            self.fields["outcome_ids"].choices = choices  # type: ignore[attr-defined]
        else:  # nothing to choose from yet: no empty question
            del self.fields["outcome_ids"]
        carers = list(carers)
        if carers:
            self.fields["carer"].choices = [  # type: ignore[attr-defined]
                ("", "No, it is for me"),
                *((c.pk, f"Yes, for {c.name}") for c in carers),
            ]
        else:
            del self.fields["carer"], self.fields["carer_support"]
        self.carers = {c.pk: c for c in carers}

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["carer"] = self.carers.get(data.get("carer") or 0)
        data.setdefault("carer_support", "")
        data.setdefault("outcome_ids", [])
        return data

    @staticmethod
    def initial_for(item: SupportItem) -> dict[str, Any]:
        pounds, pence = divmod(item.unit_cost_pence, 100)
        return {
            "description": item.description,
            "provider_kind": item.provider_kind,
            "provider_name": item.provider_name,
            "times": item.times,
            "per": item.per,
            "unit_cost_pence": f"{pounds}.{pence:02d}",
            "stream": item.stream,
            "outcome_ids": [str(o.pk) for o in item.outcomes.all()],
            "carer": str(item.carer_id or ""),
            "carer_support": item.carer_support,
        }


class MoneyForm(forms.Form):
    management_option = forms.ChoiceField(
        label="How the money is managed",
        choices=ManagementOption.choices,
        widget=forms.RadioSelect,
        help_text="A notional budget is held by the NHS or council, who arrange the support. "
        "A third-party budget is held by an organisation for you. With a direct payment, "
        "the money is paid to you or someone you choose.",
        error_messages={
            "required": "Choose how the money is managed",
            "invalid_choice": "Choose how the money is managed",
        },
    )
    managed_by = forms.CharField(
        label="Who manages the money",
        help_text="The person, family member or organisation. Not needed for a notional budget.",
        max_length=200,
        required=False,
    )


class RiskForm(forms.Form):
    description = _text("The risk", "Describe the risk", rows=3)
    how_managed = _text("How it is managed", "Say how the risk is managed", rows=3)
    agreed_by = forms.CharField(
        label="Who agreed how it is managed",
        help_text="For example, me, my sister and my physiotherapist",
        max_length=300,
        error_messages={"required": "Say who agreed how it is managed"},
    )
    positive_risk = forms.BooleanField(
        label="This is a risk I choose to take",
        help_text="Recorded so everyone knows and can support you. It is not a reason to "
        "refuse your plan.",
        required=False,
    )


class ContingencyForm(forms.Form):
    if_support_fails = _text(
        "What happens if your support does not turn up or stops",
        "Say what happens if your support fails",
        hint="Who steps in, and how they are contacted",
    )
    carer_emergency = _text(
        "What happens if your family carer has an emergency",
        hint="What your carer does, and who steps in. Needed if a family carer is in your "
        "circle of support.",
    )


class CircleForm(forms.Form):
    name = forms.CharField(
        label="Their name", max_length=200, error_messages={"required": "Enter their name"}
    )
    relationship = forms.ChoiceField(
        label="Who they are to you",
        choices=CircleMember.Relationship.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose who they are to you",
            "invalid_choice": "Choose who they are to you",
        },
    )
    role = forms.CharField(
        label="What they do (optional)",
        help_text="For example, visits every day and helps with shopping",
        max_length=300,
        required=False,
    )
    is_backup = forms.BooleanField(
        label="They are a named back-up person",
        help_text="Someone who steps in if your support or your carer cannot. They need a "
        "phone number or an email address.",
        required=False,
    )
    phone = forms.CharField(
        label="Phone number (optional)",
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    email = forms.EmailField(
        label="Email address (optional)",
        required=False,
        error_messages={"invalid": "Enter an email address like name@example.com"},
    )


class ReviewsForm(forms.Form):
    first_review_on = NHSDateField(
        label="First review",
        required=False,
        help_text="Optional. Within 3 months of agreeing the plan. If you leave this, it "
        "will be 3 months after the plan is approved. For example, 15 6 2026",
    )
    review_every_months = forms.TypedChoiceField(
        label="After that, review the plan every",
        coerce=int,
        choices=[(n, f"{n} month" if n == 1 else f"{n} months") for n in range(1, 13)],
        error_messages={
            "required": "Choose how often the plan is reviewed",
            "invalid_choice": "Reviews must be at least once a year: 1 to 12 months",
        },
    )


class SubmitForm(forms.Form):
    """The holder or representative confirms they agree; a planner says how and when
    the person agreed."""

    agree = forms.BooleanField(label="I agree with this plan", required=False)
    agreed_in_person = _text(
        "How and when the person agreed",
        hint="For example, at a meeting at home on 3 March with Alex and their sister",
        rows=3,
    )

    def __init__(self, *args: Any, holder_side: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["agreed_in_person" if holder_side else "agree"]


class CommentForm(forms.Form):
    body = _text("Your comment", "Write your comment", rows=4)


class RemoveForm(forms.Form):
    """Confirming a removal: nothing to fill in."""


class CompareForm(forms.Form):
    old = forms.TypedChoiceField(
        label="Compare version", coerce=int, error_messages={"invalid_choice": "Choose a version"}
    )
    new = forms.TypedChoiceField(
        label="With version", coerce=int, error_messages={"invalid_choice": "Choose a version"}
    )
    only_changes = forms.BooleanField(label="Only show what changed", required=False)

    def __init__(self, *args: Any, versions: Iterable[SupportPlan], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [
            (p.pk, f"Version {p.version} ({p.get_state_display().lower()})") for p in versions
        ]
        self.fields["old"].choices = choices  # type: ignore[attr-defined]
        self.fields["new"].choices = choices  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("old") and data.get("old") == data.get("new"):
            self.add_error("new", "Choose two different versions")
        return data
