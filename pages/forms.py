from django import forms
from django.utils.translation import gettext_lazy as _


class AccessibilityFeedbackForm(forms.Form):
    """Feedback on the accessibility of the service (lag 2018:1937, 11 §: a feedback function)."""

    message = forms.CharField(
        label=_("Vad fungerade inte?"),
        help_text=_(
            "Beskriv problemet och var på webbplatsen det fanns. "
            "Skriv inga personuppgifter om patienter eller klienter."
        ),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
    )
    page = forms.CharField(
        label=_("Sidans adress (om du vet den)"),
        required=False,
        max_length=500,
    )
    email = forms.EmailField(
        label=_("Din e-postadress (om du vill ha svar)"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
