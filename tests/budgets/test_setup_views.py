"""Setting budgets up: the budget, its funding, its state, and indicative budgets."""

from __future__ import annotations

import datetime
import html
import re
from typing import Any

import pytest
from django.urls import reverse

from budgets.models import (
    Budget,
    BudgetNotice,
    FundingContribution,
    FundingStream,
    LedgerAccount,
    RasAssessment,
    RasBand,
    RasDomain,
    RasOption,
    RasQuestion,
    RasQuestionnaire,
)
from core.models import AuditEvent
from tests.factories import OrganisationFactory, make_budget
from users.models import Organisation

pytestmark = pytest.mark.django_db


def make_questionnaire(
    organisation: Any,
    *,
    stream: str = FundingStream.NHS_CHC,
    status: str = RasQuestionnaire.Status.PUBLISHED,
    price_per_point_pence: int = 100_00,
    cap_pence: int | None = None,
    name: str = "Continuing care RAS",
) -> RasQuestionnaire:
    """Two domains of questions; answers score 0, 5 or 10 points."""
    questionnaire = RasQuestionnaire.objects.create(
        organisation=organisation,
        stream=stream,
        name=name,
        status=status,
        price_per_point_pence=price_per_point_pence,
        cap_pence=cap_pence,
    )
    for d, (title, questions) in enumerate(
        [
            ("Personal care", ["Washing and dressing", "Eating and drinking"]),
            ("Getting out", ["Getting about outside"]),
        ]
    ):
        domain = RasDomain.objects.create(questionnaire=questionnaire, title=title, order=d)
        for q, text in enumerate(questions):
            question = RasQuestion.objects.create(domain=domain, text=text, order=q)
            for o, (label, points) in enumerate(
                [("No help needed", 0), ("Some help", 5), ("Help with everything", 10)]
            ):
                RasOption.objects.create(question=question, label=label, points=points, order=o)
    return questionnaire


def answer_ids(questionnaire: RasQuestionnaire, label: str) -> dict[str, int]:
    """Form data answering every question with the option called ``label``."""
    return {
        f"question_{option.question_id}": option.pk
        for option in RasOption.objects.filter(
            question__domain__questionnaire=questionnaire, label=label
        )
    }


def page_text(response: Any) -> str:
    return html.unescape(response.content.decode())


def field_error(response: Any, field: str) -> str:
    found = re.findall(
        rf'id="id_{field}(?:-date)?-error"[^>]*>\s*<span[^>]*>Error:\s*</span>\s*([^<]*)',
        page_text(response),
    )
    return " ".join(found)


def summary_errors(response: Any) -> str:
    summary = page_text(response).partition("nhsuk-error-summary__list")[2].partition("</ul>")[0]
    return " ".join(re.sub(r"<[^>]+>", " ", summary).split())


def date_data(name: str, day: datetime.date) -> dict[str, Any]:
    return {f"{name}_0": day.day, f"{name}_1": day.month, f"{name}_2": day.year}


# Setting a budget up -------------------------------------------------------------------

START = datetime.date(2026, 4, 1)
END = datetime.date(2027, 3, 31)


def _budget_data(**overrides: Any) -> dict[str, Any]:
    data = {
        **date_data("period_start", START),
        **date_data("period_end", END),
        "payment_schedule": "monthly",
    }
    data.update(overrides)
    return data


def test_a_commissioner_sets_up_a_budget_and_goes_on_to_its_funding(world, client_for):
    url = reverse("budgets:budget_create", args=[world.holder_a.pk])
    response = client_for(world.commissioner).post(url, _budget_data())
    budget = world.holder_a.budgets.get(period_start=START)
    assert response.status_code == 302
    assert response["Location"] == reverse("budgets:contribution_add", args=[budget.pk])
    assert (budget.period_end, budget.payment_schedule) == (END, "monthly")
    assert budget.state == Budget.State.INDICATIVE
    assert budget.indicative_pence is None
    assert AuditEvent.objects.filter(action="budget.created", object_id=str(budget.pk)).exists()


