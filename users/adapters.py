from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.http import HttpRequest

from users.models import Invitation


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are by invitation: sign-up is open only to someone holding a pending
    invitation (remembered in their session when they opened the link)."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        token = request.session.get("invitation_token")
        return bool(token) and Invitation.objects.pending().filter(token=token).exists()

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        user = super().save_user(request, user, form, commit=False)
        if not user.name:
            user.name = user.email.split("@")[0]
        if commit:
            user.save()
        return user


class MFAAdapter(DefaultMFAAdapter):
    """Staff may not turn two-factor authentication off; budget holders may."""

    def can_delete_authenticator(self, authenticator: Any) -> bool:
        return not authenticator.user.is_staff_member
