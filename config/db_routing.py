"""Reads that may go to a streaming read replica, and everything else to the primary.

Configured by ``DATABASE_REPLICA_URL`` (settings): without it there is no ``replica`` alias and every
query goes to ``default``, as before. With it:

- Only reads inside :func:`use_replica` (a context manager; views use the :func:`replica_reads`
  decorator) may go to the replica: the follow-up page, its exports and PDF, the meeting packs. Every
  other read, every write and every read inside a transaction on the primary use the primary.
- Read your own writes: a request (or any context) that has written through the ORM
  (:meth:`PrimaryReplicaRouter.db_for_write`) reads from the primary for the rest of it, and
  :class:`PrimaryPinMiddleware` keeps that browser on the primary for ``pin_seconds()`` afterwards with
  a short-lived signed cookie, long enough for the replica to have replayed the write (the lag bound
  plus the age of the cached health answer).
- Fallback: the replica is used only while it answers and its replay lag is within
  ``DATABASE_REPLICA_MAX_LAG_SECONDS`` (``pg_last_xact_replay_timestamp()``); the answer is cached per
  process for ``DATABASE_REPLICA_HEALTH_SECONDS``. A decorated view whose replica fails in the middle
  is run again on the primary.

Sessions (``django_session``) are read inside decorated views too: the pin after a login or a session
save keeps them consistent.
"""

import contextlib
import dataclasses
import functools
import logging
import threading
import time
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
PIN_COOKIE = "sb_primary"
_PIN_SALT = "config.db_routing.pin"
ALIAS_HEADER = "X-Database-Alias"

# Replay lag in seconds. On a primary (a test database standing in as its own replica) 0. On a standby
# that receives WAL and has replayed all of it, 0 whatever the age of the last transaction (an idle
# primary is not lag); otherwise the age of the last replayed transaction (no receiver: infinite when
# nothing was ever replayed). Readable by any role (pg_stat_wal_receiver shows its row to everyone).
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN EXISTS (SELECT 1 FROM pg_stat_wal_receiver)
         AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8, 'Infinity')
END
"""


@dataclasses.dataclass
class _State:
    # The alias reads go to inside use_replica(); None outside it.
    read_alias: str | None = None
    # Written in this context, or the pin cookie was presented: the primary for every read.
    pinned: bool = False
    wrote: bool = False
    # The alias a use_replica() block chose in this request (for the X-Database-Alias header).
    chosen_alias: str | None = None


_state: ContextVar[_State | None] = ContextVar("db_routing_state", default=None)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def pin_seconds() -> float:
    """How long a browser stays on the primary after writing: the lag the replica may have plus the
    age of the health answer that allowed it."""
    return settings.DATABASE_REPLICA_MAX_LAG_SECONDS + settings.DATABASE_REPLICA_HEALTH_SECONDS


# --- Replica health, cached per process ----------------------------------------------------------


class _Health:
    def __init__(self):
        self.lock = threading.Lock()
        self.checked_at = float("-inf")
        self.usable = False


_health = _Health()


def reset_replica_health() -> None:
    """Forget the cached answer (tests; a view whose replica failed)."""
    with _health.lock:
        _health.checked_at = float("-inf")


def replica_lag() -> float | None:
    """The replica's replay lag in seconds, or None when it cannot be reached."""
    connection = connections[REPLICA]
    try:
        with connection.cursor() as cursor:
            cursor.execute(LAG_SQL)
            return float(cursor.fetchone()[0])
    except DatabaseError:
        logger.warning("read replica unreachable; reads go to the primary")
        with contextlib.suppress(DatabaseError):
            connection.close()
        return None


