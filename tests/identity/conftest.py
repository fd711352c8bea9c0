"""A real OpenID Connect provider on 127.0.0.1 (django-oauth-toolkit, tests/identity/idp/), started
once per test session in its own process."""

import pytest

from tests.identity.idp.harness import saml_service_and_idp, start_idp


@pytest.fixture(scope="session")
def oidc_idp(tmp_path_factory):
    """The IdP for tests driven through Django's test client (callback at http://testserver)."""
    process, idp = start_idp(tmp_path_factory.mktemp("idp"), ["http://testserver"])
    yield idp
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def saml_idp(settings, tmp_path, client):
    """pysaml2's IdP in its own process and the service configured for it (SAML on)."""
    process, idp = saml_service_and_idp(settings, tmp_path, client)
    yield idp
    process.terminate()
    process.wait(timeout=10)
