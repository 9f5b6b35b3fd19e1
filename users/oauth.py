"""Partner applications get only the scopes their record allows."""

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator


class PartnerOAuth2Validator(OAuth2Validator):
    def _allowed(self, client: Any) -> set[str]:
        return set((client.scopes or "").split())

    def validate_scopes(
        self,
        client_id: str,
        scopes: list[str],
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        return (
            bool(scopes)
            and set(scopes) <= self._allowed(client)
            and super().validate_scopes(client_id, scopes, client, request, *args, **kwargs)
        )

    def get_default_scopes(
        self, client_id: str, request: Any, *args: Any, **kwargs: Any
    ) -> list[str]:
        return sorted(self._allowed(request.client))
