"""The pages the law requires: accessibility statement, personal data, cookies."""

import datetime
import re
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.template.loader import get_template
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from pages.models import AccessibilityFeedback
from tests import factories

pytestmark = pytest.mark.django_db

PAGES = ("pages:accessibility", "pages:privacy", "pages:cookies")
HEADINGS = {
    "pages:accessibility": {"sv": "Tillgänglighetsredogörelse", "en": "Accessibility statement"},
    "pages:privacy": {"sv": "Så behandlar vi personuppgifter", "en": "How we process personal data"},
    "pages:cookies": {"sv": "Kakor (cookies)", "en": "Cookies"},
}


def url(name: str, language: str = "sv") -> str:
    with translation.override(language):
        return reverse(name)


@pytest.fixture
def organisation(settings):
    settings.ORGANIZATION_NAME = "Storsthlm Testförbund"
    settings.ORGANIZATION_NUMBER = "222000-0000"
    settings.ORGANIZATION_ADDRESS = "Box 1, 100 00 Stockholm"
    settings.ORGANIZATION_EMAIL = "info@storsthlm.example.se"
    settings.ORGANIZATION_PHONE = "08-123 456 00"
    settings.DPO_EMAIL = "dso@storsthlm.example.se"
    settings.DPO_PHONE = "08-123 456 99"
    settings.ACCESSIBILITY_EMAIL = "tillganglighet@storsthlm.example.se"
    settings.ACCESSIBILITY_ASSESSED_ON = datetime.date(2026, 10, 15)
    settings.ACCESSIBILITY_UPDATED_ON = datetime.date(2026, 11, 20)
    return settings


