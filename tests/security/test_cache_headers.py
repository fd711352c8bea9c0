"""Nothing shown to a signed-in user is stored by a browser or proxy (``Cache-Control: no-store``):
report pages, the queues, every export and PDF, the admin. Anonymous token pages are covered in
tests/deviations/test_reporting_links.py."""

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_pdf_rendering(monkeypatch):
    monkeypatch.setattr("followup.pdf.render_pdf", lambda **kwargs: b"%PDF-1.7 test")


def followup_query(agreement, **extra) -> dict:
    return {
        "agreement": agreement.pk,
        "period_type": "year",
        "year": timezone.localdate().year,
        "basis": "reported_on",
        "scope": "county",
        **extra,
    }


def test_every_page_and_export_for_a_signed_in_user_is_no_store(client, regional_coordinator, superuser):
    deviation = factories.DeviationFactory()
    agreement = deviation.agreement
    council = deviation.council
    query = followup_query(agreement)
    pages = [
        (reverse("deviations:detail", args=[deviation.reference]), {}),
        (reverse("deviations:queue"), {}),
        (reverse("deviations:escalated"), {}),
        (reverse("followup:followup"), query),
        (reverse("followup:document"), query),
        *[
            (reverse("followup:export", args=[what, fmt]), query)
            for what in ("statistik", "rapporter")
            for fmt in ("csv", "xlsx")
        ],
        (reverse("followup:meeting_pack", args=[council.pk]), {}),
        (reverse("followup:meeting_pack_pdf", args=[council.pk]), {}),
        (reverse("deviations:my_reports"), {}),
        (reverse("account:profile"), {}),
    ]
    client.force_login(regional_coordinator)
    for url, params in pages:
        response = client.get(url, params)
        assert response.status_code == 200, url
        cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"no-store", "no-cache", "private", "max-age=0"} <= cache_control, url
    client.force_login(superuser)
    response = client.get(reverse("admin:deviations_deviation_changelist"))
    assert "no-store" in response["Cache-Control"]


def test_public_pages_for_anonymous_visitors_are_not_marked(client, db):
    response = client.get(reverse("deviations:report_start"))
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
