"""Plan pages for the person and those writing the plan with them: the holder, a
representative with the plan scope and the support planner.

The "write your plan" journey is a task list and one page per step; every POST saves
through one service and redirects (post/redirect/get), so it works without JavaScript
and a refresh never saves twice. Records are reached only through
``SupportPlan.objects.for_user``: someone else's plan is a 404; who may change it is
asked of plans/permissions.py (403). Staff opening a person's plan is audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from budgets.ledger import format_pence
from budgets.models import Budget, BudgetHolder, FundingStream
from budgets.views.holders import add_service_errors
from core.exceptions import Conflict
from core.services import personal_record_viewed
from plans import permissions, services
from plans.document import compare, plan_document
from plans.forms.holder import (
    CircleForm,
    CommentForm,
    CompareForm,
    ContingencyForm,
    ItemForm,
    MoneyForm,
    OutcomeForm,
    RemoveForm,
    ReviewsForm,
    RiskForm,
    SubmitForm,
    WhatMattersForm,
)
from plans.models import (
    CircleMember,
    LifeArea,
    MoneyArrangement,
    PlanOutcome,
    PlanRisk,
    SupportItem,
    SupportPlan,
)
from plans.pdf import document_pdf
from users.models import Representation

# The journey ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    hint: str
    parts: tuple[str, ...]  # the keys of services.problems() this step answers


STEPS = (
    Step("what-matters", "What matters to you", "In your own words", ("what_matters",)),
    Step("outcomes", "What you want to achieve", "Your outcomes (goals)", ("outcomes",)),
    Step("support", "Your support", "What, who, how often and what it costs", ("items",)),
    Step("money", "How the money is managed", "For each kind of funding", ("money",)),
    Step("risks", "Risks", "Including risks you choose to take", ()),
    Step(
        "if-things-go-wrong",
        "If things go wrong",
        "If your support fails, or your carer has an emergency",
        ("contingency",),
    ),
    Step("circle", "Your circle of support", "Family, friends, carers, professionals", ()),
    Step("reviews", "Review dates", "When you will look at your plan again", ("reviews",)),
)
STEP_BY_SLUG = {step.slug: step for step in STEPS}
# Steps that are lists of parts, and the part each holds.
PART_MODELS: dict[str, Any] = {
    "outcomes": PlanOutcome,
    "support": SupportItem,
    "money": MoneyArrangement,
    "risks": PlanRisk,
    "circle": CircleMember,
}
PART_NAMES = {
    "outcomes": "outcome",
    "support": "support",
    "money": "money arrangement",
    "risks": "risk",
    "circle": "person",
}


def _next_url(plan: SupportPlan, step: Step) -> str:
    index = STEPS.index(step)
    if index + 1 < len(STEPS):
        return reverse("plans:plan_step", args=[plan.pk, STEPS[index + 1].slug])
    return reverse("plans:plan_submit", args=[plan.pk])


def _has_answers(plan: SupportPlan, slug: str) -> bool:
    if slug == "what-matters":
        return bool(plan.what_matters.strip())
    if slug == "if-things-go-wrong":
        return bool(plan.if_support_fails.strip() or plan.carer_emergency.strip())
    if slug == "reviews":
        return plan.first_review_on is not None
    related: dict[str, Any] = {
        "outcomes": plan.outcomes,
        "support": plan.items,
        "money": plan.money,
        "risks": plan.risks,
        "circle": plan.circle,
    }
    return related[slug].exists()


def step_statuses(plan: SupportPlan) -> list[dict[str, Any]]:
    """Each step with its status (not started, in progress, completed) and the
    problems that stop the plan being sent, in the service's words."""
    found = services.problems(plan)
    rows = []
    for step in STEPS:
        step_problems = [message for part in step.parts for message in found.get(part, [])]
        answered = _has_answers(plan, step.slug)
        if answered and not step_problems:
            status = "Completed"
        elif answered:
            status = "In progress"
        else:
            status = "Not started"
        rows.append({"step": step, "status": status, "problems": step_problems})
    return rows


