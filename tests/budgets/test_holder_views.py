"""Finding a person, opening a record, and the staff view of a holder's record."""

from __future__ import annotations

import datetime
import html
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from budgets.models import BudgetHolder, MonitoringFlag, RasAssessment
from core.models import AuditEvent
from tests.factories import BudgetHolderFactory, MembershipFactory, OrganisationFactory, with_mfa
from users.models import Organisation, Role

pytestmark = pytest.mark.django_db

PEOPLE = "/people/"


def _names(response: Any) -> list[str]:
    """The people listed: links to records inside the results."""
    main = response.content.decode().partition("<main")[2].partition("</main>")[0]
    return re.findall(r'<a href="/people/\d+/">([^<]+)</a>', main)


def _errors(response: Any, field: str) -> str:
    """The error shown beside a field (NHS.UK error message), as text."""
    page = html.unescape(response.content.decode())
    found = re.findall(
        rf'id="id_{field}(?:-date)?-error"[^>]*>\s*<span[^>]*>Error:\s*</span>\s*([^<]*)', page
    )
    return " ".join(found)


# Finding a person ----------------------------------------------------------------------


def test_staff_see_only_the_people_their_organisations_support(world, client_for):
    response = client_for(world.staff_x).get(PEOPLE)
    assert response.status_code == 200
    assert _names(response) == ["Alex Holder"]
    assert "Find a person" in response.content.decode()
    assert "Bea Holder" not in response.content.decode()


@pytest.mark.parametrize("typed", ["{digits}", "{spaced}", "{hyphened}"])
def test_staff_find_a_person_by_nhs_number_typed_any_usual_way(world, client_for, typed):
    digits = world.holder_a.nhs_number
    value = typed.format(
        digits=digits,
        spaced=f"{digits[:3]} {digits[3:6]} {digits[6:]}",
        hyphened=f"{digits[:3]}-{digits[3:6]}-{digits[6:]}",
    )
    BudgetHolderFactory(name="Another Person", organisation=world.org_x)
    response = client_for(world.staff_x).get(PEOPLE, {"nhs_number": value})
    assert _names(response) == ["Alex Holder"]


def test_searching_for_another_icbs_nhs_number_reveals_nothing(world, client_for):
    response = client_for(world.staff_x).get(PEOPLE, {"nhs_number": world.holder_b.nhs_number})
    assert response.status_code == 200
    assert _names(response) == []
    page = response.content.decode()
    assert "Bea Holder" not in page
    assert world.holder_b.nhs_number_display not in page
    assert "No one found" in page


def test_staff_find_a_person_by_part_of_their_name_in_any_case(world, client_for):
    BudgetHolderFactory(name="Sam Other", organisation=world.org_x)
    response = client_for(world.staff_x).get(PEOPLE, {"name": "  ALEX  "})
    assert _names(response) == ["Alex Holder"]
    response = client_for(world.staff_x).get(PEOPLE, {"name": "lder"})
    assert _names(response) == ["Alex Holder"]


def test_staff_find_a_person_by_date_of_birth(world, client_for):
    BudgetHolderFactory(
        name="Born Later", organisation=world.org_x, date_of_birth=datetime.date(1990, 1, 2)
    )
    born = world.holder_a.date_of_birth
    response = client_for(world.staff_x).get(
        PEOPLE,
        {"date_of_birth_0": born.day, "date_of_birth_1": born.month, "date_of_birth_2": born.year},
    )
    assert _names(response) == ["Alex Holder"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"nhs_number": "123"}, "nhs_number", "NHS number must be 10 digits"),
        ({"nhs_number": "9991000001"}, "nhs_number", "the last digit does not match"),
        (
            {"date_of_birth_0": "31", "date_of_birth_1": "2", "date_of_birth_2": "1980"},
            "date_of_birth",
            "must be a real date",
        ),
        (
            {"date_of_birth_0": "3", "date_of_birth_2": "1980"},
            "date_of_birth",
            "must include a month",
        ),
    ],
)
def test_a_bad_search_says_what_is_wrong_and_finds_nobody(world, client_for, query, field, message):
    response = client_for(world.staff_x).get(PEOPLE, query)
    assert response.status_code == 200
    assert _names(response) == []
    assert message in _errors(response, field)
    assert "<title>Error: " in response.content.decode()


