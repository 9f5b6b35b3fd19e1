"""The form of one section of a survey, built from the instrument's questions: a radio
group for each 'better, the same or worse' area and each one-choice question,
checkboxes for 'any that apply', and a text box. Every question may be skipped, so no
field is required; the service checks each value again (outcomes/answering.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from outcomes.answering import TEXT_LIMIT
from outcomes.models import Answer, Change, Question, RespondentKind


def change_choices(respondent_kind: str) -> list[tuple[str, str]]:
    """The answer scale; staff answer about someone else, so 'to me' is dropped."""
    choices = [(str(value), str(label)) for value, label in Change.choices]
    if respondent_kind == RespondentKind.STAFF:
        choices[-1] = (Change.NOT_APPLICABLE, "Does not apply")
    return choices


class SectionForm(forms.Form):
    """Fields named by question code, in the instrument's order."""

    def __init__(
        self,
        *args: Any,
        questions: list[Question],
        respondent_kind: str,
        answers: dict[int, Answer] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.questions = {q.code: q for q in questions}
        answers = answers or {}
        for question in questions:
            field = self._field(question, respondent_kind)
            answer = answers.get(question.pk)
            if answer is not None:
                field.initial = answer.choices or answer.choice or answer.text
            self.fields[question.code] = field

    @staticmethod
    def _field(question: Question, respondent_kind: str) -> forms.Field:
        wrong = f"Choose one of the answers for “{question.text}”"
        options = [(o.code, o.label) for o in question.options.all()]
        common: dict[str, Any] = {
            "label": question.text,
            "help_text": question.hint,
            "required": False,
        }
        if question.kind == Question.Kind.CHANGE:
            return forms.ChoiceField(
                choices=change_choices(respondent_kind),
                widget=forms.RadioSelect,
                error_messages={"invalid_choice": wrong},
                **common,
            )
        if question.kind == Question.Kind.CHOICE:
            return forms.ChoiceField(
                choices=options,
                widget=forms.RadioSelect,
                error_messages={"invalid_choice": wrong},
                **common,
            )
        if question.kind == Question.Kind.MULTIPLE:
            return forms.MultipleChoiceField(
                choices=options,
                widget=forms.CheckboxSelectMultiple,
                error_messages={
                    "invalid_choice": f"Choose from the answers given for “{question.text}”",
                    "invalid_list": f"Choose from the answers given for “{question.text}”",
                },
                **common,
            )
        return forms.CharField(
            widget=forms.Textarea(attrs={"rows": 6}),
            max_length=TEXT_LIMIT,
            error_messages={
                "max_length": (
                    f"Your answer to “{question.text}” must be {TEXT_LIMIT:,} characters or fewer"
                )
            },
            **common,
        )

    def section_data(self) -> dict[str, Any]:
        """Every question of the section with its answer ('' or [] when skipped), so a
        skipped question clears an answer saved before."""
        return {code: self.cleaned_data.get(code) or "" for code in self.questions}

    def add_service_errors(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            for message in error.messages:
                self.add_error(None, message)
            return
        for code, messages in error.message_dict.items():
            for message in messages:
                self.add_error(code if code in self.fields else None, message)

    def kind_of(self, code: str) -> str:
        return self.questions[code].kind
