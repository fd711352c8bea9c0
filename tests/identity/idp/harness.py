"""Start the test OpenID Connect provider (``serve.py``) in its own process on 127.0.0.1 and act as a
person at it. Used by tests/identity (test client) and tests/browser (Chromium)."""

import json
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[3]
LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
LOA2 = "http://id.elegnamnden.se/loa/1.0/loa2"
IDP_PASSWORD = "idp-losen-123"
#: A valid personnummer (date and check digit) that test IdPs assert, which must never be stored.
PERSONNUMMER = "198112189876"
#: The e-mail domains the service trusts the test IdPs for (identity/trust.py); the people below at
#: regionstockholm.example.se are outside them.
TRUSTED_DOMAINS = ["xkommun.example.se", "psykiatri.example.se", "regionen.example.se"]
#: The people the test IdP knows, and what it asserts about each.
IDP_USERS = {
    "anna": {
        "email": "Anna.Andersson@xkommun.example.se",
        "given_name": "Anna",
        "family_name": "Andersson",
        "acr": LOA3,
    },
    "bertil": {
        "email": "bertil@psykiatri.example.se",
        "given_name": "Bertil",
        "family_name": "Berg",
        "acr": LOA2,
    },
    "cecilia": {
        "email": "cecilia@xkommun.example.se",
        "given_name": "Cecilia",
        "family_name": "Carlsson",
        "acr": LOA3,
        "organization_number": "2120009999",
    },
    "david": {"email": "david@xkommun.example.se", "given_name": "David", "family_name": "Dahl", "acr": LOA3},
    "utan.epost": {"given_name": "Erik", "family_name": "Ek", "acr": LOA3},
    "fredrika": {
        "email": "fredrika@regionen.example.se",
        "given_name": "Fredrika",
        "family_name": "Fors",
        "acr": LOA3,
        "hsa_id": "SE2321000016-BCD1",
    },
    # At a domain the test IdP is not trusted for: the Region's administrator.
    "mallory": {
        "email": "admin@regionstockholm.example.se",
        "given_name": "Mallory",
        "family_name": "Mask",
        "acr": LOA3,
    },
    # Another person who has since been given Anna's address.
    "anna2": {
        "email": "anna.andersson@xkommun.example.se",
        "given_name": "Anna",
        "family_name": "Annan",
        "acr": LOA3,
    },
    # An eID broker's claims: a personnummer among them, and in the scoped organisation affiliation.
    "pia": {
        "email": "pia@xkommun.example.se",
        "given_name": "Pia",
        "family_name": "Persson",
        "acr": LOA3,
        "personalIdentityNumber": PERSONNUMMER,
        "orgAffiliation": f"{PERSONNUMMER}@2120009999",
        "address": {"street_address": "Storgatan 1"},
    },
}
CLIENT_ID = "samverkansbrister"
CLIENT_SECRET = "hemlig-klientnyckel-for-test"  # noqa: S105
#: Provider ids as the service knows them: one from settings, one from the admin (database).
SETTINGS_PROVIDER, ADMIN_PROVIDER = "testidp", "kommunb"


