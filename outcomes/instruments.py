"""Instruments as versioned data: loading version 1 of each (migration 0002, and tests
after a transactional test emptied the tables); making a new version to edit, editing a
draft, and publishing it (which retires the version before)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.exceptions import Conflict
from core.services import audit_record
from outcomes.instrument_content import INSTRUMENTS
from outcomes.models import Instrument, Question, QuestionOption


def seed_instruments(
    instrument_model: Any = None, question_model: Any = None, option_model: Any = None
) -> int:
    """Create and publish version 1 of every instrument kind that has none yet.
    Returns how many were created. Takes the (historical) models from a migration."""
    if instrument_model is None:
        instrument_model, question_model, option_model = Instrument, Question, QuestionOption
    created = 0
    with transaction.atomic():
        for kind, content in INSTRUMENTS.items():
            if instrument_model.objects.filter(respondent_kind=kind).exists():
                continue
            instrument = instrument_model.objects.create(
                respondent_kind=kind,
                version=1,
                title=content["title"],
                introduction=content["introduction"],
                status="published",
                published_at=timezone.now(),
            )
            options = []
            for position, (code, section, qkind, text, hint, tag, choices) in enumerate(
                content["questions"], start=1
            ):
                question = question_model.objects.create(
                    instrument=instrument,
                    section=section,
                    position=position,
                    code=code,
                    text=text,
                    hint=hint,
                    kind=qkind,
                    area=tag if qkind == "change" else "",
                    measure="" if qkind == "change" else tag,
                )
                options += [
                    option_model(
                        question=question, position=i, code=c, label=label, polarity=polarity
                    )
                    for i, (c, label, polarity) in enumerate(choices, start=1)
                ]
            option_model.objects.bulk_create(options)
            created += 1
    return created


# Versions ---------------------------------------------------------------------------------
#
# A published or retired version is what people answered: its questions and options never
# change, or last year's answers would mean something other than what was asked. An admin
# edits a copy (a new draft version) and publishes it; publishing retires the version
# before it in the same transaction (the partial unique constraint
# ``instrument_one_published_per_kind`` would refuse two published versions anyway).
#
# Instruments are national (one per kind of respondent), so only platform admins change
# them.

NOT_EDITABLE = (
    "This version is {status}: people have answered it as it is, so it cannot change. "
    "Make a new version to edit."
)


def _may_configure(user: Any) -> bool:
    return bool(getattr(user, "is_platform_admin", False))


def instrument_check_editable(instrument: Instrument) -> None:
    """Raise Conflict unless ``instrument`` is a draft (read from the database, locked,
    so a publish running at the same moment cannot slip between the check and the
    change). Call it inside the transaction that changes the instrument or its parts."""
    status = (
        Instrument.objects.select_for_update()
        .filter(pk=instrument.pk)
        .values_list("status", flat=True)
        .first()
    )
    if status is None:
        raise Instrument.DoesNotExist
    if status != Instrument.Status.DRAFT:
        label = Instrument.Status(status).label.lower()
        raise Conflict(NOT_EDITABLE.format(status=label))


def _audit(by: Any, action: str, instrument: Instrument, **changes: Any) -> None:
    audit_record(actor=by, action=action, obj=instrument, changes=changes)


@transaction.atomic
def instrument_new_version(*, instrument: Instrument, by: Any) -> Instrument:
    """Copy a published (or retired) version, with its questions and options, into a
    new draft version n+1 of the same kind, to edit.

    Raises PermissionDenied for anyone but a platform admin; Conflict when the version
    is itself a draft, or when a draft of that kind already exists (edit that one)."""
    if not _may_configure(by):
        raise PermissionDenied
    # Lock every version of the kind: two admins making a version at once get n+1 once.
    versions = list(
        Instrument.objects.select_for_update()
        .filter(respondent_kind=instrument.respondent_kind)
        .order_by("-version")
    )
    source = next((v for v in versions if v.pk == instrument.pk), None)
    if source is None:
        raise Instrument.DoesNotExist
    if source.status == Instrument.Status.DRAFT:
        raise Conflict("This version is a draft already: edit it.")
    if any(v.status == Instrument.Status.DRAFT for v in versions):
        raise Conflict("There is already a draft version of this survey: edit that one.")
    copy = Instrument.objects.create(
        respondent_kind=source.respondent_kind,
        version=versions[0].version + 1,
        title=source.title,
        introduction=source.introduction,
        status=Instrument.Status.DRAFT,
        created_by=by,
    )
    options: list[QuestionOption] = []
    for question in source.questions.prefetch_related("options"):
        new_question = Question.objects.create(
            instrument=copy,
            section=question.section,
            position=question.position,
            code=question.code,
            text=question.text,
            hint=question.hint,
            kind=question.kind,
            area=question.area,
            measure=question.measure,
        )
        options += [
            QuestionOption(
                question=new_question,
                position=option.position,
                code=option.code,
                label=option.label,
                polarity=option.polarity,
            )
            for option in question.options.all()
        ]
    QuestionOption.objects.bulk_create(options)
    _audit(
        by,
        "instrument.version_created",
        copy,
        kind=copy.respondent_kind,
        from_version=source.version,
        version=copy.version,
    )
    return copy


def instrument_problems(instrument: Instrument) -> list[str]:
    """What stops a draft being published (empty when it may be)."""
    problems = []
    questions = list(instrument.questions.prefetch_related("options"))
    if not questions:
        problems.append("Add at least one question.")
    if not any(q.kind == Question.Kind.CHANGE for q in questions):
        problems.append("Add at least one 'better, the same or worse' question.")
    for question in questions:
        if question.kind in (Question.Kind.CHOICE, Question.Kind.MULTIPLE) and not list(
            question.options.all()
        ):
            problems.append(f"Give the question '{question.code}' its answer options.")
    return problems


@transaction.atomic
def instrument_publish(*, instrument: Instrument, by: Any) -> Instrument:
    """Publish a draft; the version of that kind published before it is retired, in the
    same transaction, so exactly one version of each kind is in use at any moment.

    Raises PermissionDenied for anyone but a platform admin; Conflict when it is not a
    draft; ValidationError when it has no questions, no outcome question, or a choice
    question without options."""
    if not _may_configure(by):
        raise PermissionDenied
    versions = {
        v.pk: v
        for v in Instrument.objects.select_for_update().filter(
            respondent_kind=instrument.respondent_kind
        )
    }
    draft = versions.get(instrument.pk)
    if draft is None:
        raise Instrument.DoesNotExist
    if draft.status != Instrument.Status.DRAFT:
        raise Conflict("Only a draft version can be published.")
    problems = instrument_problems(draft)
    if problems:
        raise ValidationError(problems)
    now = timezone.now()
    retired = [v for v in versions.values() if v.status == Instrument.Status.PUBLISHED]
    Instrument.objects.filter(pk__in=[v.pk for v in retired]).update(
        status=Instrument.Status.RETIRED
    )
    draft.status = Instrument.Status.PUBLISHED
    draft.published_at = now
    draft.save(update_fields=["status", "published_at"])
    _audit(
        by,
        "instrument.published",
        draft,
        kind=draft.respondent_kind,
        version=draft.version,
        retired_versions=sorted(v.version for v in retired),
    )
    return draft


@transaction.atomic
def instrument_update(*, instrument: Instrument, by: Any, **fields: Any) -> Instrument:
    """Change a draft's title or introduction. Raises Conflict unless it is a draft."""
    if not _may_configure(by):
        raise PermissionDenied
    instrument_check_editable(instrument)
    allowed = {"title", "introduction"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"Not editable here: {sorted(unknown)}")
    changes = {k: [getattr(instrument, k), v] for k, v in fields.items()}
    for name, value in fields.items():
        setattr(instrument, name, value)
    instrument.full_clean()
    instrument.save(update_fields=list(fields))
    _audit(by, "instrument.changed", instrument, **changes)
    return instrument


