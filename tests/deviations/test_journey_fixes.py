"""Bugs found by the browser journeys (tests/browser/test_journeys.py), each pinned by a plain test."""

import pytest
from django.urls import reverse

from tests import factories
from tests.deviations.triage_world import build_world, fast_passwords  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    return build_world()


def test_status_count_links_keep_the_other_filters(client, w):
    """The counts per status are computed with the other filters; their links must keep them too (they
    used to lead to ``?status=...`` alone, dropping the category the user had filtered on)."""
    other_category = factories.DeviationCategoryFactory(name="Annan kategori", agreements=[w.agreement])
    factories.DeviationFactory(
        council=w.council_x, municipality=w.muni_x, agreement=w.agreement, category=other_category
    )
    client.force_login(w.coord_x)
    response = client.get(reverse("deviations:queue"), {"category": w.category.pk, "sort": "reference"})
    row = next(r for r in response.context["status_rows"] if r["value"] == "submitted")
    assert row["count"] == 1
    assert f"category={w.category.pk}" in row["query"]
    assert "sort=reference" in row["query"]
    assert "status=submitted" in row["query"]
    assert f'href="?{row["query"]}"'.replace("&", "&amp;") in response.content.decode()

    followed = client.get(reverse("deviations:queue") + "?" + row["query"])
    assert [d.reference for d in followed.context["page"]] == [w.dev_x.reference]


def test_status_count_links_do_not_keep_the_page_cursor(client, w):
    client.force_login(w.coord_x)
    response = client.get(reverse("deviations:queue"), {"status": "triage", "after": "x"})
    for row in response.context["status_rows"]:
        assert "after=" not in row["query"]
        assert row["query"].count("status=") == 1


def test_decided_action_owner_has_a_swedish_blank_choice(client, w):
    """Django 6.1's blank choice label "- Select an option -" has no Swedish translation; the owner
    select of a decided action showed it in English in the Swedish UI."""
    issue = factories.SystemicIssueFactory(created_by=w.regional, agreements=[w.agreement])
    client.force_login(w.regional)
    content = client.get(reverse("deviations:systemic_detail", args=[issue.pk])).content.decode()
    assert "Välj organisation" in content
    assert "Select an option" not in content
