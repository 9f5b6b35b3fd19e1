"""The staff plan pages (plans/views/staff.py): the queues, sign-off, reviews and ending a
plan, tried by the staff who may use them, a colleague without the role, and a stranger
(the clinician at South ICB); and the plan sections on the budget and holder pages."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from budgets.models import Budget, BudgetHolder, BudgetNotice
from core.models import AuditEvent, Notification
from plans import services
from plans.models import PlanApproval, PlanReview, PlanSettings, SupportPlan
from tests.conftest import staff_user
from tests.factories import MembershipFactory, OrganisationFactory
from tests.plans.conftest import PlanWorld, fill_plan
from users.models import Organisation, Role

pytestmark = pytest.mark.django_db


def _messages(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _draft(pw: PlanWorld, *, weekly_pence: int = 250_00) -> SupportPlan:
    holder = pw.world.holder_a
    plan = services.plan_start(budget=pw.world.budget_a, started_by=holder.user)
    return fill_plan(plan, holder.user, weekly_pence=weekly_pence)


def _submitted(pw: PlanWorld, *, weekly_pence: int = 250_00) -> SupportPlan:
    """Holder A's plan sent for approval; £250 a week is the £13,000 budget exactly."""
    plan = _draft(pw, weekly_pence=weekly_pence)
    return services.plan_submit(plan=plan, submitted_by=pw.world.holder_a.user, agree=True)


def _active(pw: PlanWorld) -> SupportPlan:
    plan = _submitted(pw)
    return services.plan_approve(plan=plan, approved_by=pw.clinician, step="clinician")


def _date_fields(day: datetime.date, name: str = "held_on") -> dict[str, str]:
    return {f"{name}_0": str(day.day), f"{name}_1": str(day.month), f"{name}_2": str(day.year)}


# The queue page ----------------------------------------------------------------------------