@transaction.atomic
def question_save(
    *, instrument: Instrument, by: Any, question: Question | None = None, **fields: Any
) -> Question:
    """Add a question to a draft, or change one of its questions. Raises Conflict
    unless the instrument is a draft, ValidationError for invalid fields."""
    if not _may_configure(by):
        raise PermissionDenied
    instrument_check_editable(instrument)
    if question is None:
        question = Question(instrument=instrument)
    elif question.instrument_id != instrument.pk:
        raise ValueError("The question belongs to another instrument.")
    for name, value in fields.items():
        setattr(question, name, value)
    question.full_clean()
    adding = question.pk is None
    question.save()
    _audit(
        by,
        "instrument.question_added" if adding else "instrument.question_changed",
        instrument,
        question=question.code,
        fields=sorted(fields),
    )
    return question


@transaction.atomic
def question_delete(*, question: Question, by: Any) -> None:
    """Remove a question (and its options) from a draft. Raises Conflict otherwise."""
    if not _may_configure(by):
        raise PermissionDenied
    instrument = question.instrument
    instrument_check_editable(instrument)
    code = question.code
    question.delete()
    _audit(by, "instrument.question_removed", instrument, question=code)


@transaction.atomic
def option_save(
    *, question: Question, by: Any, option: QuestionOption | None = None, **fields: Any
) -> QuestionOption:
    """Add or change an answer option of a draft's question. Raises Conflict unless
    the question's instrument is a draft, ValidationError for invalid fields."""
    if not _may_configure(by):
        raise PermissionDenied
    instrument_check_editable(question.instrument)
    if option is None:
        option = QuestionOption(question=question)
    elif option.question_id != question.pk:
        raise ValueError("The option belongs to another question.")
    for name, value in fields.items():
        setattr(option, name, value)
    option.full_clean()
    adding = option.pk is None
    option.save()
    _audit(
        by,
        "instrument.option_added" if adding else "instrument.option_changed",
        question.instrument,
        question=question.code,
        option=option.code,
    )
    return option


@transaction.atomic
def option_delete(*, option: QuestionOption, by: Any) -> None:
    """Remove an answer option from a draft's question. Raises Conflict otherwise."""
    if not _may_configure(by):
        raise PermissionDenied
    question = option.question
    instrument_check_editable(question.instrument)
    code = option.code
    option.delete()
    _audit(
        by, "instrument.option_removed", question.instrument, question=question.code, option=code
    )
