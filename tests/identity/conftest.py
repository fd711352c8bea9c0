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


@pytest.fixture
def saml_idp(settings, tmp_path, client):
    """The service with a SAML key pair, and pysaml2's IdP in its own process, each knowing the other
    from its metadata (the service's as its metadata view serves it)."""
    from tests.identity.idp.harness import self_signed, start_saml_idp

    settings.SSO_SAML_SP_KEY_FILE, settings.SSO_SAML_SP_CERT_FILE = map(str, self_signed(tmp_path, "sp"))
    settings.SAML_SESSION_COOKIE_SAMESITE = "Lax"
    sp_metadata = client.get("/konto/sso/saml2/metadata/")
    assert sp_metadata.status_code == 200, sp_metadata.content[:300]
    directory = tmp_path / "saml-idp"
    directory.mkdir()
    process, idp = start_saml_idp(directory, sp_metadata.content)
    settings.SSO_SAML_IDP_METADATA = {"local": [str(idp.metadata_file)]}
    yield idp
    process.terminate()
    process.wait(timeout=10)
