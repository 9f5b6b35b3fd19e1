"""Forms for finance and monitoring staff (budgets/views/finance.py): filtering the flags
queue and recoveries, moving a flag, asking about a spend, correcting a transaction,
proposing and deciding a surplus recovery.

Amounts are typed in pounds and become exact whole pence through ``PoundsField``
(Decimal, fractions of a penny refused); the respond-by date uses the NHS.UK date
input. The services check everything again: these forms give the first, clearest
message."""

from __future__ import annotations

import datetime
import re
from typing import Any

from django import forms
from django.utils import timezone

from budgets.forms.holders import NHSDateField
from budgets.forms.money import PoundsField
from budgets.ledger import format_pence
from budgets.models import MonitoringFlag, SurplusRecovery

KEY_RE = re.compile(r"^[0-9a-f]{32}$")

NOTE_WIDGET = forms.Textarea(attrs={"rows": 4})


def _amount_widget() -> forms.TextInput:
    return forms.TextInput(
        attrs={"inputmode": "decimal", "autocomplete": "off", "class": "nhsuk-input--width-10"}
    )


class FlagFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind of flag",
        required=False,
        choices=[("", "All kinds"), *MonitoringFlag.Kind.choices],
        error_messages={"invalid_choice": "Choose a kind of flag from the list"},
    )
    state = forms.ChoiceField(
        label="State",
        required=False,
        choices=[
            ("", "Open or acknowledged"),
            (MonitoringFlag.State.OPEN, "Open"),
            (MonitoringFlag.State.ACKNOWLEDGED, "Acknowledged"),
        ],
        error_messages={"invalid_choice": "Choose a state from the list"},
    )


class _FlagStateField(forms.ChoiceField):
    """Offers only the moves the flag allows now, but accepts either: a page left open
    while a colleague resolved the flag then gets the service's clear "cannot change"
    rather than "choose from the list"."""

    def valid_value(self, value: Any) -> bool:
        return value in FlagMoveForm.LABELS


