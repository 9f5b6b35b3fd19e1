"""Setting budgets up, for commissioners and finance: a budget's period and schedule,
its funding, its state, and indicative budgets worked out with the Resource Allocation
System (or from the current package), which a commissioner may override."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path

from budgets import ras, services
from budgets import selectors_staff as selectors
from budgets.forms.setup import (
    BudgetCreateForm,
    BudgetTransitionForm,
    ContributionAddForm,
    ContributionChangeForm,
    RasMethodForm,
    RasOverrideForm,
    RasPackageForm,
    RasQuestionnaireForm,
)
from budgets.ledger import format_pence
from budgets.models import Budget, BudgetHolder, RasAssessment
from budgets.permissions import can_manage_budget, is_commissioner_for
from budgets.views.holders import add_service_errors
from core.exceptions import Conflict
from core.services import personal_record_viewed


def _pounds(pence: int) -> str:
    """Pence as the text a pounds field takes back (12500.00), without a float."""
    return f"{pence // 100}.{pence % 100:02d}"


def _managed_budget(request: HttpRequest, pk: int) -> Budget:
    budget = get_object_or_404(selectors.budgets_for_staff(user=request.user), pk=pk)
    if not can_manage_budget(request.user, budget.holder):
        raise PermissionDenied
    return budget


def budget_create(request: HttpRequest, pk: int) -> HttpResponse:
    holder = get_object_or_404(BudgetHolder.objects.for_staff(request.user), pk=pk)
    if not can_manage_budget(request.user, holder):
        raise PermissionDenied
    form = BudgetCreateForm(
        request.POST if request.method == "POST" else None,
        assessments=selectors.holder_assessments(holder=holder),
    )
    if request.method == "POST" and form.is_valid():
        try:
            budget = services.budget_create(
                holder=holder, created_by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "The budget has been set up. Now add who funds it.")
            return redirect("budgets:contribution_add", budget.pk)
    return render(request, "budgets/setup/budget_create.html", {"holder": holder, "form": form})


def contribution_add(request: HttpRequest, pk: int) -> HttpResponse:
    budget = _managed_budget(request, pk)
    form = ContributionAddForm(request.POST if request.method == "POST" else None, budget=budget)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            contribution = services.contribution_add(
                budget=budget,
                funder=data["funder"],
                stream=data["stream"],
                yearly_pence=data["yearly_amount"],
                management_option=data["management_option"],
                managed_by=data["managed_by"],
                added_by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error, {"yearly_pence": "yearly_amount"})
        except Conflict as error:
            form.add_error(None, error.message)
            status = 409
        else:
            messages.success(
                request,
                f"{contribution.funder.name} now funds {format_pence(contribution.yearly_pence)} "
                f"a year ({contribution.get_stream_display()}).",
            )
            return redirect("budgets:holder_detail", budget.holder_id)
    return render(
        request,
        "budgets/setup/contribution_add.html",
        {"budget": budget, "form": form, "money": format_pence},
        status=status,
    )


def contribution_change(request: HttpRequest, pk: int) -> HttpResponse:
    contribution = get_object_or_404(selectors.contributions_for_staff(user=request.user), pk=pk)
    budget = contribution.budget
    if not can_manage_budget(request.user, budget.holder):
        raise PermissionDenied
    needs_reasons = budget.state != Budget.State.INDICATIVE
    form = ContributionChangeForm(
        request.POST if request.method == "POST" else None,
        initial={"yearly_amount": _pounds(contribution.yearly_pence)},
        holder_name=budget.holder.name,
        needs_reasons=needs_reasons,
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        old = contribution.yearly_pence
        new = form.cleaned_data["yearly_amount"]
        try:
            services.contribution_change(
                contribution=contribution,
                yearly_pence=new,
                reasons=form.cleaned_data["reasons"],
                changed_by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error, {"yearly_pence": "yearly_amount"})
        except Conflict as error:
            form.add_error(None, error.message)
            status = 409
        else:
            message = (
                f"The amount from {contribution.funder.name} is now {format_pence(new)} a year."
            )
            if new < old and needs_reasons:
                message += f" {budget.holder.name} has been sent a notice with your reasons."
            messages.success(request, message)
            return redirect("budgets:holder_detail", budget.holder_id)
    return render(
        request,
        "budgets/setup/contribution_change.html",
        {
            "contribution": contribution,
            "budget": budget,
            "form": form,
            "needs_reasons": needs_reasons,
            "money": format_pence,
        },
        status=status,
    )


def budget_transition(request: HttpRequest, pk: int) -> HttpResponse:
    budget = _managed_budget(request, pk)
    form = BudgetTransitionForm(request.POST if request.method == "POST" else None, budget=budget)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            budget = services.budget_transition(
                budget=budget,
                to_state=form.cleaned_data["to_state"],
                reason=form.cleaned_data["reason"],
                changed_by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error, {"state": "to_state"})
        except Conflict as error:
            form.add_error(None, error.message)
            status = 409
        else:
            messages.success(request, f"The budget is now {budget.get_state_display().lower()}.")
            return redirect("budgets:holder_detail", budget.holder_id)
    return render(
        request,
        "budgets/setup/budget_transition.html",
        {"budget": budget, "form": form},
        status=status,
    )


def ras_assess(request: HttpRequest, pk: int) -> HttpResponse:
    """Two steps on one URL: choose a method (a GET form), then complete it (POST)."""
    holder = get_object_or_404(BudgetHolder.objects.for_staff(request.user), pk=pk)
    if not selectors.holder_actions(user=request.user, holder=holder)["assess"]:
        raise PermissionDenied
    questionnaires = list(selectors.questionnaires_for(holder=holder))
    method = request.POST.get("method") or request.GET.get("method")
    choosing = "step" in request.GET or method is not None
    method_form = RasMethodForm(
        {"method": method or ""} if choosing else None, questionnaires=questionnaires
    )
    if not method_form.is_valid():
        return render(
            request,
            "budgets/setup/ras_method.html",
            {"holder": holder, "form": method_form, "questionnaires": questionnaires},
        )
    method = method_form.cleaned_data["method"]
    data = request.POST if request.method == "POST" else None
    status = 200
    if method == "package":
        form: Any = RasPackageForm(data)
        questionnaire = None
    else:
        questionnaire = next(q for q in questionnaires if f"questionnaire-{q.pk}" == method)
        form = RasQuestionnaireForm(
            data, domains=selectors.questionnaire_structure(questionnaire=questionnaire)
        )
    if data is not None and form.is_valid():
        try:
            if questionnaire is None:
                assessment = ras.ras_assess_package(
                    holder=holder,
                    package_pence=form.cleaned_data["package_amount"],
                    description=form.cleaned_data["description"],
                    completed_by=request.user,
                )
            else:
                assessment = ras.ras_assess_questionnaire(
                    holder=holder,
                    questionnaire=questionnaire,
                    answers=form.answers(),
                    completed_by=request.user,
                )
        except ValidationError as error:
            add_service_errors(form, error, {"package_pence": "package_amount"})
        except Conflict as error:
            form.add_error(None, error.message)
            status = 409
        else:
            messages.success(
                request,
                f"The indicative budget for {holder.name} is "
                f"{format_pence(assessment.indicative_pence)} a year.",
            )
            return redirect("budgets:ras_assessment_detail", assessment.pk)
    return render(
        request,
        "budgets/setup/ras_package.html"
        if questionnaire is None
        else "budgets/setup/ras_questionnaire.html",
        {"holder": holder, "form": form, "method": method, "questionnaire": questionnaire},
        status=status,
    )


def ras_assessment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = get_object_or_404(
        RasAssessment.objects.for_user(request.user).select_related(
            "holder", "holder__organisation", "questionnaire", "completed_by", "overridden_by"
        ),
        pk=pk,
    )
    holder = assessment.holder
    personal_record_viewed(viewer=request.user, person=holder, what="ras_assessment_detail")
    domains: list[dict[str, Any]] = []
    for line in assessment.working.get("lines", []):
        if not domains or domains[-1]["title"] != line["domain"]:
            domains.append({"title": line["domain"], "lines": []})
        domains[-1]["lines"].append(line)
    return render(
        request,
        "budgets/setup/ras_assessment_detail.html",
        {
            "assessment": assessment,
            "holder": holder,
            "domains": domains,
            "can_override": is_commissioner_for(request.user, holder),
            "is_self": holder.user_id == request.user.pk,
            "money": format_pence,
        },
    )


def ras_override(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = get_object_or_404(
        RasAssessment.objects.for_user(request.user).select_related("holder"), pk=pk
    )
    if not is_commissioner_for(request.user, assessment.holder):
        raise PermissionDenied
    form = RasOverrideForm(
        request.POST if request.method == "POST" else None,
        initial={"override_amount": _pounds(assessment.indicative_pence)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            assessment = ras.ras_override(
                assessment=assessment,
                override_pence=form.cleaned_data["override_amount"],
                reason=form.cleaned_data["override_reason"],
                overridden_by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error, {"override_pence": "override_amount"})
        else:
            messages.success(
                request,
                f"The indicative budget is now {format_pence(assessment.indicative_pence)} a year.",
            )
            return redirect("budgets:ras_assessment_detail", assessment.pk)
    return render(
        request,
        "budgets/setup/ras_override.html",
        {"assessment": assessment, "form": form, "money": format_pence},
    )


urlpatterns = [
    path("people/<int:pk>/budgets/new/", budget_create, name="budget_create"),
    path("budgets/<int:pk>/funding/new/", contribution_add, name="contribution_add"),
    path("funding/<int:pk>/change/", contribution_change, name="contribution_change"),
    path("budgets/<int:pk>/state/", budget_transition, name="budget_transition"),
    path("people/<int:pk>/indicative-budget/new/", ras_assess, name="ras_assess"),
    path("indicative-budgets/<int:pk>/", ras_assessment_detail, name="ras_assessment_detail"),
    path("indicative-budgets/<int:pk>/override/", ras_override, name="ras_override"),
]
