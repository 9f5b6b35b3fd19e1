"""The holder-side plan pages: the list of plans, starting one, the "write your plan"
journey (task list and steps), checking and sending, the plan page and comments."""

from __future__ import annotations

import datetime
import html
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from budgets.models import FundingStream, ManagementOption
from core.models import AuditEvent
from plans import services
from plans.models import (
    CircleMember,
    LifeArea,
    MoneyArrangement,
    PlanApproval,
    PlanComment,
    PlanOutcome,
    PlanRisk,
    SupportItem,
    SupportPlan,
)
from tests.plans.conftest import PlanWorld, fill_plan
from users.models import Representation

pytestmark = pytest.mark.django_db


def _text(response: Any) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))


def _words(response: Any) -> str:
    """The page as a reader hears it: text without tags."""
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return html.unescape(re.sub(r"\s+", " ", text))


def _field_error(response: Any, field: str) -> str:
    page = html.unescape(response.content.decode())
    found = re.findall(
        rf'id="id_{field}(?:-date)?-error"[^>]*>\s*<span[^>]*>Error:\s*</span>\s*([^<]*)', page
    )
    return " ".join(s.strip() for s in found)


def _plan_scope(pw: PlanWorld) -> Any:
    rep = Representation.objects.get(representative=pw.world.representative)
    rep.scopes = [Representation.Scope.VIEW, Representation.Scope.MANAGE_PLAN]
    rep.save()
    return pw.world.representative


@pytest.fixture
def draft(pw: PlanWorld) -> SupportPlan:
    return services.plan_start(budget=pw.world.budget_a, started_by=pw.world.holder_a.user)


def step(plan: SupportPlan, slug: str) -> str:
    return reverse("plans:plan_step", args=[plan.pk, slug])


# The list of plans and starting one -----------------------------------------------------


def test_a_holder_sees_their_budget_and_can_start_a_plan(pw, client_for):
    response = client_for(pw.world.holder_a.user).get(reverse("plans:plan_list"))
    assert response.status_code == 200
    text = _text(response)
    assert "Your support plans" in text
    assert "There is no plan for this budget yet" in text
    assert reverse("plans:plan_start", args=[pw.world.budget_a.pk]) in text
    assert "Bea Holder" not in text


def test_the_list_puts_the_current_version_first(pw, client_for, draft):
    holder = pw.world.holder_a.user
    plan = fill_plan(draft, holder, weekly_pence=250_00)  # the budget's £13,000
    services.plan_submit(plan=plan, submitted_by=holder, agree=True)
    services.plan_approve(plan=plan, approved_by=pw.clinician, step="clinician")
    services.plan_start(budget=pw.world.budget_a, started_by=holder)  # version 2
    response = client_for(holder).get(reverse("plans:plan_list"))
    versions = re.findall(r">Version (\d)<span", response.content.decode())
    assert versions == ["2", "1"]
    assert "Carry on writing version 2" in _text(response)


def test_a_representative_sees_the_plans_of_the_person_they_act_for(pw, client_for, draft):
    response = client_for(pw.world.representative).get(reverse("plans:plan_list"))
    text = _text(response)
    assert "Alex Holder" in text
    assert reverse("plans:plan_detail", args=[draft.pk]) in text
    # View scope only: no starting or writing.
    assert "Carry on writing" not in text


def test_staff_open_a_persons_plans_from_their_record_and_it_is_audited(pw, client_for, draft):
    url = reverse("plans:plan_list") + f"?holder={pw.world.holder_a.pk}"
    response = client_for(pw.planner).get(url)
    assert response.status_code == 200
    assert reverse("plans:plan_detail", args=[draft.pk]) in _text(response)
    assert AuditEvent.objects.filter(
        actor=pw.planner, action="personal_record.viewed", changes__page="support plans"
    ).exists()
    assert client_for(pw.clinician_y).get(url).status_code == 404


def test_starting_a_plan_makes_a_draft_and_opens_the_task_list(pw, client_for):
    client = client_for(pw.world.holder_a.user)
    url = reverse("plans:plan_start", args=[pw.world.budget_a.pk])
    assert "Start your plan" in _text(client.get(url))
    response = client.post(url)
    plan = SupportPlan.objects.get(budget=pw.world.budget_a)
    assert response.status_code == 302
    assert response["Location"] == reverse("plans:plan_tasks", args=[plan.pk])
    assert plan.state == SupportPlan.State.DRAFT


