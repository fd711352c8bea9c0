"""The register extract's section for accessibility feedback (``config.subject_access``)."""

from django.utils.translation import gettext_lazy as _

from config.subject_access import rows_section

from .models import AccessibilityFeedback

rows_section(
    "accessibility_feedback",
    AccessibilityFeedback.objects.order_by("created_at", "pk"),
    description=_(
        "Synpunkter på tillgängligheten som skickats med adressen för svar: när, sidan och meddelandet."
    ),
    by_address=["email"],
    fields=["created_at", "page", "message", "email"],
)
