"""The register extract's sections for the follow-up's analyses and organisations
(``config.subject_access``)."""

from django.utils.translation import gettext_lazy as _

from config.subject_access import rows_section

from .models import FollowUpAnalysis, Organization

rows_section(
    "followup_analyses_written",
    FollowUpAnalysis.objects.order_by("created_at", "pk"),
    description=_(
        "Uppföljningsanalyser (varje sparad version) som kontot skrev: överenskommelse, period, område och "
        "när; texterna är samrådets analys, inte uppgifter om författaren."
    ),
    by_account=["author"],
    fields=[
        "agreement__name",
        "period_start",
        "period_end",
        "council__name",
        "municipality__name",
        "created_at",
    ],
)
rows_section(
    "organisation_contact_addresses",
    Organization.objects.order_by("name"),
    description=_("Organisationer vars kontaktadress (för begäran om yttrande) är adressen."),
    by_address=["contact_email"],
    fields=["name", "contact_email"],
)