# Finding records -------------------------------------------------------------------------


def _plan(request: HttpRequest, pk: int, *, what: str) -> SupportPlan:
    plan = get_object_or_404(
        SupportPlan.objects.for_user(request.user).select_related("holder", "budget"), pk=pk
    )
    if request.method == "GET":
        personal_record_viewed(viewer=request.user, person=plan.holder, what=what)
    return plan


def _editable(request: HttpRequest, pk: int, *, what: str) -> SupportPlan:
    """A plan the user may write. A plan no longer editable raises Conflict: the
    caller's page says so and sends them to the plan."""
    plan = _plan(request, pk, what=what)
    if not permissions.can_write(request.user, plan.holder):
        raise PermissionDenied
    if not plan.is_editable:
        raise Conflict(
            f"This plan is {plan.get_state_display().lower()}: it can no longer be changed."
        )
    return plan


def _conflict(request: HttpRequest, plan_pk: int, error: Conflict) -> HttpResponse:
    messages.error(request, error.message)
    return redirect("plans:plan_detail", plan_pk)


def _is_self(request: HttpRequest, holder: BudgetHolder) -> bool:
    return holder.user_id is not None and holder.user_id == request.user.pk


def _budget_streams(budget: Budget) -> list[str]:
    """The budget's funding streams; any stream while it has no funding yet (the
    service accepts any then, and checks again when the plan is sent)."""
    streams = sorted(set(budget.contributions.values_list("stream", flat=True)))
    return streams or list(FundingStream.values)


# The list of plans and starting one -------------------------------------------------------


def plan_list(request: HttpRequest) -> HttpResponse:
    """The holder's and represented people's budgets and plan versions, current one
    first. Staff pass ``?holder=<id>`` (from the person's record)."""
    holders = BudgetHolder.objects.for_user(request.user).select_related("organisation")
    holder_pk = request.GET.get("holder", "")
    if holder_pk:
        if not holder_pk.isdigit():
            raise Http404
        holders = holders.filter(pk=int(holder_pk))
        holder = get_object_or_404(holders)
        personal_record_viewed(viewer=request.user, person=holder, what="support plans")
    else:
        represented = Representation.objects.current().filter(representative_id=request.user.pk)
        holders = holders.filter(
            Q(user=request.user) | Q(pk__in=represented.values("holder_id"))
        ).order_by("name", "pk")
    people = []
    for holder in holders:
        can_write = permissions.can_write(request.user, holder)
        budgets = []
        for budget in holder.budgets.order_by("-period_start", "-pk"):
            versions = list(
                budget.plans.annotate(
                    in_play=Case(
                        When(
                            state__in=[SupportPlan.State.SUPERSEDED, SupportPlan.State.ENDED],
                            then=Value(1),
                        ),
                        default=Value(0),
                        output_field=IntegerField(),
                    )
                ).order_by("in_play", "-version")
            )
            open_version = next(
                (p for p in versions if p.state not in {"active", "superseded", "ended"}), None
            )
            budgets.append(
                {
                    "budget": budget,
                    "versions": versions,
                    "open_version": open_version,
                    "can_start": open_version is None
                    and budget.state != Budget.State.CLOSED
                    and can_write,
                    "has_active": any(p.state == "active" for p in versions),
                }
            )
        people.append(
            {
                "holder": holder,
                "budgets": budgets,
                "is_self": _is_self(request, holder),
                "can_write": can_write,
            }
        )
    return render(
        request,
        "plans/plan_list.html",
        {"people": people, "for_holder": bool(holder_pk)},
    )


