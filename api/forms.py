from django import forms
from django.utils.translation import gettext_lazy as _

#: Days a new token lives, offered in the form (the longest is API_TOKEN_MAX_DAYS in settings).
LIFETIMES = [(30, _("30 dagar")), (90, _("90 dagar")), (180, _("180 dagar")), (365, _("1 år"))]


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Namn"), max_length=100, help_text=_("Vad nyckeln används till, t.ex. ”Uppföljning i Excel”.")
    )
    days = forms.TypedChoiceField(label=_("Giltig i"), choices=LIFETIMES, coerce=int, initial=90)
