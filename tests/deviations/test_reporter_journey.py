"""The reporter's journey, second pass (issue 18): the BUS question, duplicates after going back in the
browser, a new link for an expired confirmation link, the full text for the signed-in reporter, help
choosing the agreement, and the counterparts as grouped checkboxes. Through the views."""

import datetime
import re
import time
import uuid
from unittest import mock

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from agreements import reference_data
from config import ratelimits
from config.errors import Invalid
from deviations import tokens
from deviations.models import Deviation, DeviationEvent
from deviations.services import reporting
from deviations.workflow import RejectReason, Status
from tests import factories
from tests.deviations.reporting_world import build_world, service_data, valid_post

pytestmark = pytest.mark.django_db

FORM_URL = "/rapportera/formular/"


@pytest.fixture
def w(db):
    cache.clear()  # the resend limit counts in the cache
    return build_world()


def post(client, w, **overrides):
    return client.post(FORM_URL, valid_post(w, **overrides))


def text(response) -> str:
    return response.content.decode()


# --- The BUS question ---------------------------------------------------------------------------


def test_the_form_asks_about_children_before_anything_else(client, w, settings):
    content = text(client.get(FORM_URL))
    assert content.index('name="concerns_child"') < content.index('name="occurred_on"')
    assert content.index('name="concerns_child"') < content.index('name="description"')
    # The notice the script shows at once for "Ja" points to the BUS process.
    notice = re.search(r'<div id="bus-notice".*?</div>', content, re.S).group(0)
    assert settings.BUS_URL in notice


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_a_report_about_a_child_is_refused_and_points_to_bus(client, w, settings, prefix):
    response = client.post(prefix + FORM_URL, valid_post(w, concerns_child="yes"))
    assert response.status_code == 200
    assert response.templates[0].name == "deviations/reporting/bus.html"
    assert settings.BUS_URL in text(response)
    assert not Deviation.objects.exists()
    assert not mail.outbox


def test_a_report_about_a_child_is_refused_even_with_other_errors(client, w, settings):
    response = post(client, w, concerns_child="yes", description="", reporter_email="x@gmail.com")
    assert response.templates[0].name == "deviations/reporting/bus.html"
    assert not Deviation.objects.exists()


def test_the_bus_question_must_be_answered(client, w):
    response = post(client, w, concerns_child=None)
    assert response.status_code == 200
    assert "concerns_child" in response.context["form"].errors
    assert not Deviation.objects.exists()
    response = post(client, w, concerns_child="kanske")
    assert "concerns_child" in response.context["form"].errors


def test_the_service_refuses_a_report_about_a_child(w):
    with pytest.raises(Invalid) as refused:
        reporting.submit_deviation(
            data=service_data(w, concerns_child=reporting.CONCERNS_CHILD), idempotency_key=uuid.uuid4()
        )
    assert list(refused.value.errors) == ["concerns_child"]
    assert "BUS" in refused.value.errors["concerns_child"]
    assert not Deviation.objects.exists()


def test_status_page_of_a_report_rejected_as_bus_links_to_the_bus_process(client, w, settings):
    bus = factories.DeviationFactory(status=Status.REJECTED, reject_reason=RejectReason.BELONGS_TO_BUS)
    other = factories.DeviationFactory(status=Status.REJECTED, reject_reason=RejectReason.NOT_A_DEVIATION)
    assert f'href="{settings.BUS_URL}"' in text(client.get(status_url(bus)))
    assert settings.BUS_URL not in text(client.get(status_url(other)))


# --- The same report twice (Back, then "Skicka" again) --------------------------------------------


def test_the_same_content_again_with_a_new_key_is_the_first_report(
    client, w, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, w)
        again = post(client, w, idempotency_key=str(uuid.uuid4()))
    assert first.status_code == 302
    assert again.status_code == 302
    deviation = Deviation.objects.get()
    page = client.get(again["Location"])
    assert "redan skickat" in text(page)
    assert page.context["deviation"] == deviation
    assert len(mail.outbox) == 1  # one confirmation link


def test_the_same_content_from_a_signed_in_reporter_shows_the_first_receipt(client, w):
    user = factories.UserFactory(email="anna@nacka.se", organization=w.own)
    client.force_login(user)
    post(client, w)
    page = client.get(post(client, w, idempotency_key=str(uuid.uuid4()))["Location"])
    deviation = Deviation.objects.get()
    assert deviation.status == Status.SUBMITTED
    assert deviation.reference in text(page)
    assert "redan skickat" in text(page)


def test_the_same_content_from_someone_else_is_another_report(client, w):
    post(client, w)
    post(client, w, idempotency_key=str(uuid.uuid4()), reporter_email="kollega@nacka.se")
    assert Deviation.objects.count() == 2