def test_a_budget_can_take_its_indicative_amount_from_an_assessment(world, client_for):
    assessment = RasAssessment.objects.create(
        holder=world.holder_a,
        method=RasAssessment.Method.CURRENT_PACKAGE,
        calculated_pence=18_200_00,
        package_description="Home care",
        completed_by=world.staff_x,
    )
    url = reverse("budgets:budget_create", args=[world.holder_a.pk])
    assert "£18,200.00" in page_text(client_for(world.finance_officer).get(url))
    client_for(world.finance_officer).post(url, _budget_data(indicative_assessment=assessment.pk))
    budget = world.holder_a.budgets.get(period_start=START)
    assert budget.indicative_assessment == assessment
    assert budget.indicative_pence == 18_200_00


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (date_data("period_end", START), "period_end", "The end date must be after the start"),
        (
            date_data("period_end", datetime.date(2027, 6, 1)),
            "period_end",
            "A budget covers one year at most",
        ),
        ({"period_start_0": "31", "period_start_1": "2"}, "period_start", "must be a real date"),
        (
            {"period_start_0": "", "period_start_1": "", "period_start_2": ""},
            "period_start",
            "Enter the start date",
        ),
        ({"payment_schedule": "weekly"}, "payment_schedule", "from the list"),
    ],
)
def test_bad_budget_details_get_a_clear_error_and_set_nothing_up(
    world, client_for, overrides, field, message
):
    before = Budget.objects.count()
    url = reverse("budgets:budget_create", args=[world.holder_a.pk])
    response = client_for(world.commissioner).post(url, _budget_data(**overrides))
    assert Budget.objects.count() == before
    assert response.status_code == 200
    assert message in field_error(response, field)
    assert "<title>Error: " in response.content.decode()


def test_another_persons_assessment_cannot_be_used(world, client_for):
    theirs = RasAssessment.objects.create(
        holder=world.holder_b,
        method=RasAssessment.Method.CURRENT_PACKAGE,
        calculated_pence=1_00,
        package_description="x",
        completed_by=world.staff_y,
    )
    RasAssessment.objects.create(
        holder=world.holder_a,
        method=RasAssessment.Method.CURRENT_PACKAGE,
        calculated_pence=2_00,
        package_description="y",
        completed_by=world.staff_x,
    )
    url = reverse("budgets:budget_create", args=[world.holder_a.pk])
    response = client_for(world.commissioner).post(
        url, _budget_data(indicative_assessment=theirs.pk)
    )
    assert "Choose one of this person's indicative budgets" in field_error(
        response, "indicative_assessment"
    )
    assert not world.holder_a.budgets.filter(period_start=START).exists()


def test_only_the_holders_commissioners_and_finance_set_up_budgets(world, client_for):
    url = reverse("budgets:budget_create", args=[world.holder_a.pk])
    assert client_for(world.staff_x).post(url, _budget_data()).status_code == 403
    other = reverse("budgets:budget_create", args=[world.holder_b.pk])
    assert client_for(world.commissioner).post(other, _budget_data()).status_code == 404
    assert not Budget.objects.filter(period_start=START).exists()


# Funding ---------------------------------------------------------------------------------


def _indicative_budget(world: Any) -> Budget:
    return Budget.objects.create(
        holder=world.holder_a, period_start=START, period_end=END, created_by=world.commissioner
    )


def _funding_data(world: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "funder": world.org_x.pk,
        "stream": FundingStream.NHS_CHC,
        "yearly_amount": "12,500.50",
        "management_option": "notional",
        "managed_by": "",
    }
    data.update(overrides)
    return data


