"""The outcomes API (``outcomes/api/``): instruments, rounds as counts, aggregated
results with suppression, and answers a partner system collected elsewhere, sent with
an ``Idempotency-Key``."""

from __future__ import annotations

import datetime
import itertools
import threading
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import connection
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from core.models import AuditEvent, IdempotencyRecord
from outcomes import instruments, reports
from outcomes.models import (
    SUPPRESS_BELOW,
    Answer,
    SurveyInvitation,
    SurveyResponse,
    SurveyRound,
)
from tests.api.partners import ALL_SCOPES, assert_problem, bearer_client, new_key, request_token
from tests.api.test_schemathesis import CHECKS
from tests.factories import PartnerApplicationFactory
from tests.outcomes.factories import instrument, submitted_response

pytestmark = pytest.mark.django_db

OUTCOME_SCOPES = {"outcomes:read", "outcomes:write", "responses:read"}
# Every other scope a partner may hold: none of them opens the outcomes API.
OTHER_SCOPES = " ".join(s for s in ALL_SCOPES.split() if s not in OUTCOME_SCOPES)
SCOPES = f"{OTHER_SCOPES} outcomes:read outcomes:write responses:read"
INSTRUMENTS = "/api/v1/outcomes/instruments/"
ROUNDS = "/api/v1/outcomes/rounds/"
RESULTS = "/api/v1/outcomes/results/"
RESPONSES = "/api/v1/outcomes/responses/"


def _app(organisation: Any, scopes: str = SCOPES) -> Any:
    return PartnerApplicationFactory(organisation=organisation, scopes=scopes)


def _client(app: Any) -> Client:
    response = request_token(app.client_id)
    assert response.status_code == 200, response.content
    return bearer_client(response.json()["access_token"])


def _api(organisation: Any, scopes: str = SCOPES) -> Client:
    return _client(_app(organisation, scopes))


# Instruments -------------------------------------------------------------------------------


def test_instruments_list_the_versions_in_use_and_retired_but_no_drafts(world: Any) -> None:
    first = instrument("holder")
    second = instruments.instrument_publish(
        instrument=instruments.instrument_new_version(instrument=first, by=world.platform_admin),
        by=world.platform_admin,
    )
    draft = instruments.instrument_new_version(instrument=second, by=world.platform_admin)
    api = _api(world.org_x)

    listed = api.get(INSTRUMENTS, {"respondent_kind": "holder"}).json()["results"]

    assert [(i["version"], i["status"]) for i in listed] == [(2, "published"), (1, "retired")]
    published = api.get(INSTRUMENTS, {"status": "published"}).json()["results"]
    assert {i["respondent_kind"] for i in published} == {"holder", "carer", "staff"}
    assert_problem(api.get(f"{INSTRUMENTS}{draft.pk}/"), 404)
    assert api.get(INSTRUMENTS, {"status": "draft"}).json()["results"] == []


def test_an_instrument_shows_its_questions_and_options(world: Any) -> None:
    version = instrument("holder")

    body = _api(world.org_x).get(f"{INSTRUMENTS}{version.pk}/").json()

    assert body["version"] == version.version
    codes = [q["code"] for q in body["questions"]]
    assert codes == list(version.questions.values_list("code", flat=True))
    planning = next(q for q in body["questions"] if q["code"] == "ease_planning")
    assert planning["kind"] == "choice"
    assert planning["options"][0] == {
        "code": "very_easy",
        "label": "Very easy",
        "polarity": "positive",
    }
    health = next(q for q in body["questions"] if q["code"] == "physical_health")
    assert (health["kind"], health["area"], health["options"]) == ("change", "physical_health", [])


