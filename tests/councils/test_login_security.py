"""Login throttling (django-axes), session expiry after inactivity, password validators."""

import datetime
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.utils import timezone

from tests import factories

pytestmark = pytest.mark.django_db

LOGIN_URL = "/konto/logga-in/"


def attempt(client, username, password, **extra):
    return client.post(LOGIN_URL, {"username": username, "password": password}, **extra)


def test_settings_put_axes_first_and_lock_out_by_username_and_address():
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_RESET_ON_SUCCESS is True


def test_sixth_attempt_is_refused_even_with_the_right_password(client, axes_enabled):
    user = factories.UserFactory(username="anna")
    for _ in range(4):
        response = attempt(client, "anna", "fel-lösenord")
        assert response.status_code == 200  # the form again, with an error
    response = attempt(client, "anna", "fel-lösenord")  # the fifth failure locks
    assert response.status_code == 429
    response = attempt(client, "anna", factories.DEFAULT_PASSWORD)
    assert response.status_code == 429
    body = response.content.decode()
    assert "För många inloggningsförsök" in body
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert SESSION_KEY not in client.session
    assert user.last_login is None


def test_lockout_is_per_username_and_address(client, axes_enabled):
    factories.UserFactory(username="anna")
    factories.UserFactory(username="bertil")
    for _ in range(5):
        attempt(client, "anna", "fel-lösenord")
    # The same person from another address, and another user from the same address, still get in.
    response = attempt(client, "anna", factories.DEFAULT_PASSWORD, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 302
    client.logout()
    response = attempt(client, "bertil", factories.DEFAULT_PASSWORD)
    assert response.status_code == 302


def test_lockout_ends_after_the_cool_off(client, axes_enabled):
    factories.UserFactory(username="anna")
    for _ in range(5):
        attempt(client, "anna", "fel-lösenord")
    assert attempt(client, "anna", factories.DEFAULT_PASSWORD).status_code == 429
    # Time travel: the failures happened 16 minutes ago.
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))
    response = attempt(client, "anna", factories.DEFAULT_PASSWORD)
    assert response.status_code == 302


