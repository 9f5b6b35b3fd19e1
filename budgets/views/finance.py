"""Pages for finance and monitoring staff: the flags queue, allocation runs (and "run
now"), verifying and querying spends, correcting ledger transactions, surplus recoveries
and the nightly reconciliation.

Records come only through ``.for_user(request.user)`` querysets (someone else's is a
404); the services check the finer right (finance for *this* holder) and raise
PermissionDenied. A Conflict (wrong state, not enough money) is shown as an error on
the page with status 409, or as a message after a button-only POST."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from budgets import selectors_finance as selectors
from budgets import services
from budgets.forms.finance import (
    FlagFilterForm,
    FlagMoveForm,
    RecoveryDecideForm,
    RecoveryFilterForm,
    RecoveryProposeForm,
    SpendQueryForm,
    TransactionCorrectForm,
)
from budgets.ledger import format_pence
from budgets.models import (
    LedgerTransaction,
    MonitoringFlag,
    ReconciliationRun,
    Spend,
    SurplusRecovery,
)
from budgets.permissions import is_finance_for
from budgets.tasks import allocation_run_task
from core.exceptions import Conflict
from core.services import audit_record, personal_record_viewed

PAGE_SIZE = 50


def _add_errors(form: Any, error: ValidationError) -> None:
    """A service's ValidationError onto the form, each message on its field if shown.
    Services name amounts ``amount_pence``; the forms call them ``amount``."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            name = "amount" if field == "amount_pence" else field
            for message in errors:
                form.add_error(name if name in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], **kw: Any
) -> HttpResponse:
    helpers = {
        "money": format_pence,
        "local": timezone.localtime,
        "duration": selectors.run_duration,
    }
    return render(request, f"budgets/finance/{template}", {**helpers, **context}, **kw)


def _require_finance(request: HttpRequest, holder: Any) -> None:
    """The matrix lets finance officers in; this holder must be one of theirs too (the
    services check again)."""
    if not is_finance_for(request.user, holder):
        raise PermissionDenied


# Flags --------------------------------------------------------------------------------


