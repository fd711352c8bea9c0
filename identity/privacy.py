"""The register extract's sections for sign-in: federated identities, two-step devices, login
records and the admin's own log (``config.subject_access``). Never a secret: no two-step key, no
password, no session."""

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.admin.models import LogEntry
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.subject_access import rows_section

from .models import SamlIdentity


def signed_in_as(subject) -> Q:
    """What may have been typed as the username at the login: an account's username, or the address
    (in any letter case)."""
    return Q(username__in=subject.usernames) | Q(username__iexact=subject.email)


rows_section(
    "saml_identities",
    SamlIdentity.objects.order_by("created_at", "pk"),
    description=_(
        "Kopplingar för inloggning med SAML: identitetsleverantören och den namnidentifierare den skickar "
        "för kontot."
    ),
    by_account=["user"],
    fields=["idp_entity_id", "name_id", "created_at"],
)
rows_section(
    "openid_connect_accounts",
    SocialAccount.objects.order_by("date_joined", "pk"),
    description=_(
        "Kopplingar för inloggning med OpenID Connect: leverantören, den identifierare den skickar och de "
        "uppgifter som sparas."
    ),
    by_account=["user"],
    fields=["provider", "uid", "extra_data", "date_joined", "last_login"],
)
rows_section(
    "sign_in_addresses",
    EmailAddress.objects.order_by("pk"),
    description=_(
        "De e-postadresser som den federerade inloggningen känner för kontot, eller adressen själv."
    ),
    by_account=["user"],
    by_address=["email"],
    fields=["email", "verified", "primary"],
)
rows_section(
    "two_step_devices",
    TOTPDevice.objects.order_by("pk"),
    description=_(
        "Appar för tvåstegsverifiering som registrerats för kontot: deras namn och om de bekräftats "
        "(aldrig nyckeln)."
    ),
    by_account=["user"],
    fields=["name", "confirmed"],
)
rows_section(
    "logins",
    AccessLog.objects.order_by("attempt_time", "pk"),
    description=_(
        "Kontots lyckade inloggningar: när, från vilken IP-adress och webbläsare, när det loggades ut."
    ),
    where=signed_in_as,
    fields=["attempt_time", "logout_time", "ip_address", "user_agent"],
)
rows_section(
    "failed_logins",
    AccessFailureLog.objects.order_by("attempt_time", "pk"),
    description=_(
        "Misslyckade inloggningar med kontots användarnamn eller adressen: när, från vilken IP-adress och "
        "webbläsare, och om de spärrade kontot."
    ),
    where=signed_in_as,
    fields=["attempt_time", "ip_address", "user_agent", "locked_out"],
)
rows_section(
    "login_failure_counters",
    AccessAttempt.objects.order_by("attempt_time", "pk"),
    description=_(
        "Spärrens aktuella antal misslyckade inloggningar per IP-adress och webbläsare (nollställs vid en "
        "lyckad inloggning eller när spärrtiden gått ut)."
    ),
    where=signed_in_as,
    fields=["attempt_time", "ip_address", "user_agent", "failures_since_start"],
)
rows_section(
    "admin_actions",
    LogEntry.objects.order_by("action_time", "pk"),
    description=_(
        "Ändringar som kontot gjorde i administrationen: när, i vilken sorts post (och dess id), tillägg, "
        "ändring eller borttagning."
    ),
    by_account=["user"],
    fields=["action_time", "content_type__app_label", "content_type__model", "object_id", "action_flag"],
)