def replica_usable() -> bool:
    """Whether reads may go to the replica now: configured, reachable and lagging at most
    DATABASE_REPLICA_MAX_LAG_SECONDS. Asked at most every DATABASE_REPLICA_HEALTH_SECONDS per process."""
    if not replica_configured():
        return False
    now = time.monotonic()
    with _health.lock:
        if now - _health.checked_at < settings.DATABASE_REPLICA_HEALTH_SECONDS:
            return _health.usable
        # Other threads keep the previous answer while this one asks.
        _health.checked_at = now
    lag = replica_lag()
    usable = lag is not None and lag <= settings.DATABASE_REPLICA_MAX_LAG_SECONDS
    if lag is not None and not usable:
        logger.warning("read replica lags %.1f s; reads go to the primary", lag)
    with _health.lock:
        _health.usable = usable
        _health.checked_at = time.monotonic()
    return usable


# --- Marking reads for the replica ---------------------------------------------------------------


@contextlib.contextmanager
def use_replica(*, alias: str | None = None):
    """Reads through the ORM inside the block may go to the replica (see the module docstring).

    The alias is chosen once, when the block is entered, so one block reads one database; ``alias``
    forces one (a stream continuing its view's choice). Yields the chosen alias."""
    outer = _state.get()
    state = _State(pinned=outer.pinned, wrote=outer.wrote) if outer is not None else _State()
    if alias is None:
        alias = REPLICA if not state.pinned and replica_usable() else DEFAULT_DB_ALIAS
    state.read_alias = alias
    token = _state.set(state)
    try:
        yield alias
    finally:
        _state.reset(token)
        if outer is not None:
            # Writes in the block pin the enclosing request too.
            outer.pinned = outer.pinned or state.pinned
            outer.wrote = outer.wrote or state.wrote
            outer.chosen_alias = alias if not state.pinned else DEFAULT_DB_ALIAS


def replica_reads(view):
    """Decorate a read-only view: its reads may go to the replica (:func:`use_replica`).

    A streamed response keeps reading from the chosen database while it streams. If the replica fails
    during the view, the replica is checked again and, when it is down, the view runs once more on the
    primary (decorate only views that are safe to repeat: GET views that do not write)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        alias = None
        try:
            with use_replica() as alias:
                response = view(request, *args, **kwargs)
        except DatabaseError:
            if alias != REPLICA:
                raise
            reset_replica_health()
            if replica_usable():
                raise
            logger.warning("read replica failed during a view; running it again on the primary")
            with use_replica(alias=DEFAULT_DB_ALIAS) as alias:
                response = view(request, *args, **kwargs)
        if getattr(response, "streaming", False):
            response.streaming_content = _streamed(response.streaming_content, alias)
        return response

    return wrapper


def _streamed(content, alias: str):
    with use_replica(alias=alias):
        yield from content


class PrimaryReplicaRouter:
    """Django database router for ``default`` (the primary) and an optional ``replica``."""

    def db_for_read(self, model, **hints):
        state = _state.get()
        if state is None or state.read_alias is None or state.pinned:
            return DEFAULT_DB_ALIAS
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            # Inside a transaction on the primary, read what it sees.
            return DEFAULT_DB_ALIAS
        return state.read_alias

    def db_for_write(self, model, **hints):
        state = _state.get()
        if state is not None:
            state.wrote = state.pinned = True
        # Always the primary, also for an instance that was read from the replica.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same data.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return False if db == REPLICA else None


class PrimaryPinMiddleware:
    """Per request routing state; pins a browser that wrote to the primary for ``pin_seconds()`` with a
    signed cookie (read your writes on the next requests), and with DATABASE_ALIAS_HEADER names the
    database the request's replica reads used in ``X-Database-Alias``.

    Outermost but for SecurityMiddleware, so writes made by other middleware (a session save) count."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_configured():
            return self.get_response(request)
        pinned = (
            request.get_signed_cookie(PIN_COOKIE, default=None, salt=_PIN_SALT, max_age=pin_seconds())
            is not None
        )
        state = _State(pinned=pinned)
        token = _state.set(state)
        try:
            response = self.get_response(request)
        finally:
            _state.reset(token)
        if state.wrote:
            response.set_signed_cookie(
                PIN_COOKIE,
                "1",
                salt=_PIN_SALT,
                max_age=pin_seconds(),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        if settings.DATABASE_ALIAS_HEADER:
            response[ALIAS_HEADER] = state.chosen_alias or DEFAULT_DB_ALIAS
        return response
