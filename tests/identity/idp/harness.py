"""Start the test OpenID Connect provider (``serve.py``) in its own process on 127.0.0.1 and act as a
person at it. Used by tests/identity (test client) and tests/browser (Chromium)."""

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[3]
LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
LOA2 = "http://id.elegnamnden.se/loa/1.0/loa2"
IDP_PASSWORD = "idp-losen-123"
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
            "settings": {"server_url": self.server_url, **extra},
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
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.identity.idp.serve",
            str(port),
            CLIENT_ID,
            CLIENT_SECRET,
            *redirect_uris,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    if line.strip() != "ready":
        process.kill()
        raise RuntimeError(f"the test IdP did not start: {line!r}")
    return process, Idp(url=f"http://127.0.0.1:{port}")