def flag_list(request: HttpRequest) -> HttpResponse:
    filtered = any(request.GET.get(key) for key in ("kind", "state"))
    form = FlagFilterForm(request.GET if filtered else None)
    if filtered and not form.is_valid():
        flags = MonitoringFlag.objects.none()
    else:
        filters = form.cleaned_data if filtered else {}
        flags = selectors.flag_queue(
            user=request.user, kind=filters.get("kind", ""), state=filters.get("state", "")
        )
    page = Paginator(flags, PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(
        request,
        "flag_list.html",
        {
            "form": form,
            "filtered": filtered,
            "page": page,
            "details": {flag.pk: selectors.flag_details(flag) for flag in page.object_list},
        },
    )


def flag_move(request: HttpRequest, pk: int) -> HttpResponse:
    flag = get_object_or_404(selectors.flags_for_user(user=request.user), pk=pk)
    holder = flag.budget.holder
    form = FlagMoveForm(request.POST if request.method == "POST" else None, flag=flag)
    status = 200
    if request.method == "POST" and form.is_valid():
        to_state = form.cleaned_data["to_state"]
        try:
            services.flag_move(
                flag=flag, to_state=to_state, moved_by=request.user, note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            _add_errors(form, error)
        except Conflict as error:
            form.add_error(None, error.message)
            status = 409
        else:
            done = "acknowledged" if to_state == MonitoringFlag.State.ACKNOWLEDGED else "resolved"
            messages.success(request, f"The flag for {holder.name} has been {done}.")
            return redirect("budgets:flag_list")
    if request.method == "GET":
        personal_record_viewed(viewer=request.user, person=holder, what="flag_detail")
    can_recover = flag.kind == MonitoringFlag.Kind.SURPLUS and is_finance_for(request.user, holder)
    return _render(
        request,
        "flag_move.html",
        {
            "flag": flag,
            "holder": holder,
            "details": selectors.flag_details(flag),
            "form": form,
            "contributions": (
                list(flag.budget.contributions.select_related("funder", "account"))
                if can_recover
                else []
            ),
        },
        status=status,
    )


# Allocation runs ----------------------------------------------------------------------


def allocation_run_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.allocation_runs(), PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(
        request,
        "allocation_run_list.html",
        {"page": page, "can_run": selectors.is_finance(request.user)},
    )


def allocation_run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # The run itself is platform-wide; the payments listed are only those to budgets
    # this person may see.
    run = get_object_or_404(selectors.allocation_runs(), pk=pk)
    payments = selectors.allocation_run_payments(user=request.user, run=run)
    page = Paginator(payments, PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(
        request,
        "allocation_run_detail.html",
        {"run": run, "page": page, "is_finance": selectors.is_finance(request.user)},
    )


@require_POST
def allocation_run_now(request: HttpRequest) -> HttpResponse:
    """Start a run in the background: a national run takes minutes, far longer than a
    request may. The task is queued only once the audit event is committed, and the run
    takes its own lock, so a double click or a nightly run at the same time posts each
    payment once."""
    today = timezone.localdate().isoformat()
    user_id = request.user.pk
    with transaction.atomic():
        audit_record(
            actor=request.user, action="allocation.run_requested", changes={"as_of": today}
        )
        transaction.on_commit(lambda: allocation_run_task.delay(today, user_id))
    messages.success(
        request,
        "The allocation run has started. It appears in the list below when it begins; "
        "refresh the page to see its progress.",
    )
    return redirect("budgets:allocation_run_list")


# Spending -----------------------------------------------------------------------------


def _spend(request: HttpRequest, pk: int) -> Spend:
    return get_object_or_404(
        Spend.objects.for_user(request.user).select_related("budget__holder", "contribution"),
        pk=pk,
    )


@require_POST
def spend_verify(request: HttpRequest, pk: int) -> HttpResponse:
    spend = _spend(request, pk)
    try:
        services.spend_verify(spend=spend, verified_by=request.user)
    except Conflict as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The spend with {spend.payee} has been verified.")
    return redirect("budgets:spend_detail", spend.pk)


def spend_query(request: HttpRequest, pk: int) -> HttpResponse:
    spend = _spend(request, pk)
    holder = spend.budget.holder
    _require_finance(request, holder)
    form = SpendQueryForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.spend_query_raise(
                spend=spend, question=form.cleaned_data["question"], asked_by=request.user
            )
        except ValidationError as error:
            _add_errors(form, error)
        except Conflict as error:
            form.add_error(None, error.message)
            status = 409
        else:
            messages.success(request, f"Your question has been sent to {holder.name}.")
            return redirect("budgets:spend_detail", spend.pk)
    if request.method == "GET":
        personal_record_viewed(viewer=request.user, person=holder, what="spend_query")
    return _render(
        request,
        "spend_query.html",
        {"spend": spend, "holder": holder, "form": form},
        status=status,
    )


# Ledger corrections -------------------------------------------------------------------


def transaction_correct(request: HttpRequest, pk: int) -> HttpResponse:
    original = get_object_or_404(
        LedgerTransaction.objects.for_user(request.user).select_related(
            "budget__holder", "contribution__funder", "created_by"
        ),
        pk=pk,
    )
    holder = original.budget.holder
    _require_finance(request, holder)
    form = TransactionCorrectForm(
        request.POST if request.method == "POST" else None,
        initial={"idempotency_key": services.new_idempotency_key()},
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.transaction_correct(
                original=original,
                reason=form.cleaned_data["reason"],
                corrected_by=request.user,
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        except Conflict as error:
            form.add_error(None, error.message)
            status = 409
        else:
            messages.success(
                request,
                f"The {original.get_kind_display().lower()} has been corrected: a reversing "
                "transaction is on the ledger.",
            )
            return redirect("budgets:budget_ledger", original.budget_id)
    if request.method == "GET":
        personal_record_viewed(viewer=request.user, person=holder, what="transaction_correct")
    correctable = original.kind in (
        LedgerTransaction.Kind.ALLOCATION,
        LedgerTransaction.Kind.SPEND,
    )
    correction = selectors.correction_of(original=original)
    return _render(
        request,
        "transaction_correct.html",
        {
            "original": original,
            "holder": holder,
            "entries": selectors.transaction_entries(original=original),
            "correction": correction,
            "correctable": correctable,
            "form": form,
        },
        status=status,
    )


# Surplus recovery ---------------------------------------------------------------------


def recovery_list(request: HttpRequest) -> HttpResponse:
    filtered = bool(request.GET.get("state"))
    form = RecoveryFilterForm(request.GET if filtered else None)
    if filtered and not form.is_valid():
        found = SurplusRecovery.objects.none()
    else:
        found = selectors.recoveries(
            user=request.user, state=form.cleaned_data["state"] if filtered else ""
        )
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(
        request,
        "recovery_list.html",
        {
            "form": form,
            "filtered": filtered,
            "page": page,
            "is_finance": selectors.is_finance(request.user),
        },
    )


def recovery_propose(request: HttpRequest, pk: int) -> HttpResponse:
    contribution = get_object_or_404(selectors.contributions_for(user=request.user), pk=pk)
    budget = contribution.budget
    holder = budget.holder
    _require_finance(request, holder)
    balance = contribution.account.balance_pence
    form = RecoveryProposeForm(
        request.POST if request.method == "POST" else None, balance_pence=balance
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            recovery = services.surplus_recovery_propose(
                contribution=contribution,
                amount_pence=form.cleaned_data["amount"],
                reasons=form.cleaned_data["reasons"],
                respond_by=form.cleaned_data["respond_by"],
                proposed_by=request.user,
            )
        except ValidationError as error:
            _add_errors(form, error)
        except Conflict as error:
            form.add_error(None, error.message)
            status = 409
        else:
            messages.success(
                request,
                f"A notice proposing to recover {format_pence(recovery.amount_pence)} has been "
                f"sent to {holder.name}. They have until {recovery.respond_by:%-d %B %Y} to ask "
                "us to reconsider.",
            )
            return redirect("budgets:recovery_list")
    if request.method == "GET":
        personal_record_viewed(viewer=request.user, person=holder, what="recovery_propose")
    flag = selectors.surplus_flag_for(budget=budget)
    return _render(
        request,
        "recovery_propose.html",
        {
            "contribution": contribution,
            "budget": budget,
            "holder": holder,
            "balance_pence": balance,
            "flag": flag,
            "flag_details": selectors.flag_details(flag) if flag else "",
            "in_progress": selectors.recovery_in_progress(contribution=contribution),
            "form": form,
        },
        status=status,
    )


def recovery_decide(request: HttpRequest, pk: int) -> HttpResponse:
    recovery = get_object_or_404(
        selectors.recoveries(user=request.user).select_related(
            "notice", "proposed_by", "decided_by", "reconsideration_requested_by"
        ),
        pk=pk,
    )
    holder = recovery.budget.holder
    _require_finance(request, holder)
    open_ = recovery.state in selectors.OPEN_RECOVERY_STATES
    form = RecoveryDecideForm(request.POST if request.method == "POST" else None, recovery=recovery)
    status = 200
    if request.method == "POST" and form.is_valid():
        recover = form.cleaned_data["decision"] == "recover"
        try:
            decided = services.surplus_recovery_decide(
                recovery=recovery,
                recover=recover,
                reasons=form.cleaned_data["reasons"],
                decided_by=request.user,
                amount_pence=form.cleaned_data["amount"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        except Conflict as error:
            form.add_error(None, error.message)
            status = 409
        else:
            if recover:
                text = (
                    f"{format_pence(decided.recovered_pence or 0)} has been recovered from "
                    f"{holder.name}'s budget. They have been sent the decision."
                )
            else:
                text = f"The proposal has been withdrawn. {holder.name} has been told."
            messages.success(request, text)
            return redirect("budgets:recovery_list")
    if request.method == "GET":
        personal_record_viewed(viewer=request.user, person=holder, what="recovery_decide")
    return _render(
        request,
        "recovery_decide.html",
        {
            "recovery": recovery,
            "holder": holder,
            "form": form,
            "open": open_,
            "waiting": (
                recovery.state == SurplusRecovery.State.NOTICE_SENT
                and timezone.localdate() <= recovery.respond_by
            ),
        },
        status=status,
    )


# Reconciliation -----------------------------------------------------------------------


def reconciliation_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.reconciliation_runs(), PAGE_SIZE).get_page(request.GET.get("page"))
    runs: list[ReconciliationRun] = list(page.object_list)
    return _render(
        request,
        "reconciliation_list.html",
        {
            "page": page,
            "runs": [
                (run, selectors.mismatch_words(user=request.user, mismatches=run.mismatches))
                for run in runs
            ],
        },
    )


urlpatterns = [
    path("flags/", flag_list, name="flag_list"),
    path("flags/<int:pk>/", flag_move, name="flag_move"),
    path("allocation-runs/", allocation_run_list, name="allocation_run_list"),
    path("allocation-runs/run/", allocation_run_now, name="allocation_run_now"),
    path("allocation-runs/<int:pk>/", allocation_run_detail, name="allocation_run_detail"),
    path("spending/<int:pk>/verify/", spend_verify, name="spend_verify"),
    path("spending/<int:pk>/query/", spend_query, name="spend_query"),
    path("ledger/<int:pk>/correct/", transaction_correct, name="transaction_correct"),
    path("recoveries/", recovery_list, name="recovery_list"),
    path("funding/<int:pk>/recover/", recovery_propose, name="recovery_propose"),
    path("recoveries/<int:pk>/decide/", recovery_decide, name="recovery_decide"),
    path("reconciliation/", reconciliation_list, name="reconciliation_list"),
]
