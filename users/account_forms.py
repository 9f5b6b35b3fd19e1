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


class _NewPasswordLabels:
    """Sentence-case labels for the two new-password fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        self.fields["password1"].label = "New password"  # type: ignore[attr-defined]
        self.fields["password2"].label = "Confirm new password"  # type: ignore[attr-defined]


class ResetPasswordKeyForm(_NewPasswordLabels, allauth_forms.ResetPasswordKeyForm):
    pass


class ChangePasswordForm(_NewPasswordLabels, allauth_forms.ChangePasswordForm):
    pass


class SetPasswordForm(_NewPasswordLabels, allauth_forms.SetPasswordForm):
    pass
