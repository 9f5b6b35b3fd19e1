"""Outcome survey screens for platform administrators: instrument versions (a draft's
wording edited here, published ones read-only), reference figures, schedules, rounds
(read-only) and opt-outs.

Instruments are national, so these screens are platform admins' own: ``core.admin``
opens no part of this app to commissioners (their organisation's schedule, rounds and
results are on the outcomes pages, scoped to them).

No one's answers are shown here, to anyone: responses, answers and invitations are not
registered. Reports count answers; people read only their own.

Every change goes through ``outcomes.instruments`` (drafts only, audited) or is audited
here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Model, Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from core.admin import AuditedViewsAdmin
from core.exceptions import Conflict
from core.services import audit_record, personal_record_viewed
from outcomes import instruments
from outcomes.models import (
    Instrument,
    Question,
    QuestionOption,
    ReferenceFigure,
    SurveyInvitation,
    SurveyOptOut,
    SurveyRound,
    SurveySchedule,
)


def _is_draft(instrument: Instrument | None) -> bool:
    return instrument is not None and instrument.status == Instrument.Status.DRAFT


def _changes(form: ModelForm) -> dict[str, Any]:
    return {name: str(form.cleaned_data.get(name)) for name in form.changed_data}


class ConflictMessagesMixin:
    """A Conflict from a service (someone published the draft a moment ago) is shown
    as a message on the page, not a server error; nothing is saved."""

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(  # type: ignore[misc]
                request, object_id, form_url, extra_context
            )
        except Conflict as error:
            self.message_user(request, error.message, messages.ERROR)  # type: ignore[attr-defined]
            return HttpResponseRedirect(request.get_full_path())


# Instruments ------------------------------------------------------------------------------


class DraftInline(admin.TabularInline):
    """Rows of a draft instrument are edited here; a published or retired one's are
    shown read-only (nobody adds, changes or deletes them)."""

    extra = 0

    def instrument_of(self, obj: Any) -> Instrument | None:
        return obj if isinstance(obj, Instrument) else None

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if _is_draft(self.instrument_of(obj)):
            return ()
        return self.get_fields(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_draft(self.instrument_of(obj)) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_draft(self.instrument_of(obj)) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_draft(self.instrument_of(obj)) and super().has_delete_permission(request, obj)


class QuestionInline(DraftInline):
    model = Question
    fields = ["section", "position", "code", "text", "hint", "kind", "area", "measure"]
    show_change_link = True  # a question's options are edited on its own page


class InstrumentForm(ModelForm):
    class Meta:
        model = Instrument
        fields = ["title", "introduction"]


@admin.register(Instrument)
class InstrumentAdmin(ConflictMessagesMixin, admin.ModelAdmin):
    form = InstrumentForm
    list_display = ["title", "respondent_kind", "version", "status", "published_at", "answered"]
    list_filter = ["respondent_kind", "status"]
    search_fields = ["title"]
    fields = [
        "respondent_kind",
        "version",
        "status",
        "title",
        "introduction",
        "created_by",
        "created_at",
        "published_at",
    ]
    inlines = [QuestionInline]
    actions = ["make_new_version", "publish"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Instrument]:
        return (
            super()
            .get_queryset(request)
            .annotate(answered_count=Count("responses", filter=Q(responses__state="submitted")))
        )

    @admin.display(description="Responses", ordering="answered_count")
    def answered(self, obj: Instrument) -> int:
        return int(getattr(obj, "answered_count", 0))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if _is_draft(obj):
            return [
                "respondent_kind",
                "version",
                "status",
                "created_by",
                "created_at",
                "published_at",
            ]
        return self.fields

    # Version 1 of each kind comes from a migration; later ones from "Make a new version".
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not _is_draft(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A draft may be thrown away; a version people answered is kept for ever.
        if obj is None or not _is_draft(obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> Any:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        if fields:
            instruments.instrument_update(instrument=obj, by=request.user, **fields)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        saved = formset.save(commit=False)
        by = request.user
        for obj in formset.deleted_objects:
            if isinstance(obj, Question):
                instruments.question_delete(question=obj, by=by)
            else:
                instruments.option_delete(option=obj, by=by)
        for obj in saved:
            if isinstance(obj, Question):
                instruments.question_save(instrument=form.instance, by=by, question=obj)
            else:
                instruments.option_save(question=obj.question, by=by, option=obj)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        instruments.instrument_check_editable(obj)
        audit_record(
            actor=request.user,
            action="instrument.draft_discarded",
            obj=obj,
            changes={"kind": obj.respondent_kind, "version": obj.version},
        )
        super().delete_model(request, obj)

    @admin.action(description="Make a new version to edit")
    def make_new_version(self, request: HttpRequest, queryset: QuerySet[Instrument]) -> None:
        for instrument in queryset:
            try:
                draft = instruments.instrument_new_version(instrument=instrument, by=request.user)
            except Conflict as error:
                self.message_user(request, f"{instrument}: {error.message}", messages.ERROR)
            except PermissionDenied:
                self.message_user(
                    request, "Only platform administrators change surveys.", messages.ERROR
                )
            else:
                url = reverse("admin:outcomes_instrument_change", args=[draft.pk])
                self.message_user(
                    request,
                    format_html('Made <a href="{}">{}</a>, a draft to edit.', url, draft),
                    messages.SUCCESS,
                )

    @admin.action(description="Publish")
    def publish(self, request: HttpRequest, queryset: QuerySet[Instrument]) -> None:
        for instrument in queryset:
            try:
                instruments.instrument_publish(instrument=instrument, by=request.user)
            except Conflict as error:
                self.message_user(request, f"{instrument}: {error.message}", messages.ERROR)
            except ValidationError as error:
                self.message_user(
                    request, f"{instrument}: {' '.join(error.messages)}", messages.ERROR
                )
            except PermissionDenied:
                self.message_user(
                    request, "Only platform administrators change surveys.", messages.ERROR
                )
            else:
                self.message_user(
                    request,
                    f"Published {instrument}; the version before it is retired.",
                    messages.SUCCESS,
                )


class OptionInline(DraftInline):
    model = QuestionOption
    fields = ["position", "code", "label", "polarity"]

    def instrument_of(self, obj: Any) -> Instrument | None:
        return obj.instrument if isinstance(obj, Question) else None


class QuestionForm(ModelForm):
    class Meta:
        model = Question
        fields = ["section", "position", "code", "text", "hint", "kind", "area", "measure"]


@admin.register(Question)
class QuestionAdmin(ConflictMessagesMixin, admin.ModelAdmin):
    """A question and its answer options; added and removed from its instrument's page."""

    form = QuestionForm
    list_display = ["code", "text", "kind", "instrument"]
    list_filter = ["instrument__respondent_kind", "instrument__status", "kind"]
    search_fields = ["code", "text"]
    list_select_related = ["instrument"]
    inlines = [OptionInline]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["instrument", *QuestionForm.Meta.fields]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and _is_draft(obj.instrument):
            return ["instrument"]
        return self.get_fields(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not _is_draft(obj.instrument):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        instruments.question_save(instrument=obj.instrument, by=request.user, question=obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        saved = formset.save(commit=False)
        for option in formset.deleted_objects:
            instruments.option_delete(option=option, by=request.user)
        for option in saved:
            instruments.option_save(question=form.instance, by=request.user, option=option)


# Reference figures, schedules, rounds, opt-outs ------------------------------------------


class AuditedAdmin(AuditedViewsAdmin):
    """Every change is an audit event; opening a record that names a person is too."""

    audit_prefix = ""

    def audit_view(self, request: HttpRequest, obj: Model) -> None:
        holder = getattr(obj, "holder", None)
        if holder is not None:
            personal_record_viewed(viewer=request.user, person=holder, what="admin: survey opt-out")
        elif getattr(obj, "email", "") or getattr(obj, "user_id", None):
            super().audit_view(request, obj)

    def organisation_of(self, obj: Model) -> Any:
        return getattr(obj, "organisation", None)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action=f"{self.audit_prefix}.{'changed' if change else 'created'}",
            obj=obj,
            organisation=self.organisation_of(obj),
            person=getattr(obj, "holder", None),
            changes={"page": "admin", **_changes(form)},
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit_record(
            actor=request.user,
            action=f"{self.audit_prefix}.deleted",
            obj=obj,
            organisation=self.organisation_of(obj),
            person=getattr(obj, "holder", None),
            changes={"page": "admin"},
        )
        super().delete_model(request, obj)

    def get_actions(self, request: HttpRequest) -> Any:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deletes without the audit event
        return actions


class ReferenceFigureForm(ModelForm):
    source_url = forms.URLField(label="Source URL", required=False, assume_scheme="https")

    class Meta:
        model = ReferenceFigure
        fields = [
            "respondent_kind",
            "area",
            "better_percent",
            "same_percent",
            "worse_percent",
            "respondents",
            "source",
            "source_url",
            "published_year",
            "note",
        ]


@admin.register(ReferenceFigure)
class ReferenceFigureAdmin(AuditedAdmin):
    """National figures, entered exactly as their source states them."""

    audit_prefix = "reference_figure"
    form = ReferenceFigureForm
    list_display = [
        "area",
        "respondent_kind",
        "better_percent",
        "same_percent",
        "worse_percent",
        "respondents",
        "source",
        "published_year",
    ]
    list_filter = ["respondent_kind", "published_year"]
    search_fields = ["source", "area"]
    readonly_fields = ["entered_by", "entered_at"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.entered_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(SurveySchedule)
class SurveyScheduleAdmin(AuditedAdmin):
    audit_prefix = "survey_schedule"
    list_display = [
        "organisation",
        "active",
        "first_after_months",
        "then_every_months",
        "ask_holders",
        "ask_carers",
        "ask_staff",
        "updated_at",
    ]
    list_filter = ["active"]
    search_fields = ["organisation__name"]
    list_select_related = ["organisation"]
    autocomplete_fields = ["organisation"]
    readonly_fields = ["updated_by", "updated_at"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


def _state_count(state: str) -> Count:
    return Count("invitations", filter=Q(invitations__state=state))


ROUND_FIELDS: list[str] = [
    "organisation",
    "respondent_kind",
    "instrument",
    "period_start",
    "closes_on",
    "state",
    "closed_at",
    "created_at",
    "invited",
    "answered",
]


@admin.register(SurveyRound)
class SurveyRoundAdmin(admin.ModelAdmin):
    """Read-only: rounds are opened and closed by the scheduling job. Counts only; who
    was invited is not shown."""

    list_display = [
        "organisation",
        "respondent_kind",
        "period_start",
        "closes_on",
        "state",
        "invited",
        "answered",
    ]
    list_filter = ["state", "respondent_kind", "period_start"]
    search_fields = ["organisation__name"]
    list_select_related = ["organisation", "instrument"]
    date_hierarchy = "period_start"

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ROUND_FIELDS

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ROUND_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[SurveyRound]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                invited_count=Count("invitations"),
                answered_count=_state_count(SurveyInvitation.State.SUBMITTED),
            )
        )

    @admin.display(description="Invited", ordering="invited_count")
    def invited(self, obj: SurveyRound) -> int:
        return int(getattr(obj, "invited_count", 0))

    @admin.display(description="Answered", ordering="answered_count")
    def answered(self, obj: SurveyRound) -> int:
        return int(getattr(obj, "answered_count", 0))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OptOutForm(ModelForm):
    class Meta:
        model = SurveyOptOut
        fields = ["respondent_kind", "holder", "email", "user"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not (cleaned.get("holder") or cleaned.get("email") or cleaned.get("user")):
            raise ValidationError("Name who opted out: a holder, an email address or an account.")
        return cleaned


@admin.register(SurveyOptOut)
class SurveyOptOutAdmin(AuditedAdmin):
    """Someone who asked not to be surveyed. An admin records a request made by phone
    or letter, and removes one when the person asks to be surveyed again."""

    audit_prefix = "survey_opt_out"
    form = OptOutForm
    list_display = ["respondent_kind", "holder", "email", "user", "created_at", "recorded_by"]
    list_filter = ["respondent_kind"]
    search_fields = ["email", "holder__name", "holder__nhs_number", "user__email"]
    list_select_related = ["holder", "user", "recorded_by"]
    autocomplete_fields = ["holder", "user"]
    readonly_fields = ["created_at", "recorded_by"]

    def organisation_of(self, obj: Model) -> Any:
        holder = getattr(obj, "holder", None)
        return holder.organisation if holder is not None else None

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # record a new one, or remove this one

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.recorded_by = request.user
        super().save_model(request, obj, form, change)
