import pytest

from tests.followup import dataset as dataset_module


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The datasets here create many users; the default PBKDF2 hasher would take seconds per test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def dataset(regional_council):
    return dataset_module.build(regional_council)
