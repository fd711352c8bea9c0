import pytest
from django.test import Client

from tests import factories


@pytest.fixture(autouse=True)
def _test_environment(settings):
    """Run queued tasks in-process and keep e-mails in memory; serve static files without a manifest."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.SITE_URL = "http://testserver"
    # Factories hash a password per user; the production hasher makes that take seconds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LANGUAGE_CODE = "sv"
    # Login throttling needs the request in authenticate(), which Client.login() does not pass; tests of
    # throttling switch it on with the ``axes_enabled`` fixture (tests/councils/test_login_security.py).
    settings.AXES_ENABLED = False
    # Rate limits on anonymous POSTs likewise (tests post many forms from one address); tests of the
    # limits switch them on with the ``ratelimits_enabled`` fixture (tests/security/test_rate_limits.py).
    settings.RATELIMIT_ENABLE = False
    # A fast hasher (still salted): tests log in often.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _force_login_is_a_complete_login(monkeypatch):
    """``Client.force_login`` stands for a finished login everywhere in the suite: for superusers and
    staff, who must use two-step verification, it also gives them an authenticator app and marks the
    session verified (as entering its code does). tests/identity exercises the real steps;
    ``unverified_login`` signs in without the second step."""
    import django_otp
    from django.http import HttpRequest

    from identity import mfa

    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        if mfa.is_required(user):
            device = mfa.confirmed_device(user) or factories.TOTPDeviceFactory(user=user)
            request = HttpRequest()
            request.session, request.user = self.session, user
            django_otp.login(request, device)
            request.session.save()

    monkeypatch.setattr(Client, "force_login", force_login)
    monkeypatch.setattr(Client, "unverified_login", original, raising=False)


@pytest.fixture
def region(db):
    return factories.RegionFactory()


@pytest.fixture
def regional_council(db):
    return factories.RegionalCouncilFactory(name="Regionala samrådet")


@pytest.fixture
def regional_coordinator(regional_council):
    user = factories.UserFactory(username="regional")
    factories.CouncilMembershipFactory(council=regional_council, user=user)
    return user


@pytest.fixture
def superuser(db):
    return factories.UserFactory(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def axes_enabled(settings):
    settings.AXES_ENABLED = True


@pytest.fixture
def ratelimits_enabled(settings):
    settings.RATELIMIT_ENABLE = True


@pytest.fixture(autouse=True)
def _request_context_cleared():
    """Leave no request's log context to the next test. A server closes every response, which clears it
    (``config.middleware.clear_request_context`` on ``request_finished``); the test client closes a
    streamed response only when a test reads it to the end, so a test that checks only an export's
    headers left its request id on the records of whatever ran next in that process."""
    yield
    from config.middleware import clear_request_context

    clear_request_context(sender=None)
