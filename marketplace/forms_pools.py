"""Forms for pooled purchasing: opening a pool, joining it (from which funding, for
which plan item, whether others may see your first name), and the organiser's actions.
Forms that move money carry a hidden idempotency key (``IdempotentForm``), so a double
submit funds or refunds once."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from budgets.forms.money import DayMonthYearField, IdempotentForm, PoundsField
from budgets.models import FundingContribution
from marketplace.models import Pool, PoolMember
from plans.models import SupportItem, SupportPlan
from users.models import Organisation


class ServiceErrorsMixin:
    """Put a service's ValidationError on the form's own fields."""

    SERVICE_FIELDS: dict[str, str] = {}

    def _choice(self, name: str) -> Any:
        form: Any = self
        return form.fields[name]

    def add_service_errors(self, error: ValidationError) -> None:
        form: Any = self
        if not hasattr(error, "error_dict"):
            for message in error.messages:
                form.add_error(None, message)
            return
        for name, messages in error.message_dict.items():
            name = self.SERVICE_FIELDS.get(name, name)
            for message in messages:
                form.add_error(name if name in form.fields else None, message)


class PoolCreateForm(ServiceErrorsMixin, forms.Form):
    SERVICE_FIELDS = {"cost_pence": "cost", "share_pence": "share"}

    purpose = forms.CharField(
        label="What the members want to achieve",
        help_text="For example, a weekly cookery class for people learning to live on their own",
        max_length=200,
        error_messages={"required": "Say what the members want to achieve"},
    )
    description = forms.CharField(
        label="More about the pool (optional)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    organisation = forms.ModelChoiceField(
        label="Who the pool is for",
        help_text="People whose budget this ICB or council arranges can join",
        queryset=Organisation.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": "Choose who the pool is for",
            "invalid_choice": "Choose who the pool is for",
        },
    )
    split = forms.ChoiceField(
        label="How the cost is shared",
        choices=[
            (Pool.Split.EQUAL, "Shared equally: the more people join, the less each pays"),
            (Pool.Split.FIXED, "A set price for each person"),
        ],
        widget=forms.RadioSelect,
        initial=Pool.Split.EQUAL,
        error_messages={"required": "Choose how the cost is shared"},
    )
    cost = PoundsField(
        label="The whole cost, if shared equally",
        what="The cost",
        required=False,
    )
    share = PoundsField(
        label="The price for each person, if set",
        what="The price for each person",
        required=False,
    )
    minimum_members = forms.IntegerField(
        label="The fewest people needed",
        min_value=2,
        max_value=100,
        initial=2,
        error_messages={
            "required": "Enter the fewest people needed",
            "invalid": "Enter the fewest people needed as a number, like 4",
            "min_value": "A pool needs at least 2 people",
            "max_value": "A pool can have at most 100 people",
        },
    )
    maximum_members = forms.IntegerField(
        label="The most people who can join (optional)",
        required=False,
        min_value=2,
        max_value=100,
        error_messages={
            "invalid": "Enter the most people as a number, like 8",
            "min_value": "The most people must be at least 2",
            "max_value": "A pool can have at most 100 people",
        },
    )
    deadline = DayMonthYearField(
        label="The last day to join",
        what="The last day to join",
        help_text="For example, 27 3 2026",
    )

    def __init__(self, *args: Any, organisations: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.only_organisation = organisations[0] if len(organisations) == 1 else None
        if self.only_organisation is not None:
            del self.fields["organisation"]
        else:
            self._choice("organisation").queryset = Organisation.objects.filter(
                pk__in=[o.pk for o in organisations]
            ).order_by("name")
        for name in ("minimum_members", "maximum_members"):
            self.fields[name].widget.attrs.update(
                {"inputmode": "numeric", "class": "nhsuk-input--width-3"}
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        split = data.get("split")
        if split == Pool.Split.EQUAL and data.get("cost") is None and "cost" not in self.errors:
            self.add_error("cost", "Enter the whole cost")
        if split == Pool.Split.FIXED and data.get("share") is None and "share" not in self.errors:
            self.add_error("share", "Enter the price for each person")
        return data

    def chosen_organisation(self) -> Organisation:
        return self.only_organisation or self.cleaned_data["organisation"]


class FundingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: FundingContribution) -> str:
        return f"{obj.budget.holder.name}: {obj.get_stream_display()} ({obj.funder.name})"


class ItemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: SupportItem) -> str:
        return f"{obj.plan.budget.holder.name}: {obj.description}"


class PoolJoinForm(ServiceErrorsMixin, forms.Form):
    contribution = FundingChoiceField(
        label="Whose budget, and which funding, pays the share",
        queryset=FundingContribution.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": "Choose which funding pays the share",
            "invalid_choice": "Choose which funding pays the share",
        },
    )
    plan_item = ItemChoiceField(
        label="What in the support plan it pays for (optional)",
        queryset=SupportItem.objects.none(),
        required=False,
        empty_label="Not in the plan",
        error_messages={"invalid_choice": "Choose an item from the support plan"},
    )
    show_name = forms.BooleanField(
        label="Let other members see my first name",
        help_text="If you do not tick this, other members see you as “Another member”",
        required=False,
    )

    def __init__(self, *args: Any, funding: list[FundingContribution], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._choice("contribution").queryset = FundingContribution.objects.filter(
            pk__in=[c.pk for c in funding]
        ).select_related("budget__holder", "funder")
        items = SupportItem.objects.filter(
            plan__budget_id__in={c.budget_id for c in funding},
            plan__state=SupportPlan.State.ACTIVE,
        ).select_related("plan__budget__holder")
        if not items.exists():
            del self.fields["plan_item"]
        else:
            self._choice("plan_item").queryset = items


class PoolLeaveForm(forms.Form):
    member = forms.ModelChoiceField(
        label="Whose place to give up",
        queryset=PoolMember.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": "Choose whose place to give up",
            "invalid_choice": "Choose whose place to give up",
        },
    )

    def __init__(self, *args: Any, members: list[PoolMember], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["member"]
        field.queryset = PoolMember.objects.filter(pk__in=[m.pk for m in members])
        field.label_from_instance = lambda m: m.holder.name


class PoolFundForm(IdempotentForm):
    """Only the key: the organiser confirms, and each share is posted once."""


class PoolCancelForm(forms.Form):
    reason = forms.CharField(
        label="Why the pool is being cancelled",
        help_text="Members are sent this",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the pool is being cancelled"},
    )


class PoolFailForm(IdempotentForm):
    reason = forms.CharField(
        label="Why the purchase did not go ahead",
        help_text="Every member's share is paid back into their budget, and they are sent this",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the purchase did not go ahead"},
    )
