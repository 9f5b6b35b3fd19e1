"""Instruments as versioned data: loading version 1 of each (migration 0002, and tests
after a transactional test emptied the tables)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from outcomes.instrument_content import INSTRUMENTS


def seed_instruments(
    instrument_model: Any = None, question_model: Any = None, option_model: Any = None
) -> int:
    """Create and publish version 1 of every instrument kind that has none yet.
    Returns how many were created. Takes the (historical) models from a migration."""
    if instrument_model is None:
        from outcomes.models import Instrument, Question, QuestionOption

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
