import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .selectors import DEFAULT_INTERVAL_DAYS


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
