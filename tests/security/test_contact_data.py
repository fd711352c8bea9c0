"""Reporter contact data (name, e-mail, phone) is shown only to the handling council.

Decision: on a report's detail page the contact details are shown to the handlers of the report: members
(any role) of the report's local council and regional coordinators. Never to the reporter's colleagues,
other reporters, counterpart responders or other councils; not to superusers either (they are not
handlers), and never in the admin, the follow-up exports, the follow-up PDF or meeting packs.
"""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from deviations import response_tokens, tokens
from tests.security.test_access_matrix import build_world, followup_query

pytestmark = pytest.mark.django_db

CONTACT = ("Anna Rapportör", "anna.rapportor@x.example.se", "070-111 11 11")


def shows_contact(text: str) -> list[str]:
    return [value for value in CONTACT if value in text]


@pytest.fixture
def w():
    return build_world()


def test_detail_page_shows_contact_to_the_handling_council_and_regional_coordinators(client, w):
    for user in (w.coord_x, w.member_x, w.regional):
        client.force_login(user)
        response = client.get(reverse("deviations:detail", args=[w.x1.reference]))
        assert response.status_code == 200
        assert shows_contact(response.text) == list(CONTACT), user.username


def test_detail_page_hides_contact_from_everyone_else(client, w):
    # The reporter themself, the counterpart responder (open request) and the superuser see the page...
    for user in (w.reporter_a, w.responder, w.admin):
        client.force_login(user)
        response = client.get(reverse("deviations:detail", args=[w.x1.reference]))
        assert response.status_code == 200, user.username
        assert shows_contact(response.text) == [], user.username
    # ... the other council and other reporters do not even see the report.
    for user in (w.coord_y, w.reporter_b):
        client.force_login(user)
        assert client.get(reverse("deviations:detail", args=[w.x1.reference])).status_code == 404


def test_token_pages_never_show_contact(client, w):
    pages = [
        reverse("deviations:status", args=[tokens.status_token(w.x1)]),
        reverse("deviations:respond", args=[response_tokens.make_token(w.open_request)]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200
        assert shows_contact(response.text) == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("what", ["rapporter", "statistik"])
def test_followup_exports_never_contain_contact(client, w, what, fmt):
    for user in (w.coord_x, w.regional, w.admin):
        client.force_login(user)
        response = client.get(
            reverse("followup:export", args=[what, fmt]) + followup_query(w, f"council:{w.council_x.pk}")
        )
        assert response.status_code == 200
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if fmt == "csv":
            text = body.decode("utf-8-sig")
        else:
            workbook = load_workbook(io.BytesIO(body), read_only=True)
            text = "\n".join(
                str(cell)
                for sheet in workbook.worksheets
                for row in sheet.iter_rows(values_only=True)
                for cell in row
                if cell is not None
            )
        if what == "rapporter":
            assert w.x1.reference in text  # the report is there...
        assert shows_contact(text) == []  # ...without its reporter's contact data
        assert "bertil.rapportor@y.example.se" not in text


def test_local_export_holds_only_the_councils_own_reports(client, w):
    client.force_login(w.coord_x)
    response = client.get(
        reverse("followup:export", args=["rapporter", "csv"]) + followup_query(w, f"council:{w.council_x.pk}")
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert w.x1.reference in text
    assert w.y1.reference not in text
    # Choosing council Y, or the whole county, is refused.
    for scope in (f"council:{w.council_y.pk}", "county", f"municipality:{w.muni_y.pk}"):
        response = client.get(
            reverse("followup:export", args=["rapporter", "csv"]) + followup_query(w, scope)
        )
        assert response.status_code == 400, scope


def test_meeting_packs_never_show_contact(client, w):
    client.force_login(w.coord_x)
    response = client.get(reverse("followup:meeting_pack", args=[w.council_x.pk]))
    assert response.status_code == 200
    assert w.x1.reference in response.text
    assert shows_contact(response.text) == []
    assert w.y1.reference not in response.text
