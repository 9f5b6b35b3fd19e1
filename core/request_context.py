"""Per-request facts that services need for the audit trail, without passing the request
through every call. Set by ``RequestIDMiddleware``; empty in jobs and shells."""

from __future__ import annotations

import contextvars
import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip_address: str | None = None
    # Set when a partner application calls the API: audit events name it as the actor
    # (their actor is the user the application acts as).
    actor_label: str = ""


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "phb_request_context",
    default=RequestContext(),  # noqa: B039 - immutable default
)


def current() -> RequestContext:
    return _current.get()


def set_current(context: RequestContext) -> contextvars.Token[RequestContext]:
    return _current.set(context)


def reset(token: contextvars.Token[RequestContext]) -> None:
    _current.reset(token)


def application_label(application: Any) -> str:
    return f"Partner application {application.pk}: {application.name}"


def set_application(application: Any) -> None:
    """Name the partner application making this request in the audit trail. Cleared
    with the rest of the request's context (``RequestIDMiddleware`` resets it)."""
    _current.set(dataclasses.replace(current(), actor_label=application_label(application)))
