"""Plan pages for staff: the queues of plans waiting for a planner, a clinician or a
commissioner, sign-off (approve or request changes), reviews and ending a plan.

Plans come only through ``SupportPlan.objects.for_user(request.user)``, so a plan of a
holder the user's organisations do not serve is a 404; the role this page needs for
*this* holder is checked next (403), and the services check again. A plan in the wrong
state (``Conflict``) is shown as a message and nothing changes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from budgets.ledger import format_pence
from budgets.views.holders import add_service_errors
from core.exceptions import Conflict
from core.services import personal_record_viewed
from plans import permissions, selectors, services
from plans.document import plan_document
from plans.forms.staff import ApproveForm, EndPlanForm, RequestChangesForm, ReviewForm
from plans.models import SupportPlan
from users.models import Role

STEPS = ("clinician", "commissioner")
ENDING_ROLES = frozenset({Role.SUPPORT_PLANNER, Role.CLINICIAN, Role.COMMISSIONER})


def _plan(request: HttpRequest, pk: int) -> SupportPlan:
    return get_object_or_404(
        SupportPlan.objects.for_user(request.user).select_related("holder__organisation", "budget"),
        pk=pk,
    )


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    helpers = {"money": format_pence, "days": _days, "today": timezone.localdate()}
    return render(request, f"plans/staff/{template}", {**helpers, **context}, status=status)


def _days(count: int) -> str:
    if count == 0:
        return "Today"
    return f"{count} day" if count == 1 else f"{count} days"


def _conflict(request: HttpRequest, error: Conflict) -> None:
    messages.error(request, f"Nothing was changed. {error.message}")


# The queues ------------------------------------------------------------------------------


def queue(request: HttpRequest) -> HttpResponse:
    """The plans waiting for the user: one section per queue their roles give."""
    queues = selectors.queues_for(user=request.user)
    if not queues:
        raise PermissionDenied
    return _render(request, "queue.html", {"queues": queues})


# Sign-off ----------------------------------------------------------------------------------


def _role_steps(user: Any, plan: SupportPlan) -> list[str]:
    """The sign-offs the user's roles for this holder allow. Whether they may give one
    on *this* plan (not their own submission, not both sign-offs) the service decides,
    and says why not as a Conflict."""
    return [step for step in STEPS if permissions.has_sign_off_role(user, plan, step)]


def _approve_form(plan: SupportPlan, steps: list[str], data: Any = None) -> ApproveForm:
    """The approval form for ``steps``. The budget reductions are explained (and their
    reasons asked for) only when one of these approvals would be the last one: that is
    when the budget is set from the plan."""
    completing = {s for s in steps if selectors.approval_completes(plan=plan, step=s)}
    reductions = (
        selectors.budget_reductions(plan=plan)
        if completing and plan.state == SupportPlan.State.SUBMITTED
        else []
    )
    return ApproveForm(data, steps=steps, reductions=reductions, completing=completing)


def _signoff_page(
    request: HttpRequest,
    plan: SupportPlan,
    *,
    approve_form: ApproveForm | None = None,
    changes_form: RequestChangesForm | None = None,
) -> HttpResponse:
    user = request.user
    personal_record_viewed(viewer=user, person=plan.holder, what="plan_signoff")
    pending = selectors.pending_steps(plan=plan)
    mine = [step for step in pending if permissions.can_approve_as(user, plan, step)]
    refusals = [
        reason
        for step in pending
        if permissions.has_sign_off_role(user, plan, step)
        and (reason := permissions.sign_off_refused(user, plan, step))
    ]
    if approve_form is None and mine:
        approve_form = _approve_form(plan, mine)
    submitted = plan.state == SupportPlan.State.SUBMITTED
    if changes_form is None and submitted:
        changes_form = RequestChangesForm()
    bound = next((f for f in (approve_form, changes_form) if f is not None and f.is_bound), None)
    return _render(
        request,
        "signoff.html",
        {
            "plan": plan,
            "holder": plan.holder,
            "document": plan_document(plan),
            "cost": selectors.cost_against_budget(plan=plan),
            "history": list(selectors.signoff_history(plan=plan)),
            "pending": pending,
            "refusals": refusals,
            "approve_form": approve_form if submitted else None,
            "changes_form": changes_form if submitted else None,
            # The layout shows the error summary of ``form`` and adds "Error: ".
            "form": bound,
        },
    )


def _require_signoff_role(request: HttpRequest, plan: SupportPlan) -> None:
    if not permissions.can_request_changes(request.user, plan):
        raise PermissionDenied


def plan_signoff(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    _require_signoff_role(request, plan)
    return _signoff_page(request, plan)


@require_POST
def plan_approve(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    steps = _role_steps(request.user, plan)
    if not steps:
        raise PermissionDenied
    form = _approve_form(plan, steps, request.POST)
    if form.is_valid():
        try:
            plan = services.plan_approve(
                plan=plan,
                approved_by=request.user,
                step=form.cleaned_data["step"],
                reduction_reasons=form.cleaned_data.get("reduction_reasons", ""),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except Conflict as error:
            _conflict(request, error)
            return redirect("plans:plan_signoff", plan.pk)
        else:
            name = plan.holder.name
            if plan.state == SupportPlan.State.ACTIVE:
                messages.success(
                    request,
                    f"{name}'s plan is approved and in place. The budget is set from its cost "
                    "and the person has been told.",
                )
            else:
                messages.success(
                    request,
                    f"Your approval of {name}'s plan is recorded. It now waits for a "
                    "commissioner's approval too.",
                )
            return redirect("plans:queue")
    return _signoff_page(request, plan, approve_form=form)


@require_POST
def plan_request_changes(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    _require_signoff_role(request, plan)
    form = RequestChangesForm(request.POST)
    if form.is_valid():
        try:
            services.plan_request_changes(
                plan=plan, requested_by=request.user, what_and_why=form.cleaned_data["what_and_why"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except Conflict as error:
            _conflict(request, error)
            return redirect("plans:plan_signoff", plan.pk)
        else:
            messages.success(
                request,
                f"{plan.holder.name}'s plan has been sent back with the changes you asked for. "
                "They have been told what needs to change and why.",
            )
            return redirect("plans:queue")
    return _signoff_page(request, plan, changes_form=form)


# Reviews -----------------------------------------------------------------------------------


def plan_review(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    if not permissions.can_review(request.user, plan.holder):
        raise PermissionDenied
    active = plan.state == SupportPlan.State.ACTIVE
    outcomes = list(plan.outcomes.all())
    form = ReviewForm(request.POST if request.method == "POST" else None, outcomes=outcomes)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            review = services.review_record(
                plan=plan,
                recorded_by=request.user,
                held_on=data["held_on"],
                progress=form.progress(),
                what_is_working=data["what_is_working"],
                what_is_not_working=data["what_is_not_working"],
                plan_changes=data["plan_changes"] == "yes",
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except Conflict as error:
            _conflict(request, error)
            return redirect("plans:plan_review", plan.pk)
        else:
            if review.new_version is not None:
                messages.success(
                    request,
                    f"The review is recorded. Version {review.new_version.version} of "
                    f"{plan.holder.name}'s plan has been started for the changes.",
                )
                return redirect("plans:plan_detail", review.new_version.pk)
            messages.success(
                request,
                f"The review is recorded. The next review of {plan.holder.name}'s plan is due "
                f"by {review.plan.next_review_on:%-d %B %Y}.",
            )
            return redirect("budgets:holder_detail", plan.holder_id)
    if request.method == "GET":
        personal_record_viewed(viewer=request.user, person=plan.holder, what="plan_review")
    return _render(
        request,
        "review.html",
        {
            "plan": plan,
            "holder": plan.holder,
            "active": active,
            "form": form if active else None,
            "last_review": plan.reviews.first(),
        },
    )


# Ending a plan -----------------------------------------------------------------------------


def plan_end(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    if not (permissions.roles_for(request.user, plan.holder) & ENDING_ROLES) or not (
        permissions.can_end(request.user, plan)
    ):
        raise PermissionDenied
    can_end = plan.can_move_to(SupportPlan.State.ENDED)
    form = EndPlanForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_end(plan=plan, ended_by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        except Conflict as error:
            _conflict(request, error)
            return redirect("plans:plan_end", plan.pk)
        else:
            messages.success(
                request, f"Version {plan.version} of {plan.holder.name}'s plan has ended."
            )
            return redirect("budgets:holder_detail", plan.holder_id)
    if request.method == "GET":
        personal_record_viewed(viewer=request.user, person=plan.holder, what="plan_end")
    return _render(
        request,
        "end.html",
        {
            "plan": plan,
            "holder": plan.holder,
            "can_end": can_end,
            "form": form if can_end else None,
        },
    )


urlpatterns = [
    path("plans/waiting/", queue, name="queue"),
    path("plans/<int:pk>/sign-off/", plan_signoff, name="plan_signoff"),
    path("plans/<int:pk>/approve/", plan_approve, name="plan_approve"),
    path("plans/<int:pk>/request-changes/", plan_request_changes, name="plan_request_changes"),
    path("plans/<int:pk>/review/", plan_review, name="plan_review"),
    path("plans/<int:pk>/end/", plan_end, name="plan_end"),
]