def plan_start(request: HttpRequest, budget_pk: int) -> HttpResponse:
    budget = get_object_or_404(
        Budget.objects.for_user(request.user).select_related("holder"), pk=budget_pk
    )
    if not permissions.can_write(request.user, budget.holder):
        raise PermissionDenied
    has_active = budget.plans.filter(state=SupportPlan.State.ACTIVE).exists()
    if request.method == "POST":
        try:
            plan = services.plan_start(budget=budget, started_by=request.user)
        except Conflict as error:
            messages.error(request, error.message)
            return redirect("plans:plan_list")
        return redirect("plans:plan_tasks", plan.pk)
    personal_record_viewed(viewer=request.user, person=budget.holder, what="support plan start")
    return render(
        request,
        "plans/plan_start.html",
        {
            "budget": budget,
            "has_active": has_active,
            "is_self": _is_self(request, budget.holder),
        },
    )


# The plan ------------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, plan: SupportPlan) -> dict[str, Any]:
    budget_by_stream = services.budget_pence_by_stream(plan.budget)
    plan_by_stream = services.plan_pence_by_stream(plan)
    labels = dict(FundingStream.choices)
    streams = sorted(set(budget_by_stream) | set(plan_by_stream))
    versions = list(plan.budget.plans.order_by("-version"))
    user = request.user
    return {
        "plan": plan,
        "document": plan_document(plan),
        "is_self": _is_self(request, plan.holder),
        "budget_total": services.budget_total_pence(plan.budget),
        "costs": [
            {
                "label": labels.get(s, s),
                "budget": budget_by_stream.get(s),
                "plan": plan_by_stream.get(s, 0),
            }
            for s in streams
        ],
        "approvals": plan.approvals.select_related("by"),
        "comments": plan.comments.select_related("author"),
        "can_edit": permissions.can_edit(user, plan),
        "can_comment": permissions.can_comment(user, plan),
        "can_change": plan.state == SupportPlan.State.ACTIVE
        and not plan.budget.plans.exclude(
            state__in=[
                SupportPlan.State.ACTIVE,
                SupportPlan.State.SUPERSEDED,
                SupportPlan.State.ENDED,
            ]
        ).exists()
        and plan.budget.state != Budget.State.CLOSED
        and permissions.can_write(user, plan.holder),
        "other_versions": [p for p in versions if p.pk != plan.pk],
        "money": format_pence,
    }


def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk, what="support plan")
    context = _detail_context(request, plan)
    context["comment_form"] = CommentForm()
    return render(request, "plans/plan_detail.html", context)


