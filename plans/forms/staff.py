"""Forms for the staff plan pages (plans/views/staff.py): approving a plan, asking for
changes, recording a review and ending a plan. The services check everything again;
these forms give the first, clearest message."""

from __future__ import annotations

from typing import Any

from django import forms

from budgets.forms.holders import NHSDateField
from budgets.ledger import format_pence
from plans.models import OutcomeProgress, PlanOutcome
from plans.selectors import StreamCost

STEP_LABELS = {"clinician": "As the clinician", "commissioner": "As the commissioner"}


def _text(label: str, required_message: str, *, rows: int = 5, **kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={
            "required": required_message,
            "max_length": "Keep it to 5,000 characters or fewer",
        },
        **kwargs,
    )


class ApproveForm(forms.Form):
    """Approve as one of the sign-offs the user may give and the plan still lacks. When
    this approval completes the sign-off and the budget would be reduced to the plan's
    cost, the reasons are asked for: the person is sent them with the notice."""

    step = forms.ChoiceField(
        label="Approve the plan",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose whether you approve as the clinician or the commissioner",
            "invalid_choice": "Choose whether you approve as the clinician or the commissioner",
        },
    )
    reduction_reasons = _text(
        "Reasons for reducing the budget",
        "Give the reasons for reducing the budget: the person is sent them",
        required=False,
        rows=6,
    )

    def __init__(
        self,
        *args: Any,
        steps: list[str],
        reductions: list[StreamCost] | None = None,
        completing: set[str] | frozenset[str] = frozenset(),
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("prefix", "approve")
        super().__init__(*args, **kwargs)
        self.steps = steps
        step = self.fields["step"]
        step.choices = [(s, STEP_LABELS[s]) for s in steps]  # type: ignore[attr-defined]
        if len(steps) == 1:
            step.widget = forms.HiddenInput()
            step.initial = steps[0]
        # The reductions happen only if this approval is the last one the plan needs.
        self.reductions = reductions or []
        self.completing = completing
        if self.reductions:
            self.fields["reduction_reasons"].help_text = (
                "Approving reduces the budget to the plan's cost: "
                + "; ".join(
                    f"{r.label} from {format_pence(r.budget_pence)} to "
                    f"{format_pence(r.plan_pence)} a year"
                    for r in self.reductions
                )
                + ". Say why: the person is sent these reasons with the notice."
            )
        else:
            del self.fields["reduction_reasons"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        reasons = (data.get("reduction_reasons") or "").strip()
        data["reduction_reasons"] = reasons
        if self.reductions and data.get("step") in self.completing and not reasons:
            self.add_error(
                "reduction_reasons",
                "Give the reasons for reducing the budget: the person is sent them",
            )
        return data


class RequestChangesForm(forms.Form):
    what_and_why = _text(
        "What needs to change, and why",
        "Say what needs to change, and why",
        help_text="The person is sent this, word for word, and the plan goes back to them "
        "to change.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "changes")
        super().__init__(*args, **kwargs)


class ReviewForm(forms.Form):
    """Progress on each of the plan's outcomes (``progress_<id>`` and ``note_<id>``),
    what is working and what is not, the date it was held, and whether the plan
    changes."""

    held_on = NHSDateField(
        label="Date of the review",
        past_only=True,
        help_text="For example, 15 3 2025",
        error_messages={"required": "Enter the date the review was held"},
    )
    what_is_working = _text("What is working", "", required=False)
    what_is_not_working = _text("What is not working", "", required=False)
    plan_changes = forms.ChoiceField(
        label="Does the plan need to change?",
        widget=forms.RadioSelect,
        choices=[
            ("no", "No, the plan stays as it is"),
            ("yes", "Yes: start a new version of the plan to change"),
        ],
        error_messages={
            "required": "Say whether the plan needs to change",
            "invalid_choice": "Say whether the plan needs to change",
        },
    )

    def __init__(self, *args: Any, outcomes: list[PlanOutcome], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcomes = outcomes
        fields: dict[str, forms.Field] = {}
        for outcome in outcomes:
            fields[f"progress_{outcome.pk}"] = forms.ChoiceField(
                label=f"How is it going: {outcome.goal}",
                widget=forms.RadioSelect,
                choices=OutcomeProgress.Progress.choices,
                error_messages={
                    "required": f"Choose how it is going with “{outcome.goal}”",
                    "invalid_choice": f"Choose how it is going with “{outcome.goal}”",
                },
            )
            fields[f"note_{outcome.pk}"] = _text(
                f"Notes on “{outcome.goal}” (optional)", "", required=False, rows=3
            )
        # Outcomes first, in the plan's order, then the rest of the review.
        self.fields = {**fields, **self.fields}

    def outcome_fields(self) -> list[tuple[PlanOutcome, Any, Any]]:
        return [(o, self[f"progress_{o.pk}"], self[f"note_{o.pk}"]) for o in self.outcomes]

    def progress(self) -> dict[int, tuple[str, str]]:
        data = self.cleaned_data
        return {
            o.pk: (data[f"progress_{o.pk}"], (data.get(f"note_{o.pk}") or "").strip())
            for o in self.outcomes
        }


class EndPlanForm(forms.Form):
    reason = _text(
        "Why is the plan ending?",
        "Give the reason for ending the plan",
        help_text="For example: the person no longer needs this support, or has moved to "
        "another area. This is recorded in the plan's history.",
    )
