"""The WSGI application gunicorn serves.

Django imports the URLconf, and with it every view and the libraries the views import (pysaml2 among
them), in the first request a process serves. Done here instead, when a worker starts: otherwise that
first request, some user's, waits for it (under gunicorn at 1M reports the first request of a new
worker took 1.02 s, the next 4 ms; with the URLconf loaded at start the first took 0.11 s).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()


def _load_urlconf() -> None:
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports ROOT_URLCONF and every included URLconf)


_load_urlconf()
