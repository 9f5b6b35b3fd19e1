"""Forms for the improvement loop: an issue found in a report, an action on it (and
changes to the action: status, owner, due date, a note), and an engagement session
that agreed issues and actions. The services check everything again; their errors are
put back on these forms' fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from budgets.forms.money import DayMonthYearField
from outcomes.models import (
    ImprovementAction,
    ImprovementIssue,
    OutcomeArea,
    RespondentKind,
)
from users.models import Organisation


class ServiceErrorsMixin:
    """Put a service's ValidationError on the form's own fields (or the whole form)."""

    def add_service_errors(self, error: ValidationError) -> None:
        form: Any = self
        if not hasattr(error, "error_dict"):
            for message in error.messages:
                form.add_error(None, message)
            return
        for name, messages in error.message_dict.items():
            for message in messages:
                form.add_error(name if name in form.fields else None, message)


class OrganisationChoiceMixin:
    """A choice of organisation only for a commissioner of more than one."""

    def _set_organisations(self, organisations: list[Organisation]) -> None:
        form: Any = self
        self.only_organisation = organisations[0] if len(organisations) == 1 else None
        if self.only_organisation is not None:
            del form.fields["organisation"]
        else:
            form.fields["organisation"].queryset = Organisation.objects.filter(
                pk__in=[o.pk for o in organisations]
            ).order_by("name")

    def chosen_organisation(self) -> Organisation:
        form: Any = self
        return self.only_organisation or form.cleaned_data["organisation"]


def _organisation_field(label: str) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=label,
        queryset=Organisation.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": "Choose the organisation",
            "invalid_choice": "Choose the organisation",
        },
    )


def _numeric(field: forms.Field, width: int = 3) -> None:
    # A text box with a number keyboard: a number input changes its value on scroll.
    field.widget.attrs.update(
        {"type": "text", "inputmode": "numeric", "class": f"nhsuk-input--width-{width}"}
    )


class IssueForm(ServiceErrorsMixin, OrganisationChoiceMixin, forms.Form):
    organisation = _organisation_field("Which organisation's issue it is")
    title = forms.CharField(
        label="What the issue is",
        help_text="A short summary, for example, fewer carers say they have emergency back-up",
        max_length=200,
        error_messages={"required": "Say what the issue is"},
    )
    description = forms.CharField(
        label="More about the issue (optional)",
        help_text="What the report showed, and why it matters",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    respondent_kind = forms.ChoiceField(
        label="Whose answers showed it (optional)",
        choices=[("", "Not one group in particular"), *RespondentKind.choices],
        required=False,
    )
    area = forms.ChoiceField(
        label="The area of life it is about (optional)",
        choices=[("", "Not one area in particular"), *OutcomeArea.choices],
        required=False,
    )

    def __init__(self, *args: Any, organisations: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._set_organisations(organisations)


class ActionForm(ServiceErrorsMixin, forms.Form):
    description = forms.CharField(
        label="What will be done",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say what will be done"},
    )
    owner = forms.CharField(
        label="Who will do it",
        help_text="A person or a team",
        max_length=200,
        error_messages={"required": "Say who will do it"},
    )
    due_on = DayMonthYearField(label="When it is due", what="The due date")
    note = forms.CharField(
        label="A note (optional)",
        help_text="Kept with the action, with your name and today's date",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ActionEditForm(ActionForm):
    status = forms.ChoiceField(
        label="Status",
        choices=ImprovementAction.Status.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the action's status",
            "invalid_choice": "Choose the action's status",
        },
    )
    field_order = ["status", "description", "owner", "due_on", "note"]

    def __init__(self, *args: Any, action: ImprovementAction, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "status": action.status,
                "description": action.description,
                "owner": action.owner,
                "due_on": action.due_on,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["note"].label = "Add a note (optional)"
        self.fields["note"].help_text = (
            "Added to the notes with your name and the date; earlier notes are kept. "
            "If you reopen a done action, say why"
        )
        # An action never goes back to not started once work has begun.
        if action.status != ImprovementAction.Status.NOT_STARTED:
            field: Any = self.fields["status"]
            field.choices = [
                choice
                for choice in ImprovementAction.Status.choices
                if choice[0] != ImprovementAction.Status.NOT_STARTED
            ]


class IssueChoiceField(forms.ModelMultipleChoiceField):
    show_organisation = False

    def label_from_instance(self, obj: ImprovementIssue) -> str:
        whose = f"{obj.organisation.name}: " if self.show_organisation else ""
        return f"{whose}{obj.title}"


class ActionChoiceField(forms.ModelMultipleChoiceField):
    show_organisation = False

    def label_from_instance(self, obj: ImprovementAction) -> str:
        whose = f"{obj.issue.organisation.name}: " if self.show_organisation else ""
        return f"{whose}{obj.description[:120]} ({obj.owner}, due {obj.due_on:%-d %B %Y})"


class SessionForm(ServiceErrorsMixin, OrganisationChoiceMixin, forms.Form):
    organisation = _organisation_field("Which organisation held it")
    title = forms.CharField(
        label="What the session was",
        help_text="For example, carers' forum: survey results for 2026",
        max_length=200,
        error_messages={"required": "Say what the session was"},
    )
    held_on = DayMonthYearField(
        label="When it was held", what="The date it was held", help_text="For example, 27 3 2026"
    )
    people_using_services = forms.IntegerField(
        label="People who use services who came",
        required=False,
        min_value=0,
        max_value=10_000,
        error_messages={
            "invalid": "Enter how many people who use services came, as a number, like 6",
            "min_value": "The number of people who use services cannot be below 0",
            "max_value": "The number of people who use services must be 10,000 or fewer",
        },
    )
    carers = forms.IntegerField(
        label="Family carers who came",
        required=False,
        min_value=0,
        max_value=10_000,
        error_messages={
            "invalid": "Enter how many carers came, as a number, like 4",
            "min_value": "The number of carers cannot be below 0",
            "max_value": "The number of carers must be 10,000 or fewer",
        },
    )
    staff = forms.IntegerField(
        label="Staff who came",
        required=False,
        min_value=0,
        max_value=10_000,
        error_messages={
            "invalid": "Enter how many staff came, as a number, like 3",
            "min_value": "The number of staff cannot be below 0",
            "max_value": "The number of staff must be 10,000 or fewer",
        },
    )
    issues = IssueChoiceField(
        label="Issues it agreed (optional)",
        queryset=ImprovementIssue.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": "Choose issues from the list"},
    )
    actions = ActionChoiceField(
        label="Actions it agreed (optional)",
        queryset=ImprovementAction.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": "Choose actions from the list"},
    )
    notes = forms.CharField(
        label="What was said and agreed (optional)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(
        self,
        *args: Any,
        organisations: list[Organisation],
        issues: Any,
        actions: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._set_organisations(organisations)
        for name in ("people_using_services", "carers", "staff"):
            _numeric(self.fields[name])
        issue_field: Any = self.fields["issues"]
        action_field: Any = self.fields["actions"]
        issue_field.queryset = issues
        action_field.queryset = actions
        # Issues and actions of several organisations: say whose each is.
        issue_field.show_organisation = action_field.show_organisation = (
            self.only_organisation is None
        )
        if not issues.exists():
            del self.fields["issues"]
        if not actions.exists():
            del self.fields["actions"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        names = ("people_using_services", "carers", "staff")
        for name in names:
            if name not in self.errors and data.get(name) is None:
                data[name] = 0
        if not any(name in self.errors for name in names) and not any(data[name] for name in names):
            self.add_error("people_using_services", "Enter how many people came: at least 1 in all")
        return data
