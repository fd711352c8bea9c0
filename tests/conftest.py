import pytest

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
