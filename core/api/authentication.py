from typing import Any

from drf_spectacular.contrib.django_oauth_toolkit import DjangoOAuthToolkitScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication


class SessionAuthentication(authentication.SessionAuthentication):
    """Session auth for signed-in browsers. Answers 401 (not 403) to the unauthenticated
    by offering the Bearer scheme in ``WWW-Authenticate``."""

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="api"'


class SessionAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describe our SessionAuthentication in the schema as the cookie scheme it is."""

    target_class = "core.api.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


class PartnerOAuth2Scheme(DjangoOAuthToolkitScheme):
    """OAuth2 client credentials, with the scopes each operation requires (from the view's
    ``required_scopes``, which ``HasRequiredScopes`` enforces)."""

    priority = 1  # over drf-spectacular's own extension for the same class

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[str]]:
        from core.api.permissions import required_scopes

        return {self.name: sorted(required_scopes(auto_schema.view, auto_schema.method))}

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        from django.urls import reverse
        from oauth2_provider.settings import oauth2_settings

        return {
            "type": "oauth2",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": reverse("oauth2_provider:token"),
                    "scopes": dict(oauth2_settings.SCOPES),
                }
            },
        }
