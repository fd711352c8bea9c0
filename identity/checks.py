"""Deploy checks: an identity provider configured in settings without whom it may sign in signs in
nobody (identity/trust.py); say so before the first login is refused."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def identity_providers_say_whom_they_sign_in(app_configs, **kwargs):
    warnings = [
        checks.Warning(
            f"The OpenID Connect provider {app.get('provider_id')!r} has no email_domains or organizations "
            "in its settings: it signs in nobody.",
            hint="Add the e-mail domains it may sign in (README, 'Whom each IdP may sign in').",
            id="identity.W001",
        )
        for app in settings.SOCIALACCOUNT_PROVIDERS.get("openid_connect", {}).get("APPS", [])
        if not (
            (app.get("settings") or {}).get("email_domains")
            or (app.get("settings") or {}).get("organizations")
        )
    ]
    metadata = settings.SSO_SAML_IDP_METADATA
    if (metadata.get("local") or metadata.get("remote")) and not settings.SSO_SAML_IDP_TRUST:
        warnings.append(
            checks.Warning(
                "SAML identity providers are loaded from SSO_SAML_IDP_METADATA_FILES/_URLS but "
                "SSO_SAML_IDP_TRUST is empty: they sign in nobody (unless their admin entry says whom).",
                hint="Set SSO_SAML_IDP_TRUST (README, 'Whom each IdP may sign in').",
                id="identity.W002",
            )
        )
    return warnings
