"""Record screens for commissioners and finance officers (and platform admins).

Commissioners and finance officers are not Django staff: ``core.admin`` opens this app's
screens to them (with MFA) and nothing else. Every screen here is scoped: they see the
records of holders of the organisations where they hold one of those roles, and the
RAS questionnaires and settings of those organisations; platform admins see everything.

Money never changes here. The ledger, budgets, spending, flags, recoveries and notices
are read-only for everyone, platform admins included: money moves, and states change,
only through the services behind the budgets pages, which lock, check and audit. What
may be edited here is configuration: an organisation's monitoring thresholds and draft
RAS questionnaires (commissioners of that organisation), and a holder's details
(platform admins). Every such edit is an audit event.
"""

from __future__ import annotations

import datetime
import json
import re
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Min, Model, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest, Least
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.dateparse import parse_date
from django.utils.html import format_html

from budgets.ledger import MAX_MOVEMENT_PENCE, format_pence
from budgets.models import (
    AllocationRun,
    Budget,
    BudgetHolder,
    BudgetNotice,
    BudgetSettings,
    FundingContribution,
    FundingStream,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    ManagementOption,
    MonitoringFlag,
    RasAnswer,
    RasAssessment,
    RasBand,
    RasDomain,
    RasOption,
    RasQuestion,
    RasQuestionnaire,
    ReconciliationRun,
    Spend,
    SpendQuery,
    SurplusRecovery,
)
from budgets.ras import ras_questionnaire_new_version, ras_questionnaire_publish
from budgets.services import flag_move
from core.admin import AuditedViewsAdmin, open_admin_app_to
from core.authz import request_principals
from core.exceptions import Conflict
from core.services import audit_record, personal_record_viewed
from users.models import Membership, Organisation, Role

MANAGER_ROLES = frozenset({Role.COMMISSIONER.value, Role.FINANCE_OFFICER.value})

open_admin_app_to("budgets", MANAGER_ROLES)


# Who is asking -----------------------------------------------------------------------


def is_platform_admin(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_platform_admin", False))


def manager_roles(request: HttpRequest) -> frozenset[str]:
    """The budget roles (commissioner, finance officer) the user holds anywhere."""
    return frozenset(str(p.value) for p in request_principals(request)) & MANAGER_ROLES


def managed_organisation_ids(request: HttpRequest, roles: frozenset[str] = MANAGER_ROLES) -> Any:
    """The organisations where the user holds one of ``roles``, as a subquery. Narrower
    than ``BudgetHolder.for_staff``: a commissioner who is also a care coordinator
    elsewhere gets this admin for their commissioning organisation only."""
    return Membership.objects.filter(user=request.user, role__in=roles).values("organisation_id")


def managed_holders(request: HttpRequest) -> QuerySet[BudgetHolder]:
    organisations = managed_organisation_ids(request)
    return BudgetHolder.objects.filter(
        Q(organisation_id__in=organisations) | Q(council_id__in=organisations)
    )


def commissions_for(request: HttpRequest, organisation_id: int | None) -> bool:
    """Platform admins, and commissioners of that organisation, configure its budgets."""
    if is_platform_admin(request):
        return True
    return Membership.objects.filter(
        user=request.user, organisation_id=organisation_id, role=Role.COMMISSIONER
    ).exists()


# Money in and out of forms -------------------------------------------------------------


def pounds(pence: int | None) -> str:
    return "" if pence is None else format_pence(pence)


def pence_column(field: str, description: str) -> Any:
    """A list or detail column showing a ``*_pence`` field as pounds and pence."""

    @admin.display(description=description, ordering=field)
    def column(self: Any, obj: Model) -> str:
        return pounds(getattr(obj, field))

    return column


class PoundsField(forms.Field):
    """Pounds and pence typed as text ("12.50", "£1,200") into exact integer pence:
    no floats, no fractions of a penny, nothing negative or absurdly large."""

    widget = forms.TextInput

    def __init__(self, *, allow_zero: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "In pounds and pence, for example 12.50")
        super().__init__(**kwargs)
        self.allow_zero = allow_zero

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value // 100}.{value % 100:02d}"
        return value

    def to_python(self, value: Any) -> int | None:
        text = str(value or "").strip().replace(",", "").removeprefix("£")
        if not text:
            return None
        if re.fullmatch(r"\d+\.\d{3,}", text):
            raise ValidationError("Enter the amount to the nearest penny, for example 12.50")
        if text.startswith("-"):
            raise ValidationError("Enter an amount of £0.00 or more")
        if not re.fullmatch(r"\d{1,12}(\.\d{1,2})?", text):
            raise ValidationError("Enter an amount in pounds and pence, for example 12.50")
        pence = int(Decimal(text) * 100)
        if pence == 0 and not self.allow_zero:
            raise ValidationError("Enter an amount more than £0.00")
        if pence > MAX_MOVEMENT_PENCE:
            raise ValidationError(
                f"Enter an amount no more than {format_pence(MAX_MOVEMENT_PENCE)}"
            )
        return pence


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Model):
        return value.pk
    return str(value)


def form_changes(form: forms.ModelForm) -> dict[str, Any]:  # type: ignore[type-arg]
    """Each changed field as [before, after], for the audit trail."""
    return {
        name: [_plain(form.initial.get(name)), _plain(form.cleaned_data.get(name))]
        for name in form.changed_data
    }


def _json_block(value: Any) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))


# The base screens ------------------------------------------------------------------------


