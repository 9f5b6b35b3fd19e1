"""Budget holders' records as people and their teams see them. The budgets issue adds
budgets, the ledger and the staff find/create pages."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from budgets.models import BudgetHolder
from core.services import personal_record_viewed


def holder_list(request: HttpRequest) -> HttpResponse:
    holders = BudgetHolder.objects.for_user(request.user).select_related("organisation")
    page = Paginator(holders, 50).get_page(request.GET.get("page"))
    return render(request, "budgets/holder_list.html", {"page": page})


def holder_detail(request: HttpRequest, pk: int) -> HttpResponse:
    holder = get_object_or_404(
        BudgetHolder.objects.for_user(request.user).select_related("organisation", "user"), pk=pk
    )
    personal_record_viewed(viewer=request.user, person=holder, what="holder_detail")
    representations = holder.representations.current().select_related("representative")
    return render(
        request,
        "budgets/holder_detail.html",
        {
            "holder": holder,
            "representations": representations,
            "is_self": holder.user_id == request.user.pk,
        },
    )
