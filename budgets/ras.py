"""The Resource Allocation System: scoring a questionnaire into an indicative budget,
costing the current package instead, a commissioner's override, and versioning.

The working (every answer and its points, the pricing, any band or cap) is stored
with each assessment, so a budget always shows how its amount was reached even after
the questionnaire moves on to a new version."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from budgets.ledger import MAX_YEARLY_PENCE, format_pence
from budgets.models import (
    BudgetHolder,
    RasAnswer,
    RasAssessment,
    RasBand,
    RasDomain,
    RasOption,
    RasQuestion,
    RasQuestionnaire,
)
from budgets.permissions import is_commissioner_for, is_staff_for
from core.exceptions import Conflict
from core.services import audit_record
from users.models import Membership, Role


def ras_score(
    *, questionnaire: RasQuestionnaire, answers: dict[int, int]
) -> tuple[int, int, dict[str, Any]]:
    """Score answers (question id → option id) into (points, pence, working). Every
    question must be answered with one of its own options."""
    questions = {
        q.pk: q
        for q in RasQuestion.objects.filter(domain__questionnaire=questionnaire)
        .select_related("domain")
        .prefetch_related("options")
    }
    missing = [q.text for pk, q in questions.items() if pk not in answers]
    if missing:
        raise ValidationError({"answers": [f"Answer: {text}" for text in missing]})
    unknown = set(answers) - set(questions)
    if unknown:
        raise ValidationError({"answers": "An answer is for a question not in this questionnaire."})
    lines = []
    total = 0
    for question in sorted(
        questions.values(), key=lambda q: (q.domain.order, q.domain.pk, q.order, q.pk)
    ):
        options = {o.pk: o for o in question.options.all()}
        option = options.get(answers[question.pk])
        if option is None:
            raise ValidationError({"answers": f"Choose one of the answers for: {question.text}"})
        total += option.points
        lines.append(
            {
                "domain": question.domain.title,
                "question": question.text,
                "answer": option.label,
                "points": option.points,
            }
        )
    band = RasBand.objects.filter(
        questionnaire=questionnaire, min_points__lte=total, max_points__gte=total
    ).first()
    if band is not None:
        amount = band.amount_pence
        pricing = (
            f"{total} points fall in the band {band.min_points} to {band.max_points} points: "
            f"{format_pence(amount)}"
        )
    else:
        amount = total * questionnaire.price_per_point_pence
        pricing = (
            f"{total} points at {format_pence(questionnaire.price_per_point_pence)} a point "
            f"= {format_pence(amount)}"
        )
    capped = questionnaire.cap_pence is not None and amount > questionnaire.cap_pence
    if capped:
        amount = questionnaire.cap_pence  # type: ignore[assignment]
    working = {
        "questionnaire": str(questionnaire),
        "lines": lines,
        "total_points": total,
        "pricing": pricing,
        "cap": f"Capped at {format_pence(amount)}" if capped else "",
        "amount_pence": amount,
    }
    return total, amount, working


@transaction.atomic
def ras_assess_questionnaire(
    *,
    holder: BudgetHolder,
    questionnaire: RasQuestionnaire,
    answers: dict[int, int],
    completed_by: Any,
) -> RasAssessment:
    """Score a completed questionnaire into an indicative amount for the holder."""
    if not is_staff_for(completed_by, holder):
        raise PermissionDenied
    if questionnaire.status != RasQuestionnaire.Status.PUBLISHED:
        raise Conflict("Only a published questionnaire can be used for an assessment.")
    if questionnaire.organisation_id not in (holder.organisation_id, holder.council_id):
        raise ValidationError(
            {"questionnaire": "That questionnaire belongs to another organisation."}
        )
    points, amount, working = ras_score(questionnaire=questionnaire, answers=answers)
    assessment = RasAssessment.objects.create(
        holder=holder,
        method=RasAssessment.Method.QUESTIONNAIRE,
        questionnaire=questionnaire,
        total_points=points,
        calculated_pence=amount,
        working=working,
        completed_by=completed_by,
    )
    RasAnswer.objects.bulk_create(
        RasAnswer(assessment=assessment, question_id=q, option_id=o) for q, o in answers.items()
    )
    audit_record(
        actor=completed_by,
        action="ras.assessed",
        obj=assessment,
        organisation=holder.organisation,
        person=holder,
        changes={"questionnaire": questionnaire.pk, "points": points, "amount_pence": amount},
    )
    return assessment


@transaction.atomic
def ras_assess_package(
    *, holder: BudgetHolder, package_pence: int, description: str, completed_by: Any
) -> RasAssessment:
    """The indicative amount is what the person's current package of care costs a year."""
    if not is_staff_for(completed_by, holder):
        raise PermissionDenied
    if isinstance(package_pence, bool) or not isinstance(package_pence, int) or package_pence <= 0:
        raise ValidationError(
            {"package_pence": "Enter the yearly cost in whole pence, more than £0.00."}
        )
    if package_pence > MAX_YEARLY_PENCE:
        raise ValidationError({"package_pence": "That is more than any budget could be."})
    if not description.strip():
        raise ValidationError({"description": "Describe the current package."})
    assessment = RasAssessment.objects.create(
        holder=holder,
        method=RasAssessment.Method.CURRENT_PACKAGE,
        calculated_pence=package_pence,
        package_description=description.strip(),
        working={
            "lines": [],
            "pricing": f"The current package costs {format_pence(package_pence)} a year",
            "amount_pence": package_pence,
        },
        completed_by=completed_by,
    )
    audit_record(
        actor=completed_by,
        action="ras.package_costed",
        obj=assessment,
        organisation=holder.organisation,
        person=holder,
        changes={"amount_pence": package_pence},
    )
    return assessment


