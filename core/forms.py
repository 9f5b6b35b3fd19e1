"""NHS.UK form rendering: ``{{ form.field.as_field_group() }}`` renders a field with the
matching NHS.UK component (see templates/forms/field.html)."""

from django.forms.renderers import TemplatesSetting


class NHSUKFormRenderer(TemplatesSetting):
    field_template_name = "forms/field.html"