def test_reading_instruments_takes_a_fixed_number_of_queries(
    world: Any, django_assert_max_num_queries: Any
) -> None:
    """Questions and their options are prefetched: not a query per question."""
    api = _api(world.org_x)
    version = instrument("holder")
    assert version.questions.count() > 20

    with django_assert_max_num_queries(12):
        assert api.get(f"{INSTRUMENTS}{version.pk}/").status_code == 200
    with django_assert_max_num_queries(12):
        assert api.get(f"/api/v1/fhir/Questionnaire/{version.pk}").status_code == 200


def test_instruments_need_the_outcomes_scope(world: Any) -> None:
    assert_problem(_api(world.org_x, scopes=OTHER_SCOPES).get(INSTRUMENTS), 403)


def test_staff_read_instruments_and_holders_do_not(world: Any, client_for: Any) -> None:
    assert client_for(world.staff_x).get(INSTRUMENTS).status_code == 200
    assert_problem(client_for(world.holder_a.user).get(INSTRUMENTS), 403)


# Rounds ------------------------------------------------------------------------------------


def _round(organisation: Any, holder: Any, states: list[str]) -> SurveyRound:
    version = instrument("holder")
    start = datetime.date(2025, 6, 1)
    survey_round = SurveyRound.objects.create(
        organisation=organisation,
        respondent_kind="holder",
        instrument=version,
        period_start=start,
        closes_on=start + datetime.timedelta(days=60),
    )
    for sequence, state in enumerate(states, start=1):
        SurveyInvitation.objects.create(
            round=survey_round,
            respondent_kind="holder",
            holder=holder,
            respondent_key="holder",
            sequence=sequence,
            due_on=start,
            state=state,
            expires_at=timezone.now() + datetime.timedelta(days=30),
        )
    return survey_round


def test_rounds_are_the_callers_organisations_and_counts_only(world: Any, client_for: Any) -> None:
    S = SurveyInvitation.State
    mine = _round(
        world.org_x,
        world.holder_a,
        [S.SENT, S.STARTED, S.SUBMITTED, S.DECLINED, S.EXPIRED, S.SUBMITTED],
    )
    theirs = _round(world.org_y, world.holder_b, [S.SENT])

    (row,) = _api(world.org_x).get(ROUNDS).json()["results"]

    assert row["id"] == mine.pk
    assert row["instrument_version"] == mine.instrument.version
    assert {k: row[k] for k in ("invited", "answered", "declined", "expired", "waiting")} == {
        "invited": 6,
        "answered": 2,
        "declined": 1,
        "expired": 1,
        "waiting": 2,
    }
    assert "holder" not in row  # never who was invited
    (row_y,) = client_for(world.staff_y).get(ROUNDS).json()["results"]
    assert row_y["id"] == theirs.pk
    assert client_for(world.commissioner).get(ROUNDS).json()["results"][0]["id"] == mine.pk
    assert_problem(client_for(world.provider_staff).get(ROUNDS), 403)
    assert_problem(client_for(world.holder_a.user).get(ROUNDS), 403)


# Results -------------------------------------------------------------------------------------

Q1 = datetime.date(2025, 5, 10)  # fy2025q1
Q2 = datetime.date(2025, 8, 10)  # fy2025q2

# (how many, route, management, band, day, physical health answer) for org X; chosen
# so that some filtered views are 5 or more and some are 1 to 4, in every dimension.
ORG_X_ANSWERS = [
    (6, "chc", "direct_payment", "10k_25k", Q1, "better"),
    (3, "s117_aftercare", "direct_payment", "10k_25k", Q1, "worse"),
    (5, "chc", "notional", "25k_50k", Q2, "same"),
    (2, "s117_aftercare", "notional", "10k_25k", Q2, "a_lot_better"),
    (5, "chc", "direct_payment", "10k_25k", Q2, "worse"),
]


@pytest.fixture
def answered(world: Any) -> None:
    for count, route, option, band, day, change in ORG_X_ANSWERS:
        for _ in range(count):
            submitted_response(
                world.holder_a,
                {"physical_health": change, "mental_wellbeing": "same"},
                eligibility_route=route,
                management_option=option,
                budget_band=band,
                submitted_on=day,
            )
    for _ in range(5):  # another organisation's: never in org X's figures
        submitted_response(world.holder_b, {"physical_health": "better"}, submitted_on=Q1)


