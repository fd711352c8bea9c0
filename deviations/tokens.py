"""Signed links for reporters without an account (django.core.signing).

- The confirmation link proves the reporter reads the work e-mail address given; it expires after
  ``settings.CONFIRMATION_MAX_AGE_HOURS`` and is single use (confirming changes the report's state).
- The status link lets the reporter follow the report without logging in; it does not expire.

Both carry the report's random ``idempotency_key`` (never the database id), each with its own salt,
so one kind of link can never be used as the other.
"""

import uuid

from django.conf import settings
from django.core import signing

CONFIRMATION_SALT = "deviations.reporting.confirm"
STATUS_SALT = "deviations.reporting.status"


class InvalidToken(Exception):
    """The link was altered, belongs to another purpose or is not a link of ours."""


class ExpiredToken(InvalidToken):
    """The link was genuine but is too old. ``key`` says which report it was for."""

    def __init__(self, key: uuid.UUID):
        super().__init__()
        self.key = key


def confirmation_token(deviation) -> str:
    return signing.dumps(str(deviation.idempotency_key), salt=CONFIRMATION_SALT)


def read_confirmation_token(token: str) -> uuid.UUID:
    try:
        value = signing.loads(
            token, salt=CONFIRMATION_SALT, max_age=settings.CONFIRMATION_MAX_AGE_HOURS * 3600
        )
    except signing.SignatureExpired as exc:
        # The signature is genuine (only too old), so the report it names can still be told apart,
        # e.g. to say "already confirmed" instead of "expired".
        raise ExpiredToken(_uuid(signing.loads(token, salt=CONFIRMATION_SALT))) from exc
    except signing.BadSignature as exc:
        raise InvalidToken from exc
    return _uuid(value)


def status_token(deviation) -> str:
    return signing.Signer(salt=STATUS_SALT).sign(str(deviation.idempotency_key))


def read_status_token(token: str) -> uuid.UUID:
    try:
        value = signing.Signer(salt=STATUS_SALT).unsign(token)
    except signing.BadSignature as exc:
        raise InvalidToken from exc
    return _uuid(value)


def _uuid(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise InvalidToken from exc