def test_the_same_content_after_the_window_is_another_report(client, w):
    post(client, w)
    Deviation.objects.update(created_at=timezone.now() - reporting.DUPLICATE_WINDOW - datetime.timedelta(1))
    post(client, w, idempotency_key=str(uuid.uuid4()))
    assert Deviation.objects.count() == 2


def test_a_changed_text_is_another_report(client, w):
    post(client, w)
    post(client, w, idempotency_key=str(uuid.uuid4()), consequence="En annan konsekvens.")
    assert Deviation.objects.count() == 2


# --- An expired confirmation link -----------------------------------------------------------------


@pytest.fixture
def unconfirmed(w):
    return reporting.submit_deviation(data=service_data(w), idempotency_key=uuid.uuid4())[0]


def old_token(deviation, settings) -> str:
    issued = time.time() - (settings.CONFIRMATION_MAX_AGE_HOURS * 3600 + 60)
    with mock.patch("django.core.signing.time.time", return_value=issued):
        return tokens.confirmation_token(deviation)


def status_url(deviation) -> str:
    return reverse("deviations:status", args=[tokens.status_token(deviation)])


def test_expired_link_offers_a_new_one_and_keeps_the_report(client, unconfirmed, settings):
    token = old_token(unconfirmed, settings)
    response = client.get(reverse("deviations:confirm", args=[token]))
    assert response.status_code == 400
    assert reverse("deviations:resend_confirmation", args=[token]) in text(response)
    assert "finns kvar" in text(response)
    assert Deviation.objects.filter(pk=unconfirmed.pk, status=Status.UNCONFIRMED).exists()


def test_new_link_confirms_the_report_as_it_was_typed(
    client, unconfirmed, settings, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    token = old_token(unconfirmed, settings)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("deviations:resend_confirmation", args=[token]))
    assert response.status_code == 200
    # The page does not show where the link went: whoever holds an old link learns no address.
    assert "rapportor@nacka.se" not in text(response)
    [message] = mail.outbox
    assert message.to == ["rapportor@nacka.se"]
    link = re.search(r"http://testserver(/rapportera/bekrafta/\S+/)", message.body).group(1)
    client.post(link)
    deviation = Deviation.objects.get()
    assert deviation.status == Status.SUBMITTED
    assert deviation.description == unconfirmed.description


#: New links one report's address may be sent per hour (config/ratelimits.py).
RESEND_LIMIT = int(ratelimits.LIMITS["resend"][1].split("/")[0])


def test_new_links_are_rate_limited(
    client, unconfirmed, settings, django_capture_on_commit_callbacks, ratelimits_enabled
):
    mail.outbox.clear()
    url = reverse("deviations:resend_confirmation", args=[old_token(unconfirmed, settings)])
    with django_capture_on_commit_callbacks(execute=True):
        answers = [client.post(url).status_code for _ in range(RESEND_LIMIT + 1)]
    assert answers == [200] * RESEND_LIMIT + [429]
    assert len(mail.outbox) == RESEND_LIMIT


def test_no_new_link_for_a_confirmed_report(client, unconfirmed, settings):
    token = old_token(unconfirmed, settings)
    reporting.confirm_deviation(deviation=unconfirmed)
    mail.outbox.clear()
    response = client.post(reverse("deviations:resend_confirmation", args=[token]))
    assert "redan bekräftad" in text(response)
    assert not mail.outbox


def test_new_link_for_a_tampered_or_purged_link_is_the_friendly_404(client, unconfirmed, settings):
    token = old_token(unconfirmed, settings)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = client.post(reverse("deviations:resend_confirmation", args=[tampered]))
    assert response.status_code == 404
    assert "Länken fungerar inte" in text(response)
    Deviation.objects.all().delete()
    assert client.post(reverse("deviations:resend_confirmation", args=[token])).status_code == 404
    # The expired link of a purged report says so, and offers the form instead.
    response = client.get(reverse("deviations:confirm", args=[token]))
    assert "har raderats" in text(response)
    assert "ny-lank" not in text(response)


def test_new_link_is_post_only(client, unconfirmed):
    url = reverse("deviations:resend_confirmation", args=[tokens.confirmation_token(unconfirmed)])
    assert client.get(url).status_code == 405
    assert not mail.outbox or all("/ny-lank/" not in m.body for m in mail.outbox)


# --- The signed-in reporter sees what they wrote ---------------------------------------------------


@pytest.fixture
def own_report(w):
    reporter = factories.UserFactory(email="anna@nacka.se", organization=w.own)
    counterpart = factories.RegionOrganizationFactory(
        name="Psykiatri Norr", contact_email="svar@psyk.example.se"
    )
    deviation = factories.DeviationFactory(
        reporter=reporter,
        agreement=w.psyk,
        category=w.category,
        commitment=w.psyk_commitment,
        counterparts=[counterpart],
        actions_taken="Vi ringde avdelningen.",
        suggested_improvement="En gemensam checklista.",
    )
    factories.DeviationEventFactory(
        deviation=deviation, visibility=DeviationEvent.Visibility.INTERNAL, text="Intern: ring chefen."
    )
    return deviation


