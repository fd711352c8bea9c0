"""The errors services raise when they refuse, and what HTTP makes of them.

A service says *what* went wrong; ``config.middleware.ApplicationErrorMiddleware`` turns an error that
a view did not handle itself into a response, in one place (HackSoft's Django styleguide):

- ``NotAllowed``: not for this person → 404 (a page that does not say whether the thing exists);
- ``Invalid``: the input breaks a rule → 400 with the message;
- ``Conflict``: the data's current state does not allow it (already done, changed meanwhile) → 409;
- ``RateLimited``: too many attempts from one address, or for one e-mail address → 429.

Messages are user-facing (Swedish through gettext) and never contain personal data.
"""


class ApplicationError(Exception):
    """A service refused. ``message`` may be shown to the user; ``errors`` maps form fields to
    messages where the refusal is about particular fields."""

    status = 400

    def __init__(self, message: str = "", *, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = dict(errors or {})


class NotAllowed(ApplicationError):
    """Not for this person: the role, membership or scope does not allow it."""

    status = 404


class Invalid(ApplicationError):
    """The input breaks a business rule (missing text, a date in the past, personal data...)."""

    status = 400


class Conflict(ApplicationError):
    """The state of the data does not allow it now: already confirmed, answered or withdrawn."""

    status = 409


class RateLimited(ApplicationError):
    """Too many attempts in a short time (``config.ratelimits``): try again later."""

    status = 429
