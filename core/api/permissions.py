"""The API's one permission class: the authorization matrix for people, scopes for
partner systems. Views declare ``required_scopes`` (per method where they differ)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from core.api.caller import caller_for
from core.authz import Access, allows, principals_for_user, rule_for


def required_scopes(view: Any, method: str) -> set[str]:
    per_method = getattr(view, "required_scopes_by_method", {})
    return set(per_method.get(method, getattr(view, "required_scopes", ())))


class HasRequiredScopes(BasePermission):
    message = "You do not have access to this resource."

    def has_permission(self, request: Request, view: Any) -> bool:
        match = request.resolver_match
        rule = rule_for(match.view_name) if match else None
        if rule is None:
            return False
        caller = caller_for(request)
        if caller.application is not None:
            if Access.APPLICATION not in rule:
                return False
            return required_scopes(view, request.method or "GET") <= caller.scopes
        principals = principals_for_user(request.user)
        per_method = getattr(view, "access_by_method", {}).get(request.method)
        if per_method is not None:
            return allows(frozenset(per_method), principals)
        return allows(rule, principals)
