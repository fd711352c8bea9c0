"""Federated login over SAML 2.0 with djangosaml2/pysaml2 (xmlsec1 checks the signatures).

The service provider's configuration is built per request (``config_loader``) from settings and the
identity providers added in the admin (``SamlIdentityProvider``). The ACS view applies the same rules
as the OIDC adapters: the required assurance level (``AuthnContextClassRef``), an e-mail address at
a domain the IdP is trusted for (``identity.trust``), deactivated accounts refused, the account found
by its link to the persistent NameID (``SamlIdentity``) before the e-mail address; the claims are
mapped by ``identity.claims``. The assertion's attributes are not kept: pysaml2's identity cache in
the SAML session is emptied after each assertion (single logout, which would need it, is not offered).
Metadata from a URL can be required to be signed (``metadata_is_signed_by``).
"""

import hashlib
import logging
import tempfile
from pathlib import Path
from xml.etree.ElementTree import ParseError

import requests
import saml2
from allauth.account.adapter import get_adapter as get_account_adapter
from defusedxml import ElementTree
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import Http404
from django.urls import reverse
from djangosaml2 import views as saml_views
from djangosaml2.backends import Saml2Backend
from djangosaml2.exceptions import IdPConfigurationMissing
from saml2.config import SPConfig
from saml2.sigver import CryptoBackendXmlSec1

from . import claims as claims_module
from . import mfa
from . import trust as trust_module
from .backends import SessionUserMixin
from .models import SamlIdentity, SamlIdentityProvider
from .refusals import refuse

logger = logging.getLogger(__name__)

#: How long the last good copy of a metadata URL's answer stands in while the URL fails.
STALE_METADATA_SECONDS = 7 * 24 * 3600
#: How long after a failed fetch the URL is tried again (meanwhile the last good copy, or nothing).
FAILED_METADATA_RETRY_SECONDS = 60


def enabled() -> bool:
    return bool(settings.SSO_SAML_SP_KEY_FILE and settings.SSO_SAML_SP_CERT_FILE)


METADATA_NS = "urn:oasis:names:tc:SAML:2.0:metadata"
DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"


def metadata_is_signed_by(xml: bytes, certificate_pem: str) -> bool:
    """Whether the metadata's root element (``EntitiesDescriptor`` of a federation's aggregate, or one
    ``EntityDescriptor``) carries a valid signature by the certificate, over the root itself: the
    first signature in the document must be the root's own, referring to the root (so a signed
    document wrapped in an unsigned one is refused), and xmlsec1 must verify it."""
    try:
        root = ElementTree.fromstring(xml)
    except (ParseError, ValueError):
        return False
    namespace, _, name = root.tag.removeprefix("{").partition("}")
    if namespace != METADATA_NS or name not in {"EntitiesDescriptor", "EntityDescriptor"}:
        return False
    signature = next(root.iter(f"{{{DSIG_NS}}}Signature"), None)
    if signature is None or signature not in list(root):
        return False
    references = signature.findall(f"{{{DSIG_NS}}}SignedInfo/{{{DSIG_NS}}}Reference")
    root_id = root.get("ID")
    allowed = {f"#{root_id}"} if root_id else {""}
    if len(references) != 1 or references[0].get("URI") not in allowed:
        return False
    with tempfile.NamedTemporaryFile(suffix=".pem") as certificate:
        certificate.write(certificate_pem.strip().encode())
        certificate.flush()
        try:
            return bool(
                CryptoBackendXmlSec1(settings.SSO_SAML_XMLSEC_BINARY).validate_signature(
                    xml,
                    cert_file=certificate.name,
                    cert_type="pem",
                    node_name=f"{METADATA_NS}:{name}",
                    node_id=root_id,
                )
            )
        except Exception:  # pysaml2 raises SignatureError or XmlsecError (and logs xmlsec1's output)
            return False


def remote_metadata(url: str, certificate_pem: str = "") -> bytes:
    """An IdP's metadata from its URL, fetched at most once per ``SSO_SAML_METADATA_MAX_AGE`` seconds
    and kept in the cache: the configuration is built on every login page and SAML request, and
    pysaml2 itself would fetch on each. An IdP that cannot be reached leaves its last good copy in
    use, or none (logged): the login page and the other IdPs go on working. With a certificate,
    metadata not signed by it counts as not reached (logged)."""
    fingerprint = hashlib.sha256(f"{url}\n{certificate_pem.strip()}".encode()).hexdigest()
    key = f"saml-metadata:{fingerprint}"
    xml = cache.get(key)
    if xml is not None:
        return xml
    try:
        response = requests.get(url, timeout=10)
        response.raise_for_status()
    except requests.RequestException as error:
        logger.warning("SAML metadata could not be fetched from %s: %s", url, error)
        return failed_metadata(key)
    xml = response.content
    if certificate_pem and not metadata_is_signed_by(xml, certificate_pem):
        logger.warning("SAML metadata from %s is not signed by the configured certificate: not used", url)
        return failed_metadata(key)
    cache.set(key, xml, settings.SSO_SAML_METADATA_MAX_AGE)
    cache.set(f"{key}:stale", xml, STALE_METADATA_SECONDS)
    return xml


def failed_metadata(key: str) -> bytes:
    xml = cache.get(f"{key}:stale", b"")
    cache.set(key, xml, FAILED_METADATA_RETRY_SECONDS)
    return xml


def settings_metadata_certificate() -> str:
    path = settings.SSO_SAML_METADATA_CERT_FILE
    return Path(path).read_text() if path else ""


