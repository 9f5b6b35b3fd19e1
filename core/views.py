"""Pages every user meets: home, notifications, the audit log, health and errors."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.authz import Access, request_principals
from core.forms import AuditSearchForm
from core.models import Heartbeat, Notification
from core.selectors import audit_event_search
from core.services import notification_mark_all_read, notification_mark_read


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "core/home_public.html")
    from budgets.models import BudgetHolder
    from users.models import Representation

    principals = request_principals(request)
    user = request.user
    holder = BudgetHolder.objects.filter(user=user).first()
    budget = _current_budget(holder)
    context: dict[str, Any] = {
        "holder": holder,
        "budget": budget,
        "plan": _current_plan(budget),
        "represented": Representation.objects.current()
        .filter(representative=user)
        .select_related("holder"),
        "memberships": user.memberships.select_related("organisation"),
        "is_staff": Access.STAFF in principals,
        "is_admin": Access.PLATFORM_ADMIN in principals,
        "unread": Notification.objects.for_user(user).unread()[:3],
        "surveys_waiting": _surveys_waiting(user),
        "open_actions": _open_actions(user, principals),
    }
    return render(request, "core/home.html", context)


def _surveys_waiting(user: Any) -> int:
    """Outcome surveys the person (or someone they act for) has still to answer."""
    from outcomes.models import SurveyInvitation

    return SurveyInvitation.objects.for_user(user).answerable().count()


def _open_actions(user: Any, principals: frozenset[Access]) -> list[Any] | None:
    """A commissioner's improvement actions not yet done (they stay here until done)."""
    if Access.COMMISSIONER not in principals:
        return None
    from outcomes.improvement import open_actions_for

    return list(open_actions_for(user))


def _current_plan(budget: Any) -> Any:
    """The version of the budget's plan that is in force, else the one being written."""
    if budget is None:
        return None
    from plans.selectors import plans_by_budget

    plans = plans_by_budget(budgets=[budget])[budget.pk]
    return plans.active or plans.in_making


def _current_budget(holder: Any) -> Any:
    """The budget a holder most likely means: the active one, else the latest."""
    if holder is None:
        return None
    from django.db.models import Case, IntegerField, Sum, Value, When

    return (
        holder.budgets.exclude(state="closed")
        .annotate(
            balance_pence=Sum("accounts__balance_pence", default=0),
            active_first=Case(
                When(state="active", then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
        )
        .order_by("active_first", "-period_start")
        .first()
    )


def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "core/accessibility.html")


def notification_list(request: HttpRequest) -> HttpResponse:
    notifications = Notification.objects.for_user(request.user)
    page = Paginator(notifications, 25).get_page(request.GET.get("page"))
    return render(request, "core/notification_list.html", {"page": page})


@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification.objects.for_user(request.user), pk=pk)
    notification_mark_read(notification=notification)
    if notification.link and notification.link.startswith("/"):
        return redirect(notification.link)
    return redirect("core:notification_list")


@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    notification_mark_all_read(user=request.user)
    return redirect("core:notification_list")


def audit_search(request: HttpRequest) -> HttpResponse:
    form = AuditSearchForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = audit_event_search(user=request.user, **filters)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    # An empty search shows the latest events; an invalid one shows the errors.
    return render(
        request,
        "core/audit_search.html",
        {
            "form": form if form.is_bound else AuditSearchForm(),
            "page": page,
            "bound": form.is_bound,
        },
    )


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, Redis and the last beat heartbeat. 503 if any is unwell."""
    checks: dict[str, Any] = {}
    healthy = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True}
    except Exception:
        checks["database"] = {"ok": False}
        healthy = False
    try:
        cache.set("healthz", "1", timeout=10)
        checks["redis"] = {"ok": cache.get("healthz") == "1"}
    except Exception:
        checks["redis"] = {"ok": False}
    healthy = healthy and checks["redis"]["ok"]
    beat = None
    if checks["database"]["ok"]:
        beat = Heartbeat.objects.filter(name="beat").values_list("last_seen", flat=True).first()
    if beat is None:
        checks["beat"] = {"ok": False, "last_seen": None}
    else:
        age: datetime.timedelta = timezone.now() - beat
        fresh = age <= settings.BEAT_HEARTBEAT_STALE_AFTER
        checks["beat"] = {
            "ok": fresh,
            "last_seen": beat.isoformat(),
            "age_seconds": int(age.total_seconds()),
        }
    # A stale beat is reported but does not fail the web check: web can serve without it.
    status = 200 if healthy else 503
    return JsonResponse(
        {"status": "ok" if healthy else "unhealthy", "checks": checks}, status=status
    )


def _wants_problem_json(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _error(request: HttpRequest, status: int, title: str) -> HttpResponse:
    if _wants_problem_json(request):
        from core.api.errors import problem_response

        return problem_response(status=status, title=title)
    return render(request, f"errors/{status}.html", status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, "Bad request")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, "Forbidden")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, "Not found")


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, "Internal server error")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "errors/csrf.html", status=403)


def styleguide(request: HttpRequest) -> HttpResponse:
    """Debug-only gallery of the components our pages use, to keep the look consistent."""
    from users.forms import InvitationForm

    form = InvitationForm({"email": "not-an-email", "role": ""})
    form.is_valid()
    return render(request, "core/styleguide.html", {"form": form})