def test_finance_adds_funding_in_pounds_and_it_is_kept_in_exact_pence(world, client_for):
    budget = _indicative_budget(world)
    url = reverse("budgets:contribution_add", args=[budget.pk])
    response = client_for(world.finance_officer).post(url, _funding_data(world))
    assert response.status_code == 302
    contribution = budget.contributions.get()
    assert contribution.yearly_pence == 12_500_50
    assert contribution.funder == world.org_x
    assert LedgerAccount.objects.filter(contribution=contribution, kind="budget").exists()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12.345", "no fractions of a penny"),
        ("0.001", "no fractions of a penny"),
        ("-5", "must be more than £0.00"),
        ("£-5.00", "must be more than £0.00"),
        ("0", "must be more than £0.00"),
        ("0.00", "must be more than £0.00"),
        ("10000000.01", "must be £10,000,000.00 or less"),
        ("99999999999999999999999", "must be £10,000,000.00 or less"),
        ("1e5", "must be an amount in pounds"),
        ("twelve", "must be an amount in pounds"),
        ("NaN", "must be an amount in pounds"),
        ("1,00", "must be an amount in pounds"),
        ("", "Enter the amount a year"),
    ],
)
def test_bad_amounts_get_a_clear_error_and_add_no_funding(world, client_for, typed, message):
    budget = _indicative_budget(world)
    url = reverse("budgets:contribution_add", args=[budget.pk])
    response = client_for(world.finance_officer).post(
        url, _funding_data(world, yearly_amount=typed)
    )
    assert response.status_code == 200
    assert message in field_error(response, "yearly_amount")
    assert not budget.contributions.exists()


def test_the_funder_is_the_holders_icb_or_council(world, client_for):
    council = OrganisationFactory(name="Leeds City Council", kind=Organisation.Kind.LOCAL_AUTHORITY)
    world.holder_a.council = council
    world.holder_a.save()
    budget = _indicative_budget(world)
    url = reverse("budgets:contribution_add", args=[budget.pk])
    client = client_for(world.commissioner)
    assert "Leeds City Council" in page_text(client.get(url))
    response = client.post(url, _funding_data(world, funder=world.org_y.pk))
    assert "Choose the person's ICB or council" in field_error(response, "funder")
    client.post(
        url,
        _funding_data(world, funder=council.pk, stream=FundingStream.COUNCIL_SOCIAL_CARE),
    )
    assert list(budget.contributions.values_list("funder", flat=True)) == [council.pk]


def test_a_third_party_budget_names_its_manager(world, client_for):
    manager = OrganisationFactory(name="Direct Help CIC", kind=Organisation.Kind.BUDGET_MANAGER)
    budget = _indicative_budget(world)
    url = reverse("budgets:contribution_add", args=[budget.pk])
    client = client_for(world.commissioner)
    response = client.post(url, _funding_data(world, management_option="third_party"))
    assert "Choose the organisation that manages" in field_error(response, "managed_by")
    response = client.post(url, _funding_data(world, managed_by=manager.pk))
    assert "Only a third-party budget has a manager" in field_error(response, "managed_by")
    response = client.post(url, _funding_data(world, managed_by=world.provider_org.pk))
    assert "Choose a third-party manager from the list" in field_error(response, "managed_by")
    assert not budget.contributions.exists()
    client.post(url, _funding_data(world, management_option="third_party", managed_by=manager.pk))
    assert budget.contributions.get().managed_by == manager


def test_the_same_funder_and_stream_cannot_be_added_twice(world, client_for):
    url = reverse("budgets:contribution_add", args=[world.budget_a.pk])
    response = client_for(world.commissioner).post(url, _funding_data(world))
    assert "already funds this budget from that stream" in field_error(response, "stream")
    assert world.budget_a.contributions.count() == 1


def test_a_closed_budget_takes_no_new_funding(world, client_for):
    budget = make_budget(world.holder_a, state=Budget.State.CLOSED, period_start=START)
    url = reverse("budgets:contribution_add", args=[budget.pk])
    response = client_for(world.commissioner).post(
        url, _funding_data(world, stream=FundingStream.NHS_OTHER)
    )
    assert response.status_code == 409
    assert "This budget is closed." in summary_errors(response)
    assert budget.contributions.count() == 1


