"""Request id, MFA for staff, and the authorization matrix, applied to every request."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from core import request_context
from core.authz import Access, allows, request_principals, rule_for

logger = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def is_api_request(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


class RequestIDMiddleware:
    """Takes a well-formed ``X-Request-ID`` from the caller or makes one, echoes it on
    every response, and makes it (and the client IP) available to the audit trail."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_context.set_current(
            request_context.RequestContext(
                request_id=request_id, ip_address=request.META.get("REMOTE_ADDR") or None
            )
        )
        try:
            response = self.get_response(request)
        finally:
            request_context.reset(token)
        response["X-Request-ID"] = request_id
        return response


def _view_name(request: HttpRequest) -> str:
    match = request.resolver_match
    return match.view_name if match else ""


# Pages a staff user without MFA may still reach: signing in and out, and setting MFA up.
_MFA_SETUP_PREFIXES = ("account_", "mfa_")
_MFA_SETUP_NAMES = {"healthz", "core:accessibility"}


class _ViewMiddleware:
    """A middleware that acts in ``process_view``, once the URL has been resolved."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)


class StaffMFARequiredMiddleware(_ViewMiddleware):
    """Every staff role needs MFA: a staff user without a TOTP authenticator is taken to
    set one up before any other page, and the API refuses their session."""

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        name = _view_name(request)
        if name.startswith(_MFA_SETUP_PREFIXES) or name in _MFA_SETUP_NAMES:
            return None
        principals = request_principals(request)
        is_staff = Access.STAFF in principals or Access.PLATFORM_ADMIN in principals
        if not is_staff or user_has_mfa(user):
            return None
        if is_api_request(request):
            from core.api.errors import problem_response

            return problem_response(
                status=403,
                title="Two-factor authentication required",
                detail="Set up two-factor authentication before using staff features.",
            )
        return redirect("mfa_activate_totp")


def user_has_mfa(user: Any) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def _is_drf_view(view_func: Any) -> bool:
    from rest_framework.views import APIView

    view_class = getattr(view_func, "cls", None)
    return isinstance(view_class, type) and issubclass(view_class, APIView)


class AuthorizationMatrixMiddleware(_ViewMiddleware):
    """Deny by default: a URL not declared in ``config/authorization.py`` answers 404;
    a declared one admits only the principals the matrix names. DRF views are checked
    by their permission class instead, which sees OAuth2 callers too."""

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        name = _view_name(request)
        rule = rule_for(name)
        if rule is None:
            logger.error("URL %s (%s) is not in the authorization matrix", request.path, name)
            raise Http404("Not declared in the authorization matrix")
        if _is_drf_view(view_func):
            return None
        principals = request_principals(request)
        if allows(rule, principals):
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return render(request, "errors/403.html", status=403)