def test_a_representative_without_plan_scope_cannot_start_a_plan(pw, client_for):
    url = reverse("plans:plan_start", args=[pw.world.budget_a.pk])
    client = client_for(pw.world.representative)
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert not SupportPlan.objects.exists()


def test_a_stranger_cannot_start_a_plan_for_someone_elses_budget(pw, client_for):
    url = reverse("plans:plan_start", args=[pw.world.budget_a.pk])
    assert client_for(pw.world.holder_b.user).post(url).status_code == 404
    assert client_for(pw.clinician_y).post(url).status_code == 404
    assert not SupportPlan.objects.exists()


# The task list ----------------------------------------------------------------------------


def test_the_task_list_shows_each_steps_status_and_problems(pw, client_for, draft):
    services.plan_update(plan=draft, updated_by=pw.world.holder_a.user, what_matters="My dog")
    response = client_for(pw.world.holder_a.user).get(reverse("plans:plan_tasks", args=[draft.pk]))
    assert response.status_code == 200
    text = _text(response)
    assert "You have completed 1 of 8 steps" in text
    assert "Add at least one outcome: something you want to achieve." in text
    assert "Say what happens if your support fails." in text
    assert text.count("Not started") == 7


@pytest.mark.parametrize("who", ["holder", "representative", "planner"])
def test_the_holder_a_representative_with_plan_scope_and_the_planner_may_write(
    pw, client_for, draft, who
):
    user = {
        "holder": pw.world.holder_a.user,
        "representative": _plan_scope(pw),
        "planner": pw.planner,
    }[who]
    assert client_for(user).get(reverse("plans:plan_tasks", args=[draft.pk])).status_code == 200
    response = client_for(user).post(step(draft, "what-matters"), {"what_matters": "Music"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.what_matters == "Music"


@pytest.mark.parametrize("who", ["view_only_representative", "clinician", "commissioner"])
def test_people_who_may_see_but_not_write_are_refused(pw, client_for, draft, who):
    user = {
        "view_only_representative": pw.world.representative,
        "clinician": pw.clinician,
        "commissioner": pw.commissioner,
    }[who]
    client = client_for(user)
    assert client.get(reverse("plans:plan_tasks", args=[draft.pk])).status_code == 403
    assert client.post(step(draft, "what-matters"), {"what_matters": "x"}).status_code == 403
    draft.refresh_from_db()
    assert draft.what_matters == ""


@pytest.mark.parametrize("name", ["plan_tasks", "plan_detail", "plan_print", "plan_compare"])
def test_strangers_get_not_found(pw, client_for, draft, name):
    url = reverse(f"plans:{name}", args=[draft.pk])
    assert client_for(pw.world.holder_b.user).get(url).status_code == 404
    assert client_for(pw.clinician_y).get(url).status_code == 404


def test_a_submitted_plan_cannot_be_written_and_says_why(pw, client_for, draft):
    holder = pw.world.holder_a.user
    plan = fill_plan(draft, holder)
    services.plan_submit(plan=plan, submitted_by=holder, agree=True)
    client = client_for(holder)
    response = client.post(step(plan, "what-matters"), {"what_matters": "Changed"})
    assert response.status_code == 302
    assert response["Location"] == reverse("plans:plan_detail", args=[plan.pk])
    assert "can no longer be changed" in _text(client.get(response["Location"]))
    plan.refresh_from_db()
    assert plan.what_matters != "Changed"


# The steps ----------------------------------------------------------------------------------


def test_what_matters_saves_and_goes_on_to_the_next_step(pw, client_for, draft):
    client = client_for(pw.world.holder_a.user)
    assert "What matters to you" in _text(client.get(step(draft, "what-matters")))
    response = client.post(step(draft, "what-matters"), {"what_matters": "My garden"})
    assert response["Location"] == step(draft, "outcomes")
    draft.refresh_from_db()
    assert draft.what_matters == "My garden"


def test_an_empty_what_matters_shows_the_error_and_saves_nothing(pw, client_for, draft):
    response = client_for(pw.world.holder_a.user).post(
        step(draft, "what-matters"), {"what_matters": "  "}
    )
    assert response.status_code == 200
    assert "There is a problem" in _text(response)
    assert _field_error(response, "what_matters") == "Say what matters to you"
    assert "<title>Error:" in response.content.decode()


def test_adding_changing_and_removing_an_outcome(pw, client_for, draft):
    client = client_for(pw.world.holder_a.user)
    by = timezone.localdate() + datetime.timedelta(days=100)
    response = client.post(
        step(draft, "outcomes"),
        {
            "goal": "Go swimming",
            "how_we_know": "Once a week",
            "by_when_0": by.day,
            "by_when_1": by.month,
            "by_when_2": by.year,
            "life_areas": [LifeArea.HEALTH, LifeArea.COMMUNITY],
        },
    )
    assert response["Location"] == step(draft, "outcomes")
    outcome = PlanOutcome.objects.get(plan=draft)
    assert (outcome.goal, outcome.by_when) == ("Go swimming", by)
    assert outcome.life_areas == [LifeArea.HEALTH, LifeArea.COMMUNITY]
    page = _text(client.get(step(draft, "outcomes")))
    assert "Go swimming" in page
    assert "Being part of the community" in page

    change = reverse("plans:plan_part", args=[draft.pk, "outcomes", outcome.pk])
    form = _text(client.get(change))
    assert 'value="Go swimming"' in form or ">Go swimming<" in form
    response = client.post(change, {"goal": "Swim twice a week", "life_areas": ["health"]})
    assert response.status_code == 302
    outcome.refresh_from_db()
    assert outcome.goal == "Swim twice a week"
    assert outcome.by_when is None

    remove = reverse("plans:plan_part_remove", args=[draft.pk, "outcomes", outcome.pk])
    assert "Remove this outcome?" in _text(client.get(remove))
    assert client.post(remove).status_code == 302
    assert not PlanOutcome.objects.filter(plan=draft).exists()


def test_an_outcome_date_in_the_past_is_refused_on_its_field(pw, client_for, draft):
    past = timezone.localdate() - datetime.timedelta(days=3)
    response = client_for(pw.world.holder_a.user).post(
        step(draft, "outcomes"),
        {
            "goal": "Go swimming",
            "by_when_0": past.day,
            "by_when_1": past.month,
            "by_when_2": past.year,
        },
    )
    assert response.status_code == 200
    assert _field_error(response, "by_when") == "The date must be today or in the future."
    assert not PlanOutcome.objects.filter(plan=draft).exists()


def test_a_support_item_is_costed_from_pounds_and_limited_to_the_budgets_funding(
    pw, client_for, draft
):
    holder = pw.world.holder_a.user
    outcome = services.outcome_save(plan=draft, saved_by=holder, goal="Get out more")
    client = client_for(holder)
    page = _text(client.get(step(draft, "support")))
    assert "NHS continuing healthcare" in page
    assert "Council adult social care" not in page  # not one of this budget's streams
    data = {
        "description": "Personal assistant",
        "provider_kind": SupportItem.ProviderKind.PERSONAL_ASSISTANT,
        "provider_name": "Sam",
        "times": "3",
        "per": SupportItem.Per.WEEK,
        "unit_cost_pence": "£45.50",
        "stream": FundingStream.NHS_CHC,
        "outcome_ids": [str(outcome.pk)],
    }
    response = client.post(step(draft, "support"), data)
    assert response.status_code == 302
    item = SupportItem.objects.get(plan=draft)
    assert item.unit_cost_pence == 45_50
    assert item.yearly_cost_pence == 3 * 52 * 45_50
    assert list(item.outcomes.all()) == [outcome]

    response = client.post(
        step(draft, "support"), {**data, "stream": FundingStream.COUNCIL_SOCIAL_CARE}
    )
    assert response.status_code == 200
    assert "Choose funding that pays for this budget" in _field_error(response, "stream")
    response = client.post(step(draft, "support"), {**data, "unit_cost_pence": "12.345"})
    assert "no fractions of a penny" in _field_error(response, "unit_cost_pence")
    response = client.post(step(draft, "support"), {**data, "stream": ""})
    assert _field_error(response, "stream") == "Choose which funding pays for this."
    assert SupportItem.objects.filter(plan=draft).count() == 1


def test_support_for_a_family_carer_is_offered_once_a_carer_is_in_the_circle(pw, client_for, draft):
    holder = pw.world.holder_a.user
    client = client_for(holder)
    first = _text(client.get(step(draft, "support")))
    assert "first add them to" in first
    assert "Which of your outcomes" not in first  # none yet: no empty question
    carer = services.circle_save(
        plan=draft,
        saved_by=holder,
        name="Jo",
        relationship=CircleMember.Relationship.CARER,
    )
    page = _text(client.get(step(draft, "support")))
    assert "Yes, for Jo" in page
    assert "A break (respite)" in page
    response = client.post(
        step(draft, "support"),
        {
            "description": "A week away for Jo",
            "provider_kind": SupportItem.ProviderKind.OTHER,
            "times": "1",
            "per": SupportItem.Per.YEAR,
            "unit_cost_pence": "600",
            "stream": FundingStream.NHS_CHC,
            "carer": str(carer.pk),
            "carer_support": SupportItem.CarerSupport.BREAK,
        },
    )
    assert response.status_code == 302
    item = SupportItem.objects.get(plan=draft)
    assert (item.carer, item.carer_support) == (carer, SupportItem.CarerSupport.BREAK)
    # A carer without the kind of support is refused by the service, on the field.
    response = client.post(
        step(draft, "support"),
        {
            "description": "Training",
            "provider_kind": SupportItem.ProviderKind.OTHER,
            "times": "1",
            "per": SupportItem.Per.YEAR,
            "unit_cost_pence": "0",
            "carer": str(carer.pk),
        },
    )
    assert "needs both the carer and the kind" in _field_error(response, "carer_support")
    assert SupportItem.objects.filter(plan=draft).count() == 1


def test_money_is_managed_per_funding_stream(pw, client_for, draft):
    client = client_for(pw.world.holder_a.user)
    page = _text(client.get(step(draft, "money")))
    assert "NHS continuing healthcare" in page
    url = reverse("plans:plan_money", args=[draft.pk, FundingStream.NHS_CHC])
    response = client.post(url, {"management_option": ManagementOption.DIRECT_PAYMENT})
    assert response.status_code == 200
    assert "Say who manages the money" in _field_error(response, "managed_by")
    assert not MoneyArrangement.objects.exists()
    response = client.post(
        url, {"management_option": ManagementOption.DIRECT_PAYMENT, "managed_by": "Me"}
    )
    assert response["Location"] == step(draft, "money")
    money = MoneyArrangement.objects.get(plan=draft)
    assert (money.stream, money.managed_by) == (FundingStream.NHS_CHC, "Me")
    unknown = reverse("plans:plan_money", args=[draft.pk, "pocket_money"])
    assert client.get(unknown).status_code == 404


def test_a_risk_i_choose_to_take_is_recorded(pw, client_for, draft):
    client = client_for(pw.world.holder_a.user)
    response = client.post(
        step(draft, "risks"),
        {
            "description": "Climbing",
            "how_managed": "With a club",
            "agreed_by": "Me and my GP",
            "positive_risk": "on",
        },
    )
    assert response.status_code == 302
    risk = PlanRisk.objects.get(plan=draft)
    assert risk.positive_risk is True
    assert "A risk I choose to take" in _text(client.get(step(draft, "risks")))
    response = client.post(step(draft, "risks"), {"description": "Climbing"})
    assert _field_error(response, "how_managed") == "Say how the risk is managed"
    assert PlanRisk.objects.count() == 1


def test_if_things_go_wrong_saves_the_contingency(pw, client_for, draft):
    response = client_for(pw.world.holder_a.user).post(
        step(draft, "if-things-go-wrong"),
        {"if_support_fails": "My sister comes", "carer_emergency": "Agency cover"},
    )
    assert response["Location"] == step(draft, "circle")
    draft.refresh_from_db()
    assert (draft.if_support_fails, draft.carer_emergency) == ("My sister comes", "Agency cover")


def test_a_named_back_up_person_needs_contact_details(pw, client_for, draft):
    client = client_for(pw.world.holder_a.user)
    data = {"name": "Jo", "relationship": CircleMember.Relationship.CARER, "is_backup": "on"}
    response = client.post(step(draft, "circle"), data)
    assert response.status_code == 200
    assert "needs a phone number or an email address" in _field_error(response, "phone")
    assert not CircleMember.objects.exists()
    response = client.post(step(draft, "circle"), {**data, "phone": "07700 900123"})
    assert response.status_code == 302
    assert CircleMember.objects.get(plan=draft).is_backup is True


def test_review_dates_beyond_three_months_are_refused(pw, client_for, draft):
    client = client_for(pw.world.holder_a.user)
    late = timezone.localdate() + datetime.timedelta(days=200)
    response = client.post(
        step(draft, "reviews"),
        {
            "first_review_on_0": late.day,
            "first_review_on_1": late.month,
            "first_review_on_2": late.year,
            "review_every_months": "6",
        },
    )
    assert response.status_code == 200
    assert "within 3 months" in _field_error(response, "first_review_on")
    draft.refresh_from_db()
    assert draft.first_review_on is None
    assert draft.review_every_months == 12
    soon = timezone.localdate() + datetime.timedelta(days=30)
    response = client.post(
        step(draft, "reviews"),
        {
            "first_review_on_0": soon.day,
            "first_review_on_1": soon.month,
            "first_review_on_2": soon.year,
            "review_every_months": "6",
        },
    )
    assert response["Location"] == reverse("plans:plan_submit", args=[draft.pk])
    draft.refresh_from_db()
    assert (draft.first_review_on, draft.review_every_months) == (soon, 6)


def test_an_unknown_step_or_someone_elses_part_is_not_found(pw, client_for, draft):
    client = client_for(pw.world.holder_a.user)
    assert client.get(step(draft, "nonsense")).status_code == 404
    other = services.plan_start(budget=pw.world.budget_b, started_by=pw.world.holder_b.user)
    theirs = services.outcome_save(plan=other, saved_by=pw.world.holder_b.user, goal="Theirs")
    url = reverse("plans:plan_part_remove", args=[draft.pk, "outcomes", theirs.pk])
    assert client.post(url).status_code == 404
    assert PlanOutcome.objects.filter(pk=theirs.pk).exists()


# Checking and sending -----------------------------------------------------------------------


def test_check_your_answers_lists_the_problems_and_sending_an_unready_plan_fails(
    pw, client_for, draft
):
    client = client_for(pw.world.holder_a.user)
    url = reverse("plans:plan_submit", args=[draft.pk])
    page = _text(client.get(url))
    assert "Before the plan can be sent" in page
    assert "Say what matters to you." in page
    response = client.post(url, {"agree": "on"})
    assert response.status_code == 200
    assert "There is a problem" in _text(response)
    draft.refresh_from_db()
    assert draft.state == SupportPlan.State.DRAFT


def test_a_holder_must_tick_that_they_agree(pw, client_for, draft):
    plan = fill_plan(draft, pw.world.holder_a.user)
    client = client_for(pw.world.holder_a.user)
    url = reverse("plans:plan_submit", args=[plan.pk])
    response = client.post(url, {})
    assert _field_error(response, "agree") == "Confirm that you agree with the plan to send it."
    plan.refresh_from_db()
    assert plan.state == SupportPlan.State.DRAFT
    response = client.post(url, {"agree": "on"})
    assert response["Location"] == reverse("plans:plan_detail", args=[plan.pk])
    plan.refresh_from_db()
    assert plan.state == SupportPlan.State.SUBMITTED
    assert plan.agreed_by == pw.world.holder_a.user


def test_a_planner_sending_the_plan_says_how_the_person_agreed(pw, client_for, draft):
    plan = fill_plan(draft, pw.planner)
    client = client_for(pw.planner)
    url = reverse("plans:plan_submit", args=[plan.pk])
    page = _text(client.get(url))
    assert "How and when the person agreed" in page
    assert "I agree with this plan" not in page
    response = client.post(url, {"agreed_in_person": " "})
    assert "Say how and when" in _field_error(response, "agreed_in_person")
    response = client.post(url, {"agreed_in_person": "At home on Monday, with Alex"})
    assert response.status_code == 302
    approval = PlanApproval.objects.get(plan=plan)
    assert approval.note == "Agreed in person: At home on Monday, with Alex"


# The plan page and comments ---------------------------------------------------------------


def test_the_plan_page_shows_the_cost_against_the_budget(pw, client_for, draft):
    holder = pw.world.holder_a.user
    plan = fill_plan(draft, holder, weekly_pence=300_00)  # £15,600: over £13,000
    response = client_for(holder).get(reverse("plans:plan_detail", args=[plan.pk]))
    assert "Over the budget by £2,600.00" in _words(response)
    text = _text(response)
    assert "£15,600.00 a year" in text
    assert "£13,000.00 a year" in text
    assert reverse("plans:plan_tasks", args=[plan.pk]) in text
    assert reverse("plans:plan_pdf", args=[plan.pk]) in text
    assert reverse("plans:plan_print", args=[plan.pk]) in text


def test_the_plan_page_shows_changes_requested_and_sign_off(pw, client_for, draft):
    holder = pw.world.holder_a.user
    plan = fill_plan(draft, holder, weekly_pence=100_00)
    services.plan_submit(plan=plan, submitted_by=holder, agree=True)
    services.plan_request_changes(
        plan=plan, requested_by=pw.clinician, what_and_why="Add a second back-up person."
    )
    text = _text(client_for(holder).get(reverse("plans:plan_detail", args=[plan.pk])))
    assert "Changes requested" in text
    assert "Add a second back-up person." in text
    assert "Agreed by the person" in text
    assert "Make the changes" in text


def test_staff_opening_a_plan_is_audited_and_the_holder_is_not(pw, client_for, draft):
    url = reverse("plans:plan_detail", args=[draft.pk])
    client_for(pw.world.holder_a.user).get(url)
    assert not AuditEvent.objects.filter(action="personal_record.viewed").exists()
    assert client_for(pw.clinician).get(url).status_code == 200
    assert AuditEvent.objects.filter(
        actor=pw.clinician, action="personal_record.viewed", changes__page="support plan"
    ).exists()


def test_comments_are_added_by_those_who_may_and_an_empty_one_is_refused(pw, client_for, draft):
    url = reverse("plans:plan_comment", args=[draft.pk])
    client = client_for(pw.clinician)
    response = client.post(url, {"body": "  "})
    assert response.status_code == 200
    assert _field_error(response, "body") == "Write your comment"
    assert not PlanComment.objects.exists()
    response = client.post(url, {"body": "Looks good to me"})
    assert response.status_code == 302
    assert PlanComment.objects.get().author == pw.clinician
    page = _text(client_for(pw.world.holder_a.user).get(response["Location"]))
    assert "Looks good to me" in page
    # A representative who may only view, and a stranger, cannot comment.
    assert client_for(pw.world.representative).post(url, {"body": "Hi"}).status_code == 403
    assert client_for(pw.world.holder_b.user).post(url, {"body": "Hi"}).status_code == 404
    assert PlanComment.objects.count() == 1


def test_an_active_plan_offers_to_start_a_new_version(pw, client_for, draft):
    holder = pw.world.holder_a.user
    plan = fill_plan(draft, holder, weekly_pence=250_00)  # the budget's £13,000
    services.plan_submit(plan=plan, submitted_by=holder, agree=True)
    services.plan_approve(plan=plan, approved_by=pw.clinician, step="clinician")
    client = client_for(holder)
    page = _text(client.get(reverse("plans:plan_detail", args=[plan.pk])))
    start = reverse("plans:plan_start", args=[plan.budget_id])
    assert start in page
    assert "Change your plan" in _text(client.get(start))
    response = client.post(start)
    new = SupportPlan.objects.get(budget=plan.budget, version=2)
    assert response["Location"] == reverse("plans:plan_tasks", args=[new.pk])
    assert new.outcomes.count() == 1  # copied from the active version