@transaction.atomic
def ras_override(
    *, assessment: RasAssessment, override_pence: int, reason: str, overridden_by: Any
) -> RasAssessment:
    """A commissioner sets a different indicative amount, with a recorded reason. The
    calculated amount and its working stay, so both are shown."""
    assessment = (
        RasAssessment.objects.select_for_update().select_related("holder").get(pk=assessment.pk)
    )
    if not is_commissioner_for(overridden_by, assessment.holder):
        raise PermissionDenied
    if (
        isinstance(override_pence, bool)
        or not isinstance(override_pence, int)
        or override_pence < 0
    ):
        raise ValidationError({"override_pence": "Enter the amount in whole pence."})
    if override_pence > MAX_YEARLY_PENCE:
        raise ValidationError({"override_pence": "That is more than any budget could be."})
    if not reason.strip():
        raise ValidationError({"override_reason": "Give the reason for the override."})
    old = assessment.override_pence
    assessment.override_pence = override_pence
    assessment.override_reason = reason.strip()
    assessment.overridden_by = overridden_by
    assessment.overridden_at = timezone.now()
    assessment.save()
    audit_record(
        actor=overridden_by,
        action="ras.overridden",
        obj=assessment,
        organisation=assessment.holder.organisation,
        person=assessment.holder,
        changes={
            "calculated_pence": assessment.calculated_pence,
            "override_pence": [old, override_pence],
            "reason": assessment.override_reason,
        },
    )
    return assessment


def _can_configure(user: Any, questionnaire: RasQuestionnaire) -> bool:
    return (
        getattr(user, "is_platform_admin", False)
        or Membership.objects.filter(
            user=user, organisation_id=questionnaire.organisation_id, role=Role.COMMISSIONER
        ).exists()
    )


@transaction.atomic
def ras_questionnaire_new_version(
    *, questionnaire: RasQuestionnaire, created_by: Any
) -> RasQuestionnaire:
    """Copy a questionnaire (domains, questions, options, bands) into a new draft
    version to edit; the original stays as it was for the assessments that used it."""
    if not _can_configure(created_by, questionnaire):
        raise PermissionDenied
    latest = (
        RasQuestionnaire.objects.select_for_update()
        .filter(organisation=questionnaire.organisation, stream=questionnaire.stream)
        .order_by("-version")
        .first()
    )
    if latest is None:  # the questionnaire itself is always found
        raise RasQuestionnaire.DoesNotExist
    if latest.status == RasQuestionnaire.Status.DRAFT:
        raise Conflict("There is already a draft version: edit that one.")
    copy = RasQuestionnaire.objects.create(
        organisation=questionnaire.organisation,
        stream=questionnaire.stream,
        name=questionnaire.name,
        version=latest.version + 1,
        price_per_point_pence=questionnaire.price_per_point_pence,
        cap_pence=questionnaire.cap_pence,
        previous_version=questionnaire if not hasattr(questionnaire, "next_version") else None,
    )
    for band in questionnaire.bands.all():
        RasBand.objects.create(
            questionnaire=copy,
            min_points=band.min_points,
            max_points=band.max_points,
            amount_pence=band.amount_pence,
        )
    for domain in questionnaire.domains.prefetch_related("questions__options"):
        new_domain = RasDomain.objects.create(
            questionnaire=copy, title=domain.title, order=domain.order
        )
        for question in domain.questions.all():
            new_question = RasQuestion.objects.create(
                domain=new_domain, text=question.text, hint=question.hint, order=question.order
            )
            RasOption.objects.bulk_create(
                RasOption(question=new_question, label=o.label, points=o.points, order=o.order)
                for o in question.options.all()
            )
    audit_record(
        actor=created_by,
        action="ras.version_created",
        obj=copy,
        organisation=questionnaire.organisation,
        changes={"from_version": questionnaire.version, "version": copy.version},
    )
    return copy


@transaction.atomic
def ras_questionnaire_publish(
    *, questionnaire: RasQuestionnaire, published_by: Any
) -> RasQuestionnaire:
    """Publish a draft; the version published before it for that stream is retired."""
    questionnaire = RasQuestionnaire.objects.select_for_update().get(pk=questionnaire.pk)
    if not _can_configure(published_by, questionnaire):
        raise PermissionDenied
    if questionnaire.status != RasQuestionnaire.Status.DRAFT:
        raise Conflict("Only a draft can be published.")
    if not RasOption.objects.filter(question__domain__questionnaire=questionnaire).exists():
        raise ValidationError("Add at least one question with answers before publishing.")
    retired = RasQuestionnaire.objects.filter(
        organisation=questionnaire.organisation,
        stream=questionnaire.stream,
        status=RasQuestionnaire.Status.PUBLISHED,
    ).update(status=RasQuestionnaire.Status.RETIRED)
    questionnaire.status = RasQuestionnaire.Status.PUBLISHED
    questionnaire.published_at = timezone.now()
    questionnaire.save(update_fields=["status", "published_at"])
    audit_record(
        actor=published_by,
        action="ras.published",
        obj=questionnaire,
        organisation=questionnaire.organisation,
        changes={"version": questionnaire.version, "retired_previous": bool(retired)},
    )
    return questionnaire
