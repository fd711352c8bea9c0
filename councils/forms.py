import datetime

from django import forms
from django.contrib.auth import authenticate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .selectors import DEFAULT_INTERVAL_DAYS


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


class MeetingPackForm(forms.Form):
    meeting_date = forms.DateField(label=_("Mötesdatum"), widget=forms.DateInput(attrs={"type": "date"}))
    previous_meeting = forms.DateField(
        label=_("Föregående möte"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Lämna tomt för 30 dagar före mötet."),
    )

    @staticmethod
    def initial_data() -> dict:
        return {"meeting_date": timezone.localdate().isoformat()}

    def clean(self):
        data = super().clean()
        meeting, previous = data.get("meeting_date"), data.get("previous_meeting")
        if meeting and not previous:
            data["previous_meeting"] = meeting - datetime.timedelta(days=DEFAULT_INTERVAL_DAYS)
        elif meeting and previous and previous >= meeting:
            self.add_error("previous_meeting", _("Föregående möte måste ligga före mötesdatumet."))
        return data
