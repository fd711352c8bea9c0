"""Signed, unguessable links to the answer form of a response request (yttrande).

The token only names the request; whether it is still usable (open, not past its due date) is decided
from the database, so answering or withdrawing a request invalidates its link at once.
"""

from django.core import signing
from django.urls import reverse

from .emails import absolute_url

SALT = "deviations.response-request"


def make_token(response_request) -> str:
    return signing.dumps({"r": response_request.pk}, salt=SALT, compress=True)


def read_token(token: str) -> int | None:
    """The response request id the token was made for, or None if it is forged or malformed."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    pk = data.get("r") if isinstance(data, dict) else None
    return pk if isinstance(pk, int) else None


def response_link(response_request) -> str:
    return absolute_url(reverse("deviations:respond", args=[make_token(response_request)]))
