"""Who is calling the API: a signed-in person (session) or a partner system (OAuth2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rest_framework.request import Request

from core import request_context


@dataclass(frozen=True)
class Caller:
    user: Any | None
    application: Any | None
    scopes: frozenset[str]

    @property
    def key(self) -> str:
        """Identifies the caller for idempotency records and throttles."""
        if self.application is not None:
            return f"application:{self.application.pk}"
        return f"user:{self.user.pk}" if self.user is not None else "anonymous"

    def organisation_ids(self) -> list[int]:
        """Organisations whose records this caller may see."""
        if self.application is not None:
            return [self.application.organisation_id]
        if self.user is not None:
            from users.models import Organisation

            return list(Organisation.objects.for_user(self.user).values_list("pk", flat=True))
        return []


def caller_for(request: Request) -> Caller:
    cached = getattr(request, "_phb_caller", None)
    if cached is not None:
        return cached
    token = request.auth
    if token is not None and hasattr(token, "application"):
        application = token.application
        request_context.set_application(application)
        # A scope taken away from the application takes effect on tokens already issued.
        allowed = set((getattr(application, "scopes", "") or "").split())
        caller = Caller(
            user=None,
            application=application,
            scopes=frozenset(getattr(token, "scope", "").split()) & allowed,
        )
    elif request.user is not None and getattr(request.user, "is_authenticated", False):
        caller = Caller(user=request.user, application=None, scopes=frozenset())
    else:
        caller = Caller(user=None, application=None, scopes=frozenset())
    request._phb_caller = caller  # type: ignore[attr-defined]
    return caller


def schema_only(view: Any) -> bool:
    """True while drf-spectacular builds the schema: the view has no real caller."""
    return bool(getattr(view, "swagger_fake_view", False))
