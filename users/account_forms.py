"""allauth forms in NHS.UK wording. Kept apart from users/forms.py, which allauth
imports while building its own forms (ACCOUNT_SIGNUP_FORM_CLASS)."""

from typing import Any

from allauth.account import forms as allauth_forms


class LoginForm(allauth_forms.LoginForm):
    """allauth's sign-in form in NHS.UK wording."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].label = "Email address"
        self.fields["login"].error_messages["required"] = "Enter your email address"
        self.fields["password"].error_messages["required"] = "Enter your password"