def test_funding_pages_are_for_the_holders_commissioners_and_finance(world, client_for):
    url = reverse("budgets:contribution_add", args=[world.budget_b.pk])
    assert client_for(world.commissioner).get(url).status_code == 404
    url = reverse("budgets:contribution_add", args=[world.budget_a.pk])
    assert client_for(world.staff_x).get(url).status_code == 403


def test_reducing_a_running_budget_needs_reasons_which_the_person_is_sent(world, client_for):
    contribution = world.budget_a.contributions.get()
    url = reverse("budgets:contribution_change", args=[contribution.pk])
    client = client_for(world.commissioner)
    page = page_text(client.get(url))
    assert "will be sent a written notice with your reasons" in page
    assert 'value="13000.00"' in page
    response = client.post(url, {"yearly_amount": "12,000.00", "reasons": "  "})
    assert "Give the reasons for the reduction" in field_error(response, "reasons")
    contribution.refresh_from_db()
    assert contribution.yearly_pence == 13_000_00
    assert not BudgetNotice.objects.exists()
    response = client.post(
        url, {"yearly_amount": "12,000.00", "reasons": "Fewer care hours are needed."}
    )
    assert response.status_code == 302
    contribution.refresh_from_db()
    assert contribution.yearly_pence == 12_000_00
    notice = BudgetNotice.objects.get(budget=world.budget_a)
    assert (notice.reasons, notice.amount_pence) == ("Fewer care hours are needed.", 1_000_00)


def test_an_indicative_budget_is_changed_without_a_notice(world, client_for):
    budget = _indicative_budget(world)
    contribution = FundingContribution.objects.create(
        budget=budget, funder=world.org_x, stream=FundingStream.NHS_CHC, yearly_pence=5_000_00
    )
    url = reverse("budgets:contribution_change", args=[contribution.pk])
    response = client_for(world.finance_officer).post(url, {"yearly_amount": "4000"})
    assert response.status_code == 302
    contribution.refresh_from_db()
    assert contribution.yearly_pence == 4_000_00
    assert not BudgetNotice.objects.exists()


@pytest.mark.parametrize("typed", ["-1", "0", "12.001", "lots"])
def test_a_bad_new_amount_changes_nothing(world, client_for, typed):
    contribution = world.budget_a.contributions.get()
    url = reverse("budgets:contribution_change", args=[contribution.pk])
    response = client_for(world.commissioner).post(
        url, {"yearly_amount": typed, "reasons": "reason"}
    )
    assert response.status_code == 200
    assert field_error(response, "yearly_amount")
    contribution.refresh_from_db()
    assert contribution.yearly_pence == 13_000_00


def test_another_organisations_funding_is_not_found(world, client_for):
    contribution = world.budget_b.contributions.get()
    url = reverse("budgets:contribution_change", args=[contribution.pk])
    assert client_for(world.commissioner).get(url).status_code == 404


# State -------------------------------------------------------------------------------------


def test_the_state_page_offers_only_the_allowed_next_states(world, client_for):
    url = reverse("budgets:budget_transition", args=[world.budget_a.pk])
    page = page_text(client_for(world.commissioner).get(url))
    states = re.findall(r'name="to_state"[^>]*value="(\w+)"', page) or re.findall(
        r'value="(\w+)"[^>]*name="to_state"', page
    )
    assert sorted(states) == ["closed", "suspended"]


def test_suspending_needs_a_reason(world, client_for):
    url = reverse("budgets:budget_transition", args=[world.budget_a.pk])
    client = client_for(world.commissioner)
    response = client.post(url, {"to_state": "suspended", "reason": ""})
    assert "Give the reason" in field_error(response, "reason")
    world.budget_a.refresh_from_db()
    assert world.budget_a.state == Budget.State.ACTIVE
    response = client.post(url, {"to_state": "suspended", "reason": "In hospital for a month"})
    assert response.status_code == 302
    world.budget_a.refresh_from_db()
    assert world.budget_a.state == Budget.State.SUSPENDED
    event = AuditEvent.objects.get(action="budget.state_changed")
    assert event.changes["reason"] == "In hospital for a month"