@pytest.mark.parametrize("language", ["sv", "en"])
@pytest.mark.parametrize("name", PAGES)
def test_page_renders_in_both_languages_without_queries(client, name, language, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(url(name, language))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert f"<h1>{HEADINGS[name][language]}</h1>" in html


def test_accessibility_statement_has_digg_contents(client, organisation):
    html = client.get(url("pages:accessibility")).content.decode()
    assert "Storsthlm Testförbund står bakom tjänsten" in html
    # Compliance status, known shortcomings with reasons, evaluation method, dates.
    assert "delvis förenlig" in html
    assert "Bristande förenlighet med lagkraven" in html
    assert "PDF-dokumenten" in html
    assert "självskattning" in html
    assert '<time datetime="2026-10-15">15 oktober 2026</time>' in html
    assert '<time datetime="2026-11-20">20 november 2026</time>' in html
    # Feedback function and the complaint form at DIGG.
    assert 'href="mailto:tillganglighet@storsthlm.example.se"' in html
    assert '<form method="post" action="#synpunkter"' in html
    assert 'href="https://www.digg.se/tdosanmalan"' in html
    # The organisation's details.
    for value in ("222000-0000", "Box 1, 100 00 Stockholm", "info@storsthlm.example.se", "08-123 456 00"):
        assert value in html


def test_accessibility_statement_in_english_names_the_organisation(client, organisation):
    html = client.get(url("pages:accessibility", "en")).content.decode()
    assert "Storsthlm Testförbund is responsible for the service" in html
    assert '<time datetime="2026-10-15">15 October 2026</time>' in html


def test_privacy_page_states_the_retention_the_jobs_use(client, organisation):
    organisation.CONTACT_RETENTION_MONTHS = 18
    organisation.UNCONFIRMED_RETENTION_DAYS = 5
    organisation.LOGIN_LOG_RETENTION_DAYS = 45
    organisation.SESSION_COOKIE_AGE = 4 * 3600
    html = client.get(url("pages:privacy")).content.decode()
    assert "Tas bort 18 månader efter att rapporten har avslutats." in html
    assert "raderas helt efter 5 dagar." in html
    assert "45 dagar." in html
    assert "Upphör efter 4 timmar utan aktivitet" in html
    assert "artikel 6.1 e" in html
    assert 'href="mailto:dso@storsthlm.example.se"' in html
    assert "08-123 456 99" in html
    assert "Storsthlm Testförbund är personuppgiftsansvarig" in html
    assert 'href="https://www.imy.se"' in html


def test_privacy_page_in_english_uses_the_singular(client, organisation):
    organisation.CONTACT_RETENTION_MONTHS = 1
    organisation.UNCONFIRMED_RETENTION_DAYS = 1
    html = client.get(url("pages:privacy", "en")).content.decode()
    assert "Removed 1 month after the report was closed." in html
    assert "deleted entirely after 1 day." in html


def test_cookie_statement_lists_the_cookies_by_their_configured_names(client, settings):
    settings.SESSION_COOKIE_NAME = "sb_session"
    settings.CSRF_COOKIE_NAME = "sb_csrf"
    html = client.get(url("pages:cookies")).content.decode()
    for name in ("sb_session", "sb_csrf", "django_language", "messages", "saml_session"):
        assert f"<code>{name}</code>" in html
    assert "inga kakor för statistik" in html


def test_cookie_statement_follows_session_expiry_at_browser_close(client, settings):
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    html = client.get(url("pages:cookies")).content.decode()
    assert "Tills du stänger webbläsaren." in html
    assert "efter ditt senaste besök" not in html


# --- The feedback form ----------------------------------------------------------------------------


def test_feedback_is_mailed_to_the_organisation_in_swedish(
    client, organisation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("pages:accessibility", "en"),
            {
                "message": "Knappen Skicka går inte att nå med tangentbordet.",
                "page": "/rapportera/",
                "email": "besokare@example.se",
            },
        )
    assert response.status_code == 302
    assert response["Location"] == url("pages:accessibility", "en")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["tillganglighet@storsthlm.example.se"]
    assert message.subject == "Synpunkt på tillgängligheten i Samverkansbrister"
    assert "Knappen Skicka går inte att nå med tangentbordet." in message.body
    assert "Sida: /rapportera/" in message.body
    assert "Svar önskas till: besokare@example.se" in message.body
    followed = client.get(response["Location"]).content.decode()
    assert "Thank you! Your feedback has been sent to Storsthlm Testförbund." in followed


def test_feedback_with_an_identity_number_is_refused_on_its_field_and_not_stored(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("pages:accessibility"),
            {"message": "Knappen fungerar inte.", "page": "/status/811218-9876/", "email": ""},
        )
    assert response.status_code == 400
    assert "personnummer" in " ".join(response.context["form"].errors["page"])
    assert not AccessibilityFeedback.objects.exists()
    assert mail.outbox == []


class BusyServerBackend(EmailBackend):
    """The outbox as Django's test backend keeps it, behind a server that answers 451 the first
    ``busy`` times."""

    busy = 0

    def send_messages(self, messages):
        if BusyServerBackend.busy:
            BusyServerBackend.busy -= 1
            raise smtplib.SMTPDataError(451, "Mailbox busy, try again later")
        return super().send_messages(messages)


def run_worker():
    call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_feedback_is_queued_by_reference_kept_until_mailed_then_deleted(client, organisation):
    from django_tasks_db.models import DBTaskResult

    organisation.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    organisation.MAILERS = {"default": {"BACKEND": f"{__name__}.BusyServerBackend"}}
    BusyServerBackend.busy = 1
    text = "Knappen Skicka går inte att nå med tangentbordet."
    response = client.post(url("pages:accessibility"), {"message": text, "email": "besokare@example.se"})
    assert response.status_code == 302
    feedback = AccessibilityFeedback.objects.get()
    [queued] = DBTaskResult.objects.all()
    # The task table holds the feedback's id, never its text or the visitor's address.
    assert queued.args_kwargs == {"args": [], "kwargs": {"feedback_id": feedback.pk}}
    run_worker()  # the server is busy: the feedback stays for the next attempt
    assert mail.outbox == []
    assert AccessibilityFeedback.objects.filter(pk=feedback.pk).exists()
    retry = DBTaskResult.objects.order_by("enqueued_at").last()
    assert retry.args_kwargs["kwargs"] == {"feedback_id": feedback.pk, "attempt": 2}
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    run_worker()
    assert [message.to for message in mail.outbox] == [["tillganglighet@storsthlm.example.se"]]
    assert text in mail.outbox[0].body
    assert not AccessibilityFeedback.objects.exists()


def test_feedback_without_a_message_is_refused(client):
    response = client.post(url("pages:accessibility"), {"message": "  ", "email": "inte-en-adress"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Formuläret innehåller fel" in html
    assert mail.outbox == []


def test_feedback_form_takes_the_page_from_the_link(client):
    html = client.get(url("pages:accessibility") + "?sida=/arenden/").content.decode()
    assert re.search(r'name="page"[^>]*value="/arenden/"', html)


# --- Footer links on every page --------------------------------------------------------------------


def footer_links_in(html: str, language: str) -> bool:
    return all(f'href="{url(name, language)}"' in html for name in PAGES)


@pytest.mark.parametrize(
    "path_name", ["home", "login", "deviations:report_start", "deviations:report_form", *PAGES]
)
@pytest.mark.parametrize("language", ["sv", "en"])
def test_public_pages_link_the_legal_pages_in_the_footer(client, path_name, language):
    html = client.get(url(path_name, language)).content.decode()
    assert footer_links_in(html, language)


def test_signed_in_and_admin_pages_link_the_legal_pages(superuser):
    regional = factories.UserFactory()
    for user, names in (
        (regional, ["account:profile", "deviations:my_reports"]),
        (superuser, ["admin:index"]),
    ):
        client = Client()
        client.force_login(user)
        for name in names:
            response = client.get(url(name))
            assert response.status_code == 200, name
            assert footer_links_in(response.content.decode(), "sv"), name


def test_error_pages_link_the_legal_pages_at_their_real_addresses(client):
    html = client.get("/finns-inte/").content.decode()
    assert client.get("/finns-inte/").status_code == 404
    assert footer_links_in(html, "sv")
    # The error base has fixed paths (it must render without URL reversing): they must stay right.
    source = get_template("error_base.html").template.source
    for name in PAGES:
        assert f'href="{url(name)}"' in source


# --- Deploy checks -----------------------------------------------------------------------------------


def test_deploy_check_warns_while_the_organisation_is_the_example(settings):
    from pages.checks import legal_pages_name_the_organisation

    warnings = legal_pages_name_the_organisation(None)
    assert {w.id for w in warnings} == {"pages.W001"}
    assert len(warnings) == 3
    settings.ORGANIZATION_NAME = "Region Exempel"
    settings.ORGANIZATION_EMAIL = "registrator@region.example.se"
    settings.DPO_EMAIL = "dso@region.example.se"
    assert legal_pages_name_the_organisation(None) == []
