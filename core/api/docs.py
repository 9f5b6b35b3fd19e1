"""The API's documentation page for partner developers: an NHS.UK page rendered from the
same OpenAPI schema that /api/v1/schema/ serves, so the two cannot disagree. (Swagger
UI was tried: it needs inline styles and fails WCAG 2.2 AA contrast and nesting rules.)"""

from __future__ import annotations

import functools
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.generators import SchemaGenerator

_METHODS = ("get", "post", "put", "patch", "delete")


def _ref_name(schema: dict[str, Any] | None) -> str:
    if not schema:
        return ""
    ref = schema.get("$ref") or schema.get("items", {}).get("$ref", "")
    return ref.rsplit("/", 1)[-1]


@functools.cache
def api_operations() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The schema's info and security schemes, and its operations as plain dicts."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = []
    for path, item in schema["paths"].items():
        for method in _METHODS:
            op = item.get(method)
            if op is None:
                continue
            scopes = sorted(
                {scope for req in op.get("security", []) for scope in req.get("oauth2", [])}
            )
            body = op.get("requestBody", {}).get("content", {})
            operations.append(
                {
                    "id": op["operationId"],
                    "method": method.upper(),
                    "path": path,
                    "description": (op.get("description") or "").strip(),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "type": p.get("schema", {}).get("type", ""),
                            "description": p.get("description", ""),
                        }
                        for p in op.get("parameters", [])
                    ],
                    "body": _ref_name(next(iter(body.values()), {}).get("schema")),
                    "scopes": scopes,
                    "responses": [
                        {
                            "status": status,
                            "description": response.get("description", ""),
                            "body": _ref_name(
                                next(iter(response.get("content", {}).values()), {}).get("schema")
                            ),
                        }
                        for status, response in op.get("responses", {}).items()
                    ],
                }
            )
    oauth = schema["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
    return {"info": schema["info"], "oauth": oauth}, operations


def api_docs(request: HttpRequest) -> HttpResponse:
    meta, operations = api_operations()
    return render(request, "core/api_docs.html", {**meta, "operations": operations})
