"""Forms for finding support (a GET form of filters that works without JavaScript), for
writing a review and for moderating one."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms

from marketplace.models import Category, ProviderKind, Weekday
from marketplace.reviews import PUBLISH, REASON_MAX, REJECT, TEXT_MAX
from marketplace.selectors import Sort, district_from

PRICE_MAX_POUNDS = Decimal(100_000)
_PRICE_RE = re.compile(r"^£?\s*(\d{1,3}(?:,\d{3})+|\d+)(\.\d{1,2})?$")

ONLY_CHOICES = [
    ("free", "Free"),
    ("verified", "Verified by a commissioner"),
    ("user_led", "User-led"),
    ("not_for_profit", "Not for profit"),
]


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return f"{obj.parent.name}: {obj.name}" if obj.parent is not None else obj.name


class SearchForm(forms.Form):
    q = forms.CharField(
        label="What are you looking for?",
        help_text="For example, personal assistant, swimming or a walking group",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    category = CategoryChoiceField(
        label="Type of support",
        queryset=Category.objects.select_related("parent").order_by("name"),
        required=False,
        empty_label="Any type",
    )
    kind = forms.ChoiceField(
        label="Who provides it",
        choices=[("", "Anyone"), *list(ProviderKind.choices)],
        required=False,
    )
    district = forms.CharField(
        label="Postcode or district",
        help_text="For example, LS1 or LS1 4AP. Online services are included.",
        required=False,
        max_length=10,
        widget=forms.TextInput(
            attrs={"autocomplete": "postal-code", "class": "nhsuk-input--width-10"}
        ),
    )
    price_max = forms.CharField(
        label="Price up to, in pounds",
        help_text="The lowest price per hour, session, week or item. Free services are included.",
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "nhsuk-input--width-5"}),
    )
    day = forms.TypedChoiceField(
        label="Day of the week",
        choices=[("", "Any day"), *list(Weekday.choices)],
        coerce=int,
        empty_value=None,
        required=False,
    )
    only = forms.MultipleChoiceField(
        label="Show only",
        choices=ONLY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    sort = forms.ChoiceField(
        label="Sort by",
        choices=[
            ("", "Best match"),
            (Sort.PRICE, "Lowest price first"),
            (Sort.TITLE, "Name, A to Z"),
        ],
        required=False,
    )

    def clean_district(self) -> str:
        value = self.cleaned_data.get("district", "").strip()
        if not value:
            return ""
        district = district_from(value)
        if district is None:
            raise forms.ValidationError(
                "Enter a postcode, like LS1 4AP, or its first half, like LS1"
            )
        return district

    def clean_price_max(self) -> int | None:
        value = "".join(self.cleaned_data.get("price_max", "").split())
        if not value:
            return None
        match = _PRICE_RE.match(value)
        try:
            pounds = Decimal(value.lstrip("£").replace(",", "")) if match else None
        except InvalidOperation:
            pounds = None
        if pounds is None:
            raise forms.ValidationError("Enter a price in pounds, like 20 or 12.50")
        if pounds > PRICE_MAX_POUNDS:
            raise forms.ValidationError("Enter a price of £100,000 or less")
        return int(pounds * 100)

    def selector_kwargs(self) -> dict[str, Any]:
        """The cleaned filters as ``service_search`` takes them."""
        data = self.cleaned_data
        only = set(data.get("only") or [])
        return {
            "query": data.get("q") or "",
            "category": data.get("category"),
            "kinds": [data["kind"]] if data.get("kind") else [],
            "price_max_pence": data.get("price_max"),
            "free_only": "free" in only,
            "user_led": "user_led" in only,
            "verified": "verified" in only,
            "not_for_profit": "not_for_profit" in only,
            "district": data.get("district") or "",
            "weekdays": [data["day"]] if data.get("day") is not None else [],
            "sort": data.get("sort") or "",
        }

    def has_filters(self) -> bool:
        """Any filter besides the words searched for."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        return any(
            data.get(name) not in (None, "", [])
            for name in ("category", "kind", "district", "price_max", "day", "only")
        )


RATING_CHOICES = [
    ("5", "5 out of 5: very good"),
    ("4", "4 out of 5: good"),
    ("3", "3 out of 5: neither good nor poor"),
    ("2", "2 out of 5: poor"),
    ("1", "1 out of 5: very poor"),
]


class ReviewForm(forms.Form):
    rating = forms.ChoiceField(
        label="How would you rate this service?",
        choices=RATING_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a rating from 1 to 5"},
    )
    text = forms.CharField(
        label="Tell other people about it (optional)",
        help_text=(
            "What went well, what could be better. Do not include names or health details: "
            "a commissioner checks each review before it is published."
        ),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"max_length": f"Your review must be {TEXT_MAX} characters or fewer"},
    )


class ModerateForm(forms.Form):
    decision = forms.ChoiceField(
        label="Should this review be published?",
        choices=[(PUBLISH, "Yes, publish it"), (REJECT, "No, do not publish it")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether to publish the review"},
    )
    reason = forms.CharField(
        label="Reason",
        help_text="Needed if you do not publish it. The person who wrote it will see this.",
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == REJECT and not (data.get("reason") or "").strip():
            self.add_error("reason", "Enter why the review is not being published")
        return data
