"""A real OpenID Connect provider on 127.0.0.1 (django-oauth-toolkit, tests/identity/idp/), started
once per test session in its own process."""

import pytest

from tests.identity.idp.harness import start_idp


@pytest.fixture(scope="session")
def oidc_idp(tmp_path_factory):
    """The IdP for tests driven through Django's test client (callback at http://testserver)."""
    process, idp = start_idp(tmp_path_factory.mktemp("idp"), ["http://testserver"])
    yield idp
    process.terminate()
    process.wait(timeout=10)
