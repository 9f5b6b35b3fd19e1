from rest_framework import authentication


class SessionAuthentication(authentication.SessionAuthentication):
    """Session auth for signed-in browsers. Answers 401 (not 403) to the unauthenticated
    by offering the Bearer scheme in ``WWW-Authenticate``."""

    def authenticate_header(self, request):  # type: ignore[no-untyped-def]
        return 'Bearer realm="api"'
