"""Two-step verification (TOTP, django-otp): setup from the profile, the code step of the login,
mandatory for superusers and staff, and password login switched off per deployment."""

import base64
import time

import pytest
from django.contrib.auth import SESSION_KEY, authenticate
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from identity import views
from tests import factories
from tests.identity.totp import code, device_code, key_from_page

pytestmark = pytest.mark.django_db

LOGIN = "/konto/logga-in/"
SETUP = "/konto/tvastegsverifiering/"
VERIFY = "/konto/logga-in/kod/"
DISABLE = "/konto/tvastegsverifiering/stang-av/"


def password_step(client, user, next_url=""):
    return client.post(
        LOGIN, {"username": user.username, "password": factories.DEFAULT_PASSWORD, "next": next_url}
    )


def signed_in(client) -> bool:
    return SESSION_KEY in client.session


def verified(client) -> bool:
    return DEVICE_ID_SESSION_KEY in client.session


def test_the_urls_are_where_the_tests_expect():
    assert (reverse("identity:two_factor"), reverse("identity:verify")) == (SETUP, VERIFY)
    assert reverse("identity:two_factor_disable") == DISABLE


# --- Setting up an app --------------------------------------------------------------------------


def test_user_sets_up_an_app_with_the_key_shown_on_the_page(client):
    user = factories.UserFactory()
    client.force_login(user)
    page = client.get(SETUP)
    assert page.status_code == 200
    html = page.content.decode()
    key = key_from_page(html)
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed and key == device.bin_key
    # The QR code is an SVG image (no PIL) holding the otpauth:// URL with the issuer.
    src = html.split('class="totp-qr mb-3" src="', 1)[1].split('"', 1)[0]
    svg = base64.b64decode(src.removeprefix("data:image/svg+xml;base64,"))
    assert svg.startswith(b"<?xml") or b"<svg" in svg[:200]
    assert device.config_url.startswith("otpauth://totp/Samverkansbrister%3A")
    assert "issuer=Samverkansbrister" in device.config_url

    response = client.post(SETUP, {"token": code(key)})
    assert response.status_code == 302
    assert response["Location"] == reverse("account:profile")
    device.refresh_from_db()
    assert device.confirmed
    assert verified(client)  # this session counts as verified at once


def test_a_wrong_code_does_not_turn_it_on(client):
    user = factories.UserFactory()
    client.force_login(user)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=user)
    wrong = f"{(int(device_code(device)) + 1) % 10**6:06d}"
    response = client.post(SETUP, {"token": wrong})
    assert response.status_code == 400
    assert "Koden stämmer inte" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed


def test_reloading_the_setup_page_keeps_one_pending_key(client):
    user = factories.UserFactory()
    client.force_login(user)
    first = key_from_page(client.get(SETUP).content.decode())
    second = key_from_page(client.get(SETUP).content.decode())
    assert first == second
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_setup_page_is_reached_from_the_profile(client):
    client.force_login(factories.UserFactory())
    assert f'href="{SETUP}"' in client.get(reverse("account:profile")).content.decode()


# --- Logging in with a code -----------------------------------------------------------------------


def test_login_asks_for_the_code_after_the_password(client):
    user = factories.UserFactory()
    device = factories.TOTPDeviceFactory(user=user)
    response = password_step(client, user, next_url="/mina-rapporter/")
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    assert not signed_in(client)  # the password alone does not sign in
    assert client.get(reverse("account:profile")).status_code == 302

    response = client.post(response["Location"], {"token": device_code(device), "next": "/mina-rapporter/"})
    assert response.status_code == 302
    assert response["Location"] == "/mina-rapporter/"
    assert signed_in(client) and verified(client)
    assert client.get(reverse("account:profile")).status_code == 200


def test_wrong_code_leaves_the_visitor_signed_out(client):
    user = factories.UserFactory()
    device = factories.TOTPDeviceFactory(user=user)
    password_step(client, user)
    response = client.post(VERIFY, {"token": f"{(int(device_code(device)) + 1) % 10**6:06d}"})
    assert response.status_code == 400
    assert not signed_in(client)
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


def test_repeated_wrong_codes_are_throttled_even_before_the_right_one(client):
    user = factories.UserFactory()
    device = factories.TOTPDeviceFactory(user=user)
    password_step(client, user)
    for _ in range(3):
        client.post(VERIFY, {"token": f"{(int(device_code(device)) + 7) % 10**6:06d}"})
    response = client.post(VERIFY, {"token": device_code(device)})
    assert response.status_code == 400
    assert "För många felaktiga koder" in response.content.decode()
    assert not signed_in(client)


def test_a_code_is_used_once(client):
    user = factories.UserFactory()
    device = factories.TOTPDeviceFactory(user=user)
    now = time.time()
    password_step(client, user)
    client.post(VERIFY, {"token": device_code(device, now)})
    assert signed_in(client)
    other = Client()
    password_step(other, user)
    assert other.post(VERIFY, {"token": device_code(device, now)}).status_code == 400
    assert not signed_in(other)


def test_the_code_step_expires(client, monkeypatch):
    user = factories.UserFactory()
    device = factories.TOTPDeviceFactory(user=user)
    password_step(client, user)
    later = time.time() + views.PENDING_MAX_AGE + 1
    monkeypatch.setattr(views.time, "time", lambda: later)
    response = client.post(VERIFY, {"token": device_code(device, later)})
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert not signed_in(client)