def _area(body: dict[str, Any], area: str = "physical_health") -> dict[str, Any]:
    return next(a for a in body["areas"] if a["area"] == area)


def _assert_no_small_group_shown(body: dict[str, Any]) -> None:
    figures = list(body["areas"]) + [a for g in body["groups"] for a in g["areas"]]
    for figure in figures:
        if figure["suppressed"]:
            assert all(
                figure[k] is None
                for k in ("n", "better", "same", "worse", "better_percent", "worse_percent")
            ), figure
        else:
            assert figure["n"] >= SUPPRESS_BELOW, figure
            assert figure["better"] + figure["same"] + figure["worse"] == figure["n"]


def test_results_count_the_callers_organisation_only(world: Any, answered: None) -> None:
    body = _api(world.org_x).get(RESULTS).json()

    health = _area(body)
    assert (health["n"], health["better"], health["same"], health["worse"]) == (21, 8, 5, 8)
    assert body["suppress_below"] == SUPPRESS_BELOW
    assert _area(_api(world.org_y).get(RESULTS).json())["n"] == 5
    # An area nobody answered is suppressed, not shown as 0.
    assert _area(body, "paid_work")["suppressed"] is True


def test_results_are_the_reports_figures(world: Any, answered: None) -> None:
    body = (
        _api(world.org_x)
        .get(RESULTS, {"eligibility_route": "chc", "breakdown": "management_option"})
        .json()
    )

    summary = reports.outcome_summary(
        reports.ReportFilter(organisation_ids=frozenset({world.org_x.pk}), eligibility_route="chc"),
        breakdown="management_option",
    )
    assert [(a["area"], a["suppressed"], a["n"]) for a in body["areas"]] == [
        (a.area, a.suppressed, a.n) for a in summary.areas
    ]
    assert [g["key"] for g in body["groups"]] == [g.key for g in summary.groups]
    assert [[a["n"] for a in g["areas"]] for g in body["groups"]] == [
        [a.n for a in g.areas] for g in summary.groups
    ]


ROUTES = [None, "chc", "s117_aftercare"]
OPTIONS = [None, "direct_payment", "notional"]
BANDS = [None, "10k_25k"]
PERIODS = [None, "fy2025q1"]
BREAKDOWNS = ["", "organisation", "eligibility_route", "period"]


def test_no_filter_combination_reveals_a_group_under_five(world: Any, answered: None) -> None:
    """Every combination of filters and breakdowns: nothing under 5 is shown, no shown
    figure minus a narrower shown figure is 1 to 4, and no breakdown's total minus its
    shown groups is 1 to 4."""
    api = _api(world.org_x)
    shown: dict[tuple[Any, ...], int] = {}
    for route, option, band, period in itertools.product(ROUTES, OPTIONS, BANDS, PERIODS):
        params = {
            k: v
            for k, v in {
                "eligibility_route": route,
                "management_option": option,
                "budget_band": band,
                "period": period,
            }.items()
            if v
        }
        for breakdown in BREAKDOWNS:
            response = api.get(RESULTS, {**params, "breakdown": breakdown} if breakdown else params)
            assert response.status_code == 200, response.content
            body = response.json()
            _assert_no_small_group_shown(body)
            for total in body["areas"]:
                if total["suppressed"]:
                    continue
                in_groups = [
                    a["n"]
                    for g in body["groups"]
                    for a in g["areas"]
                    if a["area"] == total["area"] and not a["suppressed"]
                ]
                if body["groups"]:
                    rest = total["n"] - sum(in_groups)
                    assert rest == 0 or rest >= SUPPRESS_BELOW, (params, breakdown, total)
                shown[(route, option, band, period, total["area"])] = total["n"]
    assert shown, "the data should show some figures"
    # A wider view minus a narrower one (every filter of the wider is in the narrower).
    for (wide, n_wide), (narrow, n_narrow) in itertools.permutations(shown.items(), 2):
        if wide[4] != narrow[4]:
            continue
        if all(w is None or w == n for w, n in zip(wide[:4], narrow[:4], strict=True)):
            difference = n_wide - n_narrow
            assert difference == 0 or difference >= SUPPRESS_BELOW, (wide, narrow)


