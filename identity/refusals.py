"""The page a federated login is refused with, in plain Swedish (or English), and why."""

from django.shortcuts import render

#: Reason -> HTTP status: refusals by rule are 403, a broken flow 400, a cancel by the user 200.
STATUS = {"assurance": 403, "inactive": 403, "no_email": 403, "error": 400, "cancelled": 200}


def refuse(request, reason: str, *, asserted: str = "", required=()):
    return render(
        request,
        "identity/sso_refused.html",
        {"reason": reason, "asserted": asserted, "required": list(required)},
        status=STATUS[reason],
    )
