"""Run the test OpenID Connect provider: migrate its SQLite file, create its users and one client,
serve on 127.0.0.1:<port> until killed. Prints ``ready`` when it accepts requests.

    IDP_DATABASE=… IDP_RSA_KEY=… IDP_USERS='{"anna": {...}}' \\
        python -m tests.identity.idp.serve PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI [REDIRECT_URI …]
"""

import os
import sys


def main():
    port, client_id, client_secret, *redirect_uris = sys.argv[1:]
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.identity.idp.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0)
    for username in settings.IDP_USERS:
        get_user_model().objects.create_user(username=username, password="idp-losen-123")  # noqa: S106
    Application.objects.create(
        name="Samverkansbrister",
        client_id=client_id,
        client_secret=client_secret,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(redirect_uris),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    class ThreadingServer(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    server = make_server(
        "127.0.0.1",
        int(port),
        get_wsgi_application(),
        server_class=ThreadingServer,
        handler_class=QuietHandler,
    )
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
