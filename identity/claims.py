"""What a federated login tells us about the user, mapped onto the local account.

Shared by OIDC (allauth) and SAML (djangosaml2): the claims/attributes are first reduced to
``Claims``; ``apply_claims`` then sets name, e-mail and organisation. Council memberships are never
touched: they are managed locally.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model

from agreements.models import EmailDomain, Organization
from config.personal_data import contains_identity_number

from .models import OrganizationIdentifier


@dataclass(frozen=True)
class Claims:
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    #: Organisation identifiers asserted for the user (organisation number, HSA-id …), in the order of
    #: ``settings.SSO_ORGANIZATION_CLAIMS``.
    organization_ids: tuple[str, ...] = field(default_factory=tuple)
    #: The assurance level (OIDC ``acr``, SAML ``AuthnContextClassRef``); empty when none was asserted.
    acr: str = ""


def first_value(value) -> str:
    """A claim as one string (SAML attributes come as lists)."""
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    return str(value or "").strip()


def from_mapping(data: dict, *, acr: str = "") -> Claims:
    """Claims from an OIDC ID token/userinfo or SAML attributes, by the configured names."""
    names = settings.SSO_CLAIM_NAMES
    return Claims(
        email=first_value(data.get(names["email"])).lower(),
        first_name=first_value(data.get(names["first_name"])),
        last_name=first_value(data.get(names["last_name"])),
        organization_ids=tuple(
            value for name in settings.SSO_ORGANIZATION_CLAIMS if (value := first_value(data.get(name)))
        ),
        acr=acr,
    )


def identifier_candidates(values: tuple[str, ...]) -> list[str]:
    """Each asserted identifier as sent, and for a scoped value ``<person>@<organisation>`` (the
    Swedish eID Framework's ``orgAffiliation``: the person's id at the organisation, ``@``, the
    organisation number) also the organisation part."""
    candidates = []
    for value in values:
        candidates.append(value)
        scope = value.rpartition("@")[2]
        if scope and scope != value:
            candidates.append(scope)
    return candidates


def organization_for(claims: Claims, *, trust=None) -> Organization | None:
    """An identifier registered for an organisation (admin: *Organisationsidentiteter*) wins; then the
    e-mail domain, when exactly one organisation has it. With the IdP's ``trust``, only organisations
    it may place users in count."""

    def allowed(organization):
        return trust is None or trust.allows_organization(organization)

    for value in identifier_candidates(claims.organization_ids):
        match = (
            OrganizationIdentifier.objects.filter(value__iexact=value).select_related("organization").first()
        )
        if match and allowed(match.organization):
            return match.organization
    domain = claims.email.rpartition("@")[2]
    if not domain:
        return None
    organizations = list(
        Organization.objects.filter(
            pk__in=EmailDomain.objects.filter(domain__iexact=domain).values("organization")
        )[:2]
    )
    return organizations[0] if len(organizations) == 1 and allowed(organizations[0]) else None


def apply_claims(user, claims: Claims, *, trust=None) -> list[str]:
    """Set the user's name, e-mail and organisation from the claims (only what was asserted; an
    organisation found replaces the old one, if the IdP's ``trust`` allows it). An address that
    another account has is not taken over. Returns the changed field names; the caller saves."""
    changed = []
    for name in ("email", "first_name", "last_name"):
        value = getattr(claims, name)
        if name == "email" and value and user.email.lower() != value:
            taken = get_user_model().objects.filter(email__iexact=value).exclude(pk=user.pk).exists()
            if taken:
                continue
        if value and getattr(user, name) != value:
            setattr(user, name, value)
            changed.append(name)
    organization = organization_for(claims, trust=trust)
    if organization is not None and user.organization_id != organization.pk:
        user.organization = organization
        changed.append("organization")
    return changed


def acr_accepted(acr: str, accepted: list[str]) -> bool:
    """No requirement configured, or the asserted level is one of the accepted ones."""
    return not accepted or acr in accepted


def acr_is_multi_factor(acr: str) -> bool:
    return bool(acr) and acr in settings.SSO_MULTI_FACTOR_ACR


#: Claims of an ID token/userinfo worth keeping with the account (allauth's ``extra_data``), besides
#: the configured names (``SSO_CLAIM_NAMES``, ``SSO_ORGANIZATION_CLAIMS``). Anything else an IdP sends
#: (e.g. ``personalIdentityNumber``, addresses, phone numbers) is not stored.
KEPT_OIDC_CLAIMS = ("sub", "iss", "aud", "acr", "amr", "auth_time", "email", "email_verified", "name")


def kept_claim_names() -> set[str]:
    return {*KEPT_OIDC_CLAIMS, *settings.SSO_CLAIM_NAMES.values(), *settings.SSO_ORGANIZATION_CLAIMS}


def without_identity_numbers(value):
    """A claim's value, or ``None`` where it holds an identity number. A scoped value
    ``<person>@<organisation>`` keeps its organisation part when only the person part holds one."""
    if isinstance(value, list | tuple):
        kept = [item for item in map(without_identity_numbers, value) if item is not None]
        return kept if kept or not value else None
    if isinstance(value, dict):
        return None
    if isinstance(value, str) and contains_identity_number(value):
        scope = value.rpartition("@")[2]
        if scope and scope != value and not contains_identity_number(scope):
            return f"@{scope}"
        return None
    return value


def stored_claims(claims: dict, *, subject: str | None = None) -> dict:
    """The claims worth keeping, without identity numbers; ``subject`` replaces ``sub`` (the stored
    form of it, ``identity.trust.subject_key``)."""
    names = kept_claim_names()
    kept = {
        name: cleaned
        for name, value in (claims or {}).items()
        if name in names and (cleaned := without_identity_numbers(value)) is not None
    }
    if subject is not None and "sub" in (claims or {}):
        kept["sub"] = subject
    return kept


def stored_oidc_data(extra_data: dict, *, subject: str | None = None) -> dict:
    """allauth's ``extra_data`` for an OpenID Connect account (``{"id_token": {...}, "userinfo":
    {...}}``) reduced to ``stored_claims``."""
    return {
        part: stored_claims(extra_data[part], subject=subject)
        for part in ("id_token", "userinfo")
        if isinstance((extra_data or {}).get(part), dict)
    }
