"""Project-wide middleware."""

import uuid

from django.core.signals import request_finished
from django.dispatch import receiver

from .log import request_id_var, user_id_var


class RequestIdMiddleware:
    """Gives every request a fresh id (``request.id``, the ``X-Request-ID`` response header) and makes
    it and the signed-in user's id available to log records (``config.log.RequestContextFilter``).

    The id is always generated here, never taken from the client, so it cannot be used to inject
    text into the logs. The values stay set until the request has finished, so Django's own
    ``django.request`` lines (written after the middleware chain) carry them too.
    """

    header = "X-Request-ID"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = uuid.uuid4().hex
        request_id_var.set(request.id)
        user_id_var.set(_user_id(request))
        response = self.get_response(request)
        # The user may have signed in or out during the request.
        user_id_var.set(_user_id(request))
        response[self.header] = request.id
        return response


def _user_id(request) -> int | None:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


@receiver(request_finished, dispatch_uid="config.middleware.clear_request_context")
def clear_request_context(sender, **kwargs):
    request_id_var.set(None)
    user_id_var.set(None)
