"""Plan pages for the person and those writing the plan with them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path

from core.services import personal_record_viewed
from plans.document import plan_document
from plans.models import SupportPlan


def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(
        SupportPlan.objects.for_user(request.user).select_related("holder", "budget"), pk=pk
    )
    personal_record_viewed(viewer=request.user, person=plan.holder, what="support plan")
    return render(
        request, "plans/plan_detail.html", {"plan": plan, "document": plan_document(plan)}
    )


urlpatterns = [
    path("plans/<int:pk>/", plan_detail, name="plan_detail"),
]
