"""A real SAML 2.0 identity provider for the tests: pysaml2's own IdP implementation
(``saml2.server.Server``) behind a few lines of WSGI, on 127.0.0.1:<port> until killed.

    python -m tests.identity.idp.saml_serve PORT DIR
DIR holds idp.key, idp.crt, sp.xml (the service's metadata) and users.json
({username: {"attributes": {...}, "acr": "...", "name_id_format": optional}}).
GET /metadata serves the IdP's metadata, GET /metadata/signed the same signed with the IdP's key.
Prints ``ready`` when it accepts requests.
"""

import html
import json
import sys
import uuid
from pathlib import Path
from urllib.parse import parse_qs

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server


def config(base: str, directory: Path) -> IdPConfig:
    conf = IdPConfig()
    conf.load(
        {
            "entityid": f"{base}/metadata",
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "service": {
                "idp": {
                    "name": "Testregionens SAML-inloggning",
                    "endpoints": {
                        "single_sign_on_service": [(f"{base}/sso/redirect", BINDING_HTTP_REDIRECT)]
                    },
                    "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                    "policy": {"default": {"lifetime": {"minutes": 15}, "attribute_restrictions": None}},
                }
            },
            "metadata": {"local": [str(directory / "sp.xml")]},
            "key_file": str(directory / "idp.key"),
            "cert_file": str(directory / "idp.crt"),
        }
    )
    return conf


def main():
    port, directory = int(sys.argv[1]), Path(sys.argv[2])
    base = f"http://127.0.0.1:{port}"
    conf = config(base, directory)
    server = Server(config=conf)
    users = json.loads((directory / "users.json").read_text())
    pending: dict[str, tuple] = {}

    def app(environ, start_response):
        path = environ["PATH_INFO"]
        if path in {"/metadata", "/metadata/signed"}:
            body = create_metadata_string(None, config=conf, sign=path.endswith("/signed"))
            start_response("200 OK", [("Content-Type", "application/samlmetadata+xml")])
            return [body.encode() if isinstance(body, str) else body]
        if path == "/sso/redirect":
            query = parse_qs(environ["QUERY_STRING"])
            request = server.parse_authn_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT)
            key = uuid.uuid4().hex
            pending[key] = (request, query.get("RelayState", [""])[0])
            page = (
                '<!doctype html><html lang="sv"><head><meta charset="utf-8">'
                "<title>Test-IdP SAML</title></head><body><main><h1>Test-IdP SAML: logga in</h1>"
                f'<form method="post" action="/sso/login"><input type="hidden" name="key" value="{key}">'
                '<label for="u">Användarnamn</label> <input id="u" name="username">'
                '<button type="submit">Logga in hos SAML-IdP</button></form></main></body></html>'
            )
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [page.encode()]
        if path == "/sso/login":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            form = parse_qs(environ["wsgi.input"].read(size).decode())
            request, relay_state = pending.pop(form["key"][0])
            user = users[form["username"][0]]
            args = server.response_args(request.message, [BINDING_HTTP_POST])
            response = server.create_authn_response(
                identity=user["attributes"],
                userid=form["username"][0],
                name_id=NameID(
                    format=user.get("name_id_format", NAMEID_FORMAT_PERSISTENT), text=form["username"][0]
                ),
                authn={"class_ref": user["acr"], "authn_auth": base},
                sign_assertion=True,
                **args,
            )
            http_args = server.apply_binding(
                BINDING_HTTP_POST, str(response), args["destination"], relay_state, response=True
            )
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [http_args["data"].encode() if isinstance(http_args["data"], str) else http_args["data"]]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [html.escape(path).encode()]

    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    class ThreadingServer(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    httpd = make_server("127.0.0.1", port, app, server_class=ThreadingServer, handler_class=QuietHandler)
    print("ready", flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
