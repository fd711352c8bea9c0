"""Rate limits on anonymous POSTs (config/ratelimits.py): the report form, the confirmation, "send the
link again" and the counterpart's answer, per client address and per e-mail address, counted in the
PostgreSQL cache every node shares; the client address behind trusted proxies only; a login with an
over-long username is a form error."""

import datetime
import io
import uuid

import pytest
from axes.helpers import get_client_ip_address
from django.conf import settings as django_settings
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from config import ratelimits
from deviations import tokens
from deviations.models import Deviation, ResponseRequest
from deviations.response_tokens import make_token
from deviations.services import reporting
from deviations.workflow import Status
from tests import factories
from tests.deviations.reporting_world import build_world, service_data, valid_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db, ratelimits_enabled, monkeypatch):
    """Small limits, so a test reaches them in a few requests."""
    for action in ratelimits.LIMITS:
        monkeypatch.setitem(ratelimits.LIMITS, action, ("4/h", "2/h"))
    return build_world()


def refused(response) -> bool:
    if response.status_code != 429:
        return False
    text = response.content.decode()
    assert "För många försök" in text and "Vänta en stund" in text
    return True


def post_form(client, w, *, address="192.0.2.10", reporter_email, **headers):
    data = valid_post(w, idempotency_key=str(uuid.uuid4()), reporter_email=reporter_email)
    return client.post(reverse("deviations:report_form"), data, REMOTE_ADDR=address, **headers)


