"""Accessibility feedback, kept only until the worker has mailed it (``pages.tasks``)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from config.personal_data import validate_no_identity_number


class AccessibilityFeedback(models.Model):
    """A visitor's feedback from the accessibility statement's form. The mail task holds only its id
    (no text or address in the task table); the row is deleted once the mail is sent or given up."""

    message = models.TextField(_("synpunkter"), validators=[validate_no_identity_number])
    page = models.CharField(_("sida"), max_length=500, blank=True, validators=[validate_no_identity_number])
    email = models.EmailField(_("svar till"), blank=True, validators=[validate_no_identity_number])
    created_at = models.DateTimeField(_("skickad"), auto_now_add=True)

    class Meta:
        verbose_name = _("synpunkt på tillgängligheten")
        verbose_name_plural = _("synpunkter på tillgängligheten")

    def __str__(self):
        return f"{self._meta.verbose_name} {self.pk}"
