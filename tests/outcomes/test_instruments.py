"""Instruments as versioned data (outcomes/instruments.py): a new version copies the
published one into a draft; publishing retires the version before; a published or
retired version never changes."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse

from core.exceptions import Conflict
from core.models import AuditEvent
from outcomes import instruments
from outcomes.models import Instrument, Question, QuestionOption, SurveyOptOut
from tests.outcomes.factories import instrument

pytestmark = pytest.mark.django_db


def _shape(version: Instrument) -> list[tuple[Any, ...]]:
    return [
        (
            q.section,
            q.position,
            q.code,
            q.text,
            q.hint,
            q.kind,
            q.area,
            q.measure,
            [(o.position, o.code, o.label, o.polarity) for o in q.options.all()],
        )
        for q in version.questions.prefetch_related("options")
    ]


def test_a_new_version_is_a_draft_copy_of_every_question_and_option(world: Any) -> None:
    published = instrument("holder")

    draft = instruments.instrument_new_version(instrument=published, by=world.platform_admin)

    assert draft.status == Instrument.Status.DRAFT
    assert draft.version == published.version + 1
    assert draft.respondent_kind == "holder"
    assert draft.title == published.title
    assert draft.created_by == world.platform_admin
    assert _shape(draft) == _shape(published)
    assert draft.questions.count() > 10
    # The copy has rows of its own: the published version's are untouched.
    assert not set(draft.questions.values_list("pk", flat=True)) & set(
        published.questions.values_list("pk", flat=True)
    )
    event = AuditEvent.objects.get(action="instrument.version_created")
    assert event.changes["version"] == draft.version


def test_only_one_draft_of_a_kind_at_a_time(world: Any) -> None:
    published = instrument("carer")
    draft = instruments.instrument_new_version(instrument=published, by=world.platform_admin)

    with pytest.raises(Conflict, match="already a draft"):
        instruments.instrument_new_version(instrument=published, by=world.platform_admin)
    with pytest.raises(Conflict, match="draft already"):
        instruments.instrument_new_version(instrument=draft, by=world.platform_admin)
    assert Instrument.objects.filter(respondent_kind="carer").count() == 2


@pytest.mark.parametrize("who", ["commissioner", "staff_x", "holder_a"])
def test_only_platform_admins_make_and_publish_versions(world: Any, who: str) -> None:
    user = world.users()[who]
    published = instrument("holder")
    draft = instruments.instrument_new_version(instrument=published, by=world.platform_admin)

    with pytest.raises(PermissionDenied):
        instruments.instrument_new_version(instrument=published, by=user)
    with pytest.raises(PermissionDenied):
        instruments.instrument_publish(instrument=draft, by=user)
    with pytest.raises(PermissionDenied):
        instruments.question_save(instrument=draft, by=user, text="Changed")


def test_publishing_a_draft_retires_the_version_before(world: Any) -> None:
    first = instrument("staff")
    draft = instruments.instrument_new_version(instrument=first, by=world.platform_admin)

    published = instruments.instrument_publish(instrument=draft, by=world.platform_admin)

    first.refresh_from_db()
    assert published.status == Instrument.Status.PUBLISHED
    assert published.published_at is not None
    assert first.status == Instrument.Status.RETIRED
    assert Instrument.objects.current("staff") == published
    assert Instrument.objects.published().filter(respondent_kind="staff").count() == 1
    # Other kinds keep their own published version.
    assert Instrument.objects.current("holder") is not None
    event = AuditEvent.objects.get(action="instrument.published")
    assert event.changes["retired_versions"] == [first.version]


def test_a_version_made_from_a_retired_one_takes_the_next_number(world: Any) -> None:
    first = instrument("staff")
    second = instruments.instrument_publish(
        instrument=instruments.instrument_new_version(instrument=first, by=world.platform_admin),
        by=world.platform_admin,
    )
    first.refresh_from_db()

    third = instruments.instrument_new_version(instrument=first, by=world.platform_admin)

    assert third.version == second.version + 1
    assert _shape(third) == _shape(first)


@pytest.mark.parametrize("status", [Instrument.Status.PUBLISHED, Instrument.Status.RETIRED])
def test_only_a_draft_can_be_published(world: Any, status: str) -> None:
    version = instrument("holder")
    Instrument.objects.filter(pk=version.pk).update(status=status)

    with pytest.raises(Conflict, match="Only a draft"):
        instruments.instrument_publish(instrument=version, by=world.platform_admin)


def test_a_draft_without_an_outcome_question_or_options_is_not_published(world: Any) -> None:
    draft = instruments.instrument_new_version(
        instrument=instrument("holder"), by=world.platform_admin
    )
    draft.questions.filter(kind=Question.Kind.CHANGE).delete()
    choice = draft.questions.filter(kind=Question.Kind.CHOICE).first()
    assert choice is not None
    choice.options.all().delete()

    with pytest.raises(ValidationError) as raised:
        instruments.instrument_publish(instrument=draft, by=world.platform_admin)

    assert "better, the same or worse" in " ".join(raised.value.messages)
    assert choice.code in " ".join(raised.value.messages)
    draft.refresh_from_db()
    assert draft.status == Instrument.Status.DRAFT
    assert Instrument.objects.current("holder") is not None


def test_the_database_refuses_two_published_versions_of_a_kind(world: Any) -> None:
    draft = instruments.instrument_new_version(
        instrument=instrument("holder"), by=world.platform_admin
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        Instrument.objects.filter(pk=draft.pk).update(status=Instrument.Status.PUBLISHED)


def test_a_draft_can_be_edited_through_the_services(world: Any) -> None:
    admin = world.platform_admin
    draft = instruments.instrument_new_version(instrument=instrument("holder"), by=admin)
    question = draft.questions.filter(kind=Question.Kind.CHOICE).first()
    assert question is not None

    instruments.instrument_update(instrument=draft, by=admin, title="Your budget, a year on")
    instruments.question_save(
        instrument=draft, by=admin, question=question, text="How easy was planning?"
    )
    added = instruments.question_save(
        instrument=draft,
        by=admin,
        section=Question.Section.WIDER,
        position=99,
        code="new_question",
        text="Anything else?",
        kind=Question.Kind.TEXT,
    )
    option = instruments.option_save(
        question=question, by=admin, position=99, code="other", label="Something else"
    )
    instruments.option_delete(option=option, by=admin)
    instruments.question_delete(question=added, by=admin)

    draft.refresh_from_db()
    question.refresh_from_db()
    assert draft.title == "Your budget, a year on"
    assert question.text == "How easy was planning?"
    assert not draft.questions.filter(code="new_question").exists()
    actions = set(
        AuditEvent.objects.filter(object_id=str(draft.pk)).values_list("action", flat=True)
    )
    assert {
        "instrument.changed",
        "instrument.question_added",
        "instrument.question_changed",
        "instrument.question_removed",
        "instrument.option_added",
        "instrument.option_removed",
    } <= actions


def test_an_invalid_question_is_refused_and_nothing_is_saved(world: Any) -> None:
    admin = world.platform_admin
    draft = instruments.instrument_new_version(instrument=instrument("holder"), by=admin)
    before = draft.questions.count()

    with pytest.raises(ValidationError):
        instruments.question_save(
            instrument=draft,
            by=admin,
            section=Question.Section.OUTCOMES,
            position=98,
            code="no_area",
            text="Better or worse?",
            kind=Question.Kind.CHANGE,  # a change question must name its area
        )

    assert draft.questions.count() == before


@pytest.mark.parametrize("status", [Instrument.Status.PUBLISHED, Instrument.Status.RETIRED])
def test_a_published_or_retired_version_never_changes(world: Any, status: str) -> None:
    admin = world.platform_admin
    version = instrument("holder")
    if status == Instrument.Status.RETIRED:
        instruments.instrument_publish(
            instrument=instruments.instrument_new_version(instrument=version, by=admin), by=admin
        )
        version.refresh_from_db()
    assert version.status == status
    question = version.questions.filter(kind=Question.Kind.CHOICE).first()
    assert question is not None
    option = question.options.first()
    assert option is not None
    before = _shape(version)

    attempts = [
        lambda: instruments.instrument_update(instrument=version, by=admin, title="Changed"),
        lambda: instruments.question_save(
            instrument=version, by=admin, question=question, text="Changed"
        ),
        lambda: instruments.question_save(
            instrument=version,
            by=admin,
            section="wider",
            position=99,
            code="added",
            text="Added",
            kind="text",
        ),
        lambda: instruments.question_delete(question=question, by=admin),
        lambda: instruments.option_save(question=question, by=admin, option=option, label="X"),
        lambda: instruments.option_save(question=question, by=admin, position=99, code="x"),
        lambda: instruments.option_delete(option=option, by=admin),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict, match="cannot change"):
            attempt()

    version.refresh_from_db()
    assert _shape(version) == before
    assert version.title != "Changed"
    assert QuestionOption.objects.filter(pk=option.pk).exists()
    assert not AuditEvent.objects.filter(action__startswith="instrument.question").exists()


# The admin ------------------------------------------------------------------------------------


def _question_formset(version: Instrument, **changed: dict[str, str]) -> dict[str, Any]:
    """The instrument change form's questions inline, as the browser posts it."""
    questions = list(version.questions.all())
    data: dict[str, Any] = {
        "title": version.title,
        "introduction": version.introduction,
        "questions-TOTAL_FORMS": str(len(questions)),
        "questions-INITIAL_FORMS": str(len(questions)),
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for i, q in enumerate(questions):
        row = {
            "id": q.pk,
            "instrument": version.pk,
            "section": q.section,
            "position": q.position,
            "code": q.code,
            "text": q.text,
            "hint": q.hint,
            "kind": q.kind,
            "area": q.area,
            "measure": q.measure,
            **changed.get(q.code, {}),
        }
        data.update({f"questions-{i}-{key}": value for key, value in row.items()})
    return data


def test_the_admin_makes_a_version_edits_its_questions_and_publishes_it(
    world: Any, client_for: Any
) -> None:
    admin = client_for(world.platform_admin)
    first = instrument("carer")
    changelist = reverse("admin:outcomes_instrument_changelist")

    made = admin.post(
        changelist,
        {"action": "make_new_version", "_selected_action": [first.pk]},
        follow=True,
    )
    assert made.status_code == 200
    draft = Instrument.objects.get(respondent_kind="carer", status=Instrument.Status.DRAFT)
    assert "a draft to edit" in made.content.decode()

    change = reverse("admin:outcomes_instrument_change", args=[draft.pk])
    page = admin.get(change)
    assert page.status_code == 200
    assert 'name="questions-0-text"' in page.content.decode()  # editable
    saved = admin.post(
        change,
        _question_formset(draft, carer_health={"text": "How is your own health now?"}),
    )
    assert saved.status_code == 302, saved.content
    assert draft.questions.get(code="carer_health").text == "How is your own health now?"
    assert AuditEvent.objects.filter(action="instrument.question_changed").exists()

    admin.post(changelist, {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    first.refresh_from_db()
    assert draft.status == Instrument.Status.PUBLISHED
    assert first.status == Instrument.Status.RETIRED


def test_the_admin_shows_a_published_version_read_only_and_refuses_changes(
    world: Any, client_for: Any
) -> None:
    admin = client_for(world.platform_admin)
    published = instrument("holder")
    change = reverse("admin:outcomes_instrument_change", args=[published.pk])
    question = published.questions.get(code="physical_health")

    page = admin.get(change)
    refused = admin.post(change, _question_formset(published, physical_health={"text": "Changed"}))
    option_page = admin.get(reverse("admin:outcomes_question_change", args=[question.pk]))

    assert page.status_code == 200
    assert 'name="questions-0-text"' not in page.content.decode()
    assert 'name="title"' not in page.content.decode()
    assert refused.status_code == 403
    question.refresh_from_db()
    assert question.text != "Changed"
    assert option_page.status_code == 200
    assert 'name="options-0-label"' not in option_page.content.decode()


def test_nobody_reads_answers_in_the_admin(world: Any, client_for: Any) -> None:
    for model in ("surveyresponse", "answer", "surveyinvitation"):
        with pytest.raises(NoReverseMatch):
            reverse(f"admin:outcomes_{model}_changelist")


def test_the_outcomes_admin_is_platform_admins_own(world: Any, client_for: Any) -> None:
    path = reverse("admin:outcomes_instrument_changelist")

    assert client_for(world.platform_admin).get(path).status_code == 200
    for who in ("commissioner", "finance_officer", "staff_x"):
        assert client_for(world.users()[who]).get(path).status_code == 403


def test_opening_a_holders_opt_out_in_the_admin_is_audited(world: Any, client_for: Any) -> None:
    opt_out = SurveyOptOut.objects.create(respondent_kind="holder", holder=world.holder_a)

    page = client_for(world.platform_admin).get(
        reverse("admin:outcomes_surveyoptout_change", args=[opt_out.pk])
    )

    assert page.status_code == 200
    event = AuditEvent.objects.get(action="personal_record.viewed", person=world.holder_a)
    assert event.changes["page"] == "admin: survey opt-out"
