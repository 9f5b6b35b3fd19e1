"""API errors as RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from core.exceptions import Conflict

PROBLEM_JSON = "application/problem+json"


class UnprocessableEntity(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request could not be processed."
    default_code = "unprocessable"


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The record is not in a state that allows this."
    default_code = "conflict"


def _problem(status_code: int, title: str, detail: Any = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status_code}
    if detail is not None:
        body["detail"] = detail
    body.update(extra)
    return body


def problem_response(*, status: int, title: str, detail: str | None = None) -> JsonResponse:
    """For errors raised outside DRF (404 handler, middleware)."""
    return JsonResponse(_problem(status, title, detail), status=status, content_type=PROBLEM_JSON)


STATUS_TITLES = {
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


def validation_error(error: DjangoValidationError) -> exceptions.ValidationError:
    """A service's ``ValidationError`` as the API's, with errors that are not about one
    field under DRF's ``non_field_errors`` rather than Django's ``__all__``."""
    if not hasattr(error, "error_dict"):
        return exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: error.messages})
    errors = {
        api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field: messages
        for field, messages in error.message_dict.items()
    }
    return exceptions.ValidationError(errors)


def _oauth2_error_description(context: dict[str, Any]) -> str | None:
    """Why a bearer token was refused, as DOT's authentication recorded it."""
    oauth2_error = getattr(context.get("request"), "oauth2_error", None) or {}
    return oauth2_error.get("error_description")


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = validation_error(exc)
    elif isinstance(exc, Conflict):
        exc = ConflictError(exc.message)
    response = exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    title = STATUS_TITLES.get(response.status_code, "Error")
    if isinstance(exc, exceptions.ValidationError):
        errors = data if isinstance(data, dict) else {api_settings.NON_FIELD_ERRORS_KEY: data}
        body = _problem(
            response.status_code,
            "Validation failed",
            "One or more fields are not valid.",
            errors=errors,
        )
    else:
        detail = data.get("detail") if isinstance(data, dict) else data
        if isinstance(exc, exceptions.NotAuthenticated):
            # "Credentials were not provided" misleads a caller whose token was refused.
            detail = _oauth2_error_description(context) or detail
        body = _problem(response.status_code, title, str(detail) if detail else None)
    response.data = body
    response.content_type = PROBLEM_JSON
    return response
