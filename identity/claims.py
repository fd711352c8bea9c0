"""What a federated login tells us about the user, mapped onto the local account.

Shared by OIDC (allauth) and SAML (djangosaml2): the claims/attributes are first reduced to
``Claims``; ``apply_claims`` then sets name, e-mail and organisation. Council memberships are never
touched: they are managed locally.
"""

from dataclasses import dataclass, field

from django.conf import settings

from agreements.models import EmailDomain, Organization

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


def organization_for(claims: Claims) -> Organization | None:
    """An identifier registered for an organisation (admin: *Organisationsidentiteter*) wins; then the
    e-mail domain, when exactly one organisation has it."""
    for value in identifier_candidates(claims.organization_ids):
        match = (
            OrganizationIdentifier.objects.filter(value__iexact=value).select_related("organization").first()
        )
        if match:
            return match.organization
    domain = claims.email.rpartition("@")[2]
    if not domain:
        return None
    organizations = list(
        Organization.objects.filter(
            pk__in=EmailDomain.objects.filter(domain__iexact=domain).values("organization")
        )[:2]
    )
    return organizations[0] if len(organizations) == 1 else None


def apply_claims(user, claims: Claims) -> list[str]:
    """Set the user's name, e-mail and organisation from the claims (only what was asserted; an
    organisation found replaces the old one). Returns the changed field names; the caller saves."""
    changed = []
    for name in ("email", "first_name", "last_name"):
        value = getattr(claims, name)
        if value and getattr(user, name) != value:
            setattr(user, name, value)
            changed.append(name)
    organization = organization_for(claims)
    if organization is not None and user.organization_id != organization.pk:
        user.organization = organization
        changed.append("organization")
    return changed


def acr_accepted(acr: str, accepted: list[str]) -> bool:
    """No requirement configured, or the asserted level is one of the accepted ones."""
    return not accepted or acr in accepted


def acr_is_multi_factor(acr: str) -> bool:
    return bool(acr) and acr in settings.SSO_MULTI_FACTOR_ACR
