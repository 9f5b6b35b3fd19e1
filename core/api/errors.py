"""API errors as RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

PROBLEM_JSON = "application/problem+json"


class Conflict(exceptions.APIException):
    """A state transition that is not allowed from the current state (HTTP 409)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "This cannot be done in the record's current state."
    default_code = "conflict"


class UnprocessableEntity(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request could not be processed."
    default_code = "unprocessable"


def _problem(status_code: int, title: str, detail: Any = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status_code}
    if detail is not None:
        body["detail"] = detail
    body.update(extra)
    return body


def problem_response(*, status: int, title: str, detail: str | None = None) -> JsonResponse:
    """For errors raised outside DRF (404 handler, middleware)."""
    return JsonResponse(
        _problem(status, title, detail), status=status, content_type=PROBLEM_JSON
    )


_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    415: "Unsupported media type",
    422: "Unprocessable entity",
    429: "Too many requests",
}


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    title = _TITLES.get(response.status_code, "Error")
    if isinstance(exc, exceptions.ValidationError):
        body = _problem(
            response.status_code,
            "Validation failed",
            "One or more fields are not valid.",
            errors=data,
        )
    else:
        detail = data.get("detail") if isinstance(data, dict) else data
        body = _problem(response.status_code, title, str(detail) if detail else None)
    response.data = body
    response.content_type = PROBLEM_JSON
    return response
