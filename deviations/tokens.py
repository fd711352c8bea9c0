"""Signed links for reporters without an account (django.core.signing).

- The confirmation link proves the reporter reads the work e-mail address given; it expires after
  ``settings.CONFIRMATION_MAX_AGE_HOURS`` and is single use (confirming changes the report's state).
- The status link lets the reporter follow the report without logging in; it does not expire, but a
  correction of the reporter's address replaces it (``Deviation.status_link_version``): a link that went
  to a mistyped address stops working.

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
    """The report's current status link: its key, and the link's version once there has been more than
    one (the links of version 0, the first, are the key alone, as every link was before versions)."""
    value = str(deviation.idempotency_key)
    if deviation.status_link_version:
        value = f"{value}.{deviation.status_link_version}"
    return signing.Signer(salt=STATUS_SALT).sign(value)


def status_token_for_confirmation_link(deviation) -> str | None:
    """The status link the page of a (still valid) confirmation link may show: none once the address
    was corrected, as the confirmation went to the old one, which must not learn the link that replaced
    the one it was sent."""
    return None if deviation.status_link_version else status_token(deviation)


def read_status_token(token: str) -> tuple[uuid.UUID, int]:
    """The report's key and the link's version; the caller checks that the version is the report's."""
    try:
        value = signing.Signer(salt=STATUS_SALT).unsign(token)
    except signing.BadSignature as exc:
        raise InvalidToken from exc
    key, _dot, version = value.partition(".")
    if version and not (version.isdecimal() and version.isascii()):
        raise InvalidToken
    return _uuid(key), int(version or 0)


def _uuid(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise InvalidToken from exc