def test_holders_and_representatives_see_the_records_they_may_see(world, client_for):
    response = client_for(world.representative).get(PEOPLE)
    assert _names(response) == ["Alex Holder"]
    assert "Find a person" not in response.content.decode()
    assert _names(client_for(world.holder_b.user).get(PEOPLE)) == ["Bea Holder"]


# Opening a record ----------------------------------------------------------------------


def _valid_new_person(world: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "nhs_number": "999 000 0026",
        "name": "Nia Newperson",
        "date_of_birth_0": "7",
        "date_of_birth_1": "11",
        "date_of_birth_2": "1975",
        "postcode": "ls2 7ue",
        "organisation": world.org_x.pk,
        "council": "",
        "eligibility_route": "chc",
    }
    data.update(overrides)
    return data


def test_a_care_coordinator_opens_a_record(world, client_for):
    response = client_for(world.staff_x).post("/people/new/", _valid_new_person(world))
    holder = BudgetHolder.objects.get(nhs_number="9990000026")
    assert response.status_code == 302
    assert response["Location"] == reverse("budgets:holder_detail", args=[holder.pk])
    assert holder.name == "Nia Newperson"
    assert holder.postcode == "LS2 7UE"
    assert holder.date_of_birth == datetime.date(1975, 11, 7)
    assert holder.organisation == world.org_x
    assert AuditEvent.objects.filter(action="holder.created", person=holder).exists()


def test_an_integrated_record_names_a_council(world, client_for):
    council = OrganisationFactory(name="Leeds City Council", kind=Organisation.Kind.LOCAL_AUTHORITY)
    client_for(world.staff_x).post("/people/new/", _valid_new_person(world, council=council.pk))
    assert BudgetHolder.objects.get(nhs_number="9990000026").council == council


def test_the_form_says_which_routes_carry_the_legal_right(world, client_for):
    page = client_for(world.staff_x).get("/people/new/").content.decode()
    assert "NHS continuing healthcare (legal right to a personal health budget)" in page
    assert "Maternity (legal right" not in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"nhs_number": "999 000 0027"}, "nhs_number", "the last digit does not match"),
        ({"nhs_number": "99900"}, "nhs_number", "NHS number must be 10 digits"),
        ({"nhs_number": ""}, "nhs_number", "Enter their NHS number"),
        ({"postcode": "not a postcode"}, "postcode", "Enter a real postcode"),
        (
            {"date_of_birth_2": str(timezone.localdate().year + 1)},
            "date_of_birth",
            "must be in the past",
        ),
        (
            {"date_of_birth_0": "", "date_of_birth_1": "", "date_of_birth_2": ""},
            "date_of_birth",
            "Enter their date of birth",
        ),
        ({"name": "   "}, "name", "Enter their full name"),
        ({"eligibility_route": "astrology"}, "eligibility_route", "from the list"),
        ({"organisation": "999999"}, "organisation", "Choose an ICB from the list"),
    ],
)
def test_bad_details_get_a_clear_error_and_open_no_record(
    world, client_for, overrides, field, message
):
    before = BudgetHolder.objects.count()
    response = client_for(world.staff_x).post("/people/new/", _valid_new_person(world, **overrides))
    assert response.status_code == 200
    assert message in _errors(response, field)
    assert "<title>Error: " in response.content.decode()
    assert BudgetHolder.objects.count() == before


def test_an_nhs_number_already_on_the_platform_is_refused(world, client_for):
    # Holder B is served by another ICB: the number is still unique platform-wide.
    data = _valid_new_person(world, nhs_number=world.holder_b.nhs_number)
    before = BudgetHolder.objects.count()
    response = client_for(world.staff_x).post("/people/new/", data)
    assert "already has a record" in _errors(response, "nhs_number")
    assert BudgetHolder.objects.count() == before


def test_the_responsible_icb_must_be_one_the_user_works_for(world, client_for):
    data = _valid_new_person(world, organisation=world.org_y.pk)
    response = client_for(world.staff_x).post("/people/new/", data)
    assert "Choose an ICB from the list" in _errors(response, "organisation")
    assert not BudgetHolder.objects.filter(nhs_number="9990000026").exists()


