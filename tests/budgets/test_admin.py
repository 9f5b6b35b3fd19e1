"""The admin as commissioners and finance officers use it: the budgets screens only,
scoped to their organisations, money records read-only for everyone, and the few
configuration edits they may make audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from budgets.admin import PoundsField
from budgets.models import (
    BudgetSettings,
    FundingStream,
    LedgerEntry,
    LedgerTransaction,
    MonitoringFlag,
    RasDomain,
    RasOption,
    RasQuestion,
    RasQuestionnaire,
    Spend,
)
from budgets.ras import ras_questionnaire_publish
from core.models import AuditEvent
from tests.factories import MembershipFactory, UserFactory
from users.models import Role

pytestmark = pytest.mark.django_db


def changelist(model: str) -> str:
    return reverse(f"admin:budgets_{model}_changelist")


def change(model: str, pk: int) -> str:
    return reverse(f"admin:budgets_{model}_change", args=[pk])


def listed(response: Any) -> set[Any]:
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


def make_questionnaire(world: Any, *, published: bool) -> RasQuestionnaire:
    questionnaire = RasQuestionnaire.objects.create(
        organisation=world.org_x,
        stream=FundingStream.NHS_CHC,
        name="Continuing healthcare RAS",
        price_per_point_pence=25_00,
    )
    domain = RasDomain.objects.create(questionnaire=questionnaire, title="Personal care")
    question = RasQuestion.objects.create(domain=domain, text="Help with washing")
    RasOption.objects.create(question=question, label="None", points=0, order=0)
    RasOption.objects.create(question=question, label="Every day", points=12, order=1)
    if published:
        questionnaire = ras_questionnaire_publish(
            questionnaire=questionnaire, published_by=world.commissioner
        )
    return questionnaire


# Who gets in, and to what ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "apps"),
    [
        # Commissioners also get plans, the market and the audit log (tests/core).
        ("commissioner", ["budgets", "plans", "marketplace", "core"]),
        ("finance_officer", ["budgets"]),
    ],
)
def test_budget_managers_see_only_the_apps_opened_to_them_on_the_admin_index(
    world: Any, client_for: Any, who: str, apps: list[str]
) -> None:
    response = client_for(getattr(world, who)).get(reverse("admin:index"))
    assert response.status_code == 200
    assert [app["app_label"] for app in response.context["app_list"]] == apps


@pytest.mark.parametrize(
    "url",
    [
        "admin:users_user_changelist",
        "admin:users_organisation_changelist",
        "admin:users_invitation_changelist",
        "admin:core_notification_changelist",
        "admin:core_reportjob_changelist",
        "admin:outcomes_instrument_changelist",
        "admin:django_celery_beat_periodictask_changelist",
        "admin:password_change_done",
    ],
)
def test_a_commissioner_cannot_open_the_platform_admins_screens(
    world: Any, client_for: Any, url: str
) -> None:
    assert client_for(world.commissioner).get(reverse(url)).status_code == 403


def test_a_commissioner_cannot_open_a_user_or_organisation_record(
    world: Any, client_for: Any
) -> None:
    client = client_for(world.commissioner)
    for url in (
        reverse("admin:users_user_change", args=[world.holder_a.user.pk]),
        reverse("admin:users_organisation_change", args=[world.org_x.pk]),
        reverse("admin:app_list", args=["users"]),
    ):
        assert client.get(url).status_code == 403, url
    assert client.get(reverse("admin:app_list", args=["budgets"])).status_code == 200


def test_a_commissioner_holding_django_permissions_still_cannot_open_other_apps(
    world: Any, client_for: Any
) -> None:
    """The site refuses other apps to members whatever Django permissions they hold."""
    from django.contrib.auth.models import Permission

    world.commissioner.user_permissions.add(Permission.objects.get(codename="view_user"))
    response = client_for(world.commissioner).get(reverse("admin:users_user_changelist"))
    assert response.status_code == 403


def test_a_commissioner_without_mfa_is_sent_to_set_it_up(world: Any, client_for: Any) -> None:
    commissioner = MembershipFactory(organisation=world.org_x, role=Role.COMMISSIONER).user
    response = client_for(commissioner).get(changelist("budget"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


# Scope ------------------------------------------------------------------------------------


def test_a_commissioner_lists_only_their_organisations_holders_and_budgets(
    world: Any, client_for: Any
) -> None:
    client = client_for(world.commissioner)
    assert listed(client.get(changelist("budgetholder"))) == {world.holder_a}
    assert listed(client.get(changelist("budget"))) == {world.budget_a}
    assert {s.budget for s in listed(client.get(changelist("spend")))} == {world.budget_a}
    assert {t.budget for t in listed(client.get(changelist("ledgertransaction")))} == {
        world.budget_a
    }


def test_a_platform_admin_lists_every_organisations_budgets(world: Any, client_for: Any) -> None:
    response = client_for(world.platform_admin).get(changelist("budget"))
    assert listed(response) == {world.budget_a, world.budget_b}


def test_a_commissioner_who_is_only_a_coordinator_elsewhere_does_not_see_that_organisation(
    world: Any, client_for: Any
) -> None:
    MembershipFactory(user=world.commissioner, organisation=world.org_y, role=Role.CLINICIAN)
    response = client_for(world.commissioner).get(changelist("budgetholder"))
    assert listed(response) == {world.holder_a}


@pytest.mark.parametrize("who", ["commissioner", "finance_officer"])
def test_another_organisations_records_are_not_found(world: Any, client_for: Any, who: str) -> None:
    client = client_for(getattr(world, who))
    spend_b = Spend.objects.get(budget=world.budget_b)
    for url in (
        change("budgetholder", world.holder_b.pk),
        change("budget", world.budget_b.pk),
        change("spend", spend_b.pk),
        change("ledgertransaction", spend_b.transaction_id),
    ):
        assert client.get(url).status_code == 404, url
    # Their own organisation's are there.
    assert client.get(change("budget", world.budget_a.pk)).status_code == 200


def test_searching_holders_by_nhs_number_however_it_is_typed(world: Any, client_for: Any) -> None:
    number = world.holder_a.nhs_number
    spaced = f"{number[:3]} {number[3:6]} {number[6:]}"
    client = client_for(world.commissioner)
    response = client.get(changelist("spend"), {"q": spaced})
    assert {s.budget.holder for s in listed(response)} == {world.holder_a}
    # Another organisation's holder is not found by number either.
    response = client.get(changelist("budgetholder"), {"q": world.holder_b.nhs_number})
    assert listed(response) == set()


# Money as pounds; views audited -------------------------------------------------------


def test_money_is_shown_in_pounds_and_pence(world: Any, client_for: Any) -> None:
    client = client_for(world.finance_officer)
    budgets = client.get(changelist("budget")).content.decode()
    assert "£13,000.00" in budgets  # the year's funding
    assert "£380.00" in budgets  # £500 paid in, £120 spent
    spends = client.get(changelist("spend")).content.decode()
    assert "£120.00" in spends
    assert "12000" not in spends


def test_opening_a_holders_budget_in_the_admin_is_audited(world: Any, client_for: Any) -> None:
    response = client_for(world.commissioner).get(change("budget", world.budget_a.pk))
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="personal_record.viewed")
    assert (event.actor, event.person, event.changes) == (
        world.commissioner,
        world.holder_a,
        {"page": "admin: budget"},
    )


# Money records are read-only -------------------------------------------------------------


@pytest.mark.parametrize("who", ["platform_admin", "commissioner", "finance_officer"])
def test_the_ledger_cannot_be_added_to_changed_or_deleted_by_anyone(
    world: Any, client_for: Any, who: str
) -> None:
    client = client_for(getattr(world, who))
    posted = LedgerTransaction.objects.filter(budget=world.budget_a).first()
    assert posted is not None
    before = list(LedgerEntry.objects.values_list("pk", "transaction_id", "amount_pence"))
    count = LedgerTransaction.objects.count()

    add = reverse("admin:budgets_ledgertransaction_add")
    delete = reverse("admin:budgets_ledgertransaction_delete", args=[posted.pk])
    assert client.get(add).status_code == 403
    assert client.post(add, {"kind": "spend", "idempotency_key": "x"}).status_code == 403
    assert (
        client.post(change("ledgertransaction", posted.pk), {"description": "x"}).status_code == 403
    )
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    response = client.post(
        changelist("ledgertransaction"),
        {"action": "delete_selected", "_selected_action": [posted.pk], "post": "yes"},
    )
    assert response.status_code in {200, 302}
    for url in (
        reverse("admin:budgets_ledgeraccount_add"),
        reverse("admin:budgets_spend_add"),
        reverse("admin:budgets_budget_add"),
    ):
        assert client.get(url).status_code == 403, url

    assert LedgerTransaction.objects.count() == count
    assert list(LedgerEntry.objects.values_list("pk", "transaction_id", "amount_pence")) == before
    page = client.get(change("ledgertransaction", posted.pk))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content


def test_a_spend_cannot_be_changed_in_the_admin(world: Any, client_for: Any) -> None:
    spend = Spend.objects.get(budget=world.budget_a)
    response = client_for(world.finance_officer).post(
        change("spend", spend.pk), {"state": Spend.State.VERIFIED, "amount_pence": 1}
    )
    assert response.status_code == 403
    spend.refresh_from_db()
    assert (spend.state, spend.amount_pence) == (Spend.State.RECORDED, 120_00)


# Flags -------------------------------------------------------------------------------------


def test_acknowledging_flags_in_bulk_moves_and_audits_each_one(world: Any, client_for: Any) -> None:
    surplus = MonitoringFlag.objects.create(budget=world.budget_a, kind=MonitoringFlag.Kind.SURPLUS)
    idle = MonitoringFlag.objects.create(
        budget=world.budget_a, kind=MonitoringFlag.Kind.NO_SPENDING
    )
    resolved = MonitoringFlag.objects.create(
        budget=world.budget_a,
        kind=MonitoringFlag.Kind.RUNNING_OUT,
        state=MonitoringFlag.State.RESOLVED,
    )
    elsewhere = MonitoringFlag.objects.create(
        budget=world.budget_b, kind=MonitoringFlag.Kind.SURPLUS
    )
    response = client_for(world.finance_officer).post(
        changelist("monitoringflag"),
        {
            "action": "acknowledge_selected",
            "_selected_action": [surplus.pk, idle.pk, resolved.pk, elsewhere.pk],
        },
        follow=True,
    )
    assert response.status_code == 200
    states = dict(MonitoringFlag.objects.values_list("pk", "state"))
    assert states == {
        surplus.pk: MonitoringFlag.State.ACKNOWLEDGED,
        idle.pk: MonitoringFlag.State.ACKNOWLEDGED,
        resolved.pk: MonitoringFlag.State.RESOLVED,
        elsewhere.pk: MonitoringFlag.State.OPEN,  # another organisation's: out of reach
    }
    events = AuditEvent.objects.filter(action="flag.state_changed")
    assert sorted(int(e.object_id) for e in events) == sorted([surplus.pk, idle.pk])
    assert {e.actor for e in events} == {world.finance_officer}
    shown = [str(m) for m in response.context["messages"]]
    assert "Acknowledged 2 flag(s)." in shown
    assert any("cannot change" in m for m in shown)


# Thresholds --------------------------------------------------------------------------------


def test_a_commissioner_changes_their_organisations_thresholds_and_it_is_audited(
    world: Any, client_for: Any
) -> None:
    settings_x = BudgetSettings.objects.create(organisation=world.org_x)
    url = change("budgetsettings", settings_x.pk)
    client = client_for(world.commissioner)

    refused = client.post(url, {"surplus_weeks": "0", "no_spending_days": "90"})
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["surplus_weeks"]
    settings_x.refresh_from_db()
    assert settings_x.surplus_weeks == 8

    response = client.post(url, {"surplus_weeks": "6", "no_spending_days": "90"})
    assert response.status_code == 302
    settings_x.refresh_from_db()
    assert settings_x.surplus_weeks == 6
    event = AuditEvent.objects.get(action="budget_settings.changed")
    assert (event.actor, event.organisation) == (world.commissioner, world.org_x)
    assert event.changes == {"page": "admin", "surplus_weeks": [8, 6]}


def test_thresholds_are_not_changed_by_finance_or_another_organisations_commissioner(
    world: Any, client_for: Any
) -> None:
    settings_x = BudgetSettings.objects.create(organisation=world.org_x)
    url = change("budgetsettings", settings_x.pk)
    data = {"surplus_weeks": "2", "no_spending_days": "30"}
    assert client_for(world.finance_officer).post(url, data).status_code == 403
    other = MembershipFactory(organisation=world.org_y, role=Role.COMMISSIONER).user
    from tests.factories import with_mfa

    response = client_for(with_mfa(other)).post(url, data)
    assert response.status_code == 404  # not found for them
    settings_x.refresh_from_db()
    assert (settings_x.surplus_weeks, settings_x.no_spending_days) == (8, 90)
    assert not AuditEvent.objects.filter(action="budget_settings.changed").exists()


# The Resource Allocation System ----------------------------------------------------------


def _questionnaire_form(questionnaire: RasQuestionnaire, **changes: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": questionnaire.name,
        "price_per_point_pence": "25.00",
        "cap_pence": "",
        "bands-TOTAL_FORMS": "0",
        "bands-INITIAL_FORMS": "0",
        "domains-TOTAL_FORMS": "1",
        "domains-INITIAL_FORMS": "1",
    }
    domain = questionnaire.domains.get()
    data.update({"domains-0-id": domain.pk, "domains-0-title": domain.title, "domains-0-order": 0})
    data.update(changes)
    return data


def test_a_commissioner_edits_a_draft_questionnaire_in_pounds(world: Any, client_for: Any) -> None:
    draft = make_questionnaire(world, published=False)
    client = client_for(world.commissioner)
    url = change("rasquestionnaire", draft.pk)

    refused = client.post(url, _questionnaire_form(draft, price_per_point_pence="12.505"))
    assert refused.status_code == 200
    draft.refresh_from_db()
    assert draft.price_per_point_pence == 25_00

    response = client.post(url, _questionnaire_form(draft, price_per_point_pence="£1,012.50"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.price_per_point_pence == 1012_50
    event = AuditEvent.objects.get(action="ras.changed")
    assert event.changes["price_per_point_pence"] == [25_00, 1012_50]


def test_a_published_questionnaire_cannot_be_edited(world: Any, client_for: Any) -> None:
    published = make_questionnaire(world, published=True)
    client = client_for(world.commissioner)
    url = change("rasquestionnaire", published.pk)
    page = client.get(url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert "£25.00" in page.content.decode()

    response = client.post(url, _questionnaire_form(published, price_per_point_pence="99.00"))
    assert response.status_code == 403
    domain = published.domains.get()
    question = RasQuestion.objects.get(domain=domain)
    assert client.post(change("rasdomain", domain.pk), {"title": "x"}).status_code == 403
    assert client.post(change("rasquestion", question.pk), {"text": "x"}).status_code == 403
    published.refresh_from_db()
    assert published.price_per_point_pence == 25_00
    assert RasDomain.objects.get(pk=domain.pk).title == "Personal care"


def test_finance_cannot_edit_a_draft_questionnaire(world: Any, client_for: Any) -> None:
    draft = make_questionnaire(world, published=False)
    response = client_for(world.finance_officer).post(
        change("rasquestionnaire", draft.pk),
        _questionnaire_form(draft, price_per_point_pence="1.00"),
    )
    assert response.status_code == 403


def test_the_new_version_and_publish_actions(world: Any, client_for: Any) -> None:
    first = make_questionnaire(world, published=True)
    client = client_for(world.commissioner)
    client.post(
        changelist("rasquestionnaire"),
        {"action": "create_new_version", "_selected_action": [first.pk]},
    )
    draft = RasQuestionnaire.objects.get(version=2)
    assert draft.status == RasQuestionnaire.Status.DRAFT
    assert list(
        RasOption.objects.filter(question__domain__questionnaire=draft).values_list(
            "label", "points"
        )
    ) == [("None", 0), ("Every day", 12)]
    assert AuditEvent.objects.filter(action="ras.version_created", actor=world.commissioner)

    # A second draft is refused while one is open: nothing new is made.
    response = client.post(
        changelist("rasquestionnaire"),
        {"action": "create_new_version", "_selected_action": [first.pk]},
        follow=True,
    )
    assert RasQuestionnaire.objects.count() == 2
    assert any("already a draft" in str(m) for m in response.context["messages"])

    client.post(
        changelist("rasquestionnaire"), {"action": "publish", "_selected_action": [draft.pk]}
    )
    first.refresh_from_db()
    draft.refresh_from_db()
    assert (first.status, draft.status) == (
        RasQuestionnaire.Status.RETIRED,
        RasQuestionnaire.Status.PUBLISHED,
    )


def test_finance_does_not_get_the_questionnaire_actions(world: Any, client_for: Any) -> None:
    first = make_questionnaire(world, published=True)
    response = client_for(world.finance_officer).post(
        changelist("rasquestionnaire"),
        {"action": "create_new_version", "_selected_action": [first.pk]},
    )
    assert response.status_code in {200, 302}
    assert RasQuestionnaire.objects.count() == 1


def test_a_commissioner_adds_a_questionnaire_only_for_their_organisation(
    world: Any, client_for: Any
) -> None:
    client = client_for(world.commissioner)
    add = reverse("admin:budgets_rasquestionnaire_add")
    data = {
        "stream": FundingStream.NHS_CHC,
        "name": "New RAS",
        "price_per_point_pence": "10",
        "cap_pence": "",
        "bands-TOTAL_FORMS": "0",
        "bands-INITIAL_FORMS": "0",
        "domains-TOTAL_FORMS": "0",
        "domains-INITIAL_FORMS": "0",
    }
    refused = client.post(add, {**data, "organisation": world.org_y.pk})
    assert refused.status_code == 200
    assert not RasQuestionnaire.objects.exists()
    assert client.post(add, {**data, "organisation": world.org_x.pk}).status_code == 302
    made = RasQuestionnaire.objects.get()
    assert (made.organisation, made.price_per_point_pence, made.status, made.version) == (
        world.org_x,
        10_00,
        RasQuestionnaire.Status.DRAFT,
        1,
    )


def test_the_questionnaires_listed_are_their_organisations(world: Any, client_for: Any) -> None:
    ours = make_questionnaire(world, published=False)
    theirs = RasQuestionnaire.objects.create(
        organisation=world.org_y,
        stream=FundingStream.NHS_CHC,
        name="South RAS",
        price_per_point_pence=1_00,
    )
    assert listed(client_for(world.commissioner).get(changelist("rasquestionnaire"))) == {ours}
    everything = listed(client_for(world.platform_admin).get(changelist("rasquestionnaire")))
    assert everything == {ours, theirs}


# Typing pounds -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "pence"),
    [("12.50", 1250), ("12.5", 1250), ("£1,200", 120000), (" 7 ", 700), ("0.01", 1)],
)
def test_pounds_become_exact_pence(typed: str, pence: int) -> None:
    assert PoundsField().clean(typed) == pence


@pytest.mark.parametrize("typed", ["12.505", "-5", "0", "0.00", "ten", "1e3", "99999999999"])
def test_bad_amounts_are_refused(typed: str) -> None:
    with pytest.raises(ValidationError):
        PoundsField().clean(typed)


def test_zero_is_allowed_where_it_makes_sense() -> None:
    assert PoundsField(allow_zero=True).clean("0") == 0


def test_a_signed_in_person_without_a_budget_role_is_refused(world: Any, client_for: Any) -> None:
    someone = UserFactory()
    assert client_for(someone).get(reverse("admin:index")).status_code == 403


# Every screen opens --------------------------------------------------------------------------


def _one_of_everything(world: Any) -> dict[str, Any]:
    import datetime

    from django.utils import timezone

    from budgets.models import (
        AllocationRun,
        BudgetNotice,
        LedgerAccount,
        RasAssessment,
        ReconciliationRun,
        SpendQuery,
    )
    from budgets.services import surplus_recovery_propose

    spend = Spend.objects.get(budget=world.budget_a)
    contribution = world.budget_a.contributions.get()
    recovery = surplus_recovery_propose(
        contribution=contribution,
        amount_pence=50_00,
        reasons="More than eight weeks of funding unspent.",
        respond_by=timezone.localdate() + datetime.timedelta(days=28),
        proposed_by=world.finance_officer,
    )
    questionnaire = make_questionnaire(world, published=True)
    return {
        "budgetholder": world.holder_a,
        "budget": world.budget_a,
        "ledgertransaction": spend.transaction,
        "ledgeraccount": LedgerAccount.objects.get(contribution=contribution),
        "spend": spend,
        "spendquery": SpendQuery.objects.create(
            spend=spend, question="What was this for?", asked_by=world.finance_officer
        ),
        "monitoringflag": MonitoringFlag.objects.create(
            budget=world.budget_a, kind=MonitoringFlag.Kind.SURPLUS, details={"weeks": 9}
        ),
        "allocationrun": AllocationRun.objects.create(as_of=timezone.localdate()),
        "reconciliationrun": ReconciliationRun.objects.create(
            ok=False, mismatches=[{"check": "ledger_total", "sum_pence": 1}]
        ),
        "surplusrecovery": recovery,
        "budgetnotice": BudgetNotice.objects.get(pk=recovery.notice_id),
        "budgetsettings": BudgetSettings.objects.create(organisation=world.org_x),
        "rasquestionnaire": questionnaire,
        "rasdomain": questionnaire.domains.get(),
        "rasquestion": RasQuestion.objects.get(domain__questionnaire=questionnaire),
        "rasassessment": RasAssessment.objects.create(
            holder=world.holder_a,
            method=RasAssessment.Method.CURRENT_PACKAGE,
            calculated_pence=12_000_00,
            package_description="Two visits a day",
            working={"package": "Two visits a day"},
            completed_by=world.commissioner,
        ),
    }


@pytest.mark.parametrize("who", ["platform_admin", "commissioner", "finance_officer"])
def test_every_budgets_screen_opens_with_a_record_in_it(
    world: Any, client_for: Any, who: str
) -> None:
    client = client_for(getattr(world, who))
    for model, obj in _one_of_everything(world).items():
        assert client.get(changelist(model)).status_code == 200, model
        response = client.get(change(model, obj.pk))
        assert response.status_code == 200, model
        assert obj in listed(client.get(changelist(model))), model


def test_reconciliation_mismatches_are_shown_to_platform_admins_only(
    world: Any, client_for: Any
) -> None:
    from budgets.models import ReconciliationRun

    run = ReconciliationRun.objects.create(
        ok=False, mismatches=[{"check": "balance", "name": "Bea Holder (NHS CHC)"}]
    )
    url = change("reconciliationrun", run.pk)
    assert "Bea Holder" in client_for(world.platform_admin).get(url).content.decode()
    page = client_for(world.commissioner).get(url).content.decode()
    assert "Bea Holder" not in page
    assert "Problems found" in page


def test_the_admins_change_password_link_goes_to_the_account_page(
    world: Any, client_for: Any
) -> None:
    for user in (world.commissioner, world.platform_admin):
        response = client_for(user).get(reverse("admin:password_change"))
        assert response.status_code == 302
        assert response["Location"] == reverse("account_change_password")
