"""Project-wide middleware."""

import logging
import time
import uuid
from functools import wraps

from django.core.signals import request_finished
from django.dispatch import receiver
from django.utils.cache import add_never_cache_headers

from .log import request_id_var, route_of, user_id_var

#: The request log: "GET status/<str:token>/ 200 12ms".
request_logger = logging.getLogger("config.request")


class RequestIdMiddleware:
    """Gives every request a fresh id (``request.id``, the ``X-Request-ID`` response header) and makes
    it and the signed-in user's id available to log records (``config.log.RequestContextFilter``).
    Writes the request log: one line per request with the method, the route (the URL pattern, never
    the path, which can hold a signed link), the status and the time taken.

    The id is always generated here, never taken from the client, so it cannot be used to inject
    text into the logs. The values stay set until the request has finished, so Django's own
    ``django.request`` lines (written after the middleware chain) carry them too.
    """

    header = "X-Request-ID"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        request.id = uuid.uuid4().hex
        request_id_var.set(request.id)
        user_id_var.set(_user_id(request))
        response = self.get_response(request)
        # The user may have signed in or out during the request.
        user_id_var.set(_user_id(request))
        response[self.header] = request.id
        request_logger.info(
            "%s %s %s %dms",
            request.method,
            route_of(request),
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return response


def _user_id(request) -> int | None:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


@receiver(request_finished, dispatch_uid="config.middleware.clear_request_context")
def clear_request_context(sender, **kwargs):
    request_id_var.set(None)
    user_id_var.set(None)


class SessionRefreshMiddleware:
    """Sliding session expiry without a database write on every request.

    A session ends ``SESSION_COOKIE_AGE`` seconds after it was last *saved*. Saving it on every
    request (``SESSION_SAVE_EVERY_REQUEST``) makes each page view a write transaction (an UPDATE of
    ``django_session``, a commit and a WAL flush). Instead, a signed-in session is saved again only
    when its last save is older than ``SESSION_REFRESH_INTERVAL`` seconds, so a session ends between
    ``SESSION_COOKIE_AGE - SESSION_REFRESH_INTERVAL`` and ``SESSION_COOKIE_AGE`` after the last
    request. Sessions that the request did not load (anonymous pages without a session) are left
    alone, and nothing is created for visitors who have none.

    Must come after ``SessionMiddleware`` (its response phase runs first and marks the session
    modified, so ``SessionMiddleware`` saves it and renews the cookie).
    """

    key = "_refreshed_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.utils import timezone

        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or not session.accessed or session.modified or session.is_empty():
            # Not loaded, already being saved, or nothing to keep alive.
            if session is not None and session.modified and not session.is_empty():
                session[self.key] = timezone.now().timestamp()
            return response
        now = timezone.now().timestamp()
        if now - session.get(self.key, 0) >= settings.SESSION_REFRESH_INTERVAL:
            session[self.key] = now
        return response


class ApplicationErrorMiddleware:
    """Maps a service's refusal (``config.errors``) that the view did not handle to the Swedish error
    page with its status: 404 for ``NotAllowed`` (reveals nothing), 400 for ``Invalid``, 409 for
    ``Conflict`` (both show the service's message) and 429 for ``RateLimited``. The one place where
    they become HTTP."""

    templates = {404: "404.html", 400: "400.html", 409: "409.html", 429: "429.html"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.shortcuts import render

        from .errors import ApplicationError, NotAllowed

        if not isinstance(exception, ApplicationError):
            return None
        status = exception.status if exception.status in self.templates else 400
        # A 404 says nothing about why: the message could tell that the thing exists.
        context = {} if isinstance(exception, NotAllowed) else {"message": exception.message}
        return render(request, self.templates[status], context, status=status)


class PrivateResponsesMiddleware:
    """Nothing shown to a signed-in user is stored by a browser or a proxy: every response to one
    (report pages, the queues, every export and PDF, the admin) gets Django's never-cache headers,
    ``Cache-Control: max-age=0, no-cache, no-store, must-revalidate, private``. Anonymous pages that
    show a report are marked by their views (``token_page``). Must come after authentication."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


#: The referrer policy of token pages: the ``Referer`` of every request the page causes (its
#: stylesheets, scripts, links followed, forms posted) is the site's origin at most, never the path
#: with the link, on our own site too (a proxy's access log records referrers). Not ``no-referrer``:
#: browsers then send ``Origin: null`` with the page's forms (confirming, answering, the language
#: switch), which Django's CSRF check rightly refuses.
TOKEN_PAGE_REFERRER_POLICY = "strict-origin"


def token_page(view):
    """For pages whose address holds a signed link (status page, confirmation, the answer form): never
    stored (``Cache-Control: no-store``), and the address, with the link, never sent on as a referrer
    (``TOKEN_PAGE_REFERRER_POLICY``)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        response.headers["Referrer-Policy"] = TOKEN_PAGE_REFERRER_POLICY
        return response

    return wrapped
