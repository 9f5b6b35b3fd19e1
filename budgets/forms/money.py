"""Forms for holders and representatives: recording a spend, refunds, answering
finance's questions, asking for reconsideration, and filtering lists.

Amounts are typed in pounds ("12.50") and become whole pence here, exactly, through
``Decimal`` (never a float); an amount with a fraction of a penny is refused rather
than rounded, since rounding would move money nobody typed."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from budgets.ledger import MAX_MOVEMENT_PENCE, format_pence
from budgets.models import FundingContribution, LedgerTransaction, Spend, SpendCategory
from budgets.services import new_idempotency_key
from plans.models import SupportItem

# Digits with optional thousands commas and an optional decimal part; a leading £ and a
# sign are dealt with before this. No exponents ("1e5"), no spaces inside.
AMOUNT_RE = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)(\.\d*)?$|^\.\d+$")


def pounds_to_pence(text: str, *, what: str = "The amount") -> int:
    """Parse what someone typed as pounds and pence; raise ValidationError with a
    message they can act on."""
    value = (text or "").strip().replace(" ", "")
    if not value:
        raise ValidationError(f"Enter {what.lower()}", code="required")
    # "-5", "-£5" and "£-5" are all negative.
    value = value.removeprefix("£")
    if value.startswith("-") or value.removeprefix("£").startswith("-"):
        raise ValidationError(f"{what} must be more than £0.00", code="negative")
    value = value.removeprefix("£")
    if len(value) > 20 or not AMOUNT_RE.match(value):
        raise ValidationError(
            f"{what} must be in pounds and pence, like 12.50", code="invalid_amount"
        )
    try:
        pounds = Decimal(value.replace(",", ""))
    except InvalidOperation as error:  # pragma: no cover - the pattern already rules it out
        raise ValidationError(f"{what} must be in pounds and pence, like 12.50") from error
    pence = pounds * 100
    if pence != pence.to_integral_value():
        raise ValidationError(
            f"{what} cannot include fractions of a penny: use at most 2 decimal places",
            code="fraction_of_penny",
        )
    if pence <= 0:
        raise ValidationError(f"{what} must be more than £0.00", code="not_positive")
    if pence > MAX_MOVEMENT_PENCE:
        raise ValidationError(
            f"{what} must be {format_pence(MAX_MOVEMENT_PENCE)} or less", code="too_large"
        )
    return int(pence)


class PoundsField(forms.CharField):
    """Pounds and pence as typed; ``cleaned_data`` holds whole pence (an int)."""

    def __init__(self, *, what: str = "The amount", **kwargs: Any) -> None:
        self.what = what
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().clean(value)
        if not text and not self.required:
            return None
        return pounds_to_pence(text, what=self.what)


class DayMonthYearWidget(forms.MultiWidget):
    """The NHS.UK date input: day, month and year boxes (``<name>_day`` and so on).
    Templates draw it with the dateInput macro; labels point at the day box."""

    template_name = "django/forms/widgets/multiwidget.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        widgets = {
            "day": forms.TextInput(attrs={"inputmode": "numeric"}),
            "month": forms.TextInput(attrs={"inputmode": "numeric"}),
            "year": forms.TextInput(attrs={"inputmode": "numeric"}),
        }
        super().__init__(widgets, attrs)

    def decompress(self, value: Any) -> list[Any]:
        if isinstance(value, datetime.date):
            return [value.day, value.month, value.year]
        return [None, None, None]

    def id_for_label(self, id_: str) -> str:
        return f"{id_}_day" if id_ else ""


class DayMonthYearField(forms.Field):
    """A date typed as day, month and year, with the NHS.UK error messages."""

    widget = DayMonthYearWidget

    def __init__(self, *, what: str, **kwargs: Any) -> None:
        self.what = what
        kwargs.setdefault("error_messages", {"required": f"Enter {what.lower()}"})
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> datetime.date | None:
        if isinstance(value, datetime.date):
            return value
        parts = [str(v or "").strip() for v in [*(value or []), "", "", ""][:3]]
        if not any(parts):
            return None
        names = ("day", "month", "year")
        missing = [name for name, part in zip(names, parts, strict=True) if not part]
        if missing:
            raise ValidationError(
                f"{self.what} must include a {' and a '.join(missing)}", code="incomplete"
            )
        if not all(part.isdigit() for part in parts) or len(parts[2]) != 4:
            raise ValidationError(
                f"{self.what} must be a real date, like 27 3 2026", code="invalid_date"
            )
        try:
            return datetime.date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError as error:
            raise ValidationError(
                f"{self.what} must be a real date, like 27 3 2026", code="invalid_date"
            ) from error

    def parts(self, value: Any) -> dict[str, str]:
        """The day, month and year to show back in the boxes."""
        if isinstance(value, datetime.date):
            return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}
        values = list(value) if isinstance(value, list | tuple) else ["", "", ""]
        return dict(zip(("day", "month", "year"), (str(v or "") for v in values), strict=False))


class ContributionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: FundingContribution) -> str:
        return f"{obj.get_stream_display()} ({obj.funder.name})"


class PlanItemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.description)


class IdempotentForm(forms.Form):
    """A form that moves money carries the key made when it was drawn
    (``services.new_idempotency_key``), so sending it twice moves money once. A missing
    or mangled key cannot be shown against a field (it is hidden): the error is about
    the form, and a fresh key goes into the page so that sending it again works."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)
    fresh_key = ""

    def clean_idempotency_key(self) -> str:
        key: str = self.cleaned_data.get("idempotency_key") or ""
        if not re.fullmatch(r"[0-9a-f]{32}", key):
            self.fresh_key = new_idempotency_key()
            self.add_error(None, "This page had expired. Check the details and send it again")
        return key


