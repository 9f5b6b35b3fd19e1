from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication


class SessionAuthentication(authentication.SessionAuthentication):
    """Session auth for signed-in browsers. Answers 401 (not 403) to the unauthenticated
    by offering the Bearer scheme in ``WWW-Authenticate``."""

    def authenticate_header(self, request):  # type: ignore[no-untyped-def]
        return 'Bearer realm="api"'


class SessionAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describe our SessionAuthentication in the schema as the cookie scheme it is."""

    target_class = "core.api.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
