"""Federated login over SAML 2.0 against pysaml2's own IdP running on 127.0.0.1, through the whole
flow: the service's signed AuthnRequest (redirect binding), the IdP's login, the signed assertion
posted back to the assertion consumer service."""

import base64
import io
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client

from identity import mfa
from identity.log import SamlLibraryFilter
from identity.models import SamlIdentity, SamlIdentityProvider
from tests import factories
from tests.identity.idp.harness import LOA2, LOA3, PERSONNUMMER, self_signed

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def idp(saml_idp, settings):
    settings.SSO_ACCEPTED_ACR = [LOA3]
    return saml_idp


class MetadataServer:
    """A plain HTTP server that hands out the test IdP's metadata and counts the requests."""

    def __init__(self, metadata: bytes):
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                served.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/samlmetadata+xml")
                self.end_headers()
                self.wfile.write(metadata)

            def log_message(self, *args):
                pass

        self.requests = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/metadata.xml"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def metadata_server(idp, settings):
    """The IdP known only from its metadata URL, entered in the admin."""
    cache.clear()
    server = MetadataServer(idp.metadata_file.read_bytes())
    settings.SSO_SAML_IDP_METADATA = {}
    SamlIdentityProvider.objects.create(
        name="Testregionen (URL)", entity_id=idp.entity_id, metadata_url=server.url
    )
    yield server
    server.stop()


def saml_login(client, idp, username, next_url="/mina-rapporter/"):
    response = client.get("/konto/sso/saml2/login/", {"idp": idp.entity_id, "next": next_url})
    assert response.status_code == 302, response.content[:500]
    assert response["Location"].startswith(f"{idp.url}/sso/redirect?SAMLRequest=")
    assert "Signature=" in response["Location"]  # the AuthnRequest is signed
    action, fields = idp.sign_in(response["Location"], username)
    assert action == "http://testserver/konto/sso/saml2/acs/"
    return client.post("/konto/sso/saml2/acs/", fields)


def signed_in_user(client):
    pk = client.session.get(SESSION_KEY)
    return User.objects.get(pk=pk) if pk else None


def test_first_saml_login_creates_the_account_from_the_attributes(client, idp):
    organization = factories.OrganizationFactory()
    factories.EmailDomainFactory(organization=organization, domain="xkommun.example.se")
    response = saml_login(client, idp, "anna")
    assert response.status_code == 302
    assert response["Location"] == "/mina-rapporter/"
    user = signed_in_user(client)
    assert (user.email, user.first_name, user.last_name) == (
        "anna.andersson@xkommun.example.se",
        "Anna",
        "Andersson",
    )
    assert user.organization == organization
    assert not user.has_usable_password()
    assert client.session.get(mfa.IDP_MFA_SESSION_KEY) is True
    assert client.get("/mina-rapporter/").status_code == 200


def test_an_existing_account_is_found_by_e_mail(client, idp):
    local = factories.UserFactory(email="anna.andersson@xkommun.example.se")
    saml_login(client, idp, "anna")
    assert signed_in_user(client) == local
    assert User.objects.filter(email__iexact="anna.andersson@xkommun.example.se").count() == 1


def test_a_taken_username_gives_the_new_account_another_one(client, idp):
    other = factories.UserFactory(username="anna.andersson@xkommun.example.se", email="annan@example.se")
    assert saml_login(client, idp, "anna").status_code == 302
    user = signed_in_user(client)
    assert user != other and user.email == "anna.andersson@xkommun.example.se"
    assert user.username != other.username


def test_an_organisation_number_in_org_affiliation_wins_over_the_e_mail_domain(client, idp):
    factories.OrganizationFactory(name="Socialtjänsten Xkommun", domains=["xkommun.example.se"])
    district = factories.OrganizationIdentifierFactory(value="2120009999").organization
    saml_login(client, idp, "cecilia")
    assert signed_in_user(client).organization == district


def test_an_assertion_without_an_e_mail_address_is_refused(client, idp):
    response = saml_login(client, idp, "utan.epost")
    assert response.status_code == 403
    assert "skickade ingen e-postadress" in response.content.decode()
    assert signed_in_user(client) is None
    assert not User.objects.filter(first_name="Erik", last_name="Ek").exists()