def test_a_small_filtered_group_is_suppressed(world: Any, answered: None) -> None:
    api = _api(world.org_x)
    by_route = api.get(RESULTS, {"eligibility_route": "s117_aftercare"}).json()
    narrower = api.get(
        RESULTS, {"eligibility_route": "s117_aftercare", "management_option": "notional"}
    ).json()

    assert _area(by_route)["n"] == 5  # five answers on that route: shown
    assert _area(narrower)["suppressed"] is True  # two: never shown
    # Nor could they be worked out: the route's other figure by management is 3, so
    # every view filtered by route and management is suppressed for this area.
    other = api.get(
        RESULTS, {"eligibility_route": "s117_aftercare", "management_option": "direct_payment"}
    ).json()
    assert _area(other)["suppressed"] is True


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"eligibility_route": "nonsense"}, "eligibility_route"),
        ({"breakdown": "holder"}, "breakdown"),
        ({"period": "2025"}, "period"),
        ({"respondent_kind": "dog"}, "respondent_kind"),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(
    world: Any, params: dict[str, str], field: str
) -> None:
    body = assert_problem(_api(world.org_x).get(RESULTS, params), 400)

    assert field in body["errors"]


def test_another_organisation_cannot_be_named(world: Any, answered: None) -> None:
    body = assert_problem(_api(world.org_x).get(RESULTS, {"organisation": world.org_y.pk}), 400)

    assert "organisation" in body["errors"]


def test_results_for_staff_who_serve_people_only(
    world: Any, answered: None, client_for: Any
) -> None:
    assert _area(client_for(world.commissioner).get(RESULTS).json())["n"] == 21
    assert _area(client_for(world.staff_y).get(RESULTS).json())["n"] == 5
    for user in (world.provider_staff, world.org_admin_x, world.holder_a.user):
        assert_problem(client_for(user).get(RESULTS), 403)


# Recording answers collected elsewhere -------------------------------------------------------