class BudgetsAdmin(AuditedViewsAdmin):
    """A scoped, by default read-only, screen. Subclasses say how a record reaches its
    holder (``holder_path``) or its organisation (``organisation_path``), or that it is
    platform-wide; one that says none of these shows a commissioner nothing."""

    holder_path: str | None = None  # "" for the holder itself
    organisation_path: str | None = None
    platform_wide = False
    # Fields shown when the record is read-only (money as pounds, not raw pence);
    # ``fields`` are the ones a permitted editor gets as form fields.
    display_fields: list[str] | None = None
    audit_prefix = ""

    # Scope ---------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if is_platform_admin(request):
            return queryset
        return self.scope(request, queryset)

    def scope(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.holder_path is not None:
            lookup = f"{self.holder_path}__in" if self.holder_path else "pk__in"
            return queryset.filter(**{lookup: managed_holders(request)})
        if self.organisation_path is not None:
            lookup = f"{self.organisation_path}__in"
            return queryset.filter(**{lookup: managed_organisation_ids(request)})
        if self.platform_wide:
            return queryset
        return queryset.none()

    def holder_of(self, obj: Model) -> BudgetHolder | None:
        if self.holder_path is None:
            return None
        value: Any = obj
        for step in filter(None, self.holder_path.split("__")):
            value = getattr(value, step, None)
        return value

    def organisation_of(self, obj: Model) -> Organisation | None:
        holder = self.holder_of(obj)
        if holder is not None:
            return holder.organisation
        value: Any = obj
        for step in (self.organisation_path or "").split("__"):
            value = getattr(value, step, None) if step else None
        return value

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        # An NHS number is found however it is typed: 943 476 5919, 943-476-5919.
        digits = re.sub(r"[\s-]", "", search_term)
        if self.holder_path is not None and re.fullmatch(r"\d{10}", digits):
            lookup = f"{self.holder_path}__nhs_number" if self.holder_path else "nhs_number"
            return queryset.filter(**{lookup: digits}), False
        return super().get_search_results(request, queryset, search_term)

    # Permissions ---------------------------------------------------------------------
    # Platform admins keep Django's own permission checks; commissioners and finance
    # officers hold no Django permissions and are let in here by role instead.

    def may_add(self, request: HttpRequest) -> bool:
        return False

    def may_change(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_module_permission(self, request: HttpRequest) -> bool:
        if is_platform_admin(request):
            return super().has_module_permission(request)
        return bool(manager_roles(request))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if is_platform_admin(request):
            return super().has_view_permission(request, obj)
        return bool(manager_roles(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        if not self.may_add(request):
            return False
        return super().has_add_permission(request) if is_platform_admin(request) else True

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not self.may_change(request, obj):
            return False
        if is_platform_admin(request):
            return super().has_change_permission(request, obj)
        return True

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # money records and their history are kept for ever

    # Read-only display ---------------------------------------------------------------

    def editing(self, request: HttpRequest, obj: Any) -> bool:
        if obj is None:
            return self.has_add_permission(request)
        return self.has_change_permission(request, obj)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if self.editing(request, obj) or self.display_fields is None:
            return self.fields
        return self.display_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if self.editing(request, obj):
            return self.readonly_fields
        return self.get_fields(request, obj)

    # Auditing ------------------------------------------------------------------------

    def audit_view(self, request: HttpRequest, obj: Model) -> None:  # type: ignore[override]
        holder = self.holder_of(obj)
        if holder is None:
            return  # configuration and platform runs hold no one's personal data
        what = "admin" if obj is holder else f"admin: {obj._meta.verbose_name}"
        personal_record_viewed(viewer=request.user, person=holder, what=what)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action=f"{self.audit_prefix}.{'changed' if change else 'created'}",
            obj=obj,
            organisation=self.organisation_of(obj),
            person=self.holder_of(obj),
            changes={"page": "admin", **form_changes(form)},
        )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        deleted = [str(f.instance) for f in formset.deleted_forms if f.instance.pk]
        super().save_formset(request, form, formset, change)
        added = [str(o) for o in formset.new_objects]
        changed = [{str(o): fields} for o, fields in formset.changed_objects]
        if added or changed or deleted:
            audit_record(
                actor=request.user,
                action=f"{self.audit_prefix}.changed",
                obj=form.instance,
                organisation=self.organisation_of(form.instance),
                person=self.holder_of(form.instance),
                changes={
                    "page": "admin",
                    formset.model._meta.verbose_name_plural: {
                        "added": added,
                        "changed": changed,
                        "deleted": deleted,
                    },
                },
            )


class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    """Rows shown inside a record; nobody adds, changes or deletes them here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if is_platform_admin(request):
            return super().has_view_permission(request, obj)
        return bool(manager_roles(request))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Holders and budgets ---------------------------------------------------------------------


class BudgetInline(ReadOnlyInline):
    model = Budget
    fields = ["period_start", "period_end", "state", "payment_schedule"]
    show_change_link = True


@admin.register(BudgetHolder)
class BudgetHolderAdmin(BudgetsAdmin):
    holder_path = ""
    audit_prefix = "holder"
    list_display = [
        "name",
        "nhs_number_column",
        "date_of_birth",
        "organisation",
        "council",
        "eligibility_route",
        "status",
        "created_at",
    ]
    list_filter = [
        "status",
        "eligibility_route",
        ("organisation", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["name", "nhs_number", "postcode", "user__email"]
    list_select_related = ["organisation", "council"]
    autocomplete_fields = ["user", "organisation", "council"]
    fields = [
        "name",
        "nhs_number",
        "date_of_birth",
        "postcode",
        "organisation",
        "council",
        "eligibility_route",
        "status",
        "user",
        "created_at",
    ]
    display_fields = [
        "name",
        "nhs_number_column",
        "date_of_birth",
        "postcode",
        "organisation",
        "council",
        "eligibility_route",
        "legal_right",
        "status",
        "user",
        "created_at",
    ]
    readonly_fields = ["created_at"]
    inlines = [BudgetInline]

    # New people are referred through the holder pages (an audited service); platform
    # admins may correct details here, and that is audited too.
    def may_change(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request)

    @admin.display(description="NHS number", ordering="nhs_number")
    def nhs_number_column(self, obj: BudgetHolder) -> str:
        return obj.nhs_number_display

    @admin.display(description="Legal right to a PHB", boolean=True)
    def legal_right(self, obj: BudgetHolder) -> bool:
        return obj.has_legal_right


class FundingContributionInline(ReadOnlyInline):
    model = FundingContribution
    fk_name = "budget"
    fields = ["funder", "stream", "yearly", "management_option", "managed_by", "balance"]
    yearly = pence_column("yearly_pence", "For the year")

    @admin.display(description="Balance")
    def balance(self, obj: FundingContribution) -> str:
        account = LedgerAccount.objects.filter(contribution=obj).first()
        return pounds(account.balance_pence) if account else ""


# The dashboard's people figures, as lists of budgets ------------------------------------
# core/reporting/snapshots.py counts a budget as in place on a day d when it ever became
# active and greatest(period_start, active_from) <= d <= least(period_end, ended_on,
# today). These filters apply the same rule, so a figure on the dashboard links to the
# budgets behind it. Their value is a day ("2026-03-31") or a range of days
# ("2026-04-01/2026-06-30"); a value that is not one is ignored.

EVER_ACTIVE = Q(active_from__isnull=False) | Q(
    state__in=[Budget.State.ACTIVE, Budget.State.SUSPENDED]
)


def in_place_from() -> Greatest:
    """The first day a budget is in place (if it ever became active)."""
    return Greatest("period_start", Coalesce("active_from", "period_start"))


def budgets_in_place(
    queryset: QuerySet[Any], start: datetime.date, end: datetime.date
) -> QuerySet[Any]:
    """The budgets in place on some day from ``start`` to ``end``, both included."""
    return queryset.alias(
        in_place_from=in_place_from(),
        in_place_to=Least(
            "period_end", Coalesce("ended_on", "period_end"), Value(timezone.localdate())
        ),
    ).filter(EVER_ACTIVE, in_place_from__lte=end, in_place_to__gte=start)


class DaysFilter(admin.SimpleListFilter):
    """A filter that the dashboard's links set: shown, with the days it was given, only
    when it is in use."""

    def days(self) -> tuple[datetime.date, datetime.date] | None:
        first, _, last = (self.value() or "").partition("/")
        start, end = parse_date_or_none(first), parse_date_or_none(last or first)
        if start is None or end is None or end < start:
            return None
        return start, end

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        days = self.days()
        if days is None:
            return []
        start, end = days
        when = (
            date_format(start, "j M Y")
            if start == end
            else f"{date_format(start, 'j M Y')} to {date_format(end, 'j M Y')}"
        )
        return [(self.value() or "", when)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        days = self.days()
        return queryset if days is None else self.narrow(queryset, *days)

    def narrow(
        self, queryset: QuerySet[Any], start: datetime.date, end: datetime.date
    ) -> QuerySet[Any]:
        raise NotImplementedError


def parse_date_or_none(value: str) -> datetime.date | None:
    try:
        return parse_date(value)
    except ValueError:
        return None


class InPlaceFilter(DaysFilter):
    title = "in place"
    parameter_name = "in_place"

    def narrow(self, queryset: QuerySet[Any], start: datetime.date, end: datetime.date) -> Any:
        return budgets_in_place(queryset, start, end)


class BeganFilter(DaysFilter):
    """In place in the days, for a holder whose first budget ever began in them (the
    dashboard's "new")."""

    title = "holder's first budget began"
    parameter_name = "first_began"

    def narrow(self, queryset: QuerySet[Any], start: datetime.date, end: datetime.date) -> Any:
        first = (
            Budget.objects.filter(EVER_ACTIVE)
            .values("holder_id")
            .annotate(began=Min(in_place_from()))
            .filter(began__gte=start, began__lte=end)
            .values("holder_id")
        )
        return budgets_in_place(queryset, start, end).filter(holder_id__in=first)


class EndedFilter(DaysFilter):
    """In place in the days, for a holder with no budget in place on the last of them
    (the dashboard's "ended")."""

    title = "ended"
    parameter_name = "ended"

    def narrow(self, queryset: QuerySet[Any], start: datetime.date, end: datetime.date) -> Any:
        return budgets_in_place(queryset, start, end).exclude(
            holder_id__in=budgets_in_place(Budget.objects.all(), end, end).values("holder_id")
        )


class FundersFilter(admin.SimpleListFilter):
    """Integrated budgets: contributions from more than one organisation."""

    title = "funded by"
    parameter_name = "funders"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("several", "More than one organisation (integrated)"), ("one", "One organisation")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() not in ("several", "one"):
            return queryset
        several = (
            FundingContribution.objects.values("budget_id")
            .annotate(funders=Count("funder_id", distinct=True))
            .filter(funders__gt=1)
            .values("budget_id")
        )
        if self.value() == "several":
            return queryset.filter(pk__in=several)
        return queryset.exclude(pk__in=several)


class OptionFilter(admin.SimpleListFilter):
    """How the budget is managed, as the dashboard counts it: the option all its
    contributions share, or "a mix of ways"."""

    title = "managed as"
    parameter_name = "managed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*ManagementOption.choices, ("mixed", "A mix of ways")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value not in {*ManagementOption.values, "mixed"}:
            return queryset
        options = (
            FundingContribution.objects.values("budget_id")
            .annotate(options=Count("management_option", distinct=True))
            .values("budget_id")
        )
        if value == "mixed":
            return queryset.filter(pk__in=options.filter(options__gt=1))
        return queryset.filter(pk__in=options.filter(options=1)).filter(
            contributions__management_option=value
        )


class AgeFilter(admin.SimpleListFilter):
    """Adults or children (under 18) on a day: "children:2026-03-31"."""

    title = "age"
    parameter_name = "age_on"

    def split(self) -> tuple[str, datetime.date] | None:
        group, _, raw = (self.value() or "").partition(":")
        day = parse_date_or_none(raw)
        return (group, day) if group in ("adults", "children") and day else None

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        split = self.split()
        if split is None:
            return []
        group, day = split
        return [(self.value() or "", f"{group.capitalize()} on {date_format(day, 'j M Y')}")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        split = self.split()
        if split is None:
            return queryset
        group, day = split
        try:
            eighteen = day.replace(year=day.year - 18)
        except ValueError:  # 29 February
            eighteen = day.replace(year=day.year - 18, day=28)
        if group == "children":
            return queryset.filter(holder__date_of_birth__gt=eighteen)
        return queryset.filter(holder__date_of_birth__lte=eighteen)


class PostcodeAreaFilter(admin.SimpleListFilter):
    """The holder's postcode area, as the dashboard reads it (the leading letters:
    "LS" for LS6 1AB). Shown only when in use."""

    title = "postcode area"
    parameter_name = "area"
    postcode_path = "holder__postcode"

    def area(self) -> str | None:
        value = (self.value() or "").upper()
        return value if re.fullmatch(r"[A-Z]{1,2}", value) else None

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        area = self.area()
        return [(self.value() or "", area)] if area else []

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        area = self.area()
        if area is None:
            return queryset
        return queryset.filter(**{f"{self.postcode_path}__iregex": f"^{area}([^A-Z]|$)"})


def _budget_totals(queryset: QuerySet[Budget]) -> QuerySet[Budget]:
    # Subqueries, not two Sums over joins, which would multiply each other.
    yearly = (
        FundingContribution.objects.filter(budget=OuterRef("pk"))
        .values("budget")
        .annotate(total=Sum("yearly_pence"))
        .values("total")
    )
    balance = (
        LedgerAccount.objects.filter(budget=OuterRef("pk"), kind=LedgerAccount.Kind.BUDGET)
        .values("budget")
        .annotate(total=Sum("balance_pence"))
        .values("total")
    )
    return queryset.annotate(
        yearly_pence=Coalesce(Subquery(yearly), 0),
        balance_pence=Coalesce(Subquery(balance), 0),
    )


@admin.register(Budget)
class BudgetAdmin(BudgetsAdmin):
    holder_path = "holder"
    list_display = [
        "holder",
        "period_start",
        "period_end",
        "state",
        "yearly",
        "balance",
        "indicative",
    ]
    list_filter = [
        "state",
        "contributions__stream",
        FundersFilter,
        ("contributions__funder", admin.RelatedOnlyFieldListFilter),
        "holder__eligibility_route",
        "payment_schedule",
        "period_start",
        ("holder__organisation", admin.RelatedOnlyFieldListFilter),
        ("holder__council", admin.RelatedOnlyFieldListFilter),
        # Set by the dashboard's links (shown only when in use).
        InPlaceFilter,
        BeganFilter,
        EndedFilter,
        OptionFilter,
        AgeFilter,
        PostcodeAreaFilter,
    ]
    search_fields = ["holder__name", "holder__nhs_number"]
    list_select_related = ["holder"]
    date_hierarchy = "period_start"
    fields = display_fields = [
        "holder",
        "period_start",
        "period_end",
        "state",
        "payment_schedule",
        "yearly",
        "balance",
        "indicative",
        "indicative_assessment",
        "created_by",
        "created_at",
        "updated_at",
    ]
    inlines = [FundingContributionInline]
    yearly = pence_column("yearly_pence", "For the year")
    balance = pence_column("balance_pence", "Balance")
    indicative = pence_column("indicative_pence", "Indicative amount")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return _budget_totals(super().get_queryset(request))


# The ledger: read-only for everyone -----------------------------------------------------


class LedgerEntryInline(ReadOnlyInline):
    model = LedgerEntry
    fields = ["account", "amount"]
    amount = pence_column("amount_pence", "Amount (+ in, - out)")


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(BudgetsAdmin):
    """Append-only: Postgres refuses updates and deletes anyway, and a correction is a
    new reversing transaction made on the finance pages. Nobody adds, changes or deletes
    here, platform admins included (``may_add``/``may_change`` stay False)."""

    holder_path = "budget__holder"
    list_display = ["posted_at", "occurred_on", "kind", "budget", "description", "moved"]
    list_filter = ["kind", "contribution__stream", "occurred_on"]
    search_fields = [
        "description",
        "idempotency_key",
        "budget__holder__name",
        "budget__holder__nhs_number",
    ]
    list_select_related = ["budget__holder"]
    date_hierarchy = "occurred_on"
    fields = display_fields = [
        "kind",
        "budget",
        "contribution",
        "occurred_on",
        "due_on",
        "posted_at",
        "description",
        "moved",
        "reverses",
        "allocation_run",
        "created_by",
        "idempotency_key",
    ]
    inlines = [LedgerEntryInline]
    moved = pence_column("moved_pence", "Amount moved")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                moved_pence=Sum("entries__amount_pence", filter=Q(entries__amount_pence__gt=0))
            )
        )


@admin.register(LedgerAccount)
class LedgerAccountAdmin(BudgetsAdmin):
    list_display = ["name", "kind", "budget", "organisation", "stream", "balance", "overdraft"]
    list_filter = ["kind"]
    search_fields = ["name", "budget__holder__name"]
    list_select_related = ["budget__holder", "organisation"]
    fields = display_fields = [
        "name",
        "kind",
        "budget",
        "contribution",
        "organisation",
        "stream",
        "balance",
        "overdraft",
    ]
    overdraft = pence_column("overdraft_pence", "Overdraft allowed")

    @admin.display(description="Balance", ordering="balance_pence")
    def balance(self, obj: LedgerAccount) -> str:
        # Only budget accounts keep a balance; funder and payee accounts are shared by
        # every budget and are summed by reconciliation, not here.
        return pounds(obj.balance_pence) if obj.kind == LedgerAccount.Kind.BUDGET else ""

    def scope(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        holders = managed_holders(request)
        paid = LedgerEntry.objects.filter(transaction__budget__holder__in=holders).values(
            "account_id"
        )
        return queryset.filter(
            Q(kind=LedgerAccount.Kind.BUDGET, budget__holder__in=holders)
            | Q(
                kind__in=[LedgerAccount.Kind.FUNDER, LedgerAccount.Kind.RECOVERY],
                organisation_id__in=managed_organisation_ids(request),
            )
            | Q(kind=LedgerAccount.Kind.PAYEE, pk__in=paid)
        )

    def holder_of(self, obj: Model) -> BudgetHolder | None:
        budget = getattr(obj, "budget", None)
        return budget.holder if budget is not None else None


# Spending -------------------------------------------------------------------------------


class SpendQueryInline(ReadOnlyInline):
    model = SpendQuery
    fields = ["question", "asked_by", "asked_at", "answer", "answered_by", "answered_at"]


@admin.register(Spend)
class SpendAdmin(BudgetsAdmin):
    """Read-only: verifying and querying spending are the finance pages' work (audited
    services); nothing about a spend changes here."""

    holder_path = "budget__holder"
    list_display = ["holder", "payee", "spent_on", "amount", "category", "state", "has_receipt"]
    list_filter = [
        "state",
        "category",
        "contribution__stream",
        "spent_on",
        ("budget__holder__organisation", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["payee", "budget__holder__name", "budget__holder__nhs_number"]
    list_select_related = ["budget__holder"]
    date_hierarchy = "spent_on"
    fields = display_fields = [
        "holder",
        "budget",
        "contribution",
        "payee",
        "spent_on",
        "amount",
        "refunded",
        "category",
        "note",
        "has_receipt",
        "state",
        "recorded_by",
        "recorded_at",
        "verified_by",
        "verified_at",
        "transaction",
    ]
    inlines = [SpendQueryInline]
    amount = pence_column("amount_pence", "Amount")
    refunded = pence_column("refunded_pence", "Refunded")

    @admin.display(description="Holder", ordering="budget__holder__name")
    def holder(self, obj: Spend) -> str:
        return str(obj.budget.holder)

    # The receipt is in private storage and is opened through the spend's page, which
    # checks who is asking; the admin says only whether there is one.
    @admin.display(description="Receipt", boolean=True)
    def has_receipt(self, obj: Spend) -> bool:
        return bool(obj.receipt)


@admin.register(SpendQuery)
class SpendQueryAdmin(BudgetsAdmin):
    holder_path = "spend__budget__holder"
    list_display = ["spend", "holder", "asked_by", "asked_at", "answered"]
    list_filter = ["asked_at"]
    search_fields = ["spend__payee", "spend__budget__holder__name", "question"]
    list_select_related = ["spend__budget__holder", "asked_by"]
    fields = display_fields = [
        "spend",
        "question",
        "asked_by",
        "asked_at",
        "answer",
        "answered_by",
        "answered_at",
    ]

    @admin.display(description="Holder", ordering="spend__budget__holder__name")
    def holder(self, obj: SpendQuery) -> str:
        return str(obj.spend.budget.holder)

    @admin.display(description="Answered", boolean=True)
    def answered(self, obj: SpendQuery) -> bool:
        return obj.answered_at is not None


# Monitoring --------------------------------------------------------------------------------


@admin.register(MonitoringFlag)
class MonitoringFlagAdmin(BudgetsAdmin):
    holder_path = "budget__holder"
    list_display = [
        "holder",
        "nhs_number",
        "icb",
        "kind",
        "state",
        "raised_at",
        "acknowledged_by",
    ]
    list_filter = [
        "state",
        "kind",
        "raised_at",
        ("budget__holder__organisation", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["budget__holder__name", "budget__holder__nhs_number"]
    list_select_related = ["budget__holder__organisation", "acknowledged_by"]
    date_hierarchy = "raised_at"
    list_per_page = 50
    fields = display_fields = [
        "budget",
        "kind",
        "state",
        "details_block",
        "raised_at",
        "acknowledged_by",
        "acknowledged_at",
        "resolved_by",
        "resolved_at",
        "note",
    ]
    actions = ["acknowledge_selected"]

    @admin.display(description="Holder", ordering="budget__holder__name")
    def holder(self, obj: MonitoringFlag) -> str:
        return str(obj.budget.holder)

    @admin.display(description="NHS number", ordering="budget__holder__nhs_number")
    def nhs_number(self, obj: MonitoringFlag) -> str:
        return obj.budget.holder.nhs_number_display

    @admin.display(description="ICB or council", ordering="budget__holder__organisation__name")
    def icb(self, obj: MonitoringFlag) -> str:
        return str(obj.budget.holder.organisation)

    @admin.display(description="Details")
    def details_block(self, obj: MonitoringFlag) -> str:
        return _json_block(obj.details)

    def has_acknowledge_permission(self, request: HttpRequest) -> bool:
        return is_platform_admin(request) or bool(manager_roles(request))

    @admin.action(description="Acknowledge selected flags", permissions=["acknowledge"])
    def acknowledge_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        # One service call per flag: each is locked, checked and audited on its own, and
        # one that cannot move does not stop the others.
        moved, refused = 0, []
        for flag in queryset.select_related("budget__holder"):
            was = flag.state
            try:
                flag = flag_move(
                    flag=flag, to_state=MonitoringFlag.State.ACKNOWLEDGED, moved_by=request.user
                )
            except Conflict as error:
                refused.append(f"{flag}: {error.message}")
            except PermissionDenied:
                refused.append(f"{flag}: not a flag of your organisation")
            else:
                moved += was != flag.state
        if moved:
            self.message_user(request, f"Acknowledged {moved} flag(s).", messages.SUCCESS)
        for problem in refused:
            self.message_user(request, problem, messages.ERROR)
        if not moved and not refused:
            self.message_user(request, "Those flags were already acknowledged.", messages.INFO)


@admin.register(AllocationRun)
class AllocationRunAdmin(BudgetsAdmin):
    platform_wide = True  # one run pays every due budget; it holds no one's details
    list_display = [
        "started_at",
        "as_of",
        "status",
        "payments_posted",
        "budgets_paid",
        "total",
        "finished_at",
        "triggered_by",
    ]
    list_filter = ["status", "as_of"]
    fields = display_fields = [
        "as_of",
        "status",
        "started_at",
        "finished_at",
        "payments_posted",
        "budgets_paid",
        "total",
        "errors",
        "triggered_by",
    ]
    total = pence_column("total_pence", "Total paid in")


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(BudgetsAdmin):
    platform_wide = True
    list_display = ["started_at", "finished_at", "ok", "accounts_checked", "total", "problems"]
    list_filter = ["ok"]
    fields = display_fields = [
        "started_at",
        "finished_at",
        "ok",
        "accounts_checked",
        "total",
        "problems",
        "mismatches_block",
    ]
    total = pence_column("ledger_total_pence", "Ledger total (should be £0.00)")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The mismatches name accounts of every organisation: platform admins only.
        fields = list(super().get_fields(request, obj))
        if not is_platform_admin(request):
            fields.remove("mismatches_block")
        return fields

    @admin.display(description="Problems found")
    def problems(self, obj: ReconciliationRun) -> int:
        return len(obj.mismatches)

    @admin.display(description="Mismatches")
    def mismatches_block(self, obj: ReconciliationRun) -> str:
        return _json_block(obj.mismatches)


@admin.register(SurplusRecovery)
class SurplusRecoveryAdmin(BudgetsAdmin):
    holder_path = "budget__holder"
    list_display = [
        "holder",
        "contribution",
        "amount",
        "state",
        "respond_by",
        "proposed_at",
        "recovered",
    ]
    list_filter = [
        "state",
        "respond_by",
        ("budget__holder__organisation", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["budget__holder__name", "budget__holder__nhs_number"]
    list_select_related = ["budget__holder", "contribution__funder"]
    date_hierarchy = "proposed_at"
    fields = display_fields = [
        "budget",
        "contribution",
        "amount",
        "reasons",
        "respond_by",
        "state",
        "notice",
        "proposed_by",
        "proposed_at",
        "reconsideration_reasons",
        "reconsideration_requested_by",
        "reconsideration_requested_at",
        "decision_reasons",
        "decided_by",
        "decided_at",
        "recovered",
        "transaction",
    ]
    amount = pence_column("amount_pence", "Amount proposed")
    recovered = pence_column("recovered_pence", "Amount recovered")

    @admin.display(description="Holder", ordering="budget__holder__name")
    def holder(self, obj: SurplusRecovery) -> str:
        return str(obj.budget.holder)


@admin.register(BudgetNotice)
class BudgetNoticeAdmin(BudgetsAdmin):
    holder_path = "budget__holder"
    list_display = ["holder", "kind", "subject", "amount", "respond_by", "issued_at"]
    list_filter = ["kind", "issued_at"]
    search_fields = ["subject", "budget__holder__name", "budget__holder__nhs_number"]
    list_select_related = ["budget__holder"]
    fields = display_fields = [
        "budget",
        "kind",
        "subject",
        "reasons",
        "amount",
        "respond_by",
        "issued_by",
        "issued_at",
    ]
    amount = pence_column("amount_pence", "Amount")

    @admin.display(description="Holder", ordering="budget__holder__name")
    def holder(self, obj: BudgetNotice) -> str:
        return str(obj.budget.holder)


# Configuration: thresholds and the RAS ------------------------------------------------------


class BudgetSettingsForm(forms.ModelForm):  # type: ignore[type-arg]
    surplus_weeks = forms.IntegerField(
        label="Surplus threshold (weeks of funding)",
        min_value=1,
        max_value=52,
        help_text="Flag a balance above this many weeks of funding (1 to 52).",
    )
    no_spending_days = forms.IntegerField(
        label="No spending for (days)",
        min_value=7,
        max_value=366,
        help_text="Flag a budget with no spending recorded for this many days (7 to 366).",
    )

    class Meta:
        model = BudgetSettings
        fields = ["organisation", "surplus_weeks", "no_spending_days"]


@admin.register(BudgetSettings)
class BudgetSettingsAdmin(BudgetsAdmin):
    """Commissioners set their own organisation's monitoring thresholds; finance
    officers see them."""

    organisation_path = "organisation"
    audit_prefix = "budget_settings"
    form = BudgetSettingsForm
    list_display = ["organisation", "surplus_weeks", "no_spending_days"]
    fields = ["organisation", "surplus_weeks", "no_spending_days"]

    def may_add(self, request: HttpRequest) -> bool:
        return is_platform_admin(request) or Role.COMMISSIONER in manager_roles(request)

    def may_change(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return self.may_add(request)
        return commissions_for(request, obj.organisation_id)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and self.editing(request, obj):
            return ["organisation"]
        return super().get_readonly_fields(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "organisation" and not is_platform_admin(request):
            kwargs["queryset"] = Organisation.objects.filter(
                pk__in=managed_organisation_ids(request, frozenset({Role.COMMISSIONER.value}))
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def ras_editable(request: HttpRequest, questionnaire: RasQuestionnaire | None) -> bool:
    """A published (or retired) version never changes: assessments show their working
    from it. Drafts are edited by the organisation's commissioners."""
    if questionnaire is None:
        return is_platform_admin(request) or Role.COMMISSIONER in manager_roles(request)
    return questionnaire.status == RasQuestionnaire.Status.DRAFT and commissions_for(
        request, questionnaire.organisation_id
    )


class DraftRasInline(admin.TabularInline):  # type: ignore[type-arg]
    """Rows of a draft questionnaire: editable while it is a draft, by those who may
    configure it; otherwise shown read-only."""

    extra = 0
    display_fields: list[str] | None = None

    def questionnaire_of(self, obj: Any) -> RasQuestionnaire | None:
        return obj

    def editing(self, request: HttpRequest, obj: Any) -> bool:
        return ras_editable(request, self.questionnaire_of(obj))

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if self.editing(request, obj) or self.display_fields is None:
            return self.fields
        return self.display_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if self.editing(request, obj) else self.get_fields(request, obj)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if is_platform_admin(request):
            return super().has_view_permission(request, obj)
        return bool(manager_roles(request))

    def _may(self, request: HttpRequest, obj: Any, django_check: Any) -> bool:
        if not self.editing(request, obj):
            return False
        return django_check() if is_platform_admin(request) else True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(
            request, obj, lambda: super(DraftRasInline, self).has_add_permission(request, obj)
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(
            request, obj, lambda: super(DraftRasInline, self).has_change_permission(request, obj)
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(
            request, obj, lambda: super(DraftRasInline, self).has_delete_permission(request, obj)
        )


class RasBandForm(forms.ModelForm):  # type: ignore[type-arg]
    amount_pence = PoundsField(label="Amount", allow_zero=True)

    class Meta:
        model = RasBand
        fields = ["min_points", "max_points", "amount_pence"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        low, high = cleaned.get("min_points"), cleaned.get("max_points")
        if low is not None and high is not None and high < low:
            self.add_error("max_points", "The highest points must be at least the lowest points")
        return cleaned


class RasBandInline(DraftRasInline):
    model = RasBand
    form = RasBandForm
    fields = ["min_points", "max_points", "amount_pence"]
    display_fields = ["min_points", "max_points", "amount"]
    amount = pence_column("amount_pence", "Amount")


class RasDomainInline(DraftRasInline):
    model = RasDomain
    fields = ["title", "order"]
    show_change_link = True


class RasQuestionnaireForm(forms.ModelForm):  # type: ignore[type-arg]
    stream = forms.ChoiceField(
        choices=FundingStream.choices, help_text="The funding stream it prices."
    )
    price_per_point_pence = PoundsField(label="Price per point")
    cap_pence = PoundsField(
        label="Cap",
        required=False,
        help_text="The most the questionnaire can give; leave it empty for no cap.",
    )

    class Meta:
        model = RasQuestionnaire
        fields = ["organisation", "stream", "name", "price_per_point_pence", "cap_pence"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        organisation, stream = cleaned.get("organisation"), cleaned.get("stream")
        if (
            self.instance.pk is None
            and organisation
            and stream
            and RasQuestionnaire.objects.filter(organisation=organisation, stream=stream).exists()
        ):
            self.add_error(
                "stream",
                "This organisation already has a questionnaire for this stream: "
                "make a new draft version of it instead",
            )
        return cleaned


@admin.register(RasQuestionnaire)
class RasQuestionnaireAdmin(BudgetsAdmin):
    organisation_path = "organisation"
    audit_prefix = "ras"
    form = RasQuestionnaireForm
    list_display = [
        "name",
        "organisation",
        "stream",
        "version",
        "status",
        "price_per_point",
        "cap",
        "published_at",
    ]
    list_filter = ["status", "stream", ("organisation", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name"]
    list_select_related = ["organisation"]
    fields = [
        "organisation",
        "stream",
        "version",
        "status",
        "name",
        "price_per_point_pence",
        "cap_pence",
    ]
    display_fields = [
        "organisation",
        "stream",
        "version",
        "status",
        "name",
        "price_per_point",
        "cap",
        "previous_version",
        "created_at",
        "published_at",
    ]
    inlines = [RasBandInline, RasDomainInline]
    actions = ["create_new_version", "publish"]
    price_per_point = pence_column("price_per_point_pence", "Price per point")
    cap = pence_column("cap_pence", "Cap")

    def may_add(self, request: HttpRequest) -> bool:
        return ras_editable(request, None)

    def may_change(self, request: HttpRequest, obj: Any = None) -> bool:
        return ras_editable(request, obj)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_fields(request, obj)
        if obj is None:  # a new questionnaire starts as version 1, a draft
            return [f for f in fields if f not in ("version", "status")]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and self.editing(request, obj):
            # A version belongs to its organisation and stream for good.
            return ["organisation", "stream", "version", "status"]
        return super().get_readonly_fields(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "organisation" and not is_platform_admin(request):
            kwargs["queryset"] = Organisation.objects.filter(
                pk__in=managed_organisation_ids(request, frozenset({Role.COMMISSIONER.value}))
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_configure_permission(self, request: HttpRequest) -> bool:
        return ras_editable(request, None)

    @admin.action(description="Create a new draft version", permissions=["configure"])
    def create_new_version(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for questionnaire in queryset:
            try:
                draft = ras_questionnaire_new_version(
                    questionnaire=questionnaire, created_by=request.user
                )
            except Conflict as error:
                self.message_user(request, f"{questionnaire}: {error.message}", messages.ERROR)
            except PermissionDenied:
                self.message_user(
                    request,
                    f"{questionnaire}: only its organisation's commissioners can change it.",
                    messages.ERROR,
                )
            else:
                url = reverse("admin:budgets_rasquestionnaire_change", args=[draft.pk])
                self.message_user(
                    request,
                    format_html('Made <a href="{}">{}</a>, a draft to edit.', url, draft),
                    messages.SUCCESS,
                )

    @admin.action(description="Publish", permissions=["configure"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for questionnaire in queryset:
            try:
                ras_questionnaire_publish(questionnaire=questionnaire, published_by=request.user)
            except Conflict as error:
                self.message_user(request, f"{questionnaire}: {error.message}", messages.ERROR)
            except ValidationError as error:
                self.message_user(
                    request, f"{questionnaire}: {' '.join(error.messages)}", messages.ERROR
                )
            except PermissionDenied:
                self.message_user(
                    request,
                    f"{questionnaire}: only its organisation's commissioners can publish it.",
                    messages.ERROR,
                )
            else:
                self.message_user(
                    request,
                    f"Published {questionnaire}; the version before it is retired.",
                    messages.SUCCESS,
                )


class RasQuestionInline(DraftRasInline):
    model = RasQuestion
    fields = ["text", "hint", "order"]
    show_change_link = True

    def questionnaire_of(self, obj: Any) -> RasQuestionnaire | None:
        return obj.questionnaire if obj is not None else None


@admin.register(RasDomain)
class RasDomainAdmin(BudgetsAdmin):
    organisation_path = "questionnaire__organisation"
    audit_prefix = "ras"
    list_display = ["title", "questionnaire", "order"]
    list_filter = ["questionnaire__status"]
    search_fields = ["title", "questionnaire__name"]
    list_select_related = ["questionnaire"]
    fields = ["questionnaire", "title", "order"]
    readonly_fields = ["questionnaire"]
    inlines = [RasQuestionInline]

    # Domains are added from their questionnaire's page.
    def may_change(self, request: HttpRequest, obj: Any = None) -> bool:
        return ras_editable(request, obj.questionnaire if obj is not None else None)

    def organisation_of(self, obj: Model) -> Organisation | None:
        return obj.questionnaire.organisation  # type: ignore[attr-defined]


class RasOptionInline(DraftRasInline):
    model = RasOption
    fields = ["label", "points", "order"]

    def questionnaire_of(self, obj: Any) -> RasQuestionnaire | None:
        return obj.domain.questionnaire if obj is not None else None


@admin.register(RasQuestion)
class RasQuestionAdmin(BudgetsAdmin):
    organisation_path = "domain__questionnaire__organisation"
    audit_prefix = "ras"
    list_display = ["text", "domain", "questionnaire", "order"]
    list_filter = ["domain__questionnaire__status"]
    search_fields = ["text", "domain__title", "domain__questionnaire__name"]
    list_select_related = ["domain__questionnaire"]
    fields = ["domain", "text", "hint", "order"]
    readonly_fields = ["domain"]
    inlines = [RasOptionInline]

    # Questions are added from their domain's page.
    def may_change(self, request: HttpRequest, obj: Any = None) -> bool:
        return ras_editable(request, obj.domain.questionnaire if obj is not None else None)

    def organisation_of(self, obj: Model) -> Organisation | None:
        return obj.domain.questionnaire.organisation  # type: ignore[attr-defined]

    @admin.display(description="Questionnaire")
    def questionnaire(self, obj: RasQuestion) -> str:
        return str(obj.domain.questionnaire)


class RasAnswerInline(ReadOnlyInline):
    model = RasAnswer
    fields = ["question", "option"]


@admin.register(RasAssessment)
class RasAssessmentAdmin(BudgetsAdmin):
    holder_path = "holder"
    list_display = [
        "holder",
        "method",
        "questionnaire",
        "total_points",
        "calculated",
        "override",
        "indicative",
        "completed_at",
    ]
    list_filter = ["method", "completed_at"]
    search_fields = ["holder__name", "holder__nhs_number"]
    list_select_related = ["holder", "questionnaire"]
    fields = display_fields = [
        "holder",
        "method",
        "questionnaire",
        "total_points",
        "calculated",
        "working_block",
        "package_description",
        "override",
        "override_reason",
        "overridden_by",
        "overridden_at",
        "indicative",
        "completed_by",
        "completed_at",
    ]
    inlines = [RasAnswerInline]
    calculated = pence_column("calculated_pence", "Calculated amount")
    override = pence_column("override_pence", "Override")

    @admin.display(description="Indicative amount")
    def indicative(self, obj: RasAssessment) -> str:
        return pounds(obj.indicative_pence)

    @admin.display(description="Working")
    def working_block(self, obj: RasAssessment) -> str:
        return _json_block(obj.working)
