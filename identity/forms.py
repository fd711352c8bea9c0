from django import forms
from django.utils.translation import gettext_lazy as _


class TokenForm(forms.Form):
    """A six-digit code from the user's authenticator app, checked against ``device`` (django-otp
    throttles repeated failures per device)."""

    token = forms.CharField(
        label=_("Kod från appen"),
        help_text=_("Sex siffror."),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*", "size": 8}
        ),
    )

    def __init__(self, *args, device, **kwargs):
        super().__init__(*args, **kwargs)
        self.device = device

    def clean_token(self):
        token = self.cleaned_data["token"].strip()
        allowed, _info = self.device.verify_is_allowed()
        if not allowed:
            raise forms.ValidationError(
                _("För många felaktiga koder. Vänta en stund och försök igen."), code="throttled"
            )
        if not token.isdigit() or not self.device.verify_token(token):
            raise forms.ValidationError(
                _("Koden stämmer inte. Skriv den kod som appen visar nu."), code="invalid"
            )
        return token
