"""The audit log search form (commissioners and admins)."""

from __future__ import annotations

import datetime

from django import forms
from django.db.models import Q, QuerySet

from core.models import AuditEvent


class AuditSearchForm(forms.Form):
    person = forms.CharField(
        label="Person (name of the budget holder)", required=False, max_length=200
    )
    actor = forms.CharField(label="Who acted (name or email)", required=False, max_length=200)
    action = forms.CharField(label="Action", required=False, max_length=100)
    date_from = forms.DateField(
        label="From date",
        required=False,
        help_text="For example, 27 3 2026 or 2026-03-27",
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

    def filter(self, events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        data = self.cleaned_data
        if data.get("person"):
            events = events.filter(person__name__icontains=data["person"])
        if data.get("actor"):
            term = data["actor"]
            events = events.filter(Q(actor__name__icontains=term) | Q(actor_label__icontains=term))
        if data.get("action"):
            events = events.filter(action__icontains=data["action"])
        if data.get("date_from"):
            events = events.filter(created_at__date__gte=data["date_from"])
        if data.get("date_to"):
            end: datetime.date = data["date_to"]
            events = events.filter(created_at__date__lte=end)
        return events