def test_an_assertion_below_the_required_level_is_refused(client, idp):
    response = saml_login(client, idp, "bertil")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Samverkansbrister kräver en säkrare inloggning" in html and LOA2 in html
    assert signed_in_user(client) is None
    assert not User.objects.filter(email="bertil@psykiatri.example.se").exists()


def test_the_refusal_speaks_the_language_of_the_page_the_login_started_from(client, idp):
    response = saml_login(client, idp, "bertil", next_url="/en/mina-rapporter/")
    assert response.status_code == 403
    html = response.content.decode()
    assert '<html lang="en"' in html
    assert "Samverkansbrister requires a more secure sign-in" in html and LOA2 in html


def test_the_required_level_can_be_set_per_saml_idp(client, idp, settings):
    settings.SSO_SAML_ACCEPTED_ACR = {idp.entity_id: [LOA2, LOA3]}
    assert saml_login(client, idp, "bertil").status_code == 302
    assert signed_in_user(client).email == "bertil@psykiatri.example.se"


def test_a_deactivated_account_is_refused(client, idp):
    factories.UserFactory(email="david@xkommun.example.se", is_active=False)
    response = saml_login(client, idp, "david")
    assert response.status_code == 403
    assert "Ditt konto i Samverkansbrister är avstängt" in response.content.decode()
    assert signed_in_user(client) is None


def test_a_superuser_at_a_multi_factor_level_reaches_the_admin_without_a_code(client, idp):
    factories.UserFactory(email="anna.andersson@xkommun.example.se", is_staff=True, is_superuser=True)
    saml_login(client, idp, "anna", next_url="/admin/")
    assert client.get("/admin/").status_code == 200


def test_a_superuser_at_a_single_factor_level_must_still_use_a_code(client, idp, settings):
    settings.SSO_SAML_ACCEPTED_ACR = {idp.entity_id: [LOA2, LOA3]}
    factories.UserFactory(email="bertil@psykiatri.example.se", is_staff=True, is_superuser=True)
    assert saml_login(client, idp, "bertil", next_url="/admin/").status_code == 302
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/konto/tvastegsverifiering/")


def test_saml_login_works_with_password_login_switched_off(client, idp, settings):
    settings.LOCAL_LOGIN_ENABLED = False
    html = client.get("/konto/logga-in/").content.decode()
    assert 'name="password"' not in html
    assert 'href="/konto/sso/saml2/login/?idp=' in html
    assert saml_login(client, idp, "anna").status_code == 302
    assert signed_in_user(client).email == "anna.andersson@xkommun.example.se"


def test_a_tampered_assertion_signs_nobody_in(client, idp):
    response = client.get("/konto/sso/saml2/login/", {"idp": idp.entity_id, "next": "/"})
    action, fields = idp.sign_in(response["Location"], "anna")
    xml = base64.b64decode(fields["SAMLResponse"]).replace(b"Anna.Andersson@", b"Admin@")
    fields["SAMLResponse"] = base64.b64encode(xml).decode()
    response = client.post("/konto/sso/saml2/acs/", fields)
    assert response.status_code == 400
    assert signed_in_user(client) is None


def test_an_idp_added_in_the_admin_from_its_metadata_appears_on_the_login_page(client, idp, settings):
    settings.SSO_SAML_IDP_METADATA = {}
    assert "/konto/sso/saml2/login/" not in client.get("/konto/logga-in/").content.decode()
    SamlIdentityProvider.objects.create(
        name="Testregionen (SAML)", entity_id=idp.entity_id, metadata_xml=idp.metadata_file.read_text()
    )
    html = client.get("/konto/logga-in/").content.decode()
    assert ">Testregionen (SAML)</a>" in html
    assert 'href="/konto/sso/saml2/login/?idp=http%3A%2F%2F127.0.0.1' in html
    assert saml_login(Client(), idp, "anna").status_code == 302