@dataclass
class Idp:
    url: str

    @property
    def server_url(self) -> str:
        return f"{self.url}/o"

    def app_settings(self, provider_id=SETTINGS_PROVIDER, name="Testkommunens inloggning", **extra) -> dict:
        return {
            "provider_id": provider_id,
            "name": name,
            "client_id": CLIENT_ID,
            "secret": CLIENT_SECRET,
            "settings": {"server_url": self.server_url, "email_domains": TRUSTED_DOMAINS, **extra},
        }

    def sign_in(self, authorize_url: str, username: str) -> str:
        """What the person does at the IdP: log in there; returns where the IdP sends the browser
        back to (the service's callback URL with code and state)."""
        session = requests.Session()
        response = session.get(authorize_url, allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text[:500]
        login_url = self.url + response.headers["Location"]
        form = session.get(login_url, timeout=10)
        response = session.post(
            login_url,
            data={
                "username": username,
                "password": IDP_PASSWORD,
                "csrfmiddlewaretoken": session.cookies["idp_csrftoken"],
                "next": parse_qs(urlsplit(login_url).query).get("next", [""])[0],
            },
            headers={"Referer": login_url},
            allow_redirects=False,
            timeout=10,
        )
        assert form.status_code == 200 and response.status_code == 302, response.text[:500]
        location = response.headers["Location"]
        while location.startswith("/"):
            response = session.get(self.url + location, allow_redirects=False, timeout=10)
            assert response.status_code == 302, response.text[:500]
            location = response.headers["Location"]
        return location


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_idp(tmp_path: Path, redirect_bases: list[str]) -> tuple[subprocess.Popen, Idp]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    port = free_port()
    redirect_uris = [
        f"{base}/konto/sso/oidc/{provider}/login/callback/"
        for base in redirect_bases
        for provider in (SETTINGS_PROVIDER, ADMIN_PROVIDER)
    ]
    env = {
        **os.environ,
        "IDP_DATABASE": str(tmp_path / "idp.sqlite3"),
        "IDP_RSA_KEY": key.decode(),
        "IDP_USERS": json.dumps(IDP_USERS),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    process = run_until_ready("serve", str(port), CLIENT_ID, CLIENT_SECRET, *redirect_uris, env=env)
    return process, Idp(url=f"http://127.0.0.1:{port}")


def run_until_ready(module: str, *args: str, env=None) -> subprocess.Popen:
    """Start ``tests.identity.idp.<module>`` in its own process; return once it prints ``ready``."""
    process = subprocess.Popen(
        [sys.executable, "-m", f"tests.identity.idp.{module}", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    if line.strip() != "ready":
        process.kill()
        raise RuntimeError(f"the test IdP ({module}) did not start: {line!r}")
    return process


# --- SAML 2.0: pysaml2's IdP (saml_serve.py) -------------------------------------------------------

#: The people the SAML test IdP knows: attributes (friendly names) and the AuthnContextClassRef.
SAML_USERS = {
    "anna": {
        "attributes": {
            "mail": ["Anna.Andersson@xkommun.example.se"],
            "givenName": ["Anna"],
            "sn": ["Andersson"],
        },
        "acr": LOA3,
    },
    "bertil": {
        "attributes": {"mail": ["bertil@psykiatri.example.se"], "givenName": ["Bertil"], "sn": ["Berg"]},
        "acr": LOA2,
    },
    "david": {
        "attributes": {"mail": ["david@xkommun.example.se"], "givenName": ["David"], "sn": ["Dahl"]},
        "acr": LOA3,
    },
    # orgAffiliation (urn:oid:1.2.752.201.3.1): the person's id at the organisation @ its number.
    "cecilia": {
        "attributes": {
            "mail": ["cecilia@xkommun.example.se"],
            "givenName": ["Cecilia"],
            "sn": ["Carlsson"],
            "orgAffiliation": ["cc1234@2120009999"],
        },
        "acr": LOA3,
    },
    "utan.epost": {"attributes": {"givenName": ["Erik"], "sn": ["Ek"]}, "acr": LOA3},
    "mallory": {
        "attributes": {
            "mail": ["admin@regionstockholm.example.se"],
            "givenName": ["Mallory"],
            "sn": ["Mask"],
        },
        "acr": LOA3,
    },
    # Another person (another persistent NameID) who has since been given Anna's address.
    "anna2": {
        "attributes": {"mail": ["anna.andersson@xkommun.example.se"], "givenName": ["Anna"], "sn": ["Annan"]},
        "acr": LOA3,
    },
    # Anna again, from an IdP set up to send a transient NameID (one that cannot find anyone again).
    "anna.transient": {
        "attributes": {
            "mail": ["anna.andersson@xkommun.example.se"],
            "givenName": ["Anna"],
            "sn": ["Andersson"],
        },
        "acr": LOA3,
        "name_id_format": "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
    },
    # The NameID is the username: this IdP uses the personnummer as NameID, and sends it as an attribute.
    PERSONNUMMER: {
        "attributes": {
            "mail": ["pia@xkommun.example.se"],
            "givenName": ["Pia"],
            "sn": ["Persson"],
            "personalIdentityNumber": [PERSONNUMMER],
        },
        "acr": LOA3,
    },
}


def self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    """A key and a self-signed certificate (PEM files) for signing SAML messages."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


@dataclass
class SamlIdp:
    url: str
    metadata_file: Path

    @property
    def entity_id(self) -> str:
        return f"{self.url}/metadata"

    @property
    def certificate_file(self) -> Path:
        """The IdP's certificate, which also signs its metadata at ``/metadata/signed``."""
        return self.metadata_file.parent / "idp.crt"

    def sign_in(self, redirect_url: str, username: str) -> tuple[str, dict]:
        """Log in at the IdP; returns the form it would post back: (ACS URL, fields)."""
        import re

        session = requests.Session()
        page = session.get(redirect_url, timeout=10)
        assert page.status_code == 200, page.text[:500]
        key = re.search(r'name="key" value="([^"]+)"', page.text).group(1)
        answer = session.post(f"{self.url}/sso/login", data={"key": key, "username": username}, timeout=10)
        assert answer.status_code == 200, answer.text[:500]
        action = re.search(r'<form[^>]+action="([^"]+)"', answer.text).group(1)
        fields = dict(re.findall(r'<input[^>]+name="([^"]+)"[^>]+value="([^"]*)"', answer.text))
        return action, fields


def start_saml_idp(directory: Path, sp_metadata: bytes) -> tuple[subprocess.Popen, SamlIdp]:
    self_signed(directory, "idp")
    (directory / "sp.xml").write_bytes(sp_metadata)
    (directory / "users.json").write_text(json.dumps(SAML_USERS))
    port = free_port()
    process = run_until_ready("saml_serve", str(port), str(directory))
    idp = SamlIdp(url=f"http://127.0.0.1:{port}", metadata_file=directory / "idp.xml")
    idp.metadata_file.write_bytes(requests.get(f"{idp.url}/metadata", timeout=10).content)
    return process, idp


def require_xmlsec1() -> None:
    """pysaml2 checks signatures with Debian's xmlsec1 (``apt-get install xmlsec1``): without it the SAML
    tests are skipped with the reason, except on CI (``CI=true``), where its absence fails the run."""
    if shutil.which("xmlsec1"):
        return
    reason = "the SAML tests need xmlsec1 (apt-get install xmlsec1)"
    if os.environ.get("CI", "").lower() in {"true", "1"}:
        pytest.fail(f"CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


def saml_service_and_idp(settings, tmp_path: Path, client) -> tuple[subprocess.Popen, SamlIdp]:
    """Give the service a SAML key pair and start pysaml2's IdP, each knowing the other from its
    metadata (the service's as its metadata view serves it); ``client`` reaches the service."""
    require_xmlsec1()
    settings.SSO_SAML_SP_KEY_FILE, settings.SSO_SAML_SP_CERT_FILE = map(str, self_signed(tmp_path, "sp"))
    # IdP and service are one site (127.0.0.1): Lax lets the SAML session cookie come with the POST.
    settings.SAML_SESSION_COOKIE_SAMESITE = "Lax"
    sp_metadata = client.get("/konto/sso/saml2/metadata/")
    assert sp_metadata.status_code == 200, sp_metadata.content[:300]
    directory = tmp_path / "saml-idp"
    directory.mkdir()
    process, idp = start_saml_idp(directory, sp_metadata.content)
    settings.SSO_SAML_IDP_METADATA = {"local": [str(idp.metadata_file)]}
    settings.SSO_SAML_IDP_TRUST = {idp.entity_id: {"email_domains": TRUSTED_DOMAINS}}
    return process, idp
