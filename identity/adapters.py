"""django-allauth hooks for federated login over OpenID Connect.

allauth does the protocol (discovery, state, nonce, PKCE, code exchange, ID token signature and
claims validation against the IdP's JWKS); these hooks apply the service's rules: the required
assurance level, the e-mail domains the IdP is trusted for (``identity.trust``), refusing
deactivated accounts, creating the account on first login, linking an existing account by its e-mail
address once (later logins follow the link, the IdP's ``sub``), and mapping the claims
(``identity.claims``). Only the claims the service needs are stored with the link, never an
identity number (``GuardedOpenIDConnectProvider``).
"""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from django.conf import settings
from django.contrib.auth import get_user_model

from . import claims as claims_module
from . import mfa
from . import trust as trust_module
from .refusals import refuse


class GuardedOpenIDConnectProvider(OpenIDConnectProvider):
    """allauth's OpenID Connect provider, storing less: ``SocialAccount.extra_data`` keeps only the
    claims the service uses (``identity.claims.stored_claims``: no ``personalIdentityNumber`` or any
    other claim it does not know), and a ``sub`` that is an identity number is kept as a keyed hash."""

    def extract_uid(self, data):
        return trust_module.subject_key(super().extract_uid(data))

    def extract_extra_data(self, data):
        return claims_module.stored_oidc_data(data, subject=self.extract_uid(data))


def oidc_data(sociallogin) -> tuple[dict, str]:
    """The merged claims (userinfo over ID token) and the ``acr`` of the ID token."""
    extra = sociallogin.account.extra_data or {}
    id_token = extra.get("id_token") or {}
    return {**id_token, **(extra.get("userinfo") or {})}, str(id_token.get("acr") or "")


def accepted_acr(sociallogin) -> list[str]:
    """Per identity provider (``accepted_acr`` in the app's settings) or for the deployment."""
    app_settings = sociallogin.account.get_provider().app.settings or {}
    return app_settings.get("accepted_acr", settings.SSO_ACCEPTED_ACR)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        """No self-service local accounts: they are made by admins or by a federated first login."""
        return False

    def respond_user_inactive(self, request, user):
        return refuse(request, "inactive")

    def post_login(self, request, user, **kwargs):
        """A federated login at a multi-factor assurance level counts as two-step verification."""
        sociallogin = (kwargs.get("signal_kwargs") or {}).get("sociallogin")
        if sociallogin is not None and claims_module.acr_is_multi_factor(oidc_data(sociallogin)[1]):
            mfa.mark_verified_by_idp(request)
        return super().post_login(request, user, **kwargs)


def trust_of(sociallogin) -> trust_module.Trust:
    return trust_module.for_oidc_app(sociallogin.account.get_provider().app)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def get_provider(self, request, provider, client_id=None):
        instance = super().get_provider(request, provider, client_id=client_id)
        if type(instance) is OpenIDConnectProvider:
            return GuardedOpenIDConnectProvider(request, app=instance.app)
        return instance

    def is_open_for_signup(self, request, sociallogin):
        return True

    def is_auto_signup_allowed(self, request, sociallogin):
        return True

    def populate_user(self, request, sociallogin, data):
        """The username of an account made by a first login is its e-mail address, as for SAML (not
        the IdP's ``preferred_username``); allauth falls back to one made from the names when another
        account already has it."""
        user = super().populate_user(request, sociallogin, data)
        email = claims_module.from_mapping(oidc_data(sociallogin)[0]).email
        if email:
            user.username = email
        return user

    def pre_social_login(self, request, sociallogin):
        """The rules, before allauth signs anyone in or creates an account: level, an address, one the
        IdP is trusted for; then the account linked to this ``sub``, else the account with the address
        (linked now, unless it is already linked to another identity at this IdP), else a new one."""
        data, acr = oidc_data(sociallogin)
        next_url = sociallogin.state.get("next") or ""
        idp = sociallogin.account.provider
        required = accepted_acr(sociallogin)
        if not claims_module.acr_accepted(acr, required):
            raise ImmediateHttpResponse(
                refuse(request, "assurance", asserted=acr, required=required, next_url=next_url, idp=idp)
            )
        claims = claims_module.from_mapping(data, acr=acr)
        if not claims.email:
            raise ImmediateHttpResponse(refuse(request, "no_email", next_url=next_url, idp=idp))
        trust = trust_of(sociallogin)
        if not trust.allows_email(claims.email):
            raise ImmediateHttpResponse(refuse(request, "domain", next_url=next_url, idp=idp))
        user = sociallogin.user if sociallogin.is_existing else None
        if user is None:
            user = get_user_model().objects.filter(email__iexact=claims.email).first()
            if user is not None:
                if SocialAccount.objects.filter(user=user, provider=idp).exists():
                    raise ImmediateHttpResponse(refuse(request, "linked", next_url=next_url, idp=idp))
                if user.is_active:
                    sociallogin.connect(request, user)
        if user is not None:
            if not user.is_active:
                raise ImmediateHttpResponse(refuse(request, "inactive", next_url=next_url, idp=idp))
            changed = claims_module.apply_claims(user, claims, trust=trust)
            if changed:
                user.save(update_fields=changed)

    def save_user(self, request, sociallogin, form=None):
        """First login: the account is created with the claims mapped (no usable password)."""
        user = super().save_user(request, sociallogin, form)
        data, acr = oidc_data(sociallogin)
        changed = claims_module.apply_claims(
            user, claims_module.from_mapping(data, acr=acr), trust=trust_of(sociallogin)
        )
        if changed:
            user.save(update_fields=changed)
        return user