def test_a_metadata_url_is_fetched_once_for_many_pages_and_logins(client, idp, metadata_server):
    for _ in range(3):
        assert ">Testregionen (URL)</a>" in client.get("/konto/logga-in/").content.decode()
    assert saml_login(Client(), idp, "anna").status_code == 302
    assert metadata_server.requests == 1


def test_while_a_metadata_url_fails_its_last_good_copy_serves(client, idp, metadata_server, settings):
    settings.SSO_SAML_METADATA_MAX_AGE = 0  # fetch on every use
    assert ">Testregionen (URL)</a>" in client.get("/konto/logga-in/").content.decode()
    metadata_server.stop()
    assert ">Testregionen (URL)</a>" in client.get("/konto/logga-in/").content.decode()
    assert saml_login(client, idp, "anna").status_code == 302


def test_an_unreachable_metadata_url_costs_that_idp_only(client, idp, caplog):
    cache.clear()
    SamlIdentityProvider.objects.create(
        name="Nere", entity_id="https://nere.example.se", metadata_url="http://127.0.0.1:9/metadata"
    )
    response = client.get("/konto/logga-in/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="password"' in html and "Nere" not in html
    assert 'href="/konto/sso/saml2/login/?idp=http%3A%2F%2F127.0.0.1' in html  # the IdP from a file
    assert "SAML metadata could not be fetched from http://127.0.0.1:9/metadata" in caplog.text


def test_broken_metadata_pasted_in_the_admin_leaves_the_login_page_working(client, idp, caplog):
    SamlIdentityProvider.objects.create(
        name="Trasig", entity_id="https://trasig.example.se", metadata_xml="<md"
    )
    response = client.get("/konto/logga-in/")
    assert response.status_code == 200
    assert 'name="password"' in response.content.decode()
    assert "SAML identity providers could not be loaded" in caplog.text


def test_without_a_key_pair_saml_is_off(client, settings):
    settings.SSO_SAML_SP_KEY_FILE = ""
    assert client.get("/konto/sso/saml2/metadata/").status_code == 404
    assert client.get("/konto/sso/saml2/login/").status_code == 404


# --- Whom a SAML IdP may sign in, and the NameID link (identity/trust.py) -------------------------------


def test_a_saml_idp_cannot_sign_in_an_account_outside_its_trusted_domains(client, idp, caplog):
    admin = factories.UserFactory(email="admin@regionstockholm.example.se", is_staff=True, is_superuser=True)
    response = saml_login(client, idp, "mallory", next_url="/admin/")
    assert response.status_code == 403
    assert "Inloggningen du använde är inte godkänd" in response.content.decode()
    assert signed_in_user(client) is None
    assert not SamlIdentity.objects.filter(user=admin).exists()
    assert f"refused (domain) for identity provider {idp.entity_id}" in caplog.text
    assert "regionstockholm" not in caplog.text


def test_a_saml_idp_cannot_create_an_account_outside_its_trusted_domains(client, idp):
    assert saml_login(client, idp, "mallory").status_code == 403
    assert not User.objects.filter(email="admin@regionstockholm.example.se").exists()


def test_a_saml_idp_without_trusted_domains_signs_in_nobody_and_has_no_button(client, idp, settings):
    settings.SSO_SAML_IDP_TRUST = {}
    assert "/konto/sso/saml2/login/" not in client.get("/konto/logga-in/").content.decode()
    factories.UserFactory(email="anna.andersson@xkommun.example.se")
    response = saml_login(client, idp, "anna")
    assert response.status_code == 403
    assert signed_in_user(client) is None


def test_the_refusal_for_an_untrusted_domain_speaks_english_too(client, idp):
    response = saml_login(client, idp, "mallory", next_url="/en/mina-rapporter/")
    assert response.status_code == 403
    assert "The sign-in you used is not approved for accounts with your e-mail address" in (
        response.content.decode()
    )


def test_an_admin_entry_trusts_its_domains_and_its_organisations(client, idp, settings):
    settings.SSO_SAML_IDP_TRUST = {}
    entry = SamlIdentityProvider.objects.create(
        name="Testregionen",
        entity_id=idp.entity_id,
        metadata_xml=idp.metadata_file.read_text(),
        email_domains="psykiatri.example.se",
    )
    settings.SSO_SAML_ACCEPTED_ACR = {idp.entity_id: [LOA2, LOA3]}
    assert saml_login(Client(), idp, "bertil").status_code == 302
    assert saml_login(Client(), idp, "anna").status_code == 403
    xkommun = factories.OrganizationFactory(name="Xkommun", domains=["xkommun.example.se"])
    entry.organizations.add(xkommun)
    assert saml_login(client, idp, "anna").status_code == 302
    assert signed_in_user(client).organization == xkommun


def test_the_first_saml_login_links_the_persistent_name_id(client, idp):
    local = factories.UserFactory(email="anna.andersson@xkommun.example.se")
    saml_login(client, idp, "anna")
    link = SamlIdentity.objects.get(user=local)
    assert (link.idp_entity_id, link.name_id) == (idp.entity_id, "anna")


def test_a_linked_account_is_found_by_its_name_id_not_by_a_reassigned_address(idp):
    saml_login(Client(), idp, "anna")
    anna = User.objects.get(email="anna.andersson@xkommun.example.se")
    client = Client()
    response = saml_login(client, idp, "anna2")  # another NameID, the same address
    assert response.status_code == 403
    assert "redan kopplat till en annan person" in response.content.decode()
    assert signed_in_user(client) is None
    anna.refresh_from_db()
    assert anna.last_name == "Andersson"


def test_a_linked_account_is_found_by_its_name_id_after_its_address_changed(idp):
    saml_login(Client(), idp, "anna")
    anna = User.objects.get(email="anna.andersson@xkommun.example.se")
    anna.email = "anna.old@xkommun.example.se"
    anna.save()
    client = Client()
    assert saml_login(client, idp, "anna").status_code == 302
    assert signed_in_user(client) == anna
    assert User.objects.filter(email__iexact="anna.andersson@xkommun.example.se").count() == 1


def test_a_transient_name_id_finds_the_account_by_address_but_links_nothing(client, idp):
    local = factories.UserFactory(email="anna.andersson@xkommun.example.se")
    assert saml_login(client, idp, "anna.transient").status_code == 302
    assert signed_in_user(client) == local
    assert not SamlIdentity.objects.exists()


def test_a_transient_name_id_cannot_sign_in_an_account_linked_at_that_idp(idp):
    saml_login(Client(), idp, "anna")
    client = Client()
    response = saml_login(client, idp, "anna.transient")
    assert response.status_code == 403
    assert signed_in_user(client) is None


# --- What is kept of the assertion ----------------------------------------------------------------------


def test_no_identity_number_is_kept_from_the_assertion(client, idp):
    response = client.get("/konto/sso/saml2/login/", {"idp": idp.entity_id, "next": "/"})
    action, fields = idp.sign_in(response["Location"], PERSONNUMMER)
    assert PERSONNUMMER.encode() in base64.b64decode(fields["SAMLResponse"])  # the IdP sent it
    assert client.post("/konto/sso/saml2/acs/", fields).status_code == 302
    user = signed_in_user(client)
    assert user.email == "pia@xkommun.example.se"
    link = SamlIdentity.objects.get(user=user)
    assert link.name_id.startswith("hmac-sha256:") and PERSONNUMMER not in link.name_id
    for session in Session.objects.all():
        data = session.get_decoded()
        assert "_saml2_identities" not in data
        assert PERSONNUMMER not in json.dumps(data, default=str)
    # Found again by the hashed NameID.
    other = Client()
    response = other.get("/konto/sso/saml2/login/", {"idp": idp.entity_id, "next": "/"})
    action, fields = idp.sign_in(response["Location"], PERSONNUMMER)
    assert other.post("/konto/sso/saml2/acs/", fields).status_code == 302
    assert signed_in_user(other) == user


def test_a_refused_assertion_leaves_nothing_of_it_in_the_sessions(client, idp):
    assert saml_login(client, idp, "mallory").status_code == 403
    for session in Session.objects.all():
        assert "regionstockholm" not in json.dumps(session.get_decoded(), default=str)


# --- Signed metadata from a URL -------------------------------------------------------------------------


def admin_idp_from_url(idp, url, certificate=""):
    cache.clear()
    return SamlIdentityProvider.objects.create(
        name="Federationen (URL)",
        entity_id=idp.entity_id,
        metadata_url=url,
        metadata_signing_certificate=certificate,
    )


def test_signed_metadata_is_used_when_its_signature_checks_out(client, idp, settings):
    settings.SSO_SAML_IDP_METADATA = {}
    signed = requests.get(f"{idp.url}/metadata/signed", timeout=10).content
    server = MetadataServer(signed)
    try:
        admin_idp_from_url(idp, server.url, idp.certificate_file.read_text())
        assert ">Federationen (URL)</a>" in client.get("/konto/logga-in/").content.decode()
        assert saml_login(Client(), idp, "anna").status_code == 302
    finally:
        server.stop()


@pytest.mark.parametrize("case", ["unsigned", "other certificate", "tampered"])
def test_metadata_not_signed_by_the_configured_certificate_is_refused(
    client, idp, settings, tmp_path, caplog, case
):
    settings.SSO_SAML_IDP_METADATA = {}
    signed = requests.get(f"{idp.url}/metadata/signed", timeout=10).content
    certificate = idp.certificate_file.read_text()
    if case == "unsigned":
        metadata = idp.metadata_file.read_bytes()
    elif case == "other certificate":
        metadata = signed
        certificate = self_signed(tmp_path, "federation")[1].read_text()
    else:
        metadata = signed.replace(b"/sso/redirect", b"/sso/elsewhere")
        assert metadata != signed
    server = MetadataServer(metadata)
    try:
        admin_idp_from_url(idp, server.url, certificate)
        response = client.get("/konto/logga-in/")
        assert response.status_code == 200
        assert "Federationen (URL)" not in response.content.decode()
        assert "is not signed by the configured certificate: not used" in caplog.text
        assert client.get("/konto/sso/saml2/login/", {"idp": idp.entity_id}).status_code == 400
    finally:
        server.stop()


def test_metadata_urls_in_settings_are_checked_against_the_settings_certificate(client, idp, settings):
    signed = requests.get(f"{idp.url}/metadata/signed", timeout=10).content
    for metadata, shown in ((signed, True), (idp.metadata_file.read_bytes(), False)):
        cache.clear()
        server = MetadataServer(metadata)
        try:
            settings.SSO_SAML_IDP_METADATA = {"remote": [{"url": server.url}]}
            settings.SSO_SAML_METADATA_CERT_FILE = str(idp.certificate_file)
            html = client.get("/konto/logga-in/").content.decode()
            assert ('href="/konto/sso/saml2/login/?idp=' in html) is shown
        finally:
            server.stop()


@pytest.fixture
def console_log():
    """What the service's console handler (with its filters) writes during the test."""
    console = next(
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, SamlLibraryFilter) for f in handler.filters)
    )
    stream = io.StringIO()
    previous = console.setStream(stream)
    yield stream
    console.setStream(previous)


def test_the_saml_libraries_log_no_name_id_attribute_or_assertion(client, idp, console_log):
    response = client.get("/konto/sso/saml2/login/", {"idp": idp.entity_id, "next": "/"})
    action, fields = idp.sign_in(response["Location"], PERSONNUMMER)
    assert client.post("/konto/sso/saml2/acs/", fields).status_code == 302
    # A tampered assertion: pysaml2 would log the whole assertion when its signature fails.
    tampered_client = Client()
    response = tampered_client.get("/konto/sso/saml2/login/", {"idp": idp.entity_id, "next": "/"})
    action, fields = idp.sign_in(response["Location"], "anna")
    xml = base64.b64decode(fields["SAMLResponse"]).replace(b"Anna.Andersson@", b"Admin@")
    fields["SAMLResponse"] = base64.b64encode(xml).decode()
    assert tampered_client.post("/konto/sso/saml2/acs/", fields).status_code == 400
    logged = console_log.getvalue()
    assert "logger=saml2.response" in logged and "[values withheld]" in logged  # still says what failed
    for value in (PERSONNUMMER, "pia@", "Persson", "Andersson", "Admin@", "NameID"):
        assert value not in logged
