"""Forms for the Shared Lives pages (marketplace/views/sharedlives.py): a carer's
profile, a person's profile, proposing a match and moving it along. Tags are typed as
comma-separated text; the services (marketplace/matching.py) check everything again."""

from __future__ import annotations

from typing import Any

from django import forms

from budgets.forms.holders import NHSDateField
from budgets.models.holders import normalise_postcode
from marketplace.matching import PLACES_MAX, TEXT_MAX, arrangement_label, normalise_tags
from marketplace.models import ArrangementKind, CarerProfile, Match, SeekerProfile

YES_NO = [("yes", "Yes"), ("no", "No")]


class TagsField(forms.CharField):
    """Comma-separated words typed in one box, kept as a normalised list."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 2000)
        hint = kwargs.pop("help_text", "")
        kwargs["help_text"] = f"{hint} Separate each one with a comma.".strip()
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def clean(self, value: Any) -> list[str]:
        text = super().clean(value)
        return normalise_tags(text)


class YesNoField(forms.TypedChoiceField):
    """A yes or no question as two radios, cleaned to a bool."""

    def __init__(self, *, label: str, required_message: str, **kwargs: Any) -> None:
        super().__init__(
            label=label,
            choices=YES_NO,
            coerce=lambda v: v == "yes",
            widget=forms.RadioSelect,
            error_messages={"required": required_message, "invalid_choice": required_message},
            **kwargs,
        )

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, bool):
            return "yes" if value else "no"
        return value


def _arrangements(label: str, message: str) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        choices=ArrangementKind.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": message, "invalid_choice": message},
    )


def _postcode(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=10,
        widget=forms.TextInput(
            attrs={"autocomplete": "postal-code", "class": "nhsuk-input--width-10"}
        ),
        error_messages={"required": "Enter a postcode, like LS6 2AB"},
        help_text="The full postcode. Matching compares postcode districts and areas only.",
    )


def _text(label: str, *, help_text: str = "", rows: int = 4) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=TEXT_MAX,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"max_length": f"Keep it to {TEXT_MAX:,} characters or fewer"},
    )


class _ProfileForm(forms.Form):
    def clean_postcode(self) -> str:
        return normalise_postcode(self.cleaned_data["postcode"])


class CarerProfileForm(_ProfileForm):
    # The order of the page, so the error summary lists errors in the order they show.
    field_order = [
        "arrangements",
        "places",
        "available",
        "postcode",
        "travel_miles",
        "skills",
        "interests",
        "languages",
        "culture_faith",
        "household",
        "has_pets",
        "pets",
        "smoking_household",
        "step_free",
    ]
    postcode = _postcode("Postcode of the home")
    arrangements = _arrangements(
        "Kinds of arrangement you offer", "Choose at least one kind of arrangement you offer"
    )
    places = forms.IntegerField(
        label="How many people you can support at a time",
        min_value=0,
        max_value=PLACES_MAX,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-2"}),
        error_messages={
            "required": "Enter how many people you can support",
            "invalid": "Enter a whole number, like 1",
            "min_value": f"Enter a number from 0 to {PLACES_MAX}",
            "max_value": f"Enter a number from 0 to {PLACES_MAX}",
        },
    )
    travel_miles = forms.IntegerField(
        label="How far you will travel for day support, in miles",
        min_value=0,
        max_value=200,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-3"}),
        error_messages={
            "required": "Enter how far you will travel, in miles",
            "invalid": "Enter a whole number of miles, like 10",
            "min_value": "Enter a number of miles from 0 to 200",
            "max_value": "Enter a number of miles from 0 to 200",
        },
    )
    available = YesNoField(
        label="Are you taking new arrangements?",
        required_message="Say whether you are taking new arrangements",
    )
    skills = TagsField(
        label="Experience and skills",
        help_text="For example: autism, dementia, epilepsy, personal care.",
    )
    interests = TagsField(
        label="Things your household enjoys", help_text="For example: gardening, music, football."
    )
    languages = TagsField(label="Languages spoken at home", help_text="For example: English, Urdu.")
    culture_faith = TagsField(
        label="Culture, faith and customs your household shares",
        help_text="For example: Muslim, halal food, Catholic.",
    )
    household = _text("Who lives in your home, and what it is like")
    has_pets = YesNoField(label="Do you have pets?", required_message="Say whether you have pets")
    pets = forms.CharField(
        label="Your pets",
        required=False,
        max_length=200,
        help_text="If you have pets, say what they are. For example: a dog and two cats.",
        error_messages={"max_length": "Keep it to 200 characters or fewer"},
    )
    smoking_household = YesNoField(
        label="Does anyone smoke in your home?",
        required_message="Say whether anyone smokes in your home",
    )
    step_free = YesNoField(
        label="Is your home step-free?",
        required_message="Say whether your home is step-free",
        help_text="Step-free means someone using a wheelchair can get in and around.",
    )

    @classmethod
    def initial_for(cls, profile: CarerProfile | None, provider: Any) -> dict[str, Any]:
        if profile is None:
            return {
                "postcode": provider.postcode,
                "places": 1,
                "travel_miles": 10,
                "available": True,
            }
        return {name: getattr(profile, name) for name in cls.base_fields}


class SeekerProfileForm(_ProfileForm):
    field_order = [
        "arrangements",
        "postcode",
        "needs",
        "interests",
        "languages",
        "culture_faith",
        "pets_ok",
        "needs_smoke_free",
        "needs_step_free",
        "about",
    ]
    postcode = _postcode("Postcode where the person lives now")
    arrangements = _arrangements(
        "Kinds of arrangement the person wants",
        "Choose at least one kind of arrangement the person wants",
    )
    needs = TagsField(
        label="Support needs",
        help_text="In the same words carers use for their skills. For example: autism, epilepsy.",
    )
    interests = TagsField(
        label="What the person enjoys", help_text="For example: gardening, music, cooking."
    )
    languages = TagsField(label="Languages the person speaks", help_text="For example: English.")
    culture_faith = TagsField(
        label="Culture, faith and customs that matter to the person",
        help_text="For example: Muslim, halal food.",
    )
    about = _text("About the person, in their own words", rows=5)
    pets_ok = YesNoField(
        label="Is the person happy to live with pets?",
        required_message="Say whether the person is happy to live with pets",
    )
    needs_smoke_free = YesNoField(
        label="Does the person need a smoke-free home?",
        required_message="Say whether the person needs a smoke-free home",
    )
    needs_step_free = YesNoField(
        label="Does the person need a step-free home?",
        required_message="Say whether the person needs a step-free home",
    )

    @classmethod
    def initial_for(cls, profile: SeekerProfile | None, holder: Any) -> dict[str, Any]:
        if profile is None:
            return {
                "postcode": holder.postcode,
                "pets_ok": True,
                "needs_smoke_free": False,
                "needs_step_free": False,
            }
        return {name: getattr(profile, name) for name in cls.base_fields}


class ProposeForm(forms.Form):
    """Propose a match with one ranked carer (one small form for each on the page)."""

    carer = forms.IntegerField(widget=forms.HiddenInput)
    arrangement = forms.ChoiceField(
        label="Arrangement",
        choices=ArrangementKind.choices,
        error_messages={
            "required": "Choose the kind of arrangement",
            "invalid_choice": "Choose the kind of arrangement",
        },
    )


class MoveForm(forms.Form):
    to_state = forms.ChoiceField(
        label="What happened next?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose what happened next",
            "invalid_choice": "Choose what happened next",
        },
    )
    happened_on = NHSDateField(
        label="When did it happen?",
        required=False,
        help_text="Leave it empty for today. For example, 15 3 2026.",
    )
    note = _text(
        "Note",
        help_text="What happened, and what comes next. Needed when the match ends: say why.",
    )

    LABELS = {
        Match.State.TRIAL_VISITS: "Start trial visits",
        Match.State.ARRANGEMENT: "The arrangement is in place",
        Match.State.ENDED: "End the match",
    }

    def __init__(self, *args: Any, moves: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["to_state"]
        field.choices = [(m, self.LABELS[Match.State(m)]) for m in moves]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("to_state") == Match.State.ENDED and not (data.get("note") or "").strip():
            self.add_error("note", "Say why the match is ending")
        return data


def arrangement_choices(kinds: list[str]) -> list[tuple[str, str]]:
    return [(k, arrangement_label(k).capitalize()) for k in kinds]
