"""Log lines carry the request id and user id, in key=value form, and no personal data."""

import logging

import pytest
from django.conf import settings

from config.log import KeyValueFormatter, RequestContextFilter, axes_client_str
from tests import factories


def capture(caplog):
    """Make the test's capturing handler see records as the console handler does (with the filter)."""
    caplog.handler.addFilter(RequestContextFilter())
    caplog.set_level(logging.INFO)


def test_logging_config_wires_the_filter_and_formatter_to_the_console():
    handler = settings.LOGGING["handlers"]["console"]
    assert handler["filters"] == ["request_context", "saml_libraries"]
    assert handler["formatter"] == "keyvalue"
    root = logging.getLogger()
    assert any(isinstance(f, RequestContextFilter) for h in root.handlers for f in h.filters), (
        "the console handler of the running configuration has the request context filter"
    )


@pytest.mark.django_db
def test_a_log_record_during_a_request_carries_request_id_and_user_id(client, caplog):
    capture(caplog)
    user = factories.UserFactory()
    client.force_login(user)
    response = client.get("/rapporter/SB-2026-00404/")  # not found: django.request logs a warning
    assert response.status_code == 404
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    logged = [r for r in caplog.records if r.name == "django.request"]
    assert logged, "django.request logged the 404"
    assert all(r.request_id == request_id for r in logged)
    assert all(r.user_id == user.pk for r in logged)


@pytest.mark.django_db
def test_every_request_gets_its_own_id_and_anonymous_requests_log_no_user(client, caplog):
    capture(caplog)
    first = client.get("/finns-inte/")
    second = client.get("/finns-inte/")
    assert first["X-Request-ID"] != second["X-Request-ID"]
    logged = [r for r in caplog.records if r.name == "django.request"]
    assert {r.request_id for r in logged} == {first["X-Request-ID"], second["X-Request-ID"]}
    assert {r.user_id for r in logged} == {"-"}


def test_outside_a_request_the_context_is_a_dash(caplog):
    capture(caplog)
    logging.getLogger("deviations.services").info("deviation %s: confirm", "SB-2026-00001")
    assert caplog.records[-1].request_id == "-"
    assert caplog.records[-1].user_id == "-"


def test_key_value_format_escapes_newlines_and_quotes():
    record = logging.LogRecord(
        "deviations.services", logging.INFO, __file__, 1, 'line one\nlevel=ERROR "forged"', None, None
    )
    RequestContextFilter().filter(record)
    line = KeyValueFormatter().format(record)
    assert "\n" not in line
    assert line.startswith("ts=")
    assert " level=INFO logger=deviations.services request_id=- user_id=- " in line
    assert 'msg="line one\\nlevel=ERROR \\"forged\\""' in line


def test_axes_log_lines_carry_neither_username_nor_address():
    text = axes_client_str("anna.andersson@example.se", "10.1.2.3", "Mozilla", "/konto/logga-in/", None)
    assert "anna" not in text
    assert "10.1.2.3" not in text


@pytest.mark.django_db(transaction=True)
def test_a_day_of_work_logs_no_personal_data(client, caplog, axes_enabled):
    """Failed and successful logins, a confirmation with its e-mail, a password change, signing out
    everywhere and the retention job: the log has ids and references, never names, addresses or texts."""
    from deviations.services import retention, transitions
    from deviations.workflow import Status

    caplog.set_level(logging.DEBUG)
    user = factories.UserFactory(
        username="anna.andersson@socialtjanst.example.se",
        email="anna.andersson@socialtjanst.example.se",
        first_name="Anna",
        last_name="Andersson",
    )
    municipality = factories.MunicipalityFactory()
    council = factories.CouncilFactory(municipalities=[municipality])
    factories.CouncilMembershipFactory(
        council=council, user=factories.UserFactory(email="bertil.berg@psykiatri.example.se")
    )
    report = factories.DeviationFactory(
        status=Status.UNCONFIRMED,
        municipality=municipality,
        council=None,
        reporter=user,
        reporter_name="Anna Andersson",
        reporter_email="anna.andersson@socialtjanst.example.se",
        reporter_phone="070-1234567",
        description="Utskrivningen skedde utan besked till socialtjänsten.",
    )

    login = "/konto/logga-in/"
    client.post(login, {"username": user.username, "password": "fel"})
    assert (
        client.post(login, {"username": user.username, "password": factories.DEFAULT_PASSWORD}).status_code
        == 302
    )
    transitions.apply_transition(deviation=report, action="confirm", actor=user)
    report.refresh_from_db()
    client.get(f"/rapporter/{report.reference}/")
    new = "Blåbärssoppa-i-Vasaloppet-2026"
    client.post(
        "/konto/byt-losenord/",
        {"old_password": factories.DEFAULT_PASSWORD, "new_password1": new, "new_password2": new},
    )
    client.post("/konto/logga-ut-overallt/", {"password": new})
    retention.erase_reporter_contacts(
        months=0, now=report.created_at.replace(year=report.created_at.year + 1)
    )

    text = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert report.reference in text  # references are fine, and useful
    for secret in (
        "anna",
        "Andersson",
        "bertil",
        "example.se",
        "070-1234567",
        "Utskrivningen",
        factories.DEFAULT_PASSWORD,
        new,
    ):
        assert secret.lower() not in text.lower(), secret


