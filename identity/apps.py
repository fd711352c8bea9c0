from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    """Who the user is: login (local password, federated OIDC/SAML) and two-step verification."""

    name = "identity"
    verbose_name = _("Inloggning")

    def ready(self):
        from . import checks  # noqa: F401  (registers the deploy checks)
