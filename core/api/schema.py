"""The OpenAPI schema documents the problems each operation can answer, not only success.

Partner systems generate clients from the schema, and the schemathesis test checks every
response against it, so an error a view can return and the schema leaves out is a bug.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from core.api.errors import PROBLEM_JSON, STATUS_TITLES


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": True,
        "description": "The invalid fields, each with its messages; `non_field_errors` for "
        "the request as a whole.",
    }
)
class _ErrorsField(serializers.JSONField):
    pass


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem."""

    type = serializers.CharField(help_text="A URI identifying the kind of problem.")
    title = serializers.CharField()
    status = serializers.IntegerField(min_value=400, max_value=599)
    detail = serializers.CharField(required=False)
    # A declared field, not Serializer.errors: the metaclass moves it into the fields.
    errors = _ErrorsField(required=False)  # type: ignore[assignment]


def _problem(status: int) -> OpenApiResponse:
    return OpenApiResponse(
        response=ProblemSerializer, description=STATUS_TITLES.get(status, "Error")
    )


class ProblemAutoSchema(AutoSchema):
    """Adds the problem responses that the API's shared machinery can give:

    - 401 and 403 wherever a caller must authenticate, 429 wherever a throttle applies;
    - 404 for a path naming a record, or a page cursor that is not valid;
    - 400 for filters, request bodies and the ``Idempotency-Key`` header; 415 for bodies;
    - 422 for an ``Idempotency-Key`` reused with a different request;
    - whatever else a view declares in ``problem_statuses`` (e.g. 409 for transitions).
    """

    def get_auth(self) -> list[dict[str, list[str]]]:
        """Each security scheme once: ``SPECTACULAR_SETTINGS["SECURITY"]`` would otherwise
        append a scope-less OAuth2 alternative to the scoped one the view requires."""
        seen: set[str] = set()
        requirements = []
        for requirement in super().get_auth():
            names = set(requirement)
            if names and names <= seen:
                continue
            seen |= names
            requirements.append(requirement)
        return requirements

    def _problem_statuses(self) -> set[int]:
        view = self.view
        statuses: set[int] = set(getattr(view, "problem_statuses", ()))
        if {} not in self.get_auth():
            statuses |= {401, 403}
        if view.get_throttles():
            statuses.add(429)
        if "{" in self.path or (self._is_list_view() and self._get_paginator() is not None):
            statuses.add(404)
        has_filters = getattr(view, "filterset_class", None) or getattr(
            view, "filterset_fields", None
        )
        if self.method == "GET" and has_filters and self.get_filter_backends():
            statuses.add(400)
        if self.method in {"POST", "PUT", "PATCH"}:
            statuses |= {400, 415}
        handler = getattr(view, self.method.lower(), None)
        if getattr(handler, "idempotent", False):
            statuses |= {400, 422}
        return statuses

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status in sorted(self._problem_statuses()):
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(
                    _problem(status), str(status), [PROBLEM_JSON], direction
                )
        return responses
