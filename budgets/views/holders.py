"""Budget holders' records as people and their teams see them: staff find a person,
open a record and see its budgets, flags and indicative budgets; holders and
representatives see the records they may see."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path

from budgets import selectors_staff as selectors
from budgets import services
from budgets.forms.holders import HolderCreateForm, HolderSearchForm
from budgets.ledger import format_pence
from budgets.models import BudgetHolder, EligibilityRoute
from core.services import personal_record_viewed
from plans import selectors as plan_selectors


def add_service_errors(
    form: Any, error: ValidationError, fields: dict[str, str] | None = None
) -> None:
    """A service's ValidationError onto the form: each message on its field (renamed
    where the form calls it something else), the rest about the whole form."""
    fields = fields or {}
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for field, errors in error.message_dict.items():
        name = fields.get(field, field)
        for message in errors:
            form.add_error(name if name in form.fields else None, message)


def holder_list(request: HttpRequest) -> HttpResponse:
    if not selectors.is_staff(request.user):
        holders = BudgetHolder.objects.for_user(request.user).select_related("organisation")
        page = Paginator(holders, 50).get_page(request.GET.get("page"))
        return render(request, "budgets/holder_list.html", {"page": page, "staff": False})
    searched = any(request.GET.get(key) for key in request.GET if key != "page")
    form = HolderSearchForm(request.GET if searched else None)
    if searched and not form.is_valid():
        holders = BudgetHolder.objects.none()
    else:
        filters = form.filters() if searched else {}
        # The dashboard's figures link here for one organisation's people on one route.
        route = request.GET.get("route", "")
        organisation = request.GET.get("organisation", "")
        holders = selectors.holder_search(
            user=request.user,
            eligibility_route=route if route in EligibilityRoute.values else "",
            organisation_id=int(organisation) if organisation.isdigit() else None,
            **filters,
        )
    page = Paginator(holders, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "budgets/holder_list.html",
        {
            "page": page,
            "staff": True,
            "form": form,
            "searched": searched,
            "can_create": selectors.holder_creatable_icbs(user=request.user).exists(),
        },
    )


def holder_create(request: HttpRequest) -> HttpResponse:
    icbs = selectors.holder_creatable_icbs(user=request.user)
    if not icbs.exists():
        raise PermissionDenied
    form = HolderCreateForm(request.POST if request.method == "POST" else None, icbs=icbs)
    if request.method == "POST" and form.is_valid():
        try:
            holder = services.holder_create(created_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"A record has been opened for {holder.name}.")
            return redirect("budgets:holder_detail", holder.pk)
    return render(request, "budgets/holders/create.html", {"form": form})


def holder_detail(request: HttpRequest, pk: int) -> HttpResponse:
    holder = get_object_or_404(
        BudgetHolder.objects.for_user(request.user).select_related(
            "organisation", "council", "user"
        ),
        pk=pk,
    )
    personal_record_viewed(viewer=request.user, person=holder, what="holder_detail")
    actions = selectors.holder_actions(user=request.user, holder=holder)
    budgets = list(selectors.holder_budgets(holder=holder))
    return render(
        request,
        "budgets/holder_detail.html",
        {
            "holder": holder,
            "representations": holder.representations.current().select_related("representative"),
            "budgets": budgets,
            # Each budget's support plan (in force and in the making).
            "plans": plan_selectors.plans_by_budget(budgets=budgets),
            "plan_actions": plan_selectors.holder_plan_actions(user=request.user, holder=holder)
            if actions["is_staff"]
            else {},
            "flags": list(selectors.holder_open_flags(holder=holder))
            if actions["is_staff"]
            else [],
            "assessments": list(selectors.holder_assessments(holder=holder)),
            "actions": actions,
            "is_self": holder.user_id == request.user.pk,
            "money": format_pence,
        },
    )


urlpatterns = [
    path("people/", holder_list, name="holder_list"),
    path("people/new/", holder_create, name="holder_create"),
    path("people/<int:pk>/", holder_detail, name="holder_detail"),
]
