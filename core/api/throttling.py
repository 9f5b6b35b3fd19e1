from typing import Any

from rest_framework.throttling import SimpleRateThrottle

from core.api.caller import caller_for


class ApplicationRateThrottle(SimpleRateThrottle):
    """A rate per partner application (client credentials have no user to throttle)."""

    scope = "application"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        caller = caller_for(request)
        if caller.application is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": caller.key}
