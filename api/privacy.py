"""The register extract's section for API keys (``config.subject_access``): never the key or its digest."""

from django.utils.translation import gettext_lazy as _

from config.subject_access import rows_section

from .models import ApiToken

rows_section(
    "api_keys",
    ApiToken.objects.order_by("created", "pk"),
    description=_("Kontots API-nycklar: namn, de första tecknen som identifierar en nyckel, skapad, upphör."),
    by_account=["user"],
    fields=["name", "token_key", "created", "expiry"],
)
