from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _


class UsernameLengthMixin:
    """Refuses a username longer than any account's as a form error, before ``authenticate()``: Django
    only sets the field's ``maxlength`` attribute, and django-axes would fail (a 500) to record a
    failed login with a username longer than its column."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(
            MaxLengthValidator(
                field.max_length, message=_("Användarnamnet kan vara högst %(limit_value)d tecken långt.")
            )
        )


class LoginForm(UsernameLengthMixin, AuthenticationForm):
    pass


class ConfirmPasswordForm(forms.Form):
    """Asks for the signed-in user's password before a sensitive action (e.g. signing out everywhere).

    The password is checked through ``authenticate()`` so failures count towards the login throttling.
    """

    password = forms.CharField(
        label=_("Ditt lösenord"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, request, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        user = self.request.user
        if authenticate(self.request, username=user.get_username(), password=password) != user:
            raise forms.ValidationError(_("Lösenordet stämmer inte."), code="password_incorrect")
        return password


class NotificationModeForm(forms.Form):
    notification_mode = forms.ChoiceField(
        label=_("Hur vill du få e-post om det som väntar på dig?"),
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["notification_mode"].choices = user.NotificationMode.choices
        self.fields["notification_mode"].initial = user.notification_mode