@require_POST
def plan_comment(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk, what="support plan")
    if not permissions.can_comment(request.user, plan):
        raise PermissionDenied
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.comment_add(plan=plan, author=request.user, body=form.cleaned_data["body"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Your comment has been added.")
            return redirect(reverse("plans:plan_detail", args=[plan.pk]) + "#comments")
    context = _detail_context(request, plan)
    context["comment_form"] = context["form"] = form
    return render(request, "plans/plan_detail.html", context)


# Writing it -----------------------------------------------------------------------------------


def plan_tasks(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        plan = _editable(request, pk, what="support plan")
    except Conflict as error:
        return _conflict(request, pk, error)
    rows = step_statuses(plan)
    return render(
        request,
        "plans/write/tasks.html",
        {
            "plan": plan,
            "rows": rows,
            "completed": sum(1 for r in rows if r["status"] == "Completed"),
            "is_self": _is_self(request, plan.holder),
        },
    )


def _step_context(request: HttpRequest, plan: SupportPlan, step: Step) -> dict[str, Any]:
    found = services.problems(plan)
    return {
        "plan": plan,
        "step": step,
        "next_url": _next_url(plan, step),
        "problems": [m for part in step.parts for m in found.get(part, [])],
        "is_self": _is_self(request, plan.holder),
        "money": format_pence,
    }


def _part_form(step: str, plan: SupportPlan, data: Any = None, initial: Any = None) -> Any:
    if step == "outcomes":
        return OutcomeForm(data, initial=initial)
    if step == "support":
        return ItemForm(
            data,
            initial=initial,
            streams=_budget_streams(plan.budget),
            outcomes=plan.outcomes.all(),
            carers=plan.circle.filter(relationship=CircleMember.Relationship.CARER),
        )
    if step == "risks":
        return RiskForm(data, initial=initial)
    if step == "circle":
        return CircleForm(data, initial=initial)
    raise Http404


def _part_initial(step: str, part: Any) -> dict[str, Any]:
    if step == "outcomes":
        return OutcomeForm.initial_for(part)
    if step == "support":
        return ItemForm.initial_for(part)
    fields = {
        "risks": ("description", "how_managed", "agreed_by", "positive_risk"),
        "circle": ("name", "relationship", "role", "is_backup", "phone", "email"),
    }[step]
    return {name: getattr(part, name) for name in fields}


def _part_save(step: str, plan: SupportPlan, user: Any, form: Any, part: Any) -> Any:
    """The one service call that saves a part from its form."""
    if step == "outcomes":
        return services.outcome_save(plan=plan, saved_by=user, outcome=part, **form.cleaned_data)
    if step == "support":
        return services.item_save(plan=plan, saved_by=user, item=part, **form.service_kwargs())
    if step == "risks":
        return services.risk_save(plan=plan, saved_by=user, risk=part, **form.cleaned_data)
    return services.circle_save(plan=plan, saved_by=user, member=part, **form.cleaned_data)


def _single_form(step: str, plan: SupportPlan, data: Any = None) -> Any:
    if step == "what-matters":
        return WhatMattersForm(data, initial={"what_matters": plan.what_matters})
    if step == "if-things-go-wrong":
        return ContingencyForm(
            data,
            initial={
                "if_support_fails": plan.if_support_fails,
                "carer_emergency": plan.carer_emergency,
            },
        )
    return ReviewsForm(
        data,
        initial={
            "first_review_on": plan.first_review_on,
            "review_every_months": plan.review_every_months,
        },
    )


def _parts(step: str, plan: SupportPlan) -> list[Any]:
    if step == "outcomes":
        return list(plan.outcomes.all())
    if step == "support":
        return list(plan.items.select_related("carer").prefetch_related("outcomes"))
    if step == "risks":
        return list(plan.risks.all())
    return list(plan.circle.all())


def plan_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    if step not in STEP_BY_SLUG:
        raise Http404
    try:
        plan = _editable(request, pk, what="support plan")
    except Conflict as error:
        return _conflict(request, pk, error)
    current = STEP_BY_SLUG[step]
    if step == "money":
        return _money_step(request, plan, current)
    if step in PART_MODELS:
        return _list_step(request, plan, current)
    form = _single_form(step, plan, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_update(plan=plan, updated_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except Conflict as error:
            return _conflict(request, plan.pk, error)
        else:
            messages.success(request, f"{current.title}: saved.")
            return redirect(_next_url(plan, current))
    context = _step_context(request, plan, current)
    context["form"] = form
    return render(request, "plans/write/single.html", context)


def _list_step(request: HttpRequest, plan: SupportPlan, step: Step) -> HttpResponse:
    """A step that is a list of parts: the list, and a form to add one."""
    form = _part_form(step.slug, plan, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            _part_save(step.slug, plan, request.user, form, None)
        except ValidationError as error:
            add_service_errors(form, error)
        except Conflict as error:
            return _conflict(request, plan.pk, error)
        else:
            messages.success(request, f"The {PART_NAMES[step.slug]} has been added.")
            return redirect("plans:plan_step", plan.pk, step.slug)
    context = _step_context(request, plan, step)
    context.update(
        {"form": form, "parts": _parts(step.slug, plan), "life_areas": dict(LifeArea.choices)}
    )
    return render(request, "plans/write/parts.html", context)


def _money_step(request: HttpRequest, plan: SupportPlan, step: Step) -> HttpResponse:
    arranged = {m.stream: m for m in plan.money.all()}
    paid = services.plan_pence_by_stream(plan)
    labels = dict(FundingStream.choices)
    streams = sorted(
        set(plan.budget.contributions.values_list("stream", flat=True)) | set(paid) | set(arranged)
    )
    context = _step_context(request, plan, step)
    context["streams"] = [
        {
            "stream": s,
            "label": labels.get(s, s),
            "arrangement": arranged.get(s),
            "plan_pence": paid.get(s, 0),
        }
        for s in streams
    ]
    return render(request, "plans/write/money.html", context)


def plan_money(request: HttpRequest, pk: int, stream: str) -> HttpResponse:
    """How one funding stream's money is managed."""
    if stream not in FundingStream.values:
        raise Http404
    try:
        plan = _editable(request, pk, what="support plan")
    except Conflict as error:
        return _conflict(request, pk, error)
    heading = f"How the {FundingStream(stream).label} money is managed"
    current = plan.money.filter(stream=stream).first()
    initial = (
        {"management_option": current.management_option, "managed_by": current.managed_by}
        if current
        else None
    )
    form = MoneyForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.money_save(
                plan=plan, saved_by=request.user, stream=stream, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except Conflict as error:
            return _conflict(request, plan.pk, error)
        else:
            messages.success(request, f"{heading}: saved.")
            return redirect("plans:plan_step", plan.pk, "money")
    context = _step_context(request, plan, STEP_BY_SLUG["money"])
    context.update({"form": form, "heading": heading})
    return render(request, "plans/write/single.html", context)


def _part(plan: SupportPlan, step: str, part_pk: int) -> Any:
    model = PART_MODELS.get(step)
    if model is None:
        raise Http404
    return get_object_or_404(model, plan=plan, pk=part_pk)


def plan_part(request: HttpRequest, pk: int, step: str, part_pk: int) -> HttpResponse:
    """Change one outcome, item, risk or person."""
    if step not in PART_MODELS or step == "money":
        raise Http404
    try:
        plan = _editable(request, pk, what="support plan")
    except Conflict as error:
        return _conflict(request, pk, error)
    part = _part(plan, step, part_pk)
    if request.method == "POST":
        form = _part_form(step, plan, request.POST)
        if form.is_valid():
            try:
                _part_save(step, plan, request.user, form, part)
            except ValidationError as error:
                add_service_errors(form, error)
            except Conflict as error:
                return _conflict(request, plan.pk, error)
            else:
                messages.success(request, f"The {PART_NAMES[step]} has been changed.")
                return redirect("plans:plan_step", plan.pk, step)
    else:
        form = _part_form(step, plan, initial=_part_initial(step, part))
    context = _step_context(request, plan, STEP_BY_SLUG[step])
    context.update({"form": form, "part": part})
    return render(request, "plans/write/part_change.html", context)


def plan_part_remove(request: HttpRequest, pk: int, step: str, part_pk: int) -> HttpResponse:
    try:
        plan = _editable(request, pk, what="support plan")
    except Conflict as error:
        return _conflict(request, pk, error)
    part = _part(plan, step, part_pk)
    form = RemoveForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.part_remove(plan=plan, removed_by=request.user, part=part)
        except Conflict as error:
            return _conflict(request, plan.pk, error)
        messages.success(request, f"The {PART_NAMES[step]} has been removed.")
        return redirect("plans:plan_step", plan.pk, step)
    context = _step_context(request, plan, STEP_BY_SLUG[step])
    context.update({"part": part, "part_name": PART_NAMES[step], "remove_form": form})
    return render(request, "plans/write/remove.html", context)


def plan_submit(request: HttpRequest, pk: int) -> HttpResponse:
    """Check your answers and send the plan for approval."""
    try:
        plan = _editable(request, pk, what="support plan")
    except Conflict as error:
        return _conflict(request, pk, error)
    holder_side = permissions.is_holder_side(request.user, plan.holder)
    form = SubmitForm(request.POST if request.method == "POST" else None, holder_side=holder_side)
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_submit(plan=plan, submitted_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except Conflict as error:
            return _conflict(request, plan.pk, error)
        else:
            messages.success(
                request,
                "The plan has been sent for approval. A clinician will look at it next.",
            )
            return redirect("plans:plan_detail", plan.pk)
    return render(
        request,
        "plans/write/check.html",
        {
            "plan": plan,
            "form": form,
            "holder_side": holder_side,
            "document": plan_document(plan),
            "rows": step_statuses(plan),
            "is_self": _is_self(request, plan.holder),
            "section_steps": {
                "summary": "reviews",
                "what_matters": "what-matters",
                "outcomes": "outcomes",
                "items": "support",
                "money": "money",
                "risks": "risks",
                "contingency": "if-things-go-wrong",
                "circle": "circle",
            },
        },
    )


# Print, PDF and comparing versions --------------------------------------------------------------


def plan_print(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk, what="support plan print")
    return render(
        request,
        "plans/plan_print.html",
        {"plan": plan, "document": plan_document(plan), "printed_on": timezone.localdate()},
    )


def plan_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk, what="support plan PDF")
    body = document_pdf(plan_document(plan))
    name = slugify(plan.holder.name) or "person"
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="support-plan-{name}-version-{plan.version}.pdf"'
    )
    return response


def plan_compare(request: HttpRequest, pk: int) -> HttpResponse:
    """Two versions of the same budget's plan side by side. ``old`` and ``new`` are
    plan ids; by default this version against the one it revises (or the one before)."""
    plan = _plan(request, pk, what="support plan comparison")
    versions = list(
        SupportPlan.objects.for_user(request.user)
        .filter(budget_id=plan.budget_id)
        .select_related("holder")
        .order_by("-version")
    )
    by_pk = {v.pk: v for v in versions}
    earlier = plan.revises_id or next((v.pk for v in versions if v.version < plan.version), None)
    defaults = {"old": earlier or plan.pk, "new": plan.pk}
    data = request.GET if "old" in request.GET or "new" in request.GET else None
    form = CompareForm(data, versions=versions, initial=defaults)
    changes = None
    old = new = None
    if len(versions) > 1 and (data is None or form.is_valid()):
        chosen = form.cleaned_data if data is not None else defaults
        old, new = by_pk[chosen["old"]], by_pk[chosen["new"]]
        if old.version > new.version:
            old, new = new, old
        changes = compare(plan_document(old), plan_document(new))
    only_changes = bool(data is not None and form.is_valid() and form.cleaned_data["only_changes"])
    return render(
        request,
        "plans/plan_compare.html",
        {
            "plan": plan,
            "form": form if data is not None else CompareForm(versions=versions, initial=defaults),
            "versions": versions,
            "old": old,
            "new": new,
            "changes": changes,
            "only_changes": only_changes,
        },
    )


urlpatterns = [
    path("plans/", plan_list, name="plan_list"),
    path("plans/start/<int:budget_pk>/", plan_start, name="plan_start"),
    path("plans/<int:pk>/", plan_detail, name="plan_detail"),
    path("plans/<int:pk>/comment/", plan_comment, name="plan_comment"),
    path("plans/<int:pk>/write/", plan_tasks, name="plan_tasks"),
    path("plans/<int:pk>/write/check/", plan_submit, name="plan_submit"),
    path("plans/<int:pk>/write/money/<slug:stream>/", plan_money, name="plan_money"),
    path("plans/<int:pk>/write/<slug:step>/", plan_step, name="plan_step"),
    path("plans/<int:pk>/write/<slug:step>/<int:part_pk>/", plan_part, name="plan_part"),
    path(
        "plans/<int:pk>/write/<slug:step>/<int:part_pk>/remove/",
        plan_part_remove,
        name="plan_part_remove",
    ),
    path("plans/<int:pk>/print/", plan_print, name="plan_print"),
    path("plans/<int:pk>/plan.pdf", plan_pdf, name="plan_pdf"),
    path("plans/<int:pk>/compare/", plan_compare, name="plan_compare"),
]
