from unittest import mock

import pytest
from django.db import OperationalError
from django.urls import reverse


def test_healthz_lives_outside_the_language_prefix_and_matches_the_ssl_exemption():
    import re

    assert reverse("healthz") == "/healthz"
    assert re.search(r"^healthz$", reverse("healthz").lstrip("/"))


@pytest.mark.django_db
def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_fails(client):
    with mock.patch("config.views.connection") as connection:
        connection.cursor.return_value.__enter__.return_value.execute.side_effect = OperationalError(
            "connection refused"
        )
        response = client.get("/healthz")
    assert response.status_code == 503
    assert b"connection refused" not in response.content


@pytest.mark.django_db
def test_healthz_is_not_redirected_to_https_in_production(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    assert client.get("/healthz").status_code == 200
    assert client.get("/konto/logga-in/").status_code == 301


@pytest.mark.django_db
def test_healthz_refuses_writes(client):
    assert client.post("/healthz").status_code == 405
