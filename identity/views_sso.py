"""Federated login pieces outside allauth's own views."""

from urllib.parse import urlsplit

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.openid_connect import views as oidc_views
from django.contrib.auth.decorators import login_not_required
from django.urls import reverse
from django.utils.http import urlencode

from . import saml
from .refusals import refuse


@login_not_required
def login_cancelled(request):
    return refuse(request, "cancelled")


@login_not_required
def login_error(request):
    return refuse(request, "error")


def oidc_origins(request) -> list[str]:
    """The origins of the configured OpenID Connect providers (from their ``server_url``; an IdP whose
    authorisation endpoint is elsewhere names it in ``authorization_origin``)."""
    origins = set()
    for app in get_adapter().list_apps(request, provider="openid_connect"):
        url = (app.settings or {}).get("authorization_origin") or (app.settings or {}).get("server_url", "")
        parts = urlsplit(url)
        if parts.scheme and parts.netloc:
            origins.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(origins)


def allow_forms_to_identity_providers(request, response):
    """A form on this page posts to the service, which redirects to an IdP: the Content-Security-
    Policy's form-action must name the IdPs too (browsers check the redirect after a form)."""
    origins = oidc_origins(request)
    if origins:
        response._csp_update = {"form-action": origins}
    return response


@login_not_required
def oidc_login(request, provider_id):
    """allauth's OIDC login (GET: a confirmation page; POST: off to the IdP) with the CSP allowing
    its form to lead to the IdP."""
    return allow_forms_to_identity_providers(request, oidc_views.login(request, provider_id))


def _trusted_for_someone(app) -> bool:
    """Whether an OpenID Connect app has trusted domains or organisations (``identity.trust``);
    without them it refuses every login, so it gets no button (as SAML IdPs without trust)."""
    app_settings = app.settings or {}
    return bool(app_settings.get("email_domains") or app_settings.get("organizations"))


def identity_providers(request, next_url: str) -> list[dict]:
    """The login page's buttons: every OpenID Connect provider (admin or settings), started with a
    POST; every SAML IdP in the loaded metadata, started with a link — each only when it is trusted
    for some domain or organisation."""
    oidc = [
        {
            "name": app.name,
            "url": reverse("openid_connect_login", kwargs={"provider_id": app.provider_id}),
            "post": True,
        }
        for app in get_adapter().list_apps(request, provider="openid_connect")
        if _trusted_for_someone(app)
    ]
    saml_idps = [
        {
            "name": idp["name"],
            "url": f"{reverse('saml2_login')}?{urlencode({'idp': idp['entity_id'], 'next': next_url})}",
            "post": False,
        }
        for idp in saml.identity_providers()
    ]
    return sorted(oidc + saml_idps, key=lambda provider: provider["name"])