# --- Signed links never reach the logs --------------------------------------------------------------


def logged_lines(caplog) -> str:
    """What the console handler would write, with its filter and formatter."""
    return "\n".join(KeyValueFormatter().format(record) for record in caplog.records)


@pytest.mark.django_db
def test_the_request_log_names_the_route_never_the_path_with_its_token(client, caplog):
    from deviations import tokens
    from deviations.response_tokens import make_token

    capture(caplog)
    deviation = factories.DeviationFactory()
    status_token = tokens.status_token(deviation)
    answer_token = make_token(factories.ResponseRequestFactory())
    assert client.get(f"/status/{status_token}/").status_code == 200
    assert client.get(f"/en/status/{status_token}/").status_code == 200
    assert client.get(f"/yttrande/{answer_token}/").status_code == 200
    assert client.get(f"/rapportera/bekrafta/{status_token}/").status_code == 404  # not a confirmation link
    assert client.get(f"/status/{status_token}x/").status_code == 404  # tampered
    assert client.get("/finns-inte/").status_code == 404

    text = logged_lines(caplog)
    for token in (status_token, answer_token, status_token.split(":")[-1]):
        assert token not in text
    requests = [r.getMessage() for r in caplog.records if r.name == "config.request"]
    assert [" ".join(line.split()[:3]) for line in requests] == [
        "GET status/<str:token>/ 200",
        "GET en/status/<str:token>/ 200",
        "GET yttrande/<str:token>/ 200",
        "GET rapportera/bekrafta/<str:token>/ 404",
        "GET status/<str:token>/ 404",
        "GET - 404",
    ]
    assert all(line.endswith("ms") for line in requests)
    # Django's own line about the 404 names the route too.
    not_found = [r.getMessage() for r in caplog.records if r.name == "django.request"]
    assert "Not Found: -" in not_found


def test_django_request_lines_get_the_route_in_place_of_the_path():
    from types import SimpleNamespace

    request = SimpleNamespace(
        path="/status/abc:secret/", resolver_match=SimpleNamespace(route="status/<str:token>/")
    )
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "%s: %s", ("Not Found", request.path), None
    )
    record.request = request
    RequestContextFilter().filter(record)
    assert record.getMessage() == "Not Found: status/<str:token>/"


def test_development_server_lines_lose_long_path_segments():
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        (
            "GET /status/0f8fad5b-d9cb-469f-a165-70867728950e:abcdefghijklmnopqrstuvwxyz/ HTTP/1.1",
            "200",
            "1234",
        ),
        None,
    )
    RequestContextFilter().filter(record)
    assert record.getMessage() == '"GET /status/…/ HTTP/1.1" 200 1234'


def test_development_server_lines_pass_the_filter_that_shortens_signed_links():
    """runserver's request lines reach the console handler and its filter: Django's own configuration
    gives ``django.server`` a handler of its own that does not propagate, which would write the signed
    links of /yttrande/, /status/ and /bekrafta/ in full."""
    import io

    server = logging.getLogger("django.server")
    assert not server.propagate
    streams = [h for h in server.handlers if type(h) is logging.StreamHandler]  # not pytest's capture
    assert len(streams) == 1
    handler = streams[0]
    assert any(isinstance(f, RequestContextFilter) for f in handler.filters)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        server.info(
            '"%s" %s %s', "GET /yttrande/eyJyIjoxMjd9:1xZHV0:abcdefghijklmnopqrstuvwxyz/ HTTP/1.1", 200, 1
        )
    finally:
        handler.setStream(previous)
    assert "GET /yttrande/…/ HTTP/1.1" in stream.getvalue()
    assert "eyJyIjoxMjd9" not in stream.getvalue()


def test_no_server_configuration_writes_an_access_log():
    """gunicorn logs no request lines unless told to: nothing in the image or compose file tells it."""
    from pathlib import Path

    root = Path(settings.BASE_DIR)
    for name in ("Dockerfile", "docker-compose.yml"):
        text = (root / name).read_text()
        assert "gunicorn" in text
        for option in ("--access-logfile", "--access-log", "accesslog", "access_log_format"):
            assert option not in text, f"{name}: {option}"