def test_the_configured_limits():
    assert ratelimits.LIMITS == {
        "report": ("60/h", "10/h"),
        "confirm": ("60/h", "10/h"),
        "resend": ("20/h", "3/h"),
        "respond": ("60/h", "10/h"),
        "accessibility_feedback": ("10/h", "3/h"),
    }
    assert django_settings.RATELIMIT_USE_CACHE == "ratelimit"
    cache = django_settings.CACHES["ratelimit"]
    assert cache["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert cache["LOCATION"] == "ratelimit_cache"


def test_report_form_is_limited_per_client_address(client, w):
    for n in range(4):
        assert post_form(client, w, reporter_email=f"person{n}@nacka.se").status_code == 302
    response = post_form(client, w, reporter_email="ny@nacka.se")
    assert refused(response)
    assert Deviation.objects.count() == 4  # the refused POST stored nothing
    # Another address is not affected.
    assert post_form(client, w, address="192.0.2.11", reporter_email="ny@nacka.se").status_code == 302


def test_report_form_is_limited_per_e_mail_address_whatever_the_client_address(client, w):
    assert post_form(client, w, address="192.0.2.1", reporter_email="anna@nacka.se").status_code == 302
    assert post_form(client, w, address="192.0.2.2", reporter_email="ANNA@nacka.se").status_code == 302
    assert refused(post_form(client, w, address="192.0.2.3", reporter_email="anna@Nacka.se"))
    assert post_form(client, w, address="192.0.2.3", reporter_email="bertil@nacka.se").status_code == 302


def test_invalid_posts_count_too(client, w):
    for _ in range(4):
        assert client.post(reverse("deviations:report_form"), {}, REMOTE_ADDR="192.0.2.20").status_code == 200
    assert refused(client.post(reverse("deviations:report_form"), {}, REMOTE_ADDR="192.0.2.20"))


def test_signed_in_reporters_are_not_limited_here(client, w):
    client.force_login(factories.UserFactory(email="anna@nacka.se", organization=w.own))
    for _ in range(6):
        assert post_form(client, w, reporter_email="anna@nacka.se").status_code == 302


def test_counts_are_kept_in_the_shared_database_cache_without_addresses_in_clear(client, w):
    caches["ratelimit"].clear()
    post_form(client, w, reporter_email="anna@nacka.se")
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key, value FROM ratelimit_cache")
        stored = cursor.fetchall()
    assert len(stored) == 2  # one counter per client address, one per e-mail address
    assert "anna" not in str(stored) and "192.0.2.10" not in str(stored)


def test_confirming_is_limited_per_e_mail_address(client, w):
    # Three different reports (the same text twice would be the same report: duplicate protection).
    for n in range(2):
        data = service_data(w, description=f"Utskrivning utan information, gång {n}.")
        deviation, _ = reporting.submit_deviation(data=data, idempotency_key=uuid.uuid4())
        url = reverse("deviations:confirm", args=[tokens.confirmation_token(deviation)])
        assert client.post(url).status_code == 302
    data = service_data(w, description="Utskrivning utan information, en tredje gång.")
    deviation, _ = reporting.submit_deviation(data=data, idempotency_key=uuid.uuid4())
    url = reverse("deviations:confirm", args=[tokens.confirmation_token(deviation)])
    assert refused(client.post(url))
    assert Deviation.objects.get(pk=deviation.pk).status == Status.UNCONFIRMED
    assert client.get(url).status_code == 200  # looking is not limited


def test_sending_the_link_again_is_limited(client, w, django_capture_on_commit_callbacks, mailoutbox):
    deviation, _ = reporting.submit_deviation(data=service_data(w), idempotency_key=uuid.uuid4())
    url = reverse("deviations:resend_confirmation", args=[tokens.confirmation_token(deviation)])
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            assert client.post(url).status_code == 200
        assert refused(client.post(url))
    assert len(mailoutbox) == 2


def test_the_counterparts_answer_is_limited(client, w):
    request = factories.ResponseRequestFactory(email="svar@psyk.example.se")
    url = reverse("deviations:respond", args=[make_token(request)])
    for n in range(2):
        assert (
            client.post(url, {"answered_by_name": "", "what_happened": "", "actions": ""}).status_code == 200
        ), n
    assert refused(
        client.post(url, {"answered_by_name": "Chef", "what_happened": "Så", "actions": "Ny rutin"})
    )
    assert ResponseRequest.objects.get().answered_at is None


def test_the_accessibility_feedback_is_limited_per_client_address(
    client, w, mailoutbox, django_capture_on_commit_callbacks
):
    from pages.models import AccessibilityFeedback

    url = reverse("pages:accessibility")
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(4):
            data = {"message": "Knappen går inte att nå.", "email": f"besokare{n}@example.se"}
            assert client.post(url, data, REMOTE_ADDR="192.0.2.40").status_code == 302
        assert refused(client.post(url, {"message": "Igen."}, REMOTE_ADDR="192.0.2.40"))
    assert len(mailoutbox) == 4 and AccessibilityFeedback.objects.count() == 0
    assert client.post(url, {"message": "Igen."}, REMOTE_ADDR="192.0.2.41").status_code == 302


def test_the_429_page_is_english_under_en(client, w):
    for _ in range(4):
        client.post("/en/rapportera/formular/", {}, REMOTE_ADDR="192.0.2.30")
    response = client.post("/en/rapportera/formular/", {}, REMOTE_ADDR="192.0.2.30")
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()


# --- The client address ----------------------------------------------------------------------------


def request_from(remote_addr, forwarded=None):
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/", **extra)


def proxies(settings, count: int):
    """What settings.py makes of TRUSTED_PROXY_COUNT=count."""
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = (
        ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if count else ("REMOTE_ADDR",)
    )
    settings.AXES_IPWARE_PROXY_COUNT = count - 1 if count else None


@pytest.mark.parametrize(
    ("count", "remote", "forwarded", "client"),
    [
        # No proxy: X-Forwarded-For is whatever the client sent, and ignored.
        (0, "203.0.113.5", "198.51.100.1", "203.0.113.5"),
        # One proxy (nginx appends the address it was called from).
        (1, "10.0.0.2", "203.0.113.5", "203.0.113.5"),
        # ...whatever the client put before it (a forged entry, or its own forward proxy's).
        (1, "10.0.0.2", "198.51.100.66, 203.0.113.5", "203.0.113.5"),
        (1, "10.0.0.2", "10.9.9.9, 172.16.0.1, 203.0.113.5", "203.0.113.5"),
        # A request that did not pass the proxy's header: the proxy's address, never a guess.
        (1, "10.0.0.2", None, "10.0.0.2"),
        # Two proxies: the client is second from the right.
        (2, "10.0.0.3", "203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (2, "10.0.0.3", "198.51.100.66, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (2, "10.0.0.3", "10.0.0.2", "10.0.0.3"),
    ],
)
def test_client_address_is_taken_from_trusted_proxies_only(settings, count, remote, forwarded, client):
    proxies(settings, count)
    request = request_from(remote, forwarded)
    assert ratelimits.client_address(request) == client
    # The very same address for login throttling.
    assert get_client_ip_address(request) == client


def test_settings_turn_the_proxy_count_into_ipware_settings():
    import json
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import django, json; from django.conf import settings as s; django.setup(); print(json.dumps(["
        "s.AXES_IPWARE_META_PRECEDENCE_ORDER, s.AXES_IPWARE_PROXY_COUNT, s.IPWARE_STRICT]))"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "True",
        "DATABASE_URL": "postgres://u@localhost/x",
        "ENV_FILE": "/dev/null",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "TRUSTED_PROXY_COUNT": "1",
    }
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == [["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"], 0, False]


def test_rate_limits_key_on_the_address_behind_the_proxy(client, w, settings):
    proxies(settings, 1)
    behind = {"address": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    for n in range(4):
        assert post_form(client, w, reporter_email=f"p{n}@nacka.se", **behind).status_code == 302
    assert refused(post_form(client, w, reporter_email="q@nacka.se", **behind))
    # The same client with a forged entry in front is still the same client.
    forged = {"address": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.7"}
    assert refused(post_form(client, w, reporter_email="q@nacka.se", **forged))
    # Another client behind the same proxy is not affected.
    other = {"address": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.8"}
    assert post_form(client, w, reporter_email="s@nacka.se", **other).status_code == 302


# --- Login ----------------------------------------------------------------------------------------


def test_an_over_long_username_is_a_form_error_not_a_500(client, axes_enabled):
    response = client.post("/konto/logga-in/", {"username": "a" * 300, "password": "lösenord"})
    assert response.status_code == 200
    assert "Användarnamnet kan vara högst 150 tecken långt." in response.content.decode()


def test_the_admin_has_no_login_form_of_its_own(client, axes_enabled):
    """The admin sends every login to the site's (identity.admin_site): one form to protect."""
    response = client.post("/admin/login/", {"username": "a" * 300, "password": "lösenord"})
    assert response.status_code == 302
    assert response["Location"].startswith("/konto/logga-in/")


def _counter_keys() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM ratelimit_cache ORDER BY cache_key")
        return [row[0] for row in cursor.fetchall()]


def test_expired_counters_are_deleted_daily_and_live_ones_kept(db):
    """Django's database cache deletes expired rows only when it holds more than MAX_ENTRIES, so a small
    deployment would keep hashed addresses for ever: ``prune_ratelimit_cache`` (daily) deletes them."""
    cache = caches["ratelimit"]
    cache.set("live", 3, 3600)
    cache.set("expired", 5, 3600)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ratelimit_cache SET expires = %s WHERE cache_key LIKE %s",
            [timezone.now() - datetime.timedelta(minutes=1), "%expired"],
        )
    out = io.StringIO()
    call_command("prune_ratelimit_cache", stdout=out)
    assert out.getvalue().strip() == "1"
    assert [key.rsplit(":", 1)[-1] for key in _counter_keys()] == ["live"]
    assert cache.get("live") == 3
    call_command("prune_ratelimit_cache", stdout=out)  # nothing more to delete


def test_pruning_leaves_a_cache_that_expires_keys_itself(db, settings):
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    assert ratelimits.prune_expired() == 0
