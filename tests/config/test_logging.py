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
    assert handler["filters"] == ["request_context"]
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
