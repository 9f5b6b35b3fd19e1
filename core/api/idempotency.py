"""``Idempotency-Key`` on every API POST.

The record is inserted first, in the same transaction as the work: a concurrent retry
with the same key waits on the unique index, then finds the stored response and replays
it. If the work fails, the record rolls back with it, so a retry runs the work afresh.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.caller import caller_for
from core.api.errors import UnprocessableEntity
from core.models import IdempotencyRecord

IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=True,
    description=(
        "A unique key per logical request (e.g. a UUID). A retry with the same key returns "
        "the first response; the same key with a different body answers 422."
    ),
)


def _fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str)
    raw = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


def idempotent(method: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate an APIView's ``post``."""

    @wraps(method)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > 200 or not key.isprintable():
            raise exceptions.ValidationError(
                {"Idempotency-Key": ["Send an Idempotency-Key header of 1 to 200 characters."]}
            )
        client = caller_for(request).key
        fingerprint = _fingerprint(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        client=client,
                        key=key,
                        request_fingerprint=fingerprint,
                        response_status=0,
                    )
            except IntegrityError:
                existing = IdempotencyRecord.objects.get(client=client, key=key)
                if existing.request_fingerprint != fingerprint:
                    raise UnprocessableEntity(
                        "This Idempotency-Key was already used with a different request."
                    ) from None
                replay = Response(existing.response_body, status=existing.response_status)
                replay["Idempotent-Replayed"] = "true"
                return replay
            response = method(self, request, *args, **kwargs)
            if response.status_code >= 400:
                transaction.set_rollback(True)
                return response
            record.response_status = response.status_code
            record.response_body = response.data
            record.save(update_fields=["response_status", "response_body"])
            return response

    return wrapper
