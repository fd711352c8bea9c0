"""Whom each identity provider may sign in, and the links that later logins follow.

An identity provider is trusted only for the e-mail domains configured for it: explicitly, and those
registered (*E-postdomäner*) for the organisations configured for it. An IdP with neither signs in
nobody (it is refused, and the refusal is logged with the IdP's id): a municipality's Entra ID must not
be able to assert a Region coordinator's address. Where organisations are configured, a user is placed
only in one of them.

- OpenID Connect: ``"email_domains": [...]`` and ``"organizations": [...]`` (identifiers registered
  under *Organisationsidentiteter*, e.g. the organisation number) in the app's ``settings`` JSON.
- SAML: the fields of the admin's ``SamlIdentityProvider`` and/or ``SSO_SAML_IDP_TRUST`` by entity id.

The link: an OIDC ``sub`` (allauth's ``SocialAccount.uid``) or a SAML persistent NameID
(``SamlIdentity``). An identifier that holds a Swedish identity number is kept only as a keyed hash.
"""

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models.functions import Lower
from django.utils.crypto import salted_hmac

from agreements.models import EmailDomain, domain_of
from config.personal_data import contains_identity_number

from .models import OrganizationIdentifier, SamlIdentityProvider

logger = logging.getLogger(__name__)

#: Prefix of a subject identifier kept as a keyed hash because it held an identity number.
HASHED_SUBJECT_PREFIX = "hmac-sha256:"


@dataclass(frozen=True)
class Trust:
    #: The IdP's provider id or entity id: for logs (never the user's data).
    idp: str
    domains: frozenset[str]
    #: Organisations the IdP may place users in; empty: any (by identifier or e-mail domain).
    organization_pks: frozenset[int]

    @property
    def configured(self) -> bool:
        return bool(self.domains)

    def allows_email(self, email: str) -> bool:
        return bool(email) and domain_of(email) in self.domains

    def allows_organization(self, organization) -> bool:
        return not self.organization_pks or organization.pk in self.organization_pks


def parse_domains(value: str | Iterable[str] | None) -> set[str]:
    """Domains from a list or from text (one per line, or separated by commas or spaces)."""
    if not value:
        return set()
    items = re.split(r"[\s,;]+", value) if isinstance(value, str) else value
    return {domain for item in items if (domain := str(item).strip().lower().lstrip("@"))}


def build_trust(*, idp: str, email_domains=(), organization_pks=(), organization_identifiers=()) -> Trust:
    pks = set(organization_pks)
    identifiers = {str(value).strip().lower() for value in organization_identifiers if str(value).strip()}
    if identifiers:
        pks |= set(
            OrganizationIdentifier.objects.annotate(value_lower=Lower("value"))
            .filter(value_lower__in=identifiers)
            .values_list("organization_id", flat=True)
        )
    domains = parse_domains(email_domains)
    if pks:
        domains |= {
            domain.lower()
            for domain in EmailDomain.objects.filter(organization__in=pks).values_list("domain", flat=True)
        }
    trust = Trust(idp=idp, domains=frozenset(domains), organization_pks=frozenset(pks))
    if not trust.configured:
        logger.warning("Identity provider %s has no trusted e-mail domains or organisations configured", idp)
    return trust


def for_oidc_app(app) -> Trust:
    """An OpenID Connect provider (allauth ``SocialApp``, from the admin or settings)."""
    app_settings = app.settings or {}
    return build_trust(
        idp=app.provider_id or app.provider,
        email_domains=app_settings.get("email_domains") or (),
        organization_identifiers=app_settings.get("organizations") or (),
    )


def for_saml_idp(entity_id: str) -> Trust:
    """A SAML IdP: its admin entry (domains and organisations) and ``SSO_SAML_IDP_TRUST``, together."""
    configured = settings.SSO_SAML_IDP_TRUST.get(entity_id) or {}
    domains = parse_domains(configured.get("email_domains"))
    pks: set[int] = set()
    entry = SamlIdentityProvider.objects.filter(entity_id=entity_id, active=True).first()
    if entry is not None:
        domains |= parse_domains(entry.email_domains)
        pks |= set(entry.organizations.values_list("pk", flat=True))
    return build_trust(
        idp=entity_id,
        email_domains=domains,
        organization_pks=pks,
        organization_identifiers=configured.get("organizations") or (),
    )


def subject_key(value: str) -> str:
    """How a subject identifier (OIDC ``sub``, SAML NameID) is stored: as sent, unless it holds a
    personnummer or samordningsnummer (some brokers use one as ``sub``), then as a keyed hash. The hash
    is keyed with ``SECRET_KEY``: after a change of that key such links no longer match (the admin
    removes the old link, and the next login links again)."""
    value = str(value or "")
    if not contains_identity_number(value):
        return value
    digest = salted_hmac("identity.trust.subject_key", value, algorithm="sha256").hexdigest()
    return f"{HASHED_SUBJECT_PREFIX}{digest}"
