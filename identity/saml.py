"""Federated login over SAML 2.0 with djangosaml2/pysaml2 (xmlsec1 checks the signatures).

The service provider's configuration is built per request (``config_loader``) from settings and the
identity providers added in the admin (``SamlIdentityProvider``). The ACS view applies the same rules
as the OIDC adapters: the required assurance level (``AuthnContextClassRef``), an e-mail address,
deactivated accounts refused; the claims are mapped by ``identity.claims``.
"""

import hashlib
import logging

import requests
import saml2
from allauth.account.adapter import get_adapter as get_account_adapter
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from djangosaml2 import views as saml_views
from djangosaml2.backends import Saml2Backend
from saml2.config import SPConfig

from . import claims as claims_module
from . import mfa
from .models import SamlIdentityProvider
from .refusals import refuse

logger = logging.getLogger(__name__)

#: How long the last good copy of a metadata URL's answer stands in while the URL fails.
STALE_METADATA_SECONDS = 7 * 24 * 3600
#: How long after a failed fetch the URL is tried again (meanwhile the last good copy, or nothing).
FAILED_METADATA_RETRY_SECONDS = 60


def enabled() -> bool:
    return bool(settings.SSO_SAML_SP_KEY_FILE and settings.SSO_SAML_SP_CERT_FILE)


def remote_metadata(url: str) -> bytes:
    """An IdP's metadata from its URL, fetched at most once per ``SSO_SAML_METADATA_MAX_AGE`` seconds
    and kept in the cache: the configuration is built on every login page and SAML request, and
    pysaml2 itself would fetch on each. An IdP that cannot be reached leaves its last good copy in
    use, or none (logged): the login page and the other IdPs go on working."""
    key = f"saml-metadata:{hashlib.sha256(url.encode()).hexdigest()}"
    xml = cache.get(key)
    if xml is not None:
        return xml
    try:
        response = requests.get(url, timeout=10)
        response.raise_for_status()
    except requests.RequestException as error:
        logger.warning("SAML metadata could not be fetched from %s: %s", url, error)
        xml = cache.get(f"{key}:stale", b"")
        cache.set(key, xml, FAILED_METADATA_RETRY_SECONDS)
        return xml
    xml = response.content
    cache.set(key, xml, settings.SSO_SAML_METADATA_MAX_AGE)
    cache.set(f"{key}:stale", xml, STALE_METADATA_SECONDS)
    return xml


def idp_metadata() -> dict:
    """pysaml2's ``metadata`` setting: files as they are, the XML pasted in the admin, and the answers
    of the metadata URLs (settings and admin) through ``remote_metadata``."""
    configured = settings.SSO_SAML_IDP_METADATA
    inline = list(configured.get("inline", []))
    urls = [entry["url"] for entry in configured.get("remote", [])]
    for idp in SamlIdentityProvider.objects.filter(active=True):
        if idp.metadata_xml:
            inline.append(idp.metadata_xml)
        else:
            urls.append(idp.metadata_url)
    inline += [xml for url in urls if (xml := remote_metadata(url))]
    metadata = {"local": list(configured.get("local", [])), "inline": inline}
    return {kind: sources for kind, sources in metadata.items() if sources}


def sp_config_dict(request=None) -> dict:
    base = settings.SITE_URL
    metadata = idp_metadata()
    return {
        "entityid": settings.SSO_SAML_ENTITY_ID or f"{base}{reverse('saml2_metadata')}",
        "xmlsec_binary": settings.SSO_SAML_XMLSEC_BINARY,
        "allow_unknown_attributes": True,
        "service": {
            "sp": {
                "name": "Samverkansbrister",
                "endpoints": {
                    "assertion_consumer_service": [
                        (f"{base}{reverse('saml2_acs')}", saml2.BINDING_HTTP_POST)
                    ],
                },
                "authn_requests_signed": True,
                "want_assertions_signed": True,
                "want_response_signed": False,
                "allow_unsolicited": False,
                "name_id_format": saml2.saml.NAMEID_FORMAT_PERSISTENT,
                "requested_authn_context": False,
            }
        },
        "metadata": metadata,
        "key_file": settings.SSO_SAML_SP_KEY_FILE,
        "cert_file": settings.SSO_SAML_SP_CERT_FILE,
        "encryption_keypairs": [
            {"key_file": settings.SSO_SAML_SP_KEY_FILE, "cert_file": settings.SSO_SAML_SP_CERT_FILE}
        ],
    }