def test_a_state_the_budget_cannot_move_to_is_refused(world, client_for):
    url = reverse("budgets:budget_transition", args=[world.budget_a.pk])
    response = client_for(world.commissioner).post(url, {"to_state": "agreed"})
    assert "Choose one of the states this budget can move to" in field_error(response, "to_state")
    world.budget_a.refresh_from_db()
    assert world.budget_a.state == Budget.State.ACTIVE


def test_agreeing_a_budget_without_funding_is_a_conflict(world, client_for):
    budget = _indicative_budget(world)
    url = reverse("budgets:budget_transition", args=[budget.pk])
    response = client_for(world.finance_officer).post(url, {"to_state": "agreed"})
    assert response.status_code == 409
    assert "Add at least one funding contribution" in summary_errors(response)
    budget.refresh_from_db()
    assert budget.state == Budget.State.INDICATIVE


def test_a_closed_budget_has_no_next_state(world, client_for):
    budget = make_budget(world.holder_a, state=Budget.State.CLOSED, period_start=START)
    url = reverse("budgets:budget_transition", args=[budget.pk])
    page = page_text(client_for(world.commissioner).get(url))
    assert "A closed budget cannot change state." in page
    assert 'name="to_state"' not in page


def test_state_changes_are_for_the_holders_commissioners_and_finance(world, client_for):
    url = reverse("budgets:budget_transition", args=[world.budget_b.pk])
    assert (
        client_for(world.commissioner).post(url, {"to_state": "closed", "reason": "x"}).status_code
        == 404
    )
    world.budget_b.refresh_from_db()
    assert world.budget_b.state == Budget.State.ACTIVE


# Indicative budgets ------------------------------------------------------------------------


def test_the_choice_lists_the_published_questionnaires_of_the_holders_icb(world, client_for):
    make_questionnaire(world.org_x, name="North RAS")
    make_questionnaire(
        world.org_x,
        name="North draft",
        stream=FundingStream.NHS_MENTAL_HEALTH,
        status=RasQuestionnaire.Status.DRAFT,
    )
    make_questionnaire(world.org_y, name="South RAS")
    url = reverse("budgets:ras_assess", args=[world.holder_a.pk])
    page = page_text(client_for(world.staff_x).get(url))
    assert "North RAS (NHS continuing healthcare, North ICB, version 1)" in page
    assert "North draft" not in page
    assert "South RAS" not in page
    assert "The cost of the current package of care" in page


def test_choosing_nothing_says_so(world, client_for):
    url = reverse("budgets:ras_assess", args=[world.holder_a.pk])
    response = client_for(world.staff_x).get(url, {"step": "method"})
    assert "Choose how to work out the indicative budget" in field_error(response, "method")


def test_the_questionnaire_shows_each_question_as_a_radio_group(world, client_for):
    questionnaire = make_questionnaire(world.org_x)
    url = reverse("budgets:ras_assess", args=[world.holder_a.pk])
    page = page_text(
        client_for(world.staff_x).get(url, {"method": f"questionnaire-{questionnaire.pk}"})
    )
    for heading in ("Personal care", "Getting out"):
        assert f">{heading}</h2>" in page
    legends = re.findall(r"<legend[^>]*>\s*(?:<h1[^>]*>)?\s*([^<]+?)\s*<", page)
    assert legends == ["Washing and dressing", "Eating and drinking", "Getting about outside"]
    assert page.count('type="radio"') == 9