def idp_metadata() -> dict:
    """pysaml2's ``metadata`` setting: files as they are, the XML pasted in the admin, and the answers
    of the metadata URLs (settings and admin) through ``remote_metadata``, each checked against its
    signing certificate where one is configured."""
    configured = settings.SSO_SAML_IDP_METADATA
    inline = list(configured.get("inline", []))
    certificate = settings_metadata_certificate() if configured.get("remote") else ""
    urls = [(entry["url"], certificate) for entry in configured.get("remote", [])]
    for idp in SamlIdentityProvider.objects.filter(active=True):
        if idp.metadata_xml:
            inline.append(idp.metadata_xml)
        else:
            urls.append((idp.metadata_url, idp.metadata_signing_certificate))
    inline += [xml for url, pem in urls if (xml := remote_metadata(url, pem))]
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
    """The login page's SAML buttons: every IdP in the loaded metadata that is trusted for someone
    (``identity.trust``: domains or organisations in its admin entry or ``SSO_SAML_IDP_TRUST``), by its
    display name; a federation's aggregate brings only the IdPs configured for it. Metadata that
    pysaml2 cannot load (e.g. broken XML pasted in the admin) costs the SAML buttons, logged, never
    the login page."""
    if not enabled():
        return []
    try:
        config = config_loader()
    except Exception:
        logger.exception("SAML identity providers could not be loaded")
        return []
    entries = SamlIdentityProvider.objects.filter(active=True).annotate(
        organization_count=Count("organizations")
    )
    named = {entry.entity_id: entry.name for entry in entries}
    trusted = {
        entry.entity_id for entry in entries if entry.email_domains.strip() or entry.organization_count
    }
    trusted |= {
        entity_id
        for entity_id, configured in settings.SSO_SAML_IDP_TRUST.items()
        if (configured or {}).get("email_domains") or (configured or {}).get("organizations")
    }
    return [
        {"name": named.get(entity_id) or config.metadata.name(entity_id) or entity_id, "entity_id": entity_id}
        for entity_id in config.metadata.identity_providers()
        if entity_id in trusted
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


class SamlBackend(SessionUserMixin, Saml2Backend):
    """The authentication backend a SAML login's session is recorded with. The account is found
    (or made) by ``AssertionConsumerServiceView.authenticate_user``, not by djangosaml2's lookup by
    attribute."""

    def authenticate(self, request, **kwargs):
        return None


def new_user(claims: claims_module.Claims):
    """An account made by a first login: the e-mail address as username (as the OIDC login does), or
    one made from it when another account already has that username; no usable password."""
    User = get_user_model()
    username = claims.email
    if User.objects.filter(username__iexact=username).exists():
        username = get_account_adapter().generate_unique_username([claims.email])
    return User.objects.create_user(username=username, email=claims.email)


def persistent_name_id(session_info: dict) -> str:
    """The stored form of the assertion's NameID when it is persistent; empty otherwise (a transient
    NameID cannot find anyone again)."""
    name_id = session_info.get("name_id")
    if name_id is None or name_id.format != saml2.saml.NAMEID_FORMAT_PERSISTENT or not name_id.text:
        return ""
    return trust_module.subject_key(name_id.text.strip())


class AssertionConsumerServiceView(saml_views.AssertionConsumerServiceView):
    def post(self, request, *args, **kwargs):
        """djangosaml2's ACS, then pysaml2's identity cache (the assertion's attributes, kept in the
        SAML session for single logout) is emptied, whatever the outcome."""
        try:
            return super().post(request, *args, **kwargs)
        finally:
            request.saml_session.pop("_saml2_identities", None)

    @transaction.atomic
    def authenticate_user(
        self, request, session_info, attribute_mapping, create_unknown_user, assertion_info
    ):
        claims = saml_claims(session_info)
        issuer = session_info.get("issuer") or ""
        required = settings.SSO_SAML_ACCEPTED_ACR.get(issuer, settings.SSO_ACCEPTED_ACR)
        if not claims_module.acr_accepted(claims.acr, required):
            raise Refusal("assurance", asserted=claims.acr, required=required, idp=issuer)
        if not claims.email:
            raise Refusal("no_email", idp=issuer)
        trust = trust_module.for_saml_idp(issuer)
        if not trust.allows_email(claims.email):
            raise Refusal("domain", idp=issuer)
        name_id = persistent_name_id(session_info)
        link = (
            SamlIdentity.objects.select_related("user").filter(idp_entity_id=issuer, name_id=name_id).first()
            if name_id
            else None
        )
        user = link.user if link else get_user_model().objects.filter(email__iexact=claims.email).first()
        if link is None and user is not None and user.saml_identities.filter(idp_entity_id=issuer).exists():
            raise Refusal("linked", idp=issuer)
        if user is not None and not user.is_active:
            raise Refusal("inactive", idp=issuer)
        if user is None:
            user = new_user(claims)
        if name_id and link is None:
            SamlIdentity.objects.create(user=user, idp_entity_id=issuer, name_id=name_id)
        changed = claims_module.apply_claims(user, claims, trust=trust)
        if changed:
            user.save(update_fields=changed)
        auth.login(request, user, backend="identity.saml.SamlBackend")
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
    not configured; the refusal page (400) for an IdP whose metadata is not loaded (unknown, expired,
    or refused for its signature)."""

    def get(self, request, *args, **kwargs):
        if not enabled():
            raise Http404
        try:
            return super().get(request, *args, **kwargs)
        except IdPConfigurationMissing:
            return refuse(request, "error", next_url=request.GET.get("next", ""))