def test_the_council_must_be_a_local_authority(world, client_for):
    data = _valid_new_person(world, council=world.org_y.pk)  # an ICB, not a council
    response = client_for(world.staff_x).post("/people/new/", data)
    assert "Choose a council from the list" in _errors(response, "council")
    assert not BudgetHolder.objects.filter(nhs_number="9990000026").exists()


def test_staff_who_do_not_open_records_are_refused(world, client_for):
    clinician = with_mfa(MembershipFactory(organisation=world.org_x, role=Role.CLINICIAN).user)
    assert client_for(clinician).get("/people/new/").status_code == 403
    response = client_for(clinician).post("/people/new/", _valid_new_person(world))
    assert response.status_code == 403
    assert not BudgetHolder.objects.filter(nhs_number="9990000026").exists()


# The record ------------------------------------------------------------------------------


def test_staff_see_the_details_budgets_flags_and_indicative_budgets(world, client_for):
    MonitoringFlag.objects.create(budget=world.budget_a, kind=MonitoringFlag.Kind.SURPLUS)
    RasAssessment.objects.create(
        holder=world.holder_a,
        method=RasAssessment.Method.CURRENT_PACKAGE,
        calculated_pence=9_876_50,
        package_description="Home care",
        completed_by=world.staff_x,
    )
    response = client_for(world.staff_x).get(f"/people/{world.holder_a.pk}/")
    page = response.content.decode()
    digits = world.holder_a.nhs_number
    assert f"{digits[:3]} {digits[3:6]} {digits[6:]}" in page
    assert "17 May 1980" in page
    assert "NHS continuing healthcare" in page
    assert "Legal right to a personal health budget" in page
    assert "£13,000.00" in page  # yearly amount
    assert "£380.00" in page  # £500 paid in, £120 spent
    assert reverse("budgets:budget_detail", args=[world.budget_a.pk]) in page
    assert "Unspent money above the threshold" in page
    assert "£9,876.50" in page
    # A care coordinator works out indicative budgets but does not set budgets up.
    assert reverse("budgets:ras_assess", args=[world.holder_a.pk]) in page
    assert reverse("budgets:budget_create", args=[world.holder_a.pk]) not in page


def test_commissioners_and_finance_get_the_set_up_links(world, client_for):
    for user in (world.commissioner, world.finance_officer):
        page = client_for(user).get(f"/people/{world.holder_a.pk}/").content.decode()
        assert reverse("budgets:budget_create", args=[world.holder_a.pk]) in page
        assert reverse("budgets:contribution_add", args=[world.budget_a.pk]) in page
        assert reverse("budgets:budget_transition", args=[world.budget_a.pk]) in page
        contribution = world.budget_a.contributions.get()
        assert reverse("budgets:contribution_change", args=[contribution.pk]) in page


def test_the_holder_sees_their_budget_but_not_staff_flags_or_actions(world, client_for):
    MonitoringFlag.objects.create(budget=world.budget_a, kind=MonitoringFlag.Kind.SURPLUS)
    page = client_for(world.holder_a.user).get(f"/people/{world.holder_a.pk}/").content.decode()
    assert "£380.00" in page
    assert "Unspent money above the threshold" not in page
    assert reverse("budgets:budget_create", args=[world.holder_a.pk]) not in page
    assert reverse("budgets:ras_assess", args=[world.holder_a.pk]) not in page


def test_a_staff_view_of_a_record_is_audited_and_the_holders_own_is_not(world, client_for):
    client_for(world.staff_x).get(f"/people/{world.holder_a.pk}/")
    event = AuditEvent.objects.get(action="personal_record.viewed", actor=world.staff_x)
    assert event.person == world.holder_a
    assert event.changes == {"page": "holder_detail"}
    client_for(world.holder_a.user).get(f"/people/{world.holder_a.pk}/")
    assert not AuditEvent.objects.filter(
        action="personal_record.viewed", actor=world.holder_a.user
    ).exists()


def test_someone_elses_record_is_not_found(world, client_for):
    assert client_for(world.staff_y).get(f"/people/{world.holder_a.pk}/").status_code == 404
    assert client_for(world.holder_b.user).get(f"/people/{world.holder_a.pk}/").status_code == 404
    assert not AuditEvent.objects.filter(action="personal_record.viewed").exists()
