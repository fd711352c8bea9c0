"""Errors as ``application/problem+json`` (RFC 9457, as the Swedish national REST API profile asks):
``type``, ``title``, ``status``, ``detail`` and, for invalid input, ``errors`` per parameter."""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.views import exception_handler

PROBLEM = "application/problem+json"

TITLES = {
    400: gettext_lazy("Ogiltig begäran"),
    401: gettext_lazy("Inloggning krävs"),
    403: gettext_lazy("Åtkomst nekad"),
    404: gettext_lazy("Hittades inte"),
    405: gettext_lazy("Metoden stöds inte"),
    406: gettext_lazy("Formatet stöds inte"),
    429: gettext_lazy("För många anrop"),
}


def _title(code: int) -> str:
    return str(TITLES.get(code, gettext_lazy("Fel")))


def problem(code: int, detail: str, *, instance: str = "", errors: dict | None = None) -> dict:
    body = {"type": "about:blank", "title": _title(code), "status": code, "detail": detail}
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return body


def handler(exc, context):
    """DRF's handler, with its answer rewritten as a problem document."""
    response = exception_handler(exc, context)
    if response is None:
        return None
    request = context.get("request")
    errors = None
    if isinstance(exc, exceptions.ValidationError):
        detail = _("En eller flera parametrar är ogiltiga.")
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    else:
        detail = str(getattr(exc, "detail", "")) or _title(response.status_code)
    response.data = problem(
        response.status_code, detail, instance=request.path if request else "", errors=errors
    )
    response.content_type = PROBLEM
    return response


def not_found(request, *args, **kwargs):
    """Unknown paths under /api/: a problem document, not the HTML 404 page."""
    return JsonResponse(
        problem(status.HTTP_404_NOT_FOUND, _("Resursen finns inte."), instance=request.path),
        status=status.HTTP_404_NOT_FOUND,
        content_type=PROBLEM,
    )