def test_signed_in_reporter_sees_the_full_text_on_the_status_page(client, own_report):
    client.force_login(own_report.reporter)
    content = text(client.get(status_url(own_report)))
    for written in (
        own_report.description,
        own_report.consequence,
        own_report.actions_taken,
        own_report.suggested_improvement,
        "Psykiatri Norr",
        own_report.commitment.title,
    ):
        assert written in content
    assert "svar@psyk.example.se" not in content
    assert "Intern: ring chefen." not in content


def test_the_status_link_alone_does_not_show_the_text(client, own_report, w):
    assert own_report.description not in text(client.get(status_url(own_report)))
    client.force_login(factories.UserFactory(email="annan@nacka.se"))
    assert own_report.description not in text(client.get(status_url(own_report)))


def test_status_page_query_count_is_fixed_for_the_reporter(client, own_report, django_assert_max_num_queries):
    client.force_login(own_report.reporter)
    client.get(status_url(own_report))
    with django_assert_max_num_queries(10):
        client.get(status_url(own_report))


# --- Help choosing the agreement -------------------------------------------------------------------


def test_the_form_explains_each_agreement_in_swedish(client, w):
    w.psyk.scope = "Vuxna med psykisk sjukdom som behöver stöd från både kommun och region."
    w.psyk.save()
    content = text(client.get("/en" + FORM_URL))
    assert f'<span lang="sv">{w.psyk.scope}</span>' in content
    assert "(Applied up to and including 2019-12-31.)" in content  # the old agreement


def test_a_date_before_any_agreement_says_so(client, w):
    response = post(client, w, occurred_on="2010-06-01", agreement="")
    errors = response.context["form"].errors
    assert "Ingen av överenskommelserna gällde 2010-06-01" in errors["occurred_on"][0]
    assert "2015-01-01" in errors["occurred_on"][0]  # the earliest agreement
    assert not Deviation.objects.exists()


def test_a_date_with_agreements_in_force_keeps_the_agreement_message(client, w):
    response = post(client, w, occurred_on="2018-06-01")
    errors = response.context["form"].errors
    assert "occurred_on" not in errors
    assert "gällde inte 2018-06-01" in errors["agreement"][0]


def test_the_script_gets_a_message_for_dates_before_any_agreement(client, w):
    content = text(client.get(FORM_URL))
    assert re.search(r'id="agreement-none"[^>]*role="status"', content)
    assert "den tidigaste började gälla 2015-01-01" in content


def test_every_reference_agreement_has_a_plain_scope():
    for spec in reference_data.AGREEMENTS:
        assert 40 < len(spec["scope"]) < 250, spec["code"]


# --- The counterparts: checkboxes grouped by principal ---------------------------------------------


def test_counterparts_are_checkboxes_grouped_by_principal(client, w):
    content = text(client.get(FORM_URL))
    picker = re.search(
        r'<div id="div_id_counterpart_organizations".*?</fieldset>\s*</div>', content, re.S
    ).group(0)
    assert "<select" not in picker
    groups = re.findall(r'<fieldset class="counterpart-group">\s*<legend[^>]*>([^<]+)</legend>', picker)
    assert [g.strip() for g in groups] == [str(w.region), "Nacka"]
    assert 'type="checkbox"' in picker and f'value="{w.counterpart.pk}"' in picker
    # The filter field is there for the script, hidden without it.
    assert re.search(r'<div class="counterpart-filter mb-2" hidden>', picker)


def test_several_counterparts_and_chosen_ones_stay_checked_after_an_error(client, w):
    other = factories.RegionOrganizationFactory(name="Beroendecentrum", principal_region=w.region)
    response = post(client, w, counterpart_organizations=[w.counterpart.pk, other.pk], description="")
    content = text(response)
    for organization in (w.counterpart, other):
        assert re.search(rf'value="{organization.pk}" id="[^"]+" checked', content)
    # The error summary links the first box.
    post(client, w, counterpart_organizations=[])
    response = post(client, w, counterpart_organizations=[], idempotency_key=str(uuid.uuid4()))
    assert 'href="#id_counterpart_organizations_0"' in text(response)
    assert 'id="id_counterpart_organizations_0"' in text(response)


def test_a_report_with_two_counterparts(client, w):
    other = factories.RegionOrganizationFactory(name="Beroendecentrum", principal_region=w.region)
    post(client, w, counterpart_organizations=[w.counterpart.pk, other.pk])
    assert set(Deviation.objects.get().counterpart_organizations.all()) == {w.counterpart, other}


def test_an_unknown_counterpart_is_refused(client, w):
    response = post(client, w, counterpart_organizations=[w.counterpart.pk, 999999])
    assert "counterpart_organizations" in response.context["form"].errors
    assert not Deviation.objects.exists()