def test_the_queue_shows_a_clinician_the_plans_waiting_for_their_approval(pw, client_for):
    plan = _submitted(pw)
    response = client_for(pw.clinician).get(reverse("plans:queue"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Waiting for a clinician (1)" in html
    assert "Alex Holder" in html
    assert reverse("plans:plan_signoff", args=[plan.pk]) in html
    assert "Today" in html  # sent today: no days waiting yet
    # A clinician has no planner's or commissioner's queue.
    assert "Plans being written" not in html
    assert "Waiting for a commissioner" not in html


def test_the_queue_shows_a_planner_drafts_and_reviews_due(pw, client_for):
    draft = _draft(pw)
    response = client_for(pw.planner).get(reverse("plans:queue"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Plans being written (1)" in html
    assert reverse("plans:plan_detail", args=[draft.pk]) in html
    assert "Reviews due in the next 4 weeks or overdue (0)" in html


def test_the_queue_shows_a_commissioner_only_plans_needing_a_commissioner(pw, client_for):
    _submitted(pw)  # £13,000 is under the default £50,000 threshold
    html = client_for(pw.commissioner).get(reverse("plans:queue")).content.decode()
    assert "Waiting for a commissioner (0)" in html
    assert "Alex Holder" not in html


def test_the_queue_shows_a_clinician_elsewhere_nothing_of_ours(pw, client_for):
    _submitted(pw)
    response = client_for(pw.clinician_y).get(reverse("plans:queue"))
    assert response.status_code == 200
    assert "Alex Holder" not in response.content.decode()


@pytest.mark.parametrize("who", ["staff_x", "finance_officer"])
def test_the_queue_refuses_staff_without_a_plan_role(pw, client_for, who):
    response = client_for(getattr(pw.world, who)).get(reverse("plans:queue"))
    assert response.status_code == 403


def test_the_queue_refuses_a_holder(pw, client_for):
    response = client_for(pw.world.holder_a.user).get(reverse("plans:queue"))
    assert response.status_code == 403


def test_staff_with_a_plan_role_get_the_plans_waiting_link(pw, client_for):
    html = client_for(pw.clinician).get(reverse("home")).content.decode()
    assert reverse("plans:queue") in html
    assert "Plans waiting" in html
    other = client_for(pw.world.finance_officer).get(reverse("home")).content.decode()
    assert "Plans waiting" not in other


# Sign-off --------------------------------------------------------------------------------


def test_the_sign_off_page_shows_the_plan_its_cost_and_history_and_is_audited(pw, client_for):
    plan = _submitted(pw)
    response = client_for(pw.clinician).get(reverse("plans:plan_signoff", args=[plan.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Walk to the park on my own" in html  # the plan document
    assert "£13,000.00" in html  # budget and plan, a year
    assert "Exactly the budget" in html
    assert "Agreed by the person" in html  # the sign-off history
    assert "Approve the plan" in html
    assert "Request changes" in html
    assert "reduction_reasons" not in html  # no reduction: the plan uses all the budget
    assert AuditEvent.objects.filter(
        action="personal_record.viewed", actor=pw.clinician, person=pw.world.holder_a
    ).exists()


def test_the_sign_off_page_is_a_404_to_a_clinician_elsewhere(pw, client_for):
    plan = _submitted(pw)
    response = client_for(pw.clinician_y).get(reverse("plans:plan_signoff", args=[plan.pk]))
    assert response.status_code == 404


def test_the_sign_off_page_refuses_a_planner(pw, client_for):
    plan = _submitted(pw)
    response = client_for(pw.planner).get(reverse("plans:plan_signoff", args=[plan.pk]))
    assert response.status_code == 403


def test_a_clinician_approves_and_the_plan_becomes_active(pw, client_for):
    plan = _submitted(pw)
    response = client_for(pw.clinician).post(
        reverse("plans:plan_approve", args=[plan.pk]), {"approve-step": "clinician"}
    )
    assert response.status_code == 302
    assert response.url == reverse("plans:queue")
    plan.refresh_from_db()
    assert plan.state == SupportPlan.State.ACTIVE
    assert plan.clinician_approved_by == pw.clinician
    assert any("approved and in place" in m for m in _messages(response))


def test_a_clinician_cannot_approve_as_the_commissioner(pw, client_for):
    plan = _submitted(pw)
    response = client_for(pw.clinician).post(
        reverse("plans:plan_approve", args=[plan.pk]), {"approve-step": "commissioner"}
    )
    assert response.status_code == 200
    assert "Choose whether you approve as the clinician" in response.content.decode()
    plan.refresh_from_db()
    assert plan.state == SupportPlan.State.SUBMITTED


def test_approving_a_plan_that_reduces_the_budget_explains_and_asks_for_reasons(pw, client_for):
    plan = _submitted(pw, weekly_pence=100_00)  # £5,200 of the £13,000 budget
    client = client_for(pw.clinician)
    page = client.get(reverse("plans:plan_signoff", args=[plan.pk])).content.decode()
    assert "Approving reduces the budget" in page
    assert "from £13,000.00 to £5,200.00 a year, £7,800.00 less" in page
    assert 'name="approve-reduction_reasons"' in page

    response = client.post(
        reverse("plans:plan_approve", args=[plan.pk]), {"approve-step": "clinician"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Error: " in html
    assert "Give the reasons for reducing the budget" in html
    plan.refresh_from_db()
    assert plan.state == SupportPlan.State.SUBMITTED
    assert plan.clinician_approved_at is None
    assert not PlanApproval.objects.filter(plan=plan, step=PlanApproval.Step.CLINICIAN).exists()

    response = client.post(
        reverse("plans:plan_approve", args=[plan.pk]),
        {"approve-step": "clinician", "approve-reduction_reasons": "Fewer hours are needed."},
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.state == SupportPlan.State.ACTIVE
    assert pw.world.budget_a.contributions.get().yearly_pence == 5_200_00
    assert BudgetNotice.objects.filter(budget=pw.world.budget_a).exists()


def test_an_indicative_budget_is_set_from_the_plan_without_reduction_reasons(pw, client_for):
    Budget.objects.filter(pk=pw.world.budget_a.pk).update(state=Budget.State.INDICATIVE)
    plan = _submitted(pw, weekly_pence=100_00)
    page = client_for(pw.clinician).get(reverse("plans:plan_signoff", args=[plan.pk]))
    assert "Approving reduces the budget" not in page.content.decode()


def test_a_commissioner_approval_is_needed_over_the_threshold(pw, client_for):
    PlanSettings.objects.create(organisation=pw.world.org_x, commissioner_over_pence=10_000_00)
    plan = _submitted(pw)
    assert plan.needs_commissioner
    client_for(pw.clinician).post(
        reverse("plans:plan_approve", args=[plan.pk]), {"approve-step": "clinician"}
    )
    plan.refresh_from_db()
    assert plan.state == SupportPlan.State.SUBMITTED
    queue = client_for(pw.commissioner).get(reverse("plans:queue")).content.decode()
    assert "Waiting for a commissioner (1)" in queue
    clinician_queue = client_for(pw.clinician).get(reverse("plans:queue")).content.decode()
    assert "Waiting for a clinician (0)" in clinician_queue

    response = client_for(pw.commissioner).post(
        reverse("plans:plan_approve", args=[plan.pk]), {"approve-step": "commissioner"}
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.state == SupportPlan.State.ACTIVE


def test_approving_a_plan_no_longer_waiting_shows_the_conflict(pw, client_for):
    plan = _active(pw)
    response = client_for(pw.clinician).post(
        reverse("plans:plan_approve", args=[plan.pk]), {"approve-step": "clinician"}
    )
    assert response.status_code == 302
    assert response.url == reverse("plans:plan_signoff", args=[plan.pk])
    conflict = "Nothing was changed. A plan that is active"
    assert any(m.startswith(conflict) for m in _messages(response))
    assert PlanApproval.objects.filter(plan=plan, step=PlanApproval.Step.CLINICIAN).count() == 1


def test_a_clinician_who_sent_the_plan_is_told_someone_else_must_approve(pw, client_for):
    """The planner, also a clinician at the person's council, submits for the person:
    they may not approve it too."""
    council = OrganisationFactory(name="North Council", kind=Organisation.Kind.LOCAL_AUTHORITY)
    BudgetHolder.objects.filter(pk=pw.world.holder_a.pk).update(council=council)
    planner_clinician = pw.planner
    MembershipFactory(user=planner_clinician, organisation=council, role=Role.CLINICIAN)
    plan = _draft(pw)
    plan = services.plan_submit(
        plan=plan, submitted_by=planner_clinician, agreed_in_person="At home on Monday."
    )
    client = client_for(planner_clinician)
    page = client.get(reverse("plans:plan_signoff", args=[plan.pk])).content.decode()
    assert "You sent this plan for approval: someone else must approve it." in page
    assert "Approve the plan</button>" not in page
    response = client.post(
        reverse("plans:plan_approve", args=[plan.pk]), {"approve-step": "clinician"}
    )
    assert response.status_code == 302
    assert (
        "Nothing was changed. You sent this plan for approval: someone else must approve it."
        in (_messages(response))
    )
    plan.refresh_from_db()
    assert plan.clinician_approved_at is None


def test_the_approve_post_is_a_404_to_a_clinician_elsewhere(pw, client_for):
    plan = _submitted(pw)
    response = client_for(pw.clinician_y).post(
        reverse("plans:plan_approve", args=[plan.pk]), {"approve-step": "clinician"}
    )
    assert response.status_code == 404
    plan.refresh_from_db()
    assert plan.state == SupportPlan.State.SUBMITTED


def test_a_clinician_requests_changes_and_the_holder_is_told(pw, client_for):
    plan = _submitted(pw)
    response = client_for(pw.clinician).post(
        reverse("plans:plan_request_changes", args=[plan.pk]),
        {"changes-what_and_why": "Add how Sam is covered when on holiday."},
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.state == SupportPlan.State.CHANGES_REQUESTED
    assert plan.changes_requested == "Add how Sam is covered when on holiday."
    assert Notification.objects.filter(
        user=pw.world.holder_a.user, body__contains="Add how Sam is covered"
    ).exists()


def test_requesting_changes_without_saying_what_changes_nothing(pw, client_for):
    plan = _submitted(pw)
    response = client_for(pw.clinician).post(
        reverse("plans:plan_request_changes", args=[plan.pk]), {"changes-what_and_why": "  "}
    )
    assert response.status_code == 200
    assert "Say what needs to change, and why" in response.content.decode()
    plan.refresh_from_db()
    assert plan.state == SupportPlan.State.SUBMITTED


def test_requesting_changes_to_a_draft_shows_the_conflict(pw, client_for):
    plan = _draft(pw)
    response = client_for(pw.clinician).post(
        reverse("plans:plan_request_changes", args=[plan.pk]),
        {"changes-what_and_why": "More detail, please."},
    )
    assert response.status_code == 302
    assert any(m.startswith("Nothing was changed.") for m in _messages(response))
    plan.refresh_from_db()
    assert plan.state == SupportPlan.State.DRAFT


def test_a_planner_cannot_request_changes(pw, client_for):
    plan = _submitted(pw)
    response = client_for(pw.planner).post(
        reverse("plans:plan_request_changes", args=[plan.pk]),
        {"changes-what_and_why": "More detail, please."},
    )
    assert response.status_code == 403
    plan.refresh_from_db()
    assert plan.state == SupportPlan.State.SUBMITTED


# Reviews -----------------------------------------------------------------------------------


def _review_post(plan: SupportPlan, *, changes: str = "no", **extra: str) -> dict[str, str]:
    outcome = plan.outcomes.get()
    return {
        f"progress_{outcome.pk}": "progressing",
        f"note_{outcome.pk}": "Twice last month.",
        "what_is_working": "Sam",
        "what_is_not_working": "Rainy days",
        "plan_changes": changes,
        **_date_fields(timezone.localdate()),
        **extra,
    }


def test_a_planner_records_a_review_of_an_active_plan(pw, client_for):
    plan = _active(pw)
    client = client_for(pw.planner)
    page = client.get(reverse("plans:plan_review", args=[plan.pk]))
    assert page.status_code == 200
    assert "Walk to the park on my own" in page.content.decode()
    assert "Record the review" in page.content.decode()
    response = client.post(reverse("plans:plan_review", args=[plan.pk]), _review_post(plan))
    assert response.status_code == 302
    assert response.url == reverse("budgets:holder_detail", args=[plan.holder_id])
    review = PlanReview.objects.get(plan=plan)
    assert review.what_is_working == "Sam"
    assert review.progress.get().progress == "progressing"
    assert review.new_version is None


def test_a_review_that_changes_the_plan_goes_to_the_new_draft(pw, client_for):
    plan = _active(pw)
    response = client_for(pw.clinician).post(
        reverse("plans:plan_review", args=[plan.pk]), _review_post(plan, changes="yes")
    )
    review = PlanReview.objects.get(plan=plan)
    assert review.new_version is not None
    assert review.new_version.state == SupportPlan.State.DRAFT
    assert response.url == reverse("plans:plan_detail", args=[review.new_version.pk])


def test_a_review_without_progress_on_each_outcome_changes_nothing(pw, client_for):
    plan = _active(pw)
    data = _review_post(plan)
    del data[f"progress_{plan.outcomes.get().pk}"]
    response = client_for(pw.planner).post(reverse("plans:plan_review", args=[plan.pk]), data)
    assert response.status_code == 200
    assert "Choose how it is going with" in response.content.decode()
    assert not PlanReview.objects.exists()


def test_a_review_in_the_future_changes_nothing(pw, client_for):
    plan = _active(pw)
    data = _review_post(plan, **_date_fields(timezone.localdate() + datetime.timedelta(days=3)))
    response = client_for(pw.planner).post(reverse("plans:plan_review", args=[plan.pk]), data)
    assert response.status_code == 200
    assert "Date of the review must be in the past" in response.content.decode()
    assert not PlanReview.objects.exists()


def test_reviewing_a_plan_that_is_not_active_shows_the_conflict(pw, client_for):
    plan = _submitted(pw)
    client = client_for(pw.planner)
    page = client.get(reverse("plans:plan_review", args=[plan.pk])).content.decode()
    assert "Only an active plan can be reviewed" in page
    response = client.post(reverse("plans:plan_review", args=[plan.pk]), _review_post(plan))
    assert response.status_code == 302
    assert "Nothing was changed. Only an active plan can be reviewed." in _messages(response)
    assert not PlanReview.objects.exists()


def test_the_review_page_refuses_a_commissioner_and_a_clinician_elsewhere(pw, client_for):
    plan = _active(pw)
    url = reverse("plans:plan_review", args=[plan.pk])
    assert client_for(pw.commissioner).get(url).status_code == 403
    assert client_for(pw.clinician_y).get(url).status_code == 404
    assert client_for(pw.clinician_y).post(url, _review_post(plan)).status_code == 404
    assert not PlanReview.objects.exists()


def test_reviews_due_show_in_the_planners_queue(pw, client_for):
    plan = _active(pw)
    SupportPlan.objects.filter(pk=plan.pk).update(
        next_review_on=timezone.localdate() - datetime.timedelta(days=3)
    )
    html = client_for(pw.planner).get(reverse("plans:queue")).content.decode()
    assert "Reviews due in the next 4 weeks or overdue (1)" in html
    assert "Overdue by 3 days" in html
    assert reverse("plans:plan_review", args=[plan.pk]) in html


# Ending a plan -----------------------------------------------------------------------------


def test_a_planner_ends_a_draft_with_a_reason(pw, client_for):
    plan = _draft(pw)
    client = client_for(pw.planner)
    assert client.get(reverse("plans:plan_end", args=[plan.pk])).status_code == 200
    response = client.post(
        reverse("plans:plan_end", args=[plan.pk]), {"reason": "Alex has moved to Wales."}
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.state == SupportPlan.State.ENDED
    event = AuditEvent.objects.get(action="plan.ended")
    assert event.changes["reason"] == "Alex has moved to Wales."


def test_ending_a_plan_without_a_reason_changes_nothing(pw, client_for):
    plan = _active(pw)
    response = client_for(pw.commissioner).post(
        reverse("plans:plan_end", args=[plan.pk]), {"reason": ""}
    )
    assert response.status_code == 200
    assert "Give the reason for ending the plan" in response.content.decode()
    plan.refresh_from_db()
    assert plan.state == SupportPlan.State.ACTIVE


def test_ending_a_plan_waiting_for_approval_shows_the_conflict(pw, client_for):
    plan = _submitted(pw)
    client = client_for(pw.clinician)
    page = client.get(reverse("plans:plan_end", args=[plan.pk])).content.decode()
    assert "cannot be ended" in page
    response = client.post(reverse("plans:plan_end", args=[plan.pk]), {"reason": "No longer"})
    assert response.status_code == 302
    conflict = "Nothing was changed. A plan that is waiting"
    assert any(m.startswith(conflict) for m in _messages(response))
    plan.refresh_from_db()
    assert plan.state == SupportPlan.State.SUBMITTED


def test_a_planner_may_not_end_an_active_plan(pw, client_for):
    plan = _active(pw)
    url = reverse("plans:plan_end", args=[plan.pk])
    assert client_for(pw.planner).get(url).status_code == 403
    assert client_for(pw.planner).post(url, {"reason": "x"}).status_code == 403
    plan.refresh_from_db()
    assert plan.state == SupportPlan.State.ACTIVE


def test_ending_a_plan_is_refused_to_finance_and_a_clinician_elsewhere(pw, client_for):
    plan = _active(pw)
    url = reverse("plans:plan_end", args=[plan.pk])
    assert client_for(pw.world.finance_officer).post(url, {"reason": "x"}).status_code == 403
    assert client_for(pw.clinician_y).post(url, {"reason": "x"}).status_code == 404
    plan.refresh_from_db()
    assert plan.state == SupportPlan.State.ACTIVE


# The budget and holder pages ---------------------------------------------------------------


def test_the_budget_page_shows_the_plan_cost_against_the_budget(pw, client_for):
    plan = _submitted(pw, weekly_pence=100_00)
    services.plan_approve(
        plan=plan, approved_by=pw.clinician, step="clinician", reduction_reasons="Fewer hours."
    )
    # A new version in the making, from the active one.
    services.plan_start(budget=pw.world.budget_a, started_by=pw.planner)
    response = client_for(pw.world.holder_a.user).get(
        reverse("budgets:budget_detail", args=[pw.world.budget_a.pk])
    )
    html = response.content.decode()
    assert "Your support plan" in html
    assert "The plan costs a year" in html
    assert "£5,200.00" in html
    assert "The plan uses all of the budget" in html  # the budget was set from the plan
    assert "Version 2 of your plan is being written" in html
    assert reverse("plans:plan_detail", args=[plan.pk]) in html


def test_the_budget_page_says_when_there_is_no_plan(pw, client_for):
    response = client_for(pw.world.finance_officer).get(
        reverse("budgets:budget_detail", args=[pw.world.budget_a.pk])
    )
    assert "This budget has no support plan yet." in response.content.decode()


def test_the_holder_record_shows_each_budgets_plan_and_next_review(pw, client_for):
    plan = _active(pw)
    html = (
        client_for(pw.planner)
        .get(reverse("budgets:holder_detail", args=[pw.world.holder_a.pk]))
        .content.decode()
    )
    assert "Version 1, active, £13,000.00 a year" in html
    assert f"{plan.next_review_on:%-d %B %Y}" in html
    assert reverse("plans:plan_review", args=[plan.pk]) in html
    assert reverse("plans:plan_end", args=[plan.pk]) not in html  # active: signers only
    assert reverse("plans:plan_signoff", args=[plan.pk]) not in html
    commissioner = (
        client_for(pw.commissioner)
        .get(reverse("budgets:holder_detail", args=[pw.world.holder_a.pk]))
        .content.decode()
    )
    assert reverse("plans:plan_end", args=[plan.pk]) in commissioner


def test_the_holder_record_offers_sign_off_to_a_clinician(pw, client_for):
    staff_user(pw.world.org_x, Role.CARE_COORDINATOR)
    plan = _submitted(pw)
    html = (
        client_for(pw.clinician)
        .get(reverse("budgets:holder_detail", args=[pw.world.holder_a.pk]))
        .content.decode()
    )
    assert "Version 1: waiting for approval" in html
    assert reverse("plans:plan_signoff", args=[plan.pk]) in html