def test_a_completed_questionnaire_is_scored_and_its_working_shown(world, client_for):
    questionnaire = make_questionnaire(world.org_x, cap_pence=2_500_00)
    url = reverse("budgets:ras_assess", args=[world.holder_a.pk])
    data = {"method": f"questionnaire-{questionnaire.pk}", **answer_ids(questionnaire, "Some help")}
    response = client_for(world.staff_x).post(url, data)
    assessment = RasAssessment.objects.get(holder=world.holder_a)
    assert response["Location"] == reverse("budgets:ras_assessment_detail", args=[assessment.pk])
    assert assessment.total_points == 15
    assert assessment.calculated_pence == 1_500_00  # 15 points at £100, under the cap
    page = page_text(client_for(world.staff_x).get(response["Location"]))
    assert "Washing and dressing" in page
    assert "Some help" in page
    assert "15 points at £100.00 a point = £1,500.00" in page
    assert "No cap applied" in page


def test_bands_and_caps_show_in_the_working(world, client_for):
    questionnaire = make_questionnaire(world.org_x, cap_pence=2_500_00)
    RasBand.objects.create(
        questionnaire=questionnaire, min_points=0, max_points=5, amount_pence=900_00
    )
    url = reverse("budgets:ras_assess", args=[world.holder_a.pk])
    client = client_for(world.staff_x)
    data = {
        "method": f"questionnaire-{questionnaire.pk}",
        **answer_ids(questionnaire, "Help with everything"),
    }
    response = client.post(url, data)
    page = page_text(client.get(response["Location"]))
    assert "Capped at £2,500.00" in page  # 30 points x £100 = £3,000, capped
    RasAssessment.objects.all().delete()
    data = {
        "method": f"questionnaire-{questionnaire.pk}",
        **answer_ids(questionnaire, "No help needed"),
    }
    response = client.post(url, data)
    page = page_text(client.get(response["Location"]))
    assert "0 points fall in the band 0 to 5 points: £900.00" in page


def test_an_unanswered_question_is_named_and_nothing_is_saved(world, client_for):
    questionnaire = make_questionnaire(world.org_x)
    answers = answer_ids(questionnaire, "Some help")
    missing = RasQuestion.objects.get(text="Eating and drinking")
    del answers[f"question_{missing.pk}"]
    url = reverse("budgets:ras_assess", args=[world.holder_a.pk])
    response = client_for(world.staff_x).post(
        url, {"method": f"questionnaire-{questionnaire.pk}", **answers}
    )
    assert response.status_code == 200
    assert "Answer: Eating and drinking" in field_error(response, f"question_{missing.pk}")
    assert not RasAssessment.objects.exists()


def test_an_answer_from_another_question_is_refused(world, client_for):
    questionnaire = make_questionnaire(world.org_x)
    answers = answer_ids(questionnaire, "Some help")
    first, second = list(answers)[:2]
    answers[first] = answers[second]
    url = reverse("budgets:ras_assess", args=[world.holder_a.pk])
    response = client_for(world.staff_x).post(
        url, {"method": f"questionnaire-{questionnaire.pk}", **answers}
    )
    assert "Choose one of the answers for" in field_error(response, first)
    assert not RasAssessment.objects.exists()


def test_another_icbs_questionnaire_cannot_be_used(world, client_for):
    theirs = make_questionnaire(world.org_y)
    url = reverse("budgets:ras_assess", args=[world.holder_a.pk])
    data = {"method": f"questionnaire-{theirs.pk}", **answer_ids(theirs, "Some help")}
    response = client_for(world.staff_x).post(url, data)
    assert "Choose one of the ways listed" in field_error(response, "method")
    assert not RasAssessment.objects.exists()


