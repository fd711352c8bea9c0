"""Personal API tokens: made, listed and revoked by their owner only."""

import datetime
import logging

from django.conf import settings
from django.utils.translation import gettext as _

from config.errors import Invalid, NotAllowed
from config.personal_data import guard_texts

from .models import ApiToken

logger = logging.getLogger(__name__)


def create_token(*, user, name: str, days: int) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the token itself (shown once, never stored)."""
    if not user.is_authenticated or not user.is_active:
        raise NotAllowed
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        raise Invalid(errors={"days": _("Välj en giltighetstid i listan.")})
    if ApiToken.objects.filter(user=user).count() >= settings.API_TOKENS_PER_USER:
        raise Invalid(errors={"name": _("Du har redan så många nycklar som tillåts. Återkalla en först.")})
    guard_texts(name=name, labels={"name": ApiToken._meta.get_field("name").verbose_name})
    token, secret = ApiToken.objects.create(user=user, expiry=datetime.timedelta(days=days), name=name)
    logger.info("api_token_created user=%s key=%s", user.pk, token.token_key)
    return token, secret


def revoke_token(*, user, token_key: str) -> None:
    deleted, _ = ApiToken.objects.filter(user=user, token_key=token_key).delete()
    if not deleted:
        raise NotAllowed
    logger.info("api_token_revoked user=%s key=%s", user.pk, token_key)
