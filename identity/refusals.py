"""The page a federated login is refused with, in plain Swedish (or English), and why."""

import logging

from django.conf import settings
from django.shortcuts import render
from django.utils import translation

logger = logging.getLogger(__name__)

#: Reason -> HTTP status: refusals by rule are 403, a broken flow 400, a cancel by the user 200.
#: ``domain``: the IdP is not trusted for the asserted address's domain (identity/trust.py);
#: ``linked``: the account with that address is linked to another identity at the same IdP.
STATUS = {
    "assurance": 403,
    "inactive": 403,
    "no_email": 403,
    "domain": 403,
    "linked": 403,
    "error": 400,
    "cancelled": 200,
}


def language_of(path: str) -> str:
    """The language the user was reading in: the prefix of the page they will return to (the
    federated-login URLs themselves have none)."""
    return translation.get_language_from_path(path or "") or settings.LANGUAGE_CODE


def refuse(
    request, reason: str, *, asserted: str = "", required=(), next_url: str | None = None, idp: str = ""
):
    """``next_url``: where the login would have led; its language prefix picks the page's language
    (without it, the language negotiated for the request). A refusal by rule is logged with the
    reason and the IdP (its provider or entity id), never with who was refused."""
    if STATUS[reason] == 403:
        logger.info("Federated login refused (%s) for identity provider %s", reason, idp or "?")
    language = language_of(next_url) if next_url is not None else translation.get_language()
    with translation.override(language):
        return render(
            request,
            "identity/sso_refused.html",
            {"reason": reason, "asserted": asserted, "required": list(required)},
            status=STATUS[reason],
        )
