"""Structured logging without personal data.

Every line is ``key=value`` pairs (logfmt), e.g.::

    ts=2026-11-25T21:00:00.123+00:00 level=INFO logger=deviations.services request_id=3f2a… user_id=42
    msg="deviation SB-2026-00012: confirm (unconfirmed -> submitted)"

``request_id`` and ``user_id`` come from the request being served (set by
``config.middleware.RequestIdMiddleware``); outside a request they are ``-``. Log ids and reference
numbers only: never e-mail addresses, names, phone numbers or report texts.

Paths are never logged: a path can hold a signed link (status page, confirmation, the answer form),
and the link is the credential. The request log (one line per request, written by
``RequestIdMiddleware``) names the URL pattern instead, e.g. ``status/<str:token>/``, and so do
Django's own lines about a request (``Not Found: …``, ``Forbidden (CSRF …): …``), rewritten by
``RequestContextFilter``. The server runs without an access log (Dockerfile, docker-compose.yml).
"""

import contextvars
import datetime
import json
import logging
import re

#: The id of the request being served in this thread/task, and the signed-in user's id.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
user_id_var: contextvars.ContextVar[int | None] = contextvars.ContextVar("user_id", default=None)


def route_of(request) -> str:
    """The URL pattern that served ``request`` (``status/<str:token>/``), or ``-`` if none matched."""
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None else "-"


#: A path segment as long as a signed link's (development server lines, which have no request object).
_LONG_SEGMENT = re.compile(r"[^/\s?]{20,}")


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` and ``user_id`` to every record passing through the handler, and puts the
    route in place of the path in Django's lines about a request (the path may hold a signed link)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get() or "-"
        if getattr(record, "user_id", None) is None:
            user_id = user_id_var.get()
            record.user_id = "-" if user_id is None else user_id
        if isinstance(record.args, tuple) and record.args:
            path = getattr(getattr(record, "request", None), "path", None)
            if isinstance(path, str):
                record.args = tuple(route_of(record.request) if arg == path else arg for arg in record.args)
            elif record.name == "django.server" and isinstance(record.args[0], str):
                # runserver's '"GET /status/… HTTP/1.1" 200 1234' (development only).
                record.args = (_LONG_SEGMENT.sub("…", record.args[0]), *record.args[1:])
        return True


def _value(value) -> str:
    text = str(value)
    if text and not any(c in text for c in ' "=\\') and text.isprintable():
        return text
    # JSON string escaping: quotes, backslashes, newlines and control characters cannot forge lines.
    return json.dumps(text, ensure_ascii=False)


class KeyValueFormatter(logging.Formatter):
    """One line per record: ts, level, logger, request_id, user_id, msg (and exc when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        fields = {
            "ts": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "user_id": getattr(record, "user_id", "-"),
            "msg": record.getMessage(),
        }
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            fields["exc"] = record.exc_text
        return " ".join(f"{key}={_value(value)}" for key, value in fields.items())


def axes_client_str(username, ip_address, user_agent, path_info, request) -> str:
    """What django-axes writes into its log lines: the path only, never the username or address."""
    return f"path={_value(path_info or '-')}"