def test_a_successful_login_resets_the_failure_count(client, axes_enabled):
    factories.UserFactory(username="anna")
    for _ in range(4):
        attempt(client, "anna", "fel-lösenord")
    assert attempt(client, "anna", factories.DEFAULT_PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert attempt(client, "anna", "fel-lösenord").status_code == 200
    assert attempt(client, "anna", factories.DEFAULT_PASSWORD).status_code == 302


def test_a_personnummer_typed_as_username_is_counted_but_never_stored(client, axes_enabled):
    """People type their personnummer into login boxes: the login records (kept for weeks, shown in the
    admin) hold a keyed hash of it, and the lockout still counts the same typed number; an ordinary
    username is stored as typed."""
    from axes.models import AccessFailureLog

    for _ in range(5):
        attempt(client, "19811218-9876", "fel-lösenord")
    assert attempt(client, "19811218-9876", "fel-lösenord").status_code == 429
    stored = set(AccessAttempt.objects.values_list("username", flat=True))
    stored |= set(AccessFailureLog.objects.values_list("username", flat=True))
    assert len(stored) == 1 and "9876" not in stored.pop()
    attempt(client, "anna", "fel-lösenord")
    assert AccessAttempt.objects.filter(username="anna").exists()


def test_settings_limit_failed_logins_per_address_over_all_usernames():
    assert settings.LOGIN_FAILURES_PER_ADDRESS == "100/h"


@pytest.fixture
def sprayed(settings, axes_enabled, ratelimits_enabled):
    """A small per-address limit, so a test reaches it in a few attempts."""
    settings.LOGIN_FAILURES_PER_ADDRESS = "3/h"
    return [factories.UserFactory(username=name) for name in ("anna", "bertil", "cecilia", "david")]


def test_one_password_tried_against_many_usernames_is_stopped_at_the_address(client, sprayed):
    """Password spraying: one wrong password per account stays under axes' per-username lockout, so the
    address is limited over all usernames; then even a right password is refused from it (and not
    checked), while the same user gets in from another address."""
    for name in ("anna", "bertil", "cecilia"):
        response = attempt(client, name, "Sommar2026!", REMOTE_ADDR="192.0.2.7")
        assert response.status_code == 200  # the form again: three failures, three usernames
    response = attempt(client, "david", factories.DEFAULT_PASSWORD, REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 429
    body = response.content.decode()
    assert "Inloggning med lösenord är tillfälligt spärrad från din adress" in body
    assert "Vänta en stund och försök igen" in body
    assert 'name="password"' in body  # the login page, to try again later
    assert SESSION_KEY not in client.session
    assert not AccessAttempt.objects.filter(username="david").exists()  # refused before axes counted it
    sprayed[3].refresh_from_db()
    assert sprayed[3].last_login is None
    response = attempt(client, "david", factories.DEFAULT_PASSWORD, REMOTE_ADDR="192.0.2.8")
    assert response.status_code == 302


def test_only_refused_passwords_count_towards_the_address_limit(client, sprayed):
    """Successful logins and forms sent with a field left empty are not failures of a password."""
    for _ in range(3):
        assert attempt(client, "anna", factories.DEFAULT_PASSWORD).status_code == 302
        client.logout()
        assert attempt(client, "anna", "").status_code == 200
        assert attempt(client, "", "Sommar2026!").status_code == 200
    for name in ("bertil", "cecilia"):
        assert attempt(client, name, "Sommar2026!").status_code == 200
    assert attempt(client, "david", factories.DEFAULT_PASSWORD).status_code == 302


def test_the_address_limit_is_off_with_the_rate_limits(client, settings, axes_enabled):
    """``RATELIMIT_ENABLE`` off (the cluster and load tests, whose clients share one address) leaves
    axes' lockout per username and address."""
    settings.LOGIN_FAILURES_PER_ADDRESS = "1/h"
    factories.UserFactory(username="anna")
    for name in ("bertil", "cecilia", "david"):
        assert attempt(client, name, "Sommar2026!").status_code == 200
    assert attempt(client, "anna", factories.DEFAULT_PASSWORD).status_code == 302


def test_session_ends_after_inactivity(client):
    user = factories.UserFactory()
    client.force_login(user)
    assert client.get("/konto/profil/").status_code == 200
    idle = timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    with mock.patch("django.utils.timezone.now", return_value=idle):
        response = client.get("/konto/profil/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


def test_activity_keeps_the_session_alive(client):
    user = factories.UserFactory()
    client.force_login(user)
    age = datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    start = timezone.now()
    for step in (1, 2, 3):  # a request every 0.9 × the age: three ages in total, never idle too long
        with mock.patch("django.utils.timezone.now", return_value=start + step * 0.9 * age):
            assert client.get("/konto/profil/").status_code == 200


def test_session_is_renewed_at_most_every_refresh_interval(client):
    from django.contrib.sessions.models import Session

    client.force_login(factories.UserFactory())
    assert client.get("/konto/profil/").status_code == 200
    key = client.session.session_key
    first = Session.objects.get(pk=key).expire_date
    assert client.get("/konto/profil/").status_code == 200
    assert Session.objects.get(pk=key).expire_date == first  # no write on every request
    later = timezone.now() + datetime.timedelta(seconds=settings.SESSION_REFRESH_INTERVAL + 1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert client.get("/konto/profil/").status_code == 200
    assert Session.objects.get(pk=key).expire_date > first


def test_session_cookie_age_comes_from_the_environment():
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "DEBUG": "1", "SESSION_COOKIE_AGE": "900"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    code = "import django; from django.conf import settings as s; django.setup(); print(s.SESSION_COOKIE_AGE)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "900"


def test_password_change_refuses_a_weak_password(client):
    user = factories.UserFactory(username="annaandersson")
    client.force_login(user)
    old_hash = user.password
    for weak in ("kort", "password1234", "12345678901234", "annaandersson1"):
        response = client.post(
            "/konto/byt-losenord/",
            {"old_password": factories.DEFAULT_PASSWORD, "new_password1": weak, "new_password2": weak},
        )
        assert response.status_code == 200, weak
        assert response.context["form"].errors["new_password2"], weak
    user.refresh_from_db()
    assert user.password == old_hash


def test_password_change_accepts_a_strong_password_and_keeps_this_session(client):
    user = factories.UserFactory()
    client.force_login(user)
    strong = "Blåbärssoppa-i-Vasaloppet-2026"
    response = client.post(
        "/konto/byt-losenord/",
        {"old_password": factories.DEFAULT_PASSWORD, "new_password1": strong, "new_password2": strong},
    )
    assert response.status_code == 302
    assert response["Location"] == "/konto/profil/"
    user.refresh_from_db()
    assert user.check_password(strong)
    assert client.get("/konto/profil/").status_code == 200
