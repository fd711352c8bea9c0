"""Structured logging without personal data.

Every line is ``key=value`` pairs (logfmt), e.g.::

    ts=2026-11-25T21:00:00.123+00:00 level=INFO logger=deviations.services request_id=3f2a… user_id=42
    msg="deviation SB-2026-00012: confirm (unconfirmed -> submitted)"

``request_id`` and ``user_id`` come from the request being served (set by
``config.middleware.RequestIdMiddleware``); outside a request they are ``-``. Log ids and reference
numbers only: never e-mail addresses, names, phone numbers or report texts.
"""

import contextvars
import datetime
import json
import logging

#: The id of the request being served in this thread/task, and the signed-in user's id.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
user_id_var: contextvars.ContextVar[int | None] = contextvars.ContextVar("user_id", default=None)


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` and ``user_id`` to every record passing through the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get() or "-"
        if getattr(record, "user_id", None) is None:
            user_id = user_id_var.get()
            record.user_id = "-" if user_id is None else user_id
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
