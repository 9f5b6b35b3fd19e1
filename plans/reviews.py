"""The daily plan sweep: reminders before a review falls due, an overdue flag after it,
and a flag for spending that matches no item of the active plan. Flags are raised
set-based, like the budget monitoring sweep; reminders are one per plan and due date
(``ReviewReminder``), so a re-run or a second beat never sends one twice."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from budgets import services as budget_services
from core.locks import sweep_lock
from plans import services as plan_services
from plans.models import PlanSettings, ReviewReminder, SupportPlan
from users.models import Role

REMINDER_DAYS_DEFAULT = PlanSettings._meta.get_field("reminder_days").default

REVIEW_OVERDUE_SQL = """
INSERT INTO budgets_monitoringflag (budget_id, kind, state, details, raised_at, note)
SELECT p.budget_id, 'review_overdue', 'open',
       jsonb_build_object('plan', p.id, 'version', p.version,
                          'due_on', p.next_review_on::text),
       now(), ''
  FROM plans_supportplan AS p
 WHERE p.state = 'active' AND p.next_review_on < %(today)s::date
ON CONFLICT DO NOTHING
"""

# Spending since the plan came into force that is linked to no plan item (and was not
# refunded in full). Each flag records the last spend it covers, so once staff resolve
# it the same spends never raise it again: only later unlinked spends do. While a flag
# is open, later spends wait for it (one unresolved flag per budget and kind).
OUTSIDE_PLAN_SQL = """
INSERT INTO budgets_monitoringflag (budget_id, kind, state, details, raised_at, note)
SELECT p.budget_id, 'outside_plan', 'open',
       jsonb_build_object('plan', p.id, 'spends', unmatched.ids,
                          'amount_pence', unmatched.pence, 'last_spend', unmatched.last),
       now(), ''
  FROM plans_supportplan AS p
 CROSS JOIN LATERAL (
     SELECT coalesce(max((f.details ->> 'last_spend')::bigint), 0) AS covered
       FROM budgets_monitoringflag AS f
      WHERE f.budget_id = p.budget_id AND f.kind = 'outside_plan'
 ) AS earlier
 CROSS JOIN LATERAL (
     SELECT array_agg(s.id ORDER BY s.id) AS ids, sum(s.amount_pence) AS pence,
            max(s.id) AS last
       FROM budgets_spend AS s
      WHERE s.budget_id = p.budget_id AND s.plan_item_id IS NULL
        AND s.recorded_at >= p.active_from AND s.id > earlier.covered
        AND s.refunded_pence < s.amount_pence
 ) AS unmatched
 WHERE p.state = 'active' AND unmatched.ids IS NOT NULL
ON CONFLICT DO NOTHING
"""


def _remind(plan: SupportPlan) -> None:
    due = f"{plan.next_review_on:%-d %B %Y}"
    link = reverse("plans:plan_detail", args=[plan.pk])
    budget_services.holder_notify(
        plan.holder,
        subject="Your support plan review is coming up",
        body=f"Your plan is due for review by {due}. Think about what is working, what is "
        "not, and what you would like to change.",
        link=link,
    )
    holder = plan.holder
    plan_services.staff_notify(
        plan,
        [Role.SUPPORT_PLANNER, Role.CARE_COORDINATOR],
        f"Review due for {holder.name}",
        f"{holder.name}'s support plan is due for review by {due}.",
    )


def review_sweep(*, today: datetime.date | None = None) -> dict[str, Any] | None:
    """Send the reminders that are due, raise overdue and outside-plan flags. Returns
    what it did, or None if another sweep is running."""
    today = today or timezone.localdate()
    with sweep_lock("plans.review_sweep") as acquired:
        if not acquired:
            return None
        reminder_days = dict(PlanSettings.objects.values_list("organisation_id", "reminder_days"))
        horizon = today + datetime.timedelta(
            days=max([REMINDER_DAYS_DEFAULT, *reminder_days.values()])
        )
        reminded = 0
        due_soon = (
            SupportPlan.objects.filter(
                state=SupportPlan.State.ACTIVE,
                next_review_on__gte=today,
                next_review_on__lte=horizon,
            )
            .select_related("holder")
            .order_by("next_review_on", "pk")
        )
        for plan in due_soon:
            days = reminder_days.get(plan.holder.organisation_id, REMINDER_DAYS_DEFAULT)
            due_on: datetime.date = plan.next_review_on  # type: ignore[assignment]
            if due_on - datetime.timedelta(days=days) > today:
                continue
            with transaction.atomic():
                _, created = ReviewReminder.objects.get_or_create(
                    plan=plan, due_on=plan.next_review_on
                )
                if created:
                    _remind(plan)
                    reminded += 1
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(REVIEW_OVERDUE_SQL, {"today": today})
            overdue = cursor.rowcount
            cursor.execute(OUTSIDE_PLAN_SQL)
            outside = cursor.rowcount
    return {"reminded": reminded, "review_overdue": overdue, "outside_plan": outside}