def _body(world: Any, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "holder": world.holder_a.pk,
        "instrument": instrument("holder").pk,
        "respondent_kind": "holder",
        "answers": {
            "physical_health": "better",
            "ease_planning": "fairly_easy",
            "who_helped": ["family_friends"],
            "anything_else": "Phoned in by Alex.",
        },
        "collected_on": "2025-05-10",
        "external_reference": "CASE-1001",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def _post(client: Client, body: dict[str, Any], key: str | None = "key-1") -> Any:
    headers = {} if key is None else {"Idempotency-Key": key}
    return client.post(RESPONSES, body, content_type="application/json", headers=headers)


def _nothing_written() -> None:
    assert not SurveyResponse.objects.exists()
    assert not Answer.objects.exists()
    assert not IdempotencyRecord.objects.exists()
    assert not AuditEvent.objects.filter(action="survey_response.recorded").exists()


def test_a_partner_records_answers_about_its_holder(world: Any) -> None:
    app = _app(world.org_x)

    response = _post(_client(app), _body(world))

    assert response.status_code == 201, response.content
    body = response.json()
    recorded = SurveyResponse.objects.get()
    assert body["id"] == recorded.pk
    assert body["collected_on"] == "2025-05-10"
    assert body["questions_answered"] == 4
    assert "answers" not in body  # not echoed, so not kept with the idempotency record
    assert recorded.state == SurveyResponse.State.SUBMITTED
    assert recorded.source == SurveyResponse.Source.PARTNER
    assert recorded.partner_application == app
    assert recorded.submitted_on == datetime.date(2025, 5, 10)
    assert recorded.organisation == world.org_x
    assert recorded.eligibility_route == world.holder_a.eligibility_route
    assert recorded.budget_band == "10k_25k"  # from holder A's budget (£13,000 a year)
    answers = {a.question.code: a for a in recorded.answers.select_related("question")}
    assert answers["physical_health"].choice == "better"
    assert answers["who_helped"].choices == ["family_friends"]
    assert answers["anything_else"].text == "Phoned in by Alex."
    event = AuditEvent.objects.get(action="survey_response.recorded")
    assert event.person == world.holder_a
    assert event.actor_label.startswith("Partner application")


def test_a_holder_may_be_named_by_nhs_number(world: Any) -> None:
    number = world.holder_a.nhs_number
    spaced = f"{number[:3]} {number[3:6]} {number[6:]}"

    response = _post(_api(world.org_x), _body(world, holder=None, nhs_number=spaced))

    assert response.status_code == 201, response.content
    assert SurveyResponse.objects.get().holder == world.holder_a


def test_a_retry_with_the_same_key_and_body_replays_the_first_response(world: Any) -> None:
    client = _api(world.org_x)
    first = _post(client, _body(world))

    again = _post(client, _body(world))

    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert SurveyResponse.objects.count() == 1


def test_the_same_key_with_another_body_is_a_422(world: Any) -> None:
    client = _api(world.org_x)
    _post(client, _body(world))

    other = _post(client, _body(world, answers={"physical_health": "worse"}))

    assert_problem(other, 422)
    assert SurveyResponse.objects.count() == 1
    assert SurveyResponse.objects.get().answers.get(question__code="physical_health").choice == (
        "better"
    )


def test_one_external_reference_is_recorded_once(world: Any) -> None:
    client = _api(world.org_x)
    _post(client, _body(world), key="first")

    assert_problem(_post(client, _body(world), key="second"), 409)
    assert SurveyResponse.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submissions_with_one_key_record_once(world: Any) -> None:
    app = _app(world.org_x)
    token = request_token(app.client_id).json()["access_token"]
    body = _body(world)
    start = threading.Barrier(2)
    responses: list[Any] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            start.wait(timeout=10)
            responses.append(_post(bearer_client(token), body, key="at-once"))
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors
    assert [r.status_code for r in responses] == [201, 201]
    assert responses[0].json() == responses[1].json()
    assert sorted(r.get("Idempotent-Replayed", "") for r in responses) == ["", "true"]
    assert SurveyResponse.objects.count() == 1
    assert Answer.objects.count() == 4


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"answers": {"no_such_question": "better"}}, "answers", "no question 'no_such_question'"),
        ({"answers": {"physical_health": "brilliant"}}, "answers", "physical_health: Answer with"),
        ({"answers": {"ease_planning": "very_hard_indeed"}}, "answers", "ease_planning"),
        ({"answers": {"who_helped": "family_friends"}}, "answers", "who_helped"),
        ({"answers": {"who_helped": ["nobody", "nobody"]}}, "answers", "who_helped"),
        ({"answers": {"anything_else": "   "}}, "answers", "anything_else"),
        ({"answers": {}}, "answers", "at least one answer"),
        ({"answers": ["better"]}, "answers", "question code"),
        ({"respondent_kind": "carer"}, "respondent_kind", "respondent_kind 'holder'"),
        ({"collected_on": "2999-01-01"}, "collected_on", "future"),
        ({"holder": None}, "holder", "one of them"),
        ({"nhs_number": "9434765919"}, "holder", "one of them"),
        ({"instrument": 999_999}, "instrument", "no such survey"),
        ({"answered_by": "neighbour"}, "answered_by", ""),
    ],
)
def test_bad_answers_are_a_400_naming_each_problem_and_nothing_is_written(
    world: Any, changes: dict[str, Any], field: str, message: str
) -> None:
    body = _body(world, **changes)
    if changes.get("holder", 0) is None:
        body.pop("holder", None)

    problem = assert_problem(_post(_api(world.org_x), body), 400)

    assert field in problem["errors"], problem
    assert message in " ".join(map(str, problem["errors"][field])), problem
    _nothing_written()


