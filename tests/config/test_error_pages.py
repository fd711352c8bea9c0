"""Swedish error pages that render without context and leak nothing about the request or error."""

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import path
from django.views import defaults

from config import urls as project_urls

SECRET = "hemlig-detalj-SB-2026-99999-rapportor@example.se"


def _boom(request):
    raise RuntimeError(SECRET)


def _denied(request):
    raise PermissionDenied(SECRET)


def _suspicious(request):
    raise SuspiciousOperation(SECRET)


urlpatterns = [
    path("test-boom/", _boom),
    path("test-denied/", _denied),
    path("test-suspicious/", _suspicious),
    *project_urls.urlpatterns,
]


def assert_leaks_nothing(response):
    body = response.content.decode()
    assert SECRET not in body
    assert "Traceback" not in body
    assert "settings" not in body.lower()
    assert "SB-2026-99999" not in body
    return body


@pytest.fixture
def boom_urls(settings):
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False


@pytest.mark.django_db
def test_404_page_is_swedish_and_does_not_echo_the_path(client):
    response = client.get("/finns-inte-SB-2026-99999/")
    assert response.status_code == 404
    body = assert_leaks_nothing(response)
    assert "Sidan hittades inte" in body
    assert "finns-inte" not in body
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_500_page_is_swedish_and_leaks_nothing(boom_urls):
    client = Client(raise_request_exception=False)
    response = client.get("/test-boom/")
    assert response.status_code == 500
    body = assert_leaks_nothing(response)
    assert "Ett fel uppstod" in body
    assert "RuntimeError" not in body


@pytest.mark.django_db
def test_403_page_is_swedish_and_does_not_show_the_exception(boom_urls, client):
    response = client.get("/test-denied/")
    assert response.status_code == 403
    body = assert_leaks_nothing(response)
    assert "Åtkomst nekad" in body


@pytest.mark.django_db
def test_400_page_for_a_suspicious_request(boom_urls, client):
    response = client.get("/test-suspicious/")
    assert response.status_code == 400
    body = assert_leaks_nothing(response)
    assert "Felaktig begäran" in body


@pytest.mark.django_db
def test_400_page_for_a_disallowed_host(client):
    response = client.get("/", HTTP_HOST="angripare.example.com")
    assert response.status_code == 400
    body = response.content.decode()
    assert "Felaktig begäran" in body
    assert "angripare" not in body


@pytest.mark.django_db
def test_csrf_failure_page_is_swedish(client):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/konto/logga-in/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "Formuläret kunde inte skickas" in body
    assert "CSRF" not in body


@pytest.mark.parametrize(
    ("handler", "exception", "status", "heading"),
    [
        (defaults.bad_request, SuspiciousOperation(SECRET), 400, "Felaktig begäran"),
        (defaults.permission_denied, PermissionDenied(SECRET), 403, "Åtkomst nekad"),
        (defaults.page_not_found, Http404(SECRET), 404, "Sidan hittades inte"),
    ],
)
def test_handlers_render_the_swedish_templates(handler, exception, status, heading):
    request = RequestFactory().get("/nagonstans/")
    response = handler(request, exception)
    assert response.status_code == status
    assert heading in assert_leaks_nothing(response)


def test_server_error_handler_needs_no_context_or_database():
    """The 500 handler renders without a request context or a user; no django_db mark: no database."""
    request = RequestFactory().get("/")
    response = defaults.server_error(request)
    assert response.status_code == 500
    assert "Ett fel uppstod" in assert_leaks_nothing(response)
