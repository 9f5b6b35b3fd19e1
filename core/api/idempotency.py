"""``Idempotency-Key`` on every API POST.

The record is inserted first, in the same transaction as the work: a concurrent retry
with the same key waits on the unique index, then finds the stored response and replays
it. If the work fails, the record rolls back with it, so a retry runs the work afresh.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from core.api.caller import caller_for
from core.api.errors import UnprocessableEntity
from core.models import IdempotencyRecord

# Visible ASCII, spaces allowed inside, 1 to 200 characters: what survives any HTTP hop.
_KEY_PATTERN = r"^[!-~](?:[ -~]{0,198}[!-~])?$"
_KEY = re.compile(_KEY_PATTERN)

IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    type={"type": "string", "minLength": 1, "maxLength": 200, "pattern": _KEY_PATTERN},
    location=OpenApiParameter.HEADER,
    required=True,
    description=(
        "A unique key per logical request (e.g. a UUID), 1 to 200 visible ASCII characters. "
        "A retry with the same key and body returns the first response, with the header "
        "`Idempotent-Replayed: true`; the same key with a different request answers 422. "
        "Keys are per client, and a request that fails does not use its key up."
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
        if not _KEY.match(key):
            raise exceptions.ValidationError(
                {
                    "Idempotency-Key": [
                        "Send an Idempotency-Key header of 1 to 200 visible ASCII characters."
                    ]
                }
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
            # Stored as it was rendered, so a replay is byte-for-byte the same JSON.
            record.response_body = json.loads(json.dumps(response.data, cls=JSONEncoder))
            record.save(update_fields=["response_status", "response_body"])
            return response

    wrapper.idempotent = True  # type: ignore[attr-defined]  # read by the schema
    return wrapper
