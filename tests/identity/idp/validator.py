from django.conf import settings
from oauth2_provider.oauth2_validators import OAuth2Validator


class Validator(OAuth2Validator):
    """Asserts the claims configured for each IdP user (settings.IDP_USERS), including ``acr``."""

    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "acr": "openid",
        "organization_number": "profile",
        "hsa_id": "profile",
        # What an eID broker may send besides: the services must not store these.
        "orgAffiliation": "profile",
        "personalIdentityNumber": "profile",
        "address": "profile",
    }

    def get_additional_claims(self, request):
        return settings.IDP_USERS.get(request.user.username, {})