def test_a_draft_version_takes_no_answers(world: Any) -> None:
    draft = instruments.instrument_new_version(
        instrument=instrument("holder"), by=world.platform_admin
    )

    problem = assert_problem(_post(_api(world.org_x), _body(world, instrument=draft.pk)), 400)

    assert "draft" in problem["errors"]["instrument"][0]
    _nothing_written()


def test_a_retired_version_still_takes_answers_collected_on_it(world: Any) -> None:
    first = instrument("holder")
    instruments.instrument_publish(
        instrument=instruments.instrument_new_version(instrument=first, by=world.platform_admin),
        by=world.platform_admin,
    )

    response = _post(_api(world.org_x), _body(world, instrument=first.pk))

    assert response.status_code == 201, response.content
    assert SurveyResponse.objects.get().instrument == first


def test_another_organisations_holder_is_refused_and_nothing_is_written(world: Any) -> None:
    for holder in (
        {"holder": world.holder_b.pk},
        {"holder": None, "nhs_number": world.holder_b.nhs_number},
    ):
        body = _body(world, **holder)
        problem = assert_problem(_post(_api(world.org_x), body, key=new_key()), 400)
        assert set(problem["errors"]) & {"holder", "nhs_number"}
    _nothing_written()


def test_recording_answers_needs_the_write_scope_and_an_application(
    world: Any, client_for: Any
) -> None:
    assert_problem(
        _post(_api(world.org_x, scopes=f"{OTHER_SCOPES} outcomes:read"), _body(world)), 403
    )
    assert_problem(_post(client_for(world.commissioner), _body(world)), 403)
    assert_problem(_post(_api(world.org_x), _body(world), key=None), 400)
    _nothing_written()


def test_answers_recorded_by_partners_count_in_the_results(world: Any) -> None:
    client = _api(world.org_x)
    for number in range(SUPPRESS_BELOW):
        response = _post(
            client,
            _body(world, external_reference=f"CASE-{number}"),
            key=f"key-{number}",
        )
        assert response.status_code == 201, response.content

    health = _area(client.get(RESULTS, {"period": "fy2025q1"}).json())

    assert (health["n"], health["better"]) == (SUPPRESS_BELOW, SUPPRESS_BELOW)


# Schemathesis over the outcomes operations, with the scopes and records behind them -------

OUTCOME_PATHS = r"^/api/v1/(outcomes/|fhir/Questionnaire)"


@pytest.fixture
def outcomes_schema(world: Any) -> Any:
    loaded = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())
    ids = [
        instrument("holder").pk,
        instrument("carer").pk,
        submitted_response(world.holder_a, {"physical_health": "better"}).pk,
        submitted_response(world.holder_b, {"physical_health": "worse"}).pk,
    ]

    @loaded.hook
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
        """Often name a real instrument or response: org X's (found), org Y's (not)."""
        if not path_parameters or "id" not in path_parameters:
            return st.just(path_parameters)
        return st.sampled_from([path_parameters] + [{**path_parameters, "id": pk} for pk in ids])

    return loaded


outcomes_api = schemathesis.pytest.from_fixture("outcomes_schema").include(path_regex=OUTCOME_PATHS)


@pytest.mark.schemathesis
@pytest.mark.django_db(transaction=True)
@outcomes_api.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_outcomes_api_keeps_to_its_schema(case: Any, world: Any) -> None:
    token = request_token(_app(world.org_x).client_id).json()["access_token"]
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
