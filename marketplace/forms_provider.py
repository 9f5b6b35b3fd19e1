"""Forms for the provider pages (a listing, its services and locations) and the
commissioner's market pages (verifying a listing, adding a category). The services in
``marketplace.listings`` check everything again; these give the first, clearest message.

A service's prices and opening times are rows of two small formsets, a fixed number of
rows with an "add another" button that posts the page back with one more row: no
JavaScript needed."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

from django import forms
from django.forms.utils import ErrorDict

from budgets.forms.holders import NHSDateField
from budgets.forms.money import PoundsField
from marketplace.listings import AREA_KINDS
from marketplace.models import (
    Category,
    CostOption,
    Location,
    Provider,
    ProviderKind,
    Service,
    Weekday,
)
from users.models import Organisation

TIME_FORMATS = ["%H:%M", "%H.%M", "%H%M", "%H"]


def quiet(form: Any) -> None:
    """Show a bound form again without its errors (after "add another row")."""
    form._errors = ErrorDict()
    form.cleaned_data = {}


def _text(label: str, *, required: bool = False, max_length: int = 200, **kwargs: Any) -> Any:
    messages = {"max_length": f"Keep it to {max_length:,} characters or fewer"}
    if required:
        messages["required"] = f"Enter the {label.lower()}"
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        error_messages=messages,
        **kwargs,
    )


def _long_text(label: str, *, required: bool = False, **kwargs: Any) -> Any:
    return _text(
        label,
        required=required,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        **kwargs,
    )


# Provider listing ------------------------------------------------------------------------


class ProviderForm(forms.Form):
    organisation = forms.TypedChoiceField(
        label="Organisation that runs it",
        coerce=int,
        error_messages={"required": "Choose the organisation that runs it"},
    )
    name = _text("Name", required=True, help_text="As people will see it when they search.")
    kind = forms.ChoiceField(
        label="What kind of provider is it?",
        choices=ProviderKind.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose what kind of provider it is",
            "invalid_choice": "Choose what kind of provider it is",
        },
    )
    description = _long_text("About the provider")
    postcode = _text(
        "Postcode",
        max_length=10,
        help_text="Where the provider is based.",
        widget=forms.TextInput(
            attrs={"class": "nhsuk-input--width-10", "autocomplete": "postal-code"}
        ),
    )
    email = forms.EmailField(
        label="Email address",
        required=False,
        error_messages={"invalid": "Enter an email address like name@example.com"},
    )
    phone = _text("Phone number", max_length=30, widget=forms.TextInput(attrs={"type": "tel"}))
    website = forms.URLField(
        label="Website",
        required=False,
        assume_scheme="https",
        error_messages={"invalid": "Enter a website address like https://example.org"},
    )
    cqc_number = _text(
        "CQC registration number",
        max_length=20,
        help_text="Registered care providers only: the ID on the Care Quality Commission "
        "register, like 1-123456789.",
        widget=forms.TextInput(attrs={"class": "nhsuk-input--width-20"}),
    )
    dbs_checked_on = NHSDateField(
        label="Date of the latest DBS check",
        required=False,
        past_only=True,
        help_text="Personal assistants and Shared Lives carers only. For example, 15 3 2025",
    )
    insurer = _text("Insurance provider", help_text="Who insures the provider, if anyone.")
    insurance_expires_on = NHSDateField(
        label="Date the insurance runs out", required=False, help_text="For example, 31 3 2027"
    )
    user_led = forms.BooleanField(
        label="It is user-led",
        required=False,
        help_text="Run by and for the people who use the support.",
    )
    not_for_profit = forms.BooleanField(label="It is not-for-profit", required=False)
    listed = forms.BooleanField(
        label="Show it in search",
        required=False,
        initial=True,
        help_text="Untick to take the listing and its services out of search for now.",
    )
    areas = forms.TypedMultipleChoiceField(
        label="Areas you work in",
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text="The integrated care boards and councils whose people you support. Their "
        "commissioners verify your listing.",
        error_messages={"required": "Choose at least one area you work in"},
    )

    def __init__(
        self, *args: Any, organisations: list[Organisation] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if organisations is None:
            del self.fields["organisation"]
        else:
            field = self.fields["organisation"]
            field.choices = [(o.pk, o.name) for o in organisations]  # type: ignore[attr-defined]
            if len(organisations) == 1:
                field.widget = forms.HiddenInput()
                field.initial = organisations[0].pk
            else:
                field.widget = forms.RadioSelect(choices=field.choices)  # type: ignore[attr-defined]
        areas = Organisation.objects.filter(kind__in=AREA_KINDS).order_by("name")
        self.fields["areas"].choices = [(o.pk, o.name) for o in areas]  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(provider: Provider) -> dict[str, Any]:
        initial: dict[str, Any] = {
            name: getattr(provider, name)
            for name in (
                "name",
                "kind",
                "description",
                "postcode",
                "email",
                "phone",
                "website",
                "cqc_number",
                "dbs_checked_on",
                "insurer",
                "insurance_expires_on",
                "user_led",
                "not_for_profit",
                "listed",
            )
        }
        # As strings: the checkboxes compare them with their values, which are text.
        initial["areas"] = [str(pk) for pk in provider.areas.values_list("pk", flat=True)]
        return initial

    def clean(self) -> dict[str, Any]:
        # The facts each kind of provider needs, said here too so that every problem
        # shows at once (the service says the same if called without this form).
        data = super().clean() or {}
        kind = data.get("kind")
        missing = {
            "cqc_number": kind in ProviderKind.regulated() and not data.get("cqc_number"),
            "dbs_checked_on": kind in ProviderKind.individuals() and not data.get("dbs_checked_on"),
        }
        messages = {
            "cqc_number": "Enter the CQC registration number: registered care providers must "
            "have one",
            "dbs_checked_on": "Enter the date of the latest DBS check: personal assistants and "
            "Shared Lives carers must have one",
        }
        for name, is_missing in missing.items():
            if is_missing and name not in self.errors:
                self.add_error(name, messages[name])
        return data

    def fields_for_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("organisation", None)
        data.pop("areas", None)
        return data


# Service --------------------------------------------------------------------------------


def _codes(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").split() if part]


class ServiceForm(forms.Form):
    title = _text("Name of the service", required=True)
    description = _long_text("What it is", required=True)
    category = forms.TypedChoiceField(
        label="Category",
        coerce=int,
        error_messages={
            "required": "Choose a category",
            "invalid_choice": "Choose a category from the list",
        },
    )
    status = forms.ChoiceField(
        label="Is it taking people now?",
        choices=[
            (Service.Status.ACTIVE, "Yes, people can book or join"),
            (Service.Status.INACTIVE, "Not at the moment"),
        ],
        widget=forms.RadioSelect,
        initial=Service.Status.ACTIVE,
        error_messages={"required": "Say whether it is taking people now"},
    )
    is_free = forms.BooleanField(
        label="It is free",
        required=False,
        help_text="A free group or activity has no prices: leave the prices below empty.",
    )
    postcode_districts = _text(
        "Postcode districts it covers",
        max_length=400,
        help_text="The first half of the postcodes, separated by commas, like LS1, LS2, LS6. "
        "Leave empty if it is only at your locations or online.",
    )
    online = forms.BooleanField(label="It is (also) online", required=False)
    minimum_age = forms.IntegerField(
        label="Youngest age (optional)",
        required=False,
        min_value=0,
        max_value=120,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-3"}),
        error_messages={
            "invalid": "Enter the youngest age as a number of years",
            "min_value": "Enter an age from 0 to 120",
            "max_value": "Enter an age from 0 to 120",
        },
    )
    maximum_age = forms.IntegerField(
        label="Oldest age (optional)",
        required=False,
        min_value=0,
        max_value=120,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-3"}),
        error_messages={
            "invalid": "Enter the oldest age as a number of years",
            "min_value": "Enter an age from 0 to 120",
            "max_value": "Enter an age from 0 to 120",
        },
    )
    eligibility = _long_text(
        "Who it is for (optional)", help_text="Needs, conditions or circumstances it suits."
    )
    languages = _text(
        "Languages (optional)",
        max_length=200,
        help_text="Language codes separated by commas, like en, cy, ur, pl; bfi for British "
        "Sign Language.",
    )
    contact_name = _text("Contact name (optional)")
    email = forms.EmailField(
        label="Contact email (optional)",
        required=False,
        error_messages={"invalid": "Enter an email address like name@example.com"},
    )
    phone = _text(
        "Contact phone (optional)", max_length=30, widget=forms.TextInput(attrs={"type": "tel"})
    )
    url = forms.URLField(
        label="Web page (optional)",
        required=False,
        assume_scheme="https",
        error_messages={"invalid": "Enter a web address like https://example.org/service"},
    )
    locations = forms.TypedMultipleChoiceField(
        label="Where it is held (optional)",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Your locations where people come to it.",
    )

    def __init__(
        self,
        *args: Any,
        categories: list[Category],
        locations: list[Location],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[Any, str]] = [("", "Choose a category")]
        choices += [
            (c.pk, f"{c.parent.name}: {c.name}" if c.parent is not None else c.name)
            for c in categories
        ]
        self.fields["category"].choices = choices  # type: ignore[attr-defined]
        self.fields["category"].widget = forms.Select(choices=self.fields["category"].choices)  # type: ignore[attr-defined]
        if locations:
            self.fields["locations"].choices = [  # type: ignore[attr-defined]
                (loc.pk, f"{loc.name}, {loc.postcode}") for loc in locations
            ]
        else:
            del self.fields["locations"]

    @staticmethod
    def initial_for(service: Service) -> dict[str, Any]:
        return {
            "title": service.title,
            "description": service.description,
            "category": service.category_id,
            "status": service.status,
            "is_free": service.is_free,
            "postcode_districts": ", ".join(service.postcode_districts),
            "online": service.online,
            "minimum_age": service.minimum_age,
            "maximum_age": service.maximum_age,
            "eligibility": service.eligibility,
            "languages": ", ".join(service.languages),
            "contact_name": service.contact_name,
            "email": service.email,
            "phone": service.phone,
            "url": service.url,
            "locations": [
                str(pk) for pk in service.at_locations.values_list("location_id", flat=True)
            ],
        }

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("locations", None)
        data["postcode_districts"] = _codes(data.get("postcode_districts", ""))
        data["languages"] = _codes(data.get("languages", ""))
        return data

    def location_ids(self) -> list[int] | None:
        if "locations" not in self.fields:
            return None
        return list(self.cleaned_data.get("locations") or [])


class _RowFormSet(forms.BaseFormSet):  # type: ignore[type-arg, unused-ignore]
    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        kwargs = super().get_form_kwargs(index)
        kwargs["number"] = (index or 0) + 1
        return kwargs

    def filled(self) -> list[Any]:
        return [form for form in self.forms if form.is_filled()]


class CostOptionForm(forms.Form):
    """One price: pounds and pence, per hour, session, week or item."""

    amount = PoundsField(label="Amount in pounds", required=False)
    per = forms.ChoiceField(
        label="For each",
        required=False,
        choices=[("", "Choose")]
        + [
            (v, str(label).removeprefix("an ").removeprefix("a "))
            for v, label in CostOption.Per.choices
        ],
    )
    description = _text("What the price covers (optional)")

    def __init__(self, *args: Any, number: int = 1, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.number = number
        self.legend = f"Price {number}"
        amount = self.fields["amount"]
        amount.what = f"The amount of price {number}"  # type: ignore[attr-defined]
        amount.widget.attrs["class"] = "nhsuk-input--width-5"
        self.fields["per"].widget = forms.Select(choices=self.fields["per"].choices)  # type: ignore[attr-defined]

    def is_filled(self) -> bool:
        if not hasattr(self, "cleaned_data"):
            return False
        data = self.cleaned_data
        return bool(data.get("amount") or data.get("per") or data.get("description"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("amount") and not data.get("per"):
            self.add_error(
                "per", f"Price {self.number}: choose whether it is per hour, session, week or item"
            )
        if (
            (data.get("per") or data.get("description"))
            and not data.get("amount")
            and "amount" not in self.errors
        ):
            self.add_error("amount", f"Enter the amount of price {self.number}")
        return data

    def option(self) -> dict[str, Any]:
        return {
            "amount_pence": self.cleaned_data["amount"],
            "per": self.cleaned_data["per"],
            "description": self.cleaned_data.get("description", ""),
        }


class ScheduleForm(forms.Form):
    """One opening time: a day and, optionally, hours."""

    weekday = forms.TypedChoiceField(
        label="Day",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "Choose")] + [(v, str(label)) for v, label in Weekday.choices],
    )
    opens_at = forms.TimeField(
        label="Opens (optional)",
        required=False,
        input_formats=TIME_FORMATS,
        widget=forms.TimeInput(format="%H:%M", attrs={"class": "nhsuk-input--width-5"}),
    )
    closes_at = forms.TimeField(
        label="Closes (optional)",
        required=False,
        input_formats=TIME_FORMATS,
        widget=forms.TimeInput(format="%H:%M", attrs={"class": "nhsuk-input--width-5"}),
    )
    note = _text("Note (optional)", help_text="For example, 'first Monday of the month'.")

    def __init__(self, *args: Any, number: int = 1, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.number = number
        self.legend = f"Time {number}"
        self.fields["weekday"].widget = forms.Select(choices=self.fields["weekday"].choices)  # type: ignore[attr-defined]
        for name, what in (("opens_at", "opening"), ("closes_at", "closing")):
            self.fields[name].error_messages["invalid"] = (
                f"Time {number}: enter the {what} time like 09:30 or 14:00"
            )
            self.fields[name].help_text = "Like 09:30" if name == "opens_at" else "Like 14:00"

    def is_filled(self) -> bool:
        if not hasattr(self, "cleaned_data"):
            return False
        data = self.cleaned_data
        return any(
            data.get(k) not in (None, "") for k in ("weekday", "opens_at", "closes_at", "note")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        filled = any(data.get(k) not in (None, "") for k in ("opens_at", "closes_at", "note"))
        if filled and data.get("weekday") is None and "weekday" not in self.errors:
            self.add_error("weekday", f"Time {self.number}: choose the day")
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if (opens is None) != (closes is None) and not (
            {"opens_at", "closes_at"} & set(self.errors)
        ):
            missing = "closes_at" if closes is None else "opens_at"
            self.add_error(
                missing, f"Time {self.number}: give both the opening and closing times, or neither"
            )
        elif (
            isinstance(opens, datetime.time)
            and isinstance(closes, datetime.time)
            and closes <= opens
        ):
            self.add_error(
                "closes_at", f"Time {self.number}: the closing time must be after the opening time"
            )
        return data

    def schedule(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "weekday": data["weekday"],
            "opens_at": data.get("opens_at"),
            "closes_at": data.get("closes_at"),
            "note": data.get("note", ""),
        }


CostOptionFormSet = forms.formset_factory(CostOptionForm, formset=_RowFormSet, extra=0)
ScheduleFormSet = forms.formset_factory(ScheduleForm, formset=_RowFormSet, extra=0)


class ServicePage:
    """The service form and its two formsets as one form for the page layout: the error
    summary lists every error of all three, each linking to its field, and the title
    starts with "Error: " when any has one."""

    def __init__(self, form: ServiceForm, prices: Any, times: Any) -> None:
        self.form = form
        self.prices = prices
        self.times = times

    @property
    def errors(self) -> bool:
        return bool(
            self.form.errors
            or any(f.errors for f in self.prices.forms)
            or any(f.errors for f in self.times.forms)
        )

    def non_field_errors(self) -> Any:
        return self.form.non_field_errors()

    def visible_fields(self) -> Any:
        return self.form.visible_fields()

    def __iter__(self) -> Iterator[Any]:
        yield from self.form
        for row in self.prices.forms:
            yield from row
        for row in self.times.forms:
            yield from row

    def is_valid(self) -> bool:
        valid = self.form.is_valid()
        valid = self.prices.is_valid() and valid
        return self.times.is_valid() and valid

    def add_service_errors(self, error: Any) -> None:
        """A service's ValidationError onto the field it is about: prices onto the
        first price, times onto the first time."""
        targets = {
            "cost_options": (self.prices.forms[0], "amount") if self.prices.forms else None,
            "schedules": (self.times.forms[0], "weekday") if self.times.forms else None,
        }
        if not hasattr(error, "error_dict"):
            for message in error.messages:
                self.form.add_error(None, message)
            return
        for field, messages in error.message_dict.items():
            for message in messages:
                if field == "cost_options" and self.form.cleaned_data.get("is_free"):
                    self.form.add_error("is_free", message)
                elif (target := targets.get(field)) is not None:
                    target[0].add_error(target[1], message)
                elif field in self.form.fields:
                    self.form.add_error(field, message)
                else:
                    self.form.add_error(None, message)


# Location --------------------------------------------------------------------------------


class LocationForm(forms.Form):
    name = _text("Name of the place", required=True, help_text="For example, St Mark's hall.")
    address_1 = _text("Address line 1", required=True)
    city = _text("Town or city", required=True, max_length=100)
    region = _text("County (optional)", max_length=100)
    postcode = _text(
        "Postcode",
        required=True,
        max_length=10,
        widget=forms.TextInput(
            attrs={"class": "nhsuk-input--width-10", "autocomplete": "postal-code"}
        ),
    )
    description = _long_text("How to find it (optional)")
    step_free = forms.BooleanField(label="It has step-free access", required=False)

    @staticmethod
    def initial_for(location: Location) -> dict[str, Any]:
        return {
            name: getattr(location, name)
            for name in (
                "name",
                "address_1",
                "city",
                "region",
                "postcode",
                "description",
                "step_free",
            )
        }


# Commissioners ------------------------------------------------------------------------------


class VerifyForm(forms.Form):
    decision = forms.ChoiceField(
        label="Do you verify this listing?",
        choices=[
            (Provider.Verification.VERIFIED, "Verify the listing"),
            (Provider.Verification.REFUSED, "Do not verify it"),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose whether you verify the listing or not",
            "invalid_choice": "Choose whether you verify the listing or not",
        },
    )
    expires_on = NHSDateField(
        label="If you verify it: date the verification runs out",
        required=False,
        help_text="At most 3 years from today. For example, 31 3 2027",
    )
    note = _long_text(
        "Note for the provider",
        help_text="If you do not verify it, say why: the provider's staff are sent this.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("decision") == Provider.Verification.VERIFIED
            and not data.get("expires_on")
            and "expires_on" not in self.errors
        ):
            self.add_error("expires_on", "Enter the date the verification runs out")
        if (
            data.get("decision") == Provider.Verification.REFUSED
            and not (data.get("note") or "").strip()
        ):
            self.add_error("note", "Say why the listing is not verified: the provider is told")
        return data


class CategoryForm(forms.Form):
    name = _text("Name of the category", required=True, max_length=100)
    description = _long_text("What it covers", required=True)
    parent = forms.TypedChoiceField(
        label="Part of a wider category (optional)",
        coerce=int,
        empty_value=None,
        required=False,
        error_messages={"invalid_choice": "Choose a category from the list"},
    )
    organisation = forms.TypedChoiceField(
        label="For which organisation",
        coerce=int,
        error_messages={"required": "Choose the organisation it is for"},
    )

    def __init__(
        self,
        *args: Any,
        parents: list[Category],
        organisations: list[Organisation],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        parent = self.fields["parent"]
        parent.choices = [("", "None: a category of its own")] + [(c.pk, c.name) for c in parents]  # type: ignore[attr-defined]
        parent.widget = forms.Select(choices=parent.choices)  # type: ignore[attr-defined]
        org = self.fields["organisation"]
        org.choices = [(o.pk, o.name) for o in organisations]  # type: ignore[attr-defined]
        if len(organisations) == 1:
            org.widget = forms.HiddenInput()
            org.initial = organisations[0].pk
        else:
            org.widget = forms.RadioSelect(choices=org.choices)  # type: ignore[attr-defined]
