"""Rates per kind of caller: anonymous (by IP), person (by user), partner application
(by application).

DRF's own ``AnonRateThrottle`` and ``UserRateThrottle`` treat an OAuth2 client
credentials caller as anonymous (its token has no user), so a partner system would be
held to the anonymous rate and share its bucket with everyone behind the same IP. Each
class here throttles exactly one kind of caller instead.

The rates are read from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` when a request
arrives, not when this module is imported, so a changed setting takes effect (DRF
copies them onto the class once).
"""

from __future__ import annotations

from typing import Any

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from core.api.caller import caller_for


class _CallerRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        rates: Any = api_settings.DEFAULT_THROTTLE_RATES
        self.THROTTLE_RATES = rates
        return super().get_rate()


class AnonRateThrottle(_CallerRateThrottle):
    """Callers with neither a session nor a token, by IP address."""

    scope = "anon"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        caller = caller_for(request)
        if caller.user is not None or caller.application is not None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserRateThrottle(_CallerRateThrottle):
    """Signed-in people, by user."""

    scope = "user"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        caller = caller_for(request)
        if caller.user is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": caller.key}


class ApplicationRateThrottle(_CallerRateThrottle):
    """Partner applications (client credentials have no user to throttle), by application."""

    scope = "application"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        caller = caller_for(request)
        if caller.application is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": caller.key}
