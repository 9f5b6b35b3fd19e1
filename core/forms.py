"""NHS.UK form rendering: ``{{ form.field.as_field_group() }}`` renders a field with the
matching NHS.UK component (see templates/forms/field.html)."""

from django import forms
from django.forms.renderers import TemplatesSetting


class NHSUKFormRenderer(TemplatesSetting):
    field_template_name = "forms/field.html"


class AuditSearchForm(forms.Form):
    person = forms.CharField(
        label="Person (name of the budget holder)", required=False, max_length=200
    )
    actor = forms.CharField(label="Who acted (name or email)", required=False, max_length=200)
    action = forms.CharField(label="Action", required=False, max_length=100)
    date_from = forms.DateField(
        label="From date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label="To date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The to date must be the same as or after the from date")
        return data
