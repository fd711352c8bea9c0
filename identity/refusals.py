"""The page a federated login is refused with, in plain Swedish (or English), and why."""

from django.conf import settings
from django.shortcuts import render
from django.utils import translation

#: Reason -> HTTP status: refusals by rule are 403, a broken flow 400, a cancel by the user 200.
STATUS = {"assurance": 403, "inactive": 403, "no_email": 403, "error": 400, "cancelled": 200}


def language_of(path: str) -> str:
    """The language the user was reading in: the prefix of the page they will return to (the
    federated-login URLs themselves have none)."""
    return translation.get_language_from_path(path or "") or settings.LANGUAGE_CODE


def refuse(request, reason: str, *, asserted: str = "", required=(), next_url: str | None = None):
    """``next_url``: where the login would have led; its language prefix picks the page's language
    (without it, the language negotiated for the request)."""
    language = language_of(next_url) if next_url is not None else translation.get_language()
    with translation.override(language):
        return render(
            request,
            "identity/sso_refused.html",
            {"reason": reason, "asserted": asserted, "required": list(required)},
            status=STATUS[reason],
        )