class FlagMoveForm(forms.Form):
    """Acknowledge (someone is looking at it) or resolve (dealt with) a flag."""

    to_state = _FlagStateField(
        label="What do you want to do?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose whether to acknowledge or resolve the flag",
            "invalid_choice": "Choose an action from the list",
        },
    )
    note = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=2000,
        widget=NOTE_WIDGET,
        help_text="What you found or did. Other staff see it on the flag.",
        error_messages={"max_length": "The note must be 2,000 characters or fewer"},
    )

    LABELS = {
        MonitoringFlag.State.ACKNOWLEDGED: "Acknowledge: I am looking into it",
        MonitoringFlag.State.RESOLVED: "Resolve: it has been dealt with",
    }

    def __init__(self, *args: Any, flag: MonitoringFlag, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = MonitoringFlag.TRANSITIONS[flag.state]
        self.fields["to_state"].choices = [  # type: ignore[attr-defined]
            (state, label) for state, label in self.LABELS.items() if state in allowed
        ]


class SpendQueryForm(forms.Form):
    question = forms.CharField(
        label="Your question",
        max_length=2000,
        widget=NOTE_WIDGET,
        help_text="The person and anyone managing their money will be sent it.",
        error_messages={
            "required": "Enter your question",
            "max_length": "The question must be 2,000 characters or fewer",
        },
    )

    def clean_question(self) -> str:
        question: str = self.cleaned_data["question"].strip()
        if not question:
            raise forms.ValidationError("Enter your question")
        return question


class TransactionCorrectForm(forms.Form):
    reason = forms.CharField(
        label="Reason for the correction",
        max_length=250,
        widget=NOTE_WIDGET,
        help_text="For example, paid twice in error. It is kept on the ledger.",
        error_messages={
            "required": "Enter the reason for the correction",
            "max_length": "The reason must be 250 characters or fewer",
        },
    )
    # Made when the page is drawn: a second submit of the same page is a replay and
    # moves no more money.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_reason(self) -> str:
        reason: str = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Enter the reason for the correction")
        return reason

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not KEY_RE.match(data.get("idempotency_key") or ""):
            # A hidden field has nowhere to show an error, so it goes on the form.
            self.errors.pop("idempotency_key", None)
            self.add_error(None, "This page has expired. Open it again and try once more.")
        return data


class RecoveryFilterForm(forms.Form):
    state = forms.ChoiceField(
        label="State",
        required=False,
        choices=[("", "All states"), *SurplusRecovery.State.choices],
        error_messages={"invalid_choice": "Choose a state from the list"},
    )


class RecoveryProposeForm(forms.Form):
    amount = PoundsField(
        label="Amount to recover, in pounds",
        what="The amount to recover",
        widget=_amount_widget(),
        error_messages={"required": "Enter the amount to recover"},
    )
    reasons = forms.CharField(
        label="Reasons",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Written to the person in the notice. Say why the money is not needed.",
        error_messages={
            "required": "Enter the reasons: the person will be sent them",
            "max_length": "The reasons must be 4,000 characters or fewer",
        },
    )
    respond_by = NHSDateField(
        label="Respond by",
        error_messages={"required": "Enter the date the person can respond by"},
    )

    def __init__(self, *args: Any, balance_pence: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.balance_pence = balance_pence
        fields = self.fields
        fields[
            "amount"
        ].help_text = (
            f"The balance of this funding is {format_pence(balance_pence)}. For example, 240.00"
        )
        example = timezone.localdate() + datetime.timedelta(days=21)
        fields["respond_by"].help_text = (
            "The last day the person can ask us to reconsider: at least 14 days from today. "
            f"For example, {example.day} {example.month} {example.year}"
        )

    def clean_reasons(self) -> str:
        reasons: str = self.cleaned_data["reasons"].strip()
        if not reasons:
            raise forms.ValidationError("Enter the reasons: the person will be sent them")
        return reasons

    def clean_amount(self) -> int:
        amount: int = self.cleaned_data["amount"]
        if amount > self.balance_pence:
            raise forms.ValidationError(
                "The amount to recover cannot be more than the balance, "
                f"{format_pence(max(self.balance_pence, 0))}"
            )
        return amount


class RecoveryDecideForm(forms.Form):
    decision = forms.ChoiceField(
        label="Your decision",
        widget=forms.RadioSelect,
        choices=[
            ("recover", "Recover the money"),
            ("withdraw", "Withdraw the proposal: the person keeps the money"),
        ],
        error_messages={
            "required": "Choose whether to recover the money or withdraw the proposal",
            "invalid_choice": "Choose a decision from the list",
        },
    )
    amount = PoundsField(
        label="Amount to recover, in pounds (optional)",
        what="The amount to recover",
        required=False,
        widget=_amount_widget(),
    )
    reasons = forms.CharField(
        label="Reasons for the decision",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Written to the person with the decision.",
        error_messages={
            "required": "Enter the reasons for the decision",
            "max_length": "The reasons must be 4,000 characters or fewer",
        },
    )

    def __init__(self, *args: Any, recovery: SurplusRecovery, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recovery = recovery
        self.fields["amount"].help_text = (
            f"Only if you are recovering less than the {format_pence(recovery.amount_pence)} "
            "in the notice. Leave it empty to recover the full amount."
        )

    def clean_reasons(self) -> str:
        reasons: str = self.cleaned_data["reasons"].strip()
        if not reasons:
            raise forms.ValidationError("Enter the reasons for the decision")
        return reasons

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        amount = data.get("amount")
        if data.get("decision") == "withdraw":
            data["amount"] = None
        elif amount is not None and amount > self.recovery.amount_pence:
            self.add_error(
                "amount",
                "The amount to recover cannot be more than the notice said, "
                f"{format_pence(self.recovery.amount_pence)}",
            )
        return data
