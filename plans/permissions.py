"""Who may do what with a support plan. Records are first narrowed by
``SupportPlan.objects.for_user``; these answer which actions a person may take."""

from __future__ import annotations

from typing import Any

from budgets.models import BudgetHolder
from budgets.permissions import represents_with
from budgets.permissions import roles_for_holder as roles_for
from plans.models import SupportPlan
from users.models import Representation, Role


def is_holder_side(user: Any, holder: BudgetHolder) -> bool:
    """The holder, or a representative with the plan scope: the person's own voice."""
    if not getattr(user, "is_authenticated", False):
        return False
    if holder.user_id is not None and holder.user_id == user.pk:
        return True
    return represents_with(user, holder, Representation.Scope.MANAGE_PLAN)


def is_planner_for(user: Any, holder: BudgetHolder) -> bool:
    return Role.SUPPORT_PLANNER in roles_for(user, holder)


def can_write(user: Any, holder: BudgetHolder) -> bool:
    """Start and edit a plan: the holder, a representative with plan scope, a planner."""
    return is_holder_side(user, holder) or is_planner_for(user, holder)


def can_edit(user: Any, plan: SupportPlan) -> bool:
    return plan.is_editable and can_write(user, plan.holder)


def has_sign_off_role(user: Any, plan: SupportPlan, step: str) -> bool:
    """``step`` is "clinician" or "commissioner"."""
    role = {"clinician": Role.CLINICIAN, "commissioner": Role.COMMISSIONER}.get(step)
    return role is not None and role in roles_for(user, plan.holder)


def sign_off_refused(user: Any, plan: SupportPlan, step: str) -> str:
    """Why ``user`` may not give this sign-off although they hold the role (empty if
    they may). A commissioner's sign-off is a second, independent look at a large or
    much larger plan, so one person never gives both: someone who is both a clinician
    and a commissioner gives one of the two. Nor does anyone approve a plan they sent
    for approval themselves (a planner who is also a clinician)."""
    other = "commissioner" if step == "clinician" else "clinician"
    if getattr(plan, f"{other}_approved_by_id") == getattr(user, "pk", None):
        return (
            f"You gave the {other}'s approval of this plan: a different person must give "
            f"the {step}'s."
        )
    if plan.agreed_by_id is not None and plan.agreed_by_id == getattr(user, "pk", None):
        return "You sent this plan for approval: someone else must approve it."
    return ""


def can_approve_as(user: Any, plan: SupportPlan, step: str) -> bool:
    """``step`` is "clinician" or "commissioner": the user holds that role for the
    holder and may give that sign-off on this plan (see ``sign_off_refused``)."""
    return has_sign_off_role(user, plan, step) and not sign_off_refused(user, plan, step)


def can_request_changes(user: Any, plan: SupportPlan) -> bool:
    return bool(roles_for(user, plan.holder) & {Role.CLINICIAN, Role.COMMISSIONER})


def can_end(user: Any, plan: SupportPlan) -> bool:
    """End a version: one still being written, by those who write it or sign plans
    off; an approved or active one, only by a clinician or commissioner."""
    if plan.is_editable and can_write(user, plan.holder):
        return True
    return can_request_changes(user, plan)


def can_comment(user: Any, plan: SupportPlan) -> bool:
    """Everyone who writes or signs off the plan may comment on it."""
    return can_write(user, plan.holder) or can_request_changes(user, plan)


def can_review(user: Any, holder: BudgetHolder) -> bool:
    """Record a review: the planner, a clinician or the care coordinator."""
    return bool(
        roles_for(user, holder) & {Role.SUPPORT_PLANNER, Role.CLINICIAN, Role.CARE_COORDINATOR}
    )