class SpendForm(IdempotentForm):
    """Record a spend. Which funding it comes from is asked only when the person can
    spend from more than one of the budget's contributions; which item of the support
    plan it pays for only when the budget has a plan in force (``plan_items``)."""

    # Field names as the service names them, where they differ from ours.
    SERVICE_FIELDS = {"amount_pence": "amount"}

    payee = forms.CharField(
        label="Who was paid",
        help_text="For example, the name of your personal assistant or the shop",
        max_length=200,
        error_messages={"required": "Enter who was paid"},
    )
    spent_on = DayMonthYearField(label="Date of the spend", what="The date of the spend")
    amount = PoundsField(
        label="Amount", what="The amount", error_messages={"required": "Enter the amount"}
    )
    category = forms.ChoiceField(
        label="What it was for",
        choices=[("", "Choose a category"), *SpendCategory.choices],
        error_messages={
            "required": "Choose what the spend was for",
            "invalid_choice": "Choose a category from the list",
        },
    )
    contribution = ContributionChoiceField(
        label="Which funding it comes from",
        queryset=FundingContribution.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": "Choose which funding the spend comes from",
            "invalid_choice": "Choose which funding the spend comes from",
        },
    )
    plan_item = PlanItemChoiceField(
        label="What in the support plan it pays for (optional)",
        help_text="Spending that is not in the plan is fine, but the team may ask about it",
        queryset=SupportItem.objects.none(),
        required=False,
        empty_label="Not in my plan",
        error_messages={"invalid_choice": "Choose an item from the support plan"},
    )
    note = forms.CharField(
        label="Note (optional)", required=False, max_length=2000, widget=forms.Textarea
    )
    receipt = forms.FileField(
        label="Receipt (optional)",
        required=False,
        error_messages={"empty": "The receipt file is empty", "invalid": "Choose a file"},
    )

    def __init__(
        self,
        *args: Any,
        contributions: list[FundingContribution],
        plan_items: Any = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        if plan_items is None or not plan_items.exists():
            del self.fields["plan_item"]
        else:
            self.fields["plan_item"].queryset = plan_items
        limit = settings.RECEIPT_MAX_BYTES // (1024 * 1024)
        self.fields["receipt"].help_text = f"A PDF, JPEG or PNG file, smaller than {limit} MB"
        self.single_contribution = contributions[0] if len(contributions) == 1 else None
        if self.single_contribution is not None:
            del self.fields["contribution"]
        else:
            self.fields["contribution"].queryset = FundingContribution.objects.filter(
                pk__in=[c.pk for c in contributions]
            ).select_related("funder")

    def add_service_errors(self, error: ValidationError) -> None:
        for name, messages in error.message_dict.items():
            name = self.SERVICE_FIELDS.get(name, name)
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


class RefundForm(IdempotentForm):
    amount = PoundsField(
        label="Amount refunded",
        what="The refund",
        error_messages={"required": "Enter the amount refunded"},
    )
    reason = forms.CharField(
        label="What the refund is for",
        max_length=500,
        error_messages={"required": "Say what the refund is for"},
    )


class QueryAnswerForm(forms.Form):
    answer = forms.CharField(
        label="Your answer",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter your answer"},
    )


class ReconsiderForm(forms.Form):
    reasons = forms.CharField(
        label="Why we should not take this money back",
        help_text="For example, money you have already agreed to spend on your support",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Tell us why the money should not be taken back"},
    )


class _DateRangeForm(forms.Form):
    date_from = forms.DateField(
        label="From date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a real date"},
    )
    date_to = forms.DateField(
        label="To date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a real date"},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The to date must be the same as or after the from date")
        return data

    def filters(self) -> dict[str, Any]:
        """The filters to apply: none of them when the form is not valid."""
        if not self.is_valid():
            return {}
        return {key: value for key, value in self.cleaned_data.items() if value}


class LedgerFilterForm(_DateRangeForm):
    kind = forms.ChoiceField(
        label="Type",
        required=False,
        choices=[("", "All types"), *LedgerTransaction.Kind.choices],
        error_messages={"invalid_choice": "Choose a type from the list"},
    )


class SpendFilterForm(_DateRangeForm):
    category = forms.ChoiceField(
        label="What it was for",
        required=False,
        choices=[("", "All categories"), *SpendCategory.choices],
        error_messages={"invalid_choice": "Choose a category from the list"},
    )
    state = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *Spend.State.choices],
        error_messages={"invalid_choice": "Choose a status from the list"},
    )
