"""Pages for pooled purchasing: the pools someone can see or join, opening a pool for a
service, a pool's page, and one POST for each action (join, leave, fund, cancel, say it
was bought, say the purchase failed).

Pools come only through ``pooling.pools_visible`` (``Pool.objects.for_user`` and open
pools for the ICB or council of a holder whose money the user manages), so anyone
else's pool is a 404. The services decide who may act (403); a wrong state is shown as
a message and nothing changes. Every POST redirects back to the pool's page, except a
form with errors, which is shown again on it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from budgets.services import new_idempotency_key
from core.exceptions import Conflict
from marketplace import pooling
from marketplace.forms_pools import (
    PoolCancelForm,
    PoolCreateForm,
    PoolFailForm,
    PoolFundForm,
    PoolJoinForm,
    PoolLeaveForm,
)
from marketplace.models import Pool, Service


def _pool(request: HttpRequest, pk: int) -> Pool:
    return get_object_or_404(pooling.pools_visible(request.user), pk=pk)


def pool_list(request: HttpRequest) -> HttpResponse:
    pools = list(pooling.pools_visible(request.user).order_by("deadline", "pk"))
    mine_ids = set(Pool.objects.for_user(request.user).values_list("pk", flat=True))
    counts = {
        pool.pk: pool.members.current().count() for pool in pools if pool.state == Pool.State.OPEN
    }
    return render(
        request,
        "marketplace/pools/pool_list.html",
        {
            "yours": [p for p in pools if p.pk in mine_ids],
            "to_join": [p for p in pools if p.pk not in mine_ids],
            "counts": counts,
        },
    )


def pool_create(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(
        Service.objects.listed().select_related("provider", "category"), pk=pk
    )
    organisations = pooling.organisations_to_organise(request.user)
    if not organisations:
        raise PermissionDenied
    form = PoolCreateForm(request.POST or None, organisations=organisations)
    if service.is_free:
        form.add_error(None, "This service is free: there is nothing to pool.")
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            pool = pooling.pool_create(
                organiser=request.user,
                service=service,
                organisation=form.chosen_organisation(),
                purpose=data["purpose"],
                description=data["description"],
                cost_pence=data["cost"] if data["split"] == Pool.Split.EQUAL else None,
                split=data["split"],
                share_pence=data["share"] if data["split"] == Pool.Split.FIXED else None,
                minimum_members=data["minimum_members"],
                maximum_members=data["maximum_members"],
                deadline=data["deadline"],
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, "The pool is open. People can now join it.")
            return redirect("marketplace:pool_detail", pool.pk)
    deadline = form["deadline"]
    return render(
        request,
        "marketplace/pools/pool_form.html",
        {
            "service": service,
            "form": form,
            "prices": list(service.cost_options.all()),
            "date_parts": form.fields["deadline"].parts(deadline.value()),  # type: ignore[attr-defined]
        },
    )


def _detail(request: HttpRequest, pool: Pool, status: int = 200, **forms: Any) -> HttpResponse:
    user = request.user
    current = pool.members.current().count()
    is_open = pool.state == Pool.State.OPEN
    today = timezone.localdate()
    funding = pooling.joinable_funding(user, pool) if is_open and pool.deadline >= today else []
    leavable = pooling.manageable_members(user, pool) if is_open else []
    manage = pooling.may_manage(user, pool)
    confirm = pooling.may_confirm(user, pool)
    visible = pooling.pool_members_visible(pool, user)
    full = pool.maximum_members is not None and current >= pool.maximum_members
    context: dict[str, Any] = {
        "pool": pool,
        "current": current,
        "members": visible,
        "outlook": pooling.share_if_joined(pool, current),
        "total_pence": pooling.total_pence(pool, current),
        "share_now": pooling.shares(pool),
        "full": full,
        "past_deadline": pool.deadline < today,
        "join_form": forms.get("join_form")
        or (PoolJoinForm(funding=funding) if funding and not full else None),
        "leave_form": forms.get("leave_form")
        or (PoolLeaveForm(members=leavable) if leavable else None),
        "fund_form": forms.get("fund_form")
        or (
            PoolFundForm(initial={"idempotency_key": new_idempotency_key()})
            if manage and is_open
            else None
        ),
        "cancel_form": forms.get("cancel_form")
        or (PoolCancelForm() if manage and is_open else None),
        "can_complete": confirm and pool.state == Pool.State.FUNDED,
        "fail_form": forms.get("fail_form")
        or (
            PoolFailForm(initial={"idempotency_key": new_idempotency_key()})
            if confirm and pool.state == Pool.State.FUNDED
            else None
        ),
        "is_staff": pooling.is_pool_staff(user, pool),
    }
    # The page title gets "Error: " when a form on it was sent back with errors.
    context["form"] = next((f for f in forms.values() if f is not None and f.errors), None)
    return render(request, "marketplace/pools/pool_detail.html", context, status=status)


def pool_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _pool(request, pk))


def _conflict(request: HttpRequest, pool: Pool, error: Conflict) -> HttpResponse:
    messages.error(request, error.message)
    return redirect("marketplace:pool_detail", pool.pk)


@require_POST
def pool_join(request: HttpRequest, pk: int) -> HttpResponse:
    pool = _pool(request, pk)
    funding = pooling.joinable_funding(request.user, pool)
    if not funding:
        raise PermissionDenied
    form = PoolJoinForm(request.POST, funding=funding)
    if form.is_valid():
        contribution = form.cleaned_data["contribution"]
        try:
            pooling.pool_join(
                pool=pool,
                budget=contribution.budget,
                contribution=contribution,
                plan_item=form.cleaned_data.get("plan_item"),
                show_name=form.cleaned_data["show_name"],
                joined_by=request.user,
            )
        except ValidationError as error:
            form.add_service_errors(error)
        except Conflict as error:
            return _conflict(request, pool, error)
        else:
            messages.success(request, f"{contribution.budget.holder.name} has joined the pool.")
            return redirect("marketplace:pool_detail", pool.pk)
    return _detail(request, pool, join_form=form)


@require_POST
def pool_leave(request: HttpRequest, pk: int) -> HttpResponse:
    pool = _pool(request, pk)
    members = pooling.manageable_members(request.user, pool)
    if not members:
        raise PermissionDenied
    form = PoolLeaveForm(request.POST, members=members)
    if not form.is_valid():
        return _detail(request, pool, leave_form=form)
    member = form.cleaned_data["member"]
    try:
        pooling.pool_leave(member=member, left_by=request.user)
    except Conflict as error:
        return _conflict(request, pool, error)
    messages.success(request, f"{member.holder.name} has left the pool.")
    return redirect("marketplace:pool_detail", pool.pk)


@require_POST
def pool_fund(request: HttpRequest, pk: int) -> HttpResponse:
    pool = _pool(request, pk)
    if not pooling.may_manage(request.user, pool):
        raise PermissionDenied
    form = PoolFundForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.non_field_errors()))
        return redirect("marketplace:pool_detail", pool.pk)
    try:
        pooling.pool_fund(
            pool=pool, funded_by=request.user, idempotency_key=form.cleaned_data["idempotency_key"]
        )
    except Conflict as error:
        return _conflict(request, pool, error)
    messages.success(request, "The pool is funded: every member's share has been paid.")
    return redirect("marketplace:pool_detail", pool.pk)


@require_POST
def pool_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    pool = _pool(request, pk)
    if not pooling.may_manage(request.user, pool):
        raise PermissionDenied
    form = PoolCancelForm(request.POST)
    if not form.is_valid():
        return _detail(request, pool, cancel_form=form)
    try:
        pooling.pool_cancel(
            pool=pool, cancelled_by=request.user, reason=form.cleaned_data["reason"]
        )
    except Conflict as error:
        return _conflict(request, pool, error)
    messages.success(request, "The pool is cancelled. Its members have been told.")
    return redirect("marketplace:pool_detail", pool.pk)


@require_POST
def pool_complete(request: HttpRequest, pk: int) -> HttpResponse:
    pool = _pool(request, pk)
    try:
        pooling.pool_complete(pool=pool, by=request.user)
    except Conflict as error:
        return _conflict(request, pool, error)
    messages.success(request, "Recorded: the purchase went ahead.")
    return redirect("marketplace:pool_detail", pool.pk)


@require_POST
def pool_fail(request: HttpRequest, pk: int) -> HttpResponse:
    pool = _pool(request, pk)
    if not pooling.may_confirm(request.user, pool):
        raise PermissionDenied
    form = PoolFailForm(request.POST)
    if not form.is_valid():
        return _detail(request, pool, fail_form=form)
    try:
        pooling.pool_purchase_failed(
            pool=pool,
            reason=form.cleaned_data["reason"],
            by=request.user,
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except ValidationError as error:
        for message in error.messages:
            form.add_error("reason", message)
        return _detail(request, pool, fail_form=form)
    except Conflict as error:
        return _conflict(request, pool, error)
    messages.success(request, "Every member's share has been paid back into their budget.")
    return redirect("marketplace:pool_detail", pool.pk)


urlpatterns = [
    path("pools/", pool_list, name="pool_list"),
    path("support/services/<int:pk>/pool/", pool_create, name="pool_create"),
    path("pools/<int:pk>/", pool_detail, name="pool_detail"),
    path("pools/<int:pk>/join/", pool_join, name="pool_join"),
    path("pools/<int:pk>/leave/", pool_leave, name="pool_leave"),
    path("pools/<int:pk>/fund/", pool_fund, name="pool_fund"),
    path("pools/<int:pk>/cancel/", pool_cancel, name="pool_cancel"),
    path("pools/<int:pk>/complete/", pool_complete, name="pool_complete"),
    path("pools/<int:pk>/fail/", pool_fail, name="pool_fail"),
]
