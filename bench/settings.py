"""Settings for the load run (``bench/run.py``): production settings (DEBUG off) with one difference —
the session and CSRF cookies are not marked Secure, because the load test talks plain HTTP to
127.0.0.1 and clients do not send Secure cookies over HTTP. Nothing here changes what is measured."""

from config.settings import *  # noqa: F403

SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