def config_loader(request=None) -> SPConfig:
    """djangosaml2's ``SAML_CONFIG_LOADER``."""
    if not enabled():
        raise Http404
    config = SPConfig()
    config.load(sp_config_dict(request))
    return config


def identity_providers() -> list[dict]:
    """The login page's SAML buttons: every IdP in the loaded metadata, by its display name. Metadata
    that pysaml2 cannot load (e.g. broken XML pasted in the admin) costs the SAML buttons, logged,
    never the login page."""
    if not enabled():
        return []
    try:
        config = config_loader()
    except Exception:
        logger.exception("SAML identity providers could not be loaded")
        return []
    named = dict(SamlIdentityProvider.objects.filter(active=True).values_list("entity_id", "name"))
    return [
        {"name": named.get(entity_id) or config.metadata.name(entity_id) or entity_id, "entity_id": entity_id}
        for entity_id in config.metadata.identity_providers()
    ]


def saml_claims(session_info: dict) -> claims_module.Claims:
    """Attributes (friendly names) and the AuthnContextClassRef of the assertion."""
    names = settings.SSO_SAML_ATTRIBUTES
    attributes = session_info.get("ava") or {}
    data = {key: attributes.get(attr) for key, attr in names.items()}
    data.update({name: attributes.get(name) for name in settings.SSO_ORGANIZATION_CLAIMS})
    authn = session_info.get("authn_info") or []
    acr = str(authn[0][0]) if authn and authn[0] else ""
    return claims_module.Claims(
        email=claims_module.first_value(data.get("email")).lower(),
        first_name=claims_module.first_value(data.get("first_name")),
        last_name=claims_module.first_value(data.get("last_name")),
        organization_ids=tuple(
            value
            for name in settings.SSO_ORGANIZATION_CLAIMS
            if (value := claims_module.first_value(data.get(name)))
        ),
        acr=acr,
    )


class Refusal(PermissionDenied):
    def __init__(self, reason: str, **details):
        super().__init__(reason)
        self.reason = reason
        self.details = details


class SamlBackend(Saml2Backend):
    """djangosaml2's backend: finds the user by e-mail (any case), creates one on first login with
    the e-mail as username (as the OIDC login does), or one made from it when another account
    already has that username."""

    def get_or_create_user(self, user_lookup_key, user_lookup_value, create_unknown_user, **kwargs):
        user, created = super().get_or_create_user(
            user_lookup_key, user_lookup_value, create_unknown_user, **kwargs
        )
        if created:
            user.email = str(user_lookup_value).lower()
            user.username = user.email
            if get_user_model().objects.filter(username__iexact=user.email).exists():
                user.username = get_account_adapter().generate_unique_username([user.email])
        return user, created


class AssertionConsumerServiceView(saml_views.AssertionConsumerServiceView):
    def authenticate_user(
        self, request, session_info, attribute_mapping, create_unknown_user, assertion_info
    ):
        claims = saml_claims(session_info)
        required = settings.SSO_SAML_ACCEPTED_ACR.get(session_info.get("issuer"), settings.SSO_ACCEPTED_ACR)
        if not claims_module.acr_accepted(claims.acr, required):
            raise Refusal("assurance", asserted=claims.acr, required=required)
        if not claims.email:
            raise Refusal("no_email")
        existing = get_user_model().objects.filter(email__iexact=claims.email).first()
        if existing is not None and not existing.is_active:
            raise Refusal("inactive")
        user = super().authenticate_user(
            request, session_info, attribute_mapping, create_unknown_user, assertion_info
        )
        changed = claims_module.apply_claims(user, claims)
        if changed:
            user.save(update_fields=changed)
        if claims_module.acr_is_multi_factor(claims.acr):
            mfa.mark_verified_by_idp(request)
        return user

    def handle_acs_failure(self, request, exception=None, status=403, **kwargs):
        next_url = request.POST.get("RelayState", "")
        if isinstance(exception, Refusal):
            return refuse(request, exception.reason, next_url=next_url, **exception.details)
        return refuse(request, "error", next_url=next_url)


class LoginView(saml_views.LoginView):
    """djangosaml2's login (redirect to the chosen IdP with a signed AuthnRequest); 404 when SAML is
    not configured."""

    def get(self, request, *args, **kwargs):
        if not enabled():
            raise Http404
        return super().get(request, *args, **kwargs)