def test_the_code_step_without_a_password_goes_back_to_login(client):
    response = client.get(VERIFY)
    assert response.status_code == 302 and response["Location"] == LOGIN


def test_the_code_step_never_redirects_off_site(client):
    user = factories.UserFactory()
    device = factories.TOTPDeviceFactory(user=user)
    password_step(client, user)
    response = client.post(VERIFY, {"token": device_code(device), "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")


def test_users_without_an_app_log_in_with_the_password_alone(client):
    user = factories.UserFactory()
    response = password_step(client, user)
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert signed_in(client) and not verified(client)
    assert client.get(reverse("deviations:my_reports")).status_code == 200


def test_turning_it_off_needs_a_current_code(client, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # the right code straight after a wrong one
    user = factories.UserFactory()
    device = factories.TOTPDeviceFactory(user=user)
    client.force_login(user)
    assert client.post(DISABLE, {"token": "000000"}).status_code == 400
    assert TOTPDevice.objects.filter(user=user).exists()
    response = client.post(DISABLE, {"token": device_code(device)})
    assert response.status_code == 302 and response["Location"] == reverse("account:profile")
    assert not TOTPDevice.objects.filter(user=user).exists()


# --- Mandatory for superusers and staff -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["superuser", "staff"])
def test_admins_without_an_app_are_sent_to_set_one_up_before_anything_else(client, kind):
    user = factories.UserFactory(is_staff=True, is_superuser=kind == "superuser")
    password_step(client, user)
    assert signed_in(client)
    for url in (reverse("home"), reverse("deviations:queue"), reverse("admin:index")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(SETUP + "?next="), url
    # Signing out, the language switch and the legal pages still work.
    assert client.get(reverse("pages:privacy")).status_code == 200
    page = client.get(f"{SETUP}?next=/admin/").content.decode()
    assert "Lägg till tvåstegsverifiering innan du fortsätter" in page
    response = client.post(SETUP, {"token": code(key_from_page(page)), "next": "/admin/"})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_superuser_with_an_app_but_an_unverified_session_is_asked_for_the_code(client):
    user = factories.UserFactory(is_staff=True, is_superuser=True)
    device = factories.TOTPDeviceFactory(user=user)
    client.unverified_login(user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next=%2Fadmin%2F"
    response = client.post(VERIFY + "?next=/admin/", {"token": device_code(device)})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_admin_refuses_an_unverified_session_by_itself(rf):
    """Even without the middleware (e.g. a misconfigured deployment) the admin site checks."""
    from django.contrib import admin
    from django.contrib.sessions.backends.db import SessionStore

    user = factories.UserFactory(is_staff=True, is_superuser=True)
    request = rf.get("/admin/")
    request.user, request.session = user, SessionStore()
    user.is_verified = lambda: False
    assert admin.site.has_permission(request) is False
    user.is_verified = lambda: True
    assert admin.site.has_permission(request) is True


def test_the_admin_login_is_the_sites_login(client):
    response = client.get(reverse("admin:login") + "?next=/admin/deviations/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/admin/deviations/"


def test_superuser_turning_it_off_must_set_up_a_new_app(client):
    user = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    device = TOTPDevice.objects.get(user=user)
    response = client.post(DISABLE, {"token": device_code(device)})
    assert response["Location"] == SETUP
    assert client.get("/admin/")["Location"].startswith(SETUP)


def test_reporters_are_not_forced(client):
    client.force_login(factories.UserFactory())
    assert client.get(reverse("deviations:my_reports")).status_code == 200


def test_admins_cannot_read_anyones_key_in_the_admin(client, superuser):
    other = factories.TOTPDeviceFactory()
    client.force_login(superuser)
    listing = client.get(reverse("admin:otp_totp_totpdevice_changelist"))
    assert listing.status_code == 200
    page = client.get(reverse("admin:otp_totp_totpdevice_change", args=[other.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert other.key not in html
    assert base64.b32encode(other.bin_key).decode() not in html
    # django-otp's own admin views that show the key and its QR code are gone.
    with pytest.raises(NoReverseMatch):
        reverse("admin:otp_totp_totpdevice_config", args=[other.pk])


# --- Password login switched off ------------------------------------------------------------------


def test_password_login_can_be_switched_off(client, settings):
    settings.LOCAL_LOGIN_ENABLED = False
    user = factories.UserFactory()
    page = client.get(LOGIN)
    assert page.status_code == 200
    assert 'name="password"' not in page.content.decode()
    response = password_step(client, user)
    assert response.status_code == 403
    assert not signed_in(client)
    assert authenticate(username=user.username, password=factories.DEFAULT_PASSWORD) is None
    # The pages that ask for the password are not offered either.
    client.force_login(user)
    profile = client.get("/konto/profil/").content.decode()
    assert 'href="/konto/byt-losenord/"' not in profile
    assert 'href="/konto/logga-ut-overallt/"' not in profile
    settings.LOCAL_LOGIN_ENABLED = True
    assert authenticate(username=user.username, password=factories.DEFAULT_PASSWORD) == user
