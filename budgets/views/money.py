"""What budget holders and their representatives use for their money: their budget,
its ledger, their spending (recording it, refunds, finance's questions), the notices
they are sent, and surplus recoveries. Staff of the responsible organisations may open
the same pages; each such view of a person's record is audited.

Records come only through ``.for_user(request.user)``, so someone else's is a 404. A
person who may see a budget but not act on its money (a representative without the
money scope, most staff) gets 403 from the pages that act."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from budgets import selectors, services
from budgets.charts import Step, step_chart
from budgets.forms.money import (
    LedgerFilterForm,
    QueryAnswerForm,
    ReconsiderForm,
    RefundForm,
    SpendFilterForm,
    SpendForm,
)
from budgets.ledger import format_pence
from budgets.models import Budget, Spend, SpendQuery, SurplusRecovery
from budgets.permissions import can_manage_money, is_finance_for
from core.authz import Access, request_principals
from core.exceptions import Conflict
from core.services import personal_record_viewed
from marketplace.buying import budget_commitments
from plans import selectors as plan_selectors
from plans.models import SupportItem, SupportPlan


def _budget(request: HttpRequest, pk: int, *, page: str) -> Budget:
    budget = get_object_or_404(
        Budget.objects.for_user(request.user)
        .select_related("holder__organisation")
        .prefetch_related("contributions"),
        pk=pk,
    )
    personal_record_viewed(viewer=request.user, person=budget.holder, what=page)
    return budget


def _spend(request: HttpRequest, pk: int) -> Spend:
    return get_object_or_404(
        Spend.objects.for_user(request.user).select_related(
            "budget__holder__organisation", "contribution__funder", "transaction"
        ),
        pk=pk,
    )


def _whose(request: HttpRequest, budget: Budget) -> dict[str, Any]:
    """How pages name the person: "your" for the holder, their name for anyone else."""
    is_self = budget.holder.user_id == request.user.pk
    return {
        "is_self": is_self,
        "whose": "Your" if is_self else f"{budget.holder.name}'s",
        "several_funders": len(budget.contributions.all()) > 1,
    }


def budget_detail(request: HttpRequest, pk: int) -> HttpResponse:
    budget = _budget(request, pk, page="budget_detail")
    summary = selectors.budget_summary(budget)
    commitments = budget_commitments(budget)
    points = selectors.balance_over_time(budget)
    today = timezone.localdate()
    whose = _whose(request, budget)
    chart = step_chart(
        [Step(day=p.day, value_pence=p.balance_pence) for p in points],
        start=budget.period_start,
        end=budget.period_end,
        until=today,
        title=f"{whose['whose']} balance over the budget year",
        description=(
            f"Balance from {budget.period_start:%-d %B %Y}; now "
            f"{format_pence(summary.figures.balance_pence)}. The table below has the figures."
        ),
    )
    return render(
        request,
        "budgets/money/budget_detail.html",
        {
            "budget": budget,
            "summary": summary,
            "points": points,
            "chart": chart,
            "can_spend": can_manage_money(request.user, budget),
            "can_recover": budget.state == Budget.State.ACTIVE
            and is_finance_for(request.user, budget.holder),
            # Notices are listed for the holder's side only (staff see them elsewhere).
            "show_notices": bool(
                request_principals(request) & {Access.HOLDER, Access.REPRESENTATIVE}
            ),
            # The support plan the money follows: its cost against the budget.
            "plans": plan_selectors.budget_plans(budget=budget),
            # Marketplace bookings accepted and not yet paid: money promised.
            "commitments": commitments,
            "committed_pence": sum(b.committed_pence for b in commitments),
            **whose,
        },
    )


def budget_ledger(request: HttpRequest, pk: int) -> HttpResponse:
    budget = _budget(request, pk, page="budget_ledger")
    form = LedgerFilterForm(request.GET or None)
    rows = selectors.ledger_rows(budget, **form.filters())
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "budgets/money/budget_ledger.html",
        {"budget": budget, "form": form, "page": page, **_whose(request, budget)},
    )


def spend_list(request: HttpRequest, pk: int) -> HttpResponse:
    budget = _budget(request, pk, page="spend_list")
    form = SpendFilterForm(request.GET or None)
    rows = selectors.spends(budget, **form.filters())
    totals = selectors.spend_totals(rows)
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    open_queries = list(
        selectors.spends(budget).filter(has_open_query=True).order_by("spent_on", "pk")
    )
    return render(
        request,
        "budgets/money/spend_list.html",
        {
            "budget": budget,
            "form": form,
            "page": page,
            "totals": totals,
            "open_queries": open_queries,
            "can_spend": can_manage_money(request.user, budget),
            "can_recover": budget.state == Budget.State.ACTIVE
            and is_finance_for(request.user, budget.holder),
            **_whose(request, budget),
        },
    )


def spend_create(request: HttpRequest, pk: int) -> HttpResponse:
    budget = _budget(request, pk, page="spend_create")
    contributions = [
        c
        for c in budget.contributions.select_related("funder")
        if can_manage_money(request.user, budget, c)
    ]
    if not contributions:
        raise PermissionDenied
    # The items of the plan in force, to say which one a spend pays for.
    plan_items = SupportItem.objects.filter(
        plan__budget=budget, plan__state=SupportPlan.State.ACTIVE
    ).order_by("position", "pk")
    if request.method == "POST":
        form = SpendForm(
            request.POST, request.FILES, contributions=contributions, plan_items=plan_items
        )
    else:
        form = SpendForm(
            contributions=contributions,
            plan_items=plan_items,
            initial={"idempotency_key": services.new_idempotency_key()},
        )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            spend = services.spend_record(
                budget=budget,
                contribution=data.get("contribution") or form.single_contribution,
                payee=data["payee"],
                spent_on=data["spent_on"],
                amount_pence=data["amount"],
                category=data["category"],
                note=data["note"],
                receipt=data["receipt"],
                recorded_by=request.user,
                idempotency_key=data["idempotency_key"],
                plan_item=data.get("plan_item"),
            )
        except ValidationError as error:
            form.add_service_errors(error)
        except Conflict as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                f"{format_pence(spend.amount_pence)} paid to {spend.payee} has been recorded.",
            )
            return redirect("budgets:spend_detail", spend.pk)
    return render(
        request,
        "budgets/money/spend_form.html",
        {
            "budget": budget,
            "form": form,
            "date_parts": form.fields["spent_on"].parts(form["spent_on"].value()),
            **_whose(request, budget),
        },
    )


def _optional_url(name: str, *args: Any) -> str | None:
    # Finance's verify and query pages are another module's; until they are in the
    # URLconf the buttons are simply not offered.
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _can_refund(user: Any, spend: Spend) -> bool:
    return can_manage_money(user, spend.budget, spend.contribution) or is_finance_for(
        user, spend.budget.holder
    )


def _spend_page(
    request: HttpRequest,
    spend: Spend,
    *,
    refund_form: RefundForm | None = None,
    answer_form: QueryAnswerForm | None = None,
    status: int = 200,
) -> HttpResponse:
    budget = spend.budget
    user = request.user
    personal_record_viewed(viewer=user, person=budget.holder, what="spend_detail")
    queries = list(spend.queries.select_related("asked_by", "answered_by"))
    open_query = next((q for q in queries if q.answered_at is None), None)
    can_answer = open_query is not None and can_manage_money(user, budget, spend.contribution)
    refundable = spend.amount_pence - spend.refunded_pence
    can_refund = refundable > 0 and _can_refund(user, spend)
    finance = is_finance_for(user, budget.holder)
    if can_answer and answer_form is None:
        answer_form = QueryAnswerForm(prefix="answer")
    if can_refund and refund_form is None:
        refund_form = RefundForm(
            prefix="refund", initial={"idempotency_key": services.new_idempotency_key()}
        )
    bound = next((f for f in (refund_form, answer_form) if f is not None and f.is_bound), None)
    return render(
        request,
        "budgets/money/spend_detail.html",
        {
            "budget": budget,
            "spend": spend,
            "queries": queries,
            "open_query": open_query if can_answer else None,
            "waiting_query": open_query,
            "answer_form": answer_form if can_answer else None,
            "refund_form": refund_form if can_refund else None,
            "refundable_pence": refundable,
            # The layout shows the error summary of ``form`` and adds "Error: ".
            "form": bound,
            "verify_url": _optional_url("budgets:spend_verify", spend.pk) if finance else None,
            "query_url": _optional_url("budgets:spend_query", spend.pk) if finance else None,
            **_whose(request, budget),
        },
        status=status,
    )


def spend_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _spend_page(request, _spend(request, pk))


@require_POST
def spend_refund(request: HttpRequest, pk: int) -> HttpResponse:
    spend = _spend(request, pk)
    if not _can_refund(request.user, spend):
        raise PermissionDenied
    form = RefundForm(request.POST, prefix="refund")
    if form.is_valid():
        try:
            services.spend_refund(
                spend=spend,
                amount_pence=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                recorded_by=request.user,
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except ValidationError as error:
            for name, errors in error.message_dict.items():
                field = "amount" if name == "amount_pence" else name
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        except Conflict as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, f"A refund of {format_pence(form.cleaned_data['amount'])} is recorded."
            )
            return redirect("budgets:spend_detail", spend.pk)
    return _spend_page(request, spend, refund_form=form)


@require_POST
def spend_query_answer(request: HttpRequest, pk: int) -> HttpResponse:
    query = get_object_or_404(
        SpendQuery.objects.filter(spend__in=Spend.objects.for_user(request.user)), pk=pk
    )
    spend = _spend(request, query.spend_id)
    if not can_manage_money(request.user, spend.budget, spend.contribution):
        raise PermissionDenied
    form = QueryAnswerForm(request.POST, prefix="answer")
    if form.is_valid():
        try:
            services.spend_query_answer(
                query=query, answer=form.cleaned_data["answer"], answered_by=request.user
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error("answer", message)
        except Conflict as error:
            messages.error(request, error.message)
            return redirect("budgets:spend_detail", spend.pk)
        else:
            messages.success(request, "Your answer has been sent to the finance team.")
            return redirect("budgets:spend_detail", spend.pk)
    return _spend_page(request, spend, answer_form=form)


def spend_receipt(request: HttpRequest, pk: int) -> HttpResponse:
    spend = _spend(request, pk)
    if not spend.receipt:
        raise Http404
    try:
        handle = spend.receipt.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    personal_record_viewed(viewer=request.user, person=spend.budget.holder, what="spend_receipt")
    # Always a download: a PDF or image opened inline would run in our origin's context.
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"receipt-{spend.pk}.{spend.receipt_extension}",
        content_type=spend.receipt_content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def notice_list(request: HttpRequest) -> HttpResponse:
    notices = selectors.notices_for(request.user)
    page = Paginator(notices, 25).get_page(request.GET.get("page"))
    return render(request, "budgets/money/notice_list.html", {"page": page})


def _recovery(request: HttpRequest, pk: int) -> SurplusRecovery:
    return get_object_or_404(
        SurplusRecovery.objects.for_user(request.user).select_related(
            "budget__holder__organisation", "contribution__funder", "notice"
        ),
        pk=pk,
    )


def _recovery_page(
    request: HttpRequest, recovery: SurplusRecovery, form: ReconsiderForm | None = None
) -> HttpResponse:
    personal_record_viewed(
        viewer=request.user, person=recovery.budget.holder, what="recovery_detail"
    )
    can_ask = (
        recovery.state == SurplusRecovery.State.NOTICE_SENT
        and timezone.localdate() <= recovery.respond_by
        and can_manage_money(request.user, recovery.budget)
    )
    if can_ask and form is None:
        form = ReconsiderForm()
    return render(
        request,
        "budgets/money/recovery_detail.html",
        {
            "recovery": recovery,
            "budget": recovery.budget,
            "form": form if can_ask else None,
            **_whose(request, recovery.budget),
        },
    )


def recovery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _recovery_page(request, _recovery(request, pk))


@require_POST
def recovery_reconsider(request: HttpRequest, pk: int) -> HttpResponse:
    recovery = _recovery(request, pk)
    if not can_manage_money(request.user, recovery.budget):
        raise PermissionDenied
    form = ReconsiderForm(request.POST)
    if form.is_valid():
        try:
            services.surplus_recovery_request_reconsideration(
                recovery=recovery, reasons=form.cleaned_data["reasons"], requested_by=request.user
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error("reasons", message)
        except Conflict as error:
            messages.error(request, error.message)
            return redirect("budgets:recovery_detail", recovery.pk)
        else:
            messages.success(
                request,
                "We have your request. Nothing will be taken back until finance has "
                "reconsidered and written to you with the decision.",
            )
            return redirect("budgets:recovery_detail", recovery.pk)
    return _recovery_page(request, recovery, form)


urlpatterns = [
    path("budgets/<int:pk>/", budget_detail, name="budget_detail"),
    path("budgets/<int:pk>/ledger/", budget_ledger, name="budget_ledger"),
    path("budgets/<int:pk>/spending/", spend_list, name="spend_list"),
    path("budgets/<int:pk>/spending/new/", spend_create, name="spend_create"),
    path("spending/<int:pk>/", spend_detail, name="spend_detail"),
    path("spending/<int:pk>/receipt/", spend_receipt, name="spend_receipt"),
    path("spending/<int:pk>/refund/", spend_refund, name="spend_refund"),
    path("spending/queries/<int:pk>/answer/", spend_query_answer, name="spend_query_answer"),
    path("notices/", notice_list, name="notice_list"),
    path("recoveries/<int:pk>/", recovery_detail, name="recovery_detail"),
    path("recoveries/<int:pk>/reconsider/", recovery_reconsider, name="recovery_reconsider"),
]
