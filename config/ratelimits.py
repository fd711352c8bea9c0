"""Rate limits on anonymous POSTs: the report form, the confirmation, "send the link again", the
counterpart's answer and the accessibility feedback (mailed to the organisation). Each is limited per
client address and per e-mail address the POST is about (where mail would go), so neither one machine
nor a flood aimed at one mailbox gets through. And failed password logins per client address over all
usernames (``LOGIN_FAILURES_PER_ADDRESS``), against password spraying: django-axes locks one username
at one address only.

Counted by django-ratelimit in ``CACHES["ratelimit"]`` (PostgreSQL unless ``RATELIMIT_CACHE_URL``
says otherwise, so every process and node shares the counts). Keys are hashed by the library: the
cache holds no address in clear. Signed-in users are not limited here (their logins are, by
django-axes). A POST over a limit is refused with ``config.errors.RateLimited``: the Swedish 429 page.
"""

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router
from django.utils import timezone
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage, is_ratelimited
from ipware.ip import get_client_ip

from .errors import RateLimited

#: action -> (per client address, per e-mail address). An address can be a whole organisation's NAT.
LIMITS = {
    "report": ("60/h", "10/h"),
    "confirm": ("60/h", "10/h"),
    "resend": ("20/h", "3/h"),
    "respond": ("60/h", "10/h"),
    # Every feedback is a mail to the organisation's one mailbox (ACCESSIBILITY_EMAIL).
    "accessibility_feedback": ("10/h", "3/h"),
}


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or behind ``TRUSTED_PROXY_COUNT`` proxies the address they
    were called from, read by django-ipware with the ``AXES_IPWARE_*`` settings (settings.py); the
    proxy's own address when X-Forwarded-For did not pass them all. Login throttling
    (``AXES_CLIENT_IP_CALLABLE``) and the rate limits use this one function."""
    address, _routable = get_client_ip(
        request,
        proxy_order="left-most",
        proxy_count=settings.AXES_IPWARE_PROXY_COUNT,
        proxy_trusted_ips=settings.AXES_IPWARE_PROXY_TRUSTED_IPS,
        request_header_order=settings.AXES_IPWARE_META_PRECEDENCE_ORDER,
    )
    return address or request.META.get("REMOTE_ADDR") or "0.0.0.0"  # noqa: S104


def limit(request, *, action: str, email: str = "") -> None:
    """Count one anonymous POST of ``action`` about ``email``; ``RateLimited`` when the client address
    or the e-mail address has used up its allowance for now."""
    if request.user.is_authenticated:
        return
    per_address, per_email = LIMITS[action]
    over = is_ratelimited(
        request, group=f"{action}:address", key="ip", rate=per_address, method="POST", increment=True
    )
    email = (email or "").strip().lower()
    if email:
        over |= is_ratelimited(
            request,
            group=f"{action}:email",
            key=lambda _group, _request: email,
            rate=per_email,
            method="POST",
            increment=True,
        )
    if over:
        raise RateLimited(_("Du har gjort för många försök på kort tid. Vänta en stund och försök igen."))


#: The failed password logins of one client address, over every username it tried.
LOGIN_FAILURES = "login_failures:address"


def password_login_blocked(request) -> bool:
    """Before a password is checked: whether the client address has had ``LOGIN_FAILURES_PER_ADDRESS``
    failed logins in the current window, whatever the usernames (one password tried against many
    accounts). A whole municipality may sit behind one address, so the limit is far above what its staff
    mistype; the right password is refused too until the window ends."""
    usage = _login_failures(request, increment=False)
    # Blocked once the limit is reached (``is_ratelimited`` refuses only past it: one attempt more).
    return usage is not None and usage["count"] >= usage["limit"]


def count_failed_login(request) -> None:
    """Count one failed password login of the client address (``password_login_blocked``)."""
    _login_failures(request, increment=True)


def _login_failures(request, *, increment: bool) -> dict | None:
    """django-ratelimit's usage of the client address's failed-login counter (None when rate limits are
    off); ``increment`` counts one more first."""
    return get_usage(
        request,
        group=LOGIN_FAILURES,
        key="ip",
        rate=settings.LOGIN_FAILURES_PER_ADDRESS,
        method="POST",
        increment=increment,
    )


def prune_expired() -> int:
    """Delete the expired counters of the rate-limit cache when it is Django's database cache (the
    default table), which deletes them itself only once it holds more than ``MAX_ENTRIES``: the keys
    are hashes of client and e-mail addresses, kept no longer than their window. Other caches (redis)
    expire their keys themselves. Returns how many were deleted."""
    cache = caches[settings.RATELIMIT_USE_CACHE]
    if not isinstance(cache, DatabaseCache):
        return 0
    table = settings.CACHES[settings.RATELIMIT_USE_CACHE]["LOCATION"]
    connection = connections[router.db_for_write(cache.cache_model_class)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {connection.ops.quote_name(table)} WHERE expires < %s",  # noqa: S608
            [timezone.now()],
        )
        return cursor.rowcount