def test_the_cost_of_the_current_package(world, client_for):
    url = reverse("budgets:ras_assess", args=[world.holder_a.pk])
    client = client_for(world.staff_x)
    response = client.post(
        url, {"method": "package", "package_amount": "18,200.00", "description": "Home care"}
    )
    assessment = RasAssessment.objects.get(holder=world.holder_a)
    assert assessment.calculated_pence == 18_200_00
    assert assessment.method == RasAssessment.Method.CURRENT_PACKAGE
    page = page_text(client.get(response["Location"]))
    assert "The current package costs £18,200.00 a year" in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"package_amount": "10.005", "description": "x"},
            "package_amount",
            "fractions of a penny",
        ),
        ({"package_amount": "0", "description": "x"}, "package_amount", "more than £0.00"),
        (
            {"package_amount": "100", "description": ""},
            "description",
            "Describe the current package",
        ),
    ],
)
def test_a_bad_package_changes_nothing(world, client_for, data, field, message):
    url = reverse("budgets:ras_assess", args=[world.holder_a.pk])
    response = client_for(world.staff_x).post(url, {"method": "package", **data})
    assert message in field_error(response, field)
    assert not RasAssessment.objects.exists()


def test_working_out_is_for_the_holders_own_staff(world, client_for):
    url = reverse("budgets:ras_assess", args=[world.holder_b.pk])
    response = client_for(world.staff_x).post(
        url, {"method": "package", "package_amount": "100", "description": "x"}
    )
    assert response.status_code == 404
    assert not RasAssessment.objects.exists()


def _assessment(world: Any) -> RasAssessment:
    return RasAssessment.objects.create(
        holder=world.holder_a,
        method=RasAssessment.Method.CURRENT_PACKAGE,
        calculated_pence=10_000_00,
        package_description="Home care",
        working={"lines": [], "pricing": "The current package costs £10,000.00 a year"},
        completed_by=world.staff_x,
    )


def test_viewing_the_working_is_audited_for_staff_but_not_for_the_holder(world, client_for):
    assessment = _assessment(world)
    url = reverse("budgets:ras_assessment_detail", args=[assessment.pk])
    assert client_for(world.staff_x).get(url).status_code == 200
    event = AuditEvent.objects.get(action="personal_record.viewed")
    assert (event.person, event.changes) == (world.holder_a, {"page": "ras_assessment_detail"})
    assert client_for(world.holder_a.user).get(url).status_code == 200
    assert AuditEvent.objects.filter(action="personal_record.viewed").count() == 1
    assert client_for(world.staff_y).get(url).status_code == 404


def test_a_commissioner_overrides_with_a_reason_shown_beside_the_working(world, client_for):
    assessment = _assessment(world)
    url = reverse("budgets:ras_override", args=[assessment.pk])
    client = client_for(world.commissioner)
    assert 'value="10000.00"' in page_text(client.get(url))
    response = client.post(
        url, {"override_amount": "11,250.00", "override_reason": "Two carers are needed at night"}
    )
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert (assessment.calculated_pence, assessment.override_pence) == (10_000_00, 11_250_00)
    page = page_text(client.get(response["Location"]))
    assert "£11,250.00 a year" in page
    assert "Two carers are needed at night" in page
    assert world.commissioner.name in page
    assert "£10,000.00 a year" in page  # the calculated amount stays


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"override_amount": "500", "override_reason": "  "}, "override_reason", "Give the reason"),
        ({"override_amount": "-1", "override_reason": "r"}, "override_amount", "more than £0.00"),
        ({"override_amount": "1.234", "override_reason": "r"}, "override_amount", "fractions"),
    ],
)
def test_a_bad_override_changes_nothing(world, client_for, data, field, message):
    assessment = _assessment(world)
    url = reverse("budgets:ras_override", args=[assessment.pk])
    response = client_for(world.commissioner).post(url, data)
    assert message in field_error(response, field)
    assessment.refresh_from_db()
    assert assessment.override_pence is None


def test_only_commissioners_override(world, client_for):
    assessment = _assessment(world)
    url = reverse("budgets:ras_override", args=[assessment.pk])
    data = {"override_amount": "1", "override_reason": "r"}
    assert client_for(world.finance_officer).post(url, data).status_code == 403
    assessment.refresh_from_db()
    assert assessment.override_pence is None
    detail = page_text(
        client_for(world.finance_officer).get(
            reverse("budgets:ras_assessment_detail", args=[assessment.pk])
        )
    )
    assert url not in detail
