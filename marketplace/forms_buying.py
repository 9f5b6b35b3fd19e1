"""Forms for enquiries, bookings and invoices."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from budgets.forms.money import DayMonthYearField, PoundsField
from budgets.ledger import format_pence
from marketplace.models import CostOption


class ServiceErrorsMixin:
    """Put a service's ValidationError on the form's fields, by the service's names."""

    SERVICE_FIELDS: dict[str, str] = {}

    def add_service_errors(self, error: ValidationError) -> None:
        form: Any = self
        for name, messages in error.message_dict.items():
            name = self.SERVICE_FIELDS.get(name, name)
            for message in messages:
                form.add_error(name if name in form.fields else None, message)


class EnquiryForm(ServiceErrorsMixin, forms.Form):
    holder = forms.TypedChoiceField(
        label="Who is the support for",
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose who the support is for"},
    )
    message = forms.CharField(
        label="Your question",
        help_text="For example, when they could start, or whether they can help with something",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Enter your question"},
    )

    def __init__(self, *args: Any, holders: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.holders = {h.pk: h for h in holders}
        self.fields["holder"].choices = [(h.pk, h.name) for h in holders]
        if len(holders) == 1:
            self.fields["holder"].widget = forms.HiddenInput()
            self.fields["holder"].initial = holders[0].pk


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label="Your answer",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Enter your answer"},
    )


class BookingForm(ServiceErrorsMixin, forms.Form):
    """Book a paid service: which budget and funding, which price, how many, when."""

    SERVICE_FIELDS = {"contribution": "funding", "service": "cost_option"}

    # Made when the form is drawn and sent back with it: the booking's own UUID, so the
    # same form sent twice books once.
    key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    funding = forms.TypedChoiceField(
        label="Which budget pays for it",
        coerce=str,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose which budget pays for it"},
    )
    cost_option = forms.TypedChoiceField(
        label="Price",
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a price"},
    )
    quantity = forms.IntegerField(
        label="How many",
        help_text="For example, 10 for ten hours or ten sessions",
        min_value=1,
        max_value=1000,
        error_messages={
            "required": "Enter how many",
            "invalid": "Enter how many as a whole number, like 10",
            "min_value": "Enter 1 or more",
            "max_value": "Enter 1000 or fewer",
        },
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    starts_on = DayMonthYearField(label="Start date", what="The start date")
    ends_on = DayMonthYearField(label="End date (optional)", what="The end date", required=False)
    plan_item = forms.TypedChoiceField(
        label="What in the support plan it pays for (optional)",
        coerce=int,
        required=False,
        empty_value=None,
    )
    details = forms.CharField(
        label="Anything the provider needs to know (optional)",
        help_text="For example, the days and times that suit you",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(
        self,
        *args: Any,
        funding: list[Any],
        options: list[CostOption],
        plan_items: list[Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.funding_by_key = {f"{b.pk}:{c.pk}": (b, c) for b, c in funding}
        self.fields["funding"].choices = [
            (
                key,
                f"{b.holder.name}: {c.get_stream_display()} "
                f"({b.period_start:%-d %b %Y} to {b.period_end:%-d %b %Y})",
            )
            for key, (b, c) in self.funding_by_key.items()
        ]
        if len(funding) == 1:
            self.fields["funding"].initial = next(iter(self.funding_by_key))
        self.option_by_pk = {o.pk: o for o in options}
        self.fields["cost_option"].choices = [
            (
                o.pk,
                f"{format_pence(o.amount_pence)} {o.get_per_display()}"
                + (f" ({o.description})" if o.description else ""),
            )
            for o in options
        ]
        if len(options) == 1:
            self.fields["cost_option"].initial = options[0].pk
        if plan_items:
            self.fields["plan_item"].choices = [("", "Not in my plan")] + [
                (i.pk, f"{i.description} ({i.plan.holder.name})") for i in plan_items
            ]
        else:
            del self.fields["plan_item"]

    def chosen_funding(self) -> tuple[Any, Any]:
        return self.funding_by_key[self.cleaned_data["funding"]]


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter the reason"},
    )


class InvoiceForm(ServiceErrorsMixin, forms.Form):
    SERVICE_FIELDS = {"amount_pence": "amount"}

    reference = forms.CharField(
        label="Invoice number",
        max_length=60,
        error_messages={"required": "Enter your invoice number"},
    )
    amount = PoundsField(
        label="Amount", what="The amount", error_messages={"required": "Enter the amount"}
    )
    period_start = DayMonthYearField(label="Support given from", what="The start of the period")
    period_end = DayMonthYearField(label="Support given until", what="The end of the period")
    details = forms.CharField(
        label="Details (optional)",
        help_text="For example, the dates and hours of support",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
