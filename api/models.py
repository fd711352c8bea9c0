"""Personal API tokens: django-rest-knox stores only a hash of each token (SHA-512) and its expiry; the
token itself is shown once, when it is made (api/views_tokens.py)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken

from config.personal_data import validate_no_identity_number


class ApiToken(AbstractAuthToken):
    name = models.CharField(
        _("namn"),
        max_length=100,
        help_text=_("Vad nyckeln används till."),
        validators=[validate_no_identity_number],
    )

    class Meta:
        verbose_name = _("API-nyckel")
        verbose_name_plural = _("API-nycklar")
        ordering = ["-created"]

    def __str__(self):
        return f"{self.name} ({self.token_key}…)"
