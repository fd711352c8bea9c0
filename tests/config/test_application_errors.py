"""A service's refusal (config.errors) that a view does not handle becomes the Swedish error page with
its status, in one place (config.middleware.ApplicationErrorMiddleware): NotAllowed 404 (saying
nothing), Invalid 400 and Conflict 409."""

from unittest import mock

import pytest
from django.urls import reverse

from config.errors import Conflict, Invalid, NotAllowed
from deviations.services import systemic
from tests import factories
from tests.deviations.triage_world import build_world, fast_passwords  # noqa: F401

pytestmark = pytest.mark.django_db

MESSAGE = "Systemfrågan ändrades av någon annan."


@pytest.fixture
def w(db):
    return build_world()


@pytest.fixture
def issue(w):
    return factories.SystemicIssueFactory(created_by=w.regional, agreements=[w.agreement])


def resolve(client, w, issue):
    client.force_login(w.regional)
    return client.post(reverse("deviations:systemic_resolve", args=[issue.pk]), {"outcome": "Rutinen ändrad"})


@pytest.mark.parametrize(
    ("error", "status", "heading"),
    [
        (NotAllowed, 404, "Sidan hittades inte"),
        (Invalid, 400, "Felaktig begäran"),
        (Conflict, 409, "Det gick inte att genomföra"),
    ],
)
def test_each_kind_of_refusal_gives_its_status_through_a_real_view(client, w, issue, error, status, heading):
    with mock.patch.object(systemic, "resolve_systemic_issue", side_effect=error(MESSAGE)):
        response = resolve(client, w, issue)
    assert response.status_code == status
    assert heading in response.content.decode()
    assert response.templates[0].name == f"{status}.html"


def test_a_conflict_page_shows_the_message_and_a_not_allowed_page_does_not(client, w, issue):
    with mock.patch.object(systemic, "resolve_systemic_issue", side_effect=Conflict(MESSAGE)):
        assert MESSAGE in resolve(client, w, issue).content.decode()
    with mock.patch.object(systemic, "resolve_systemic_issue", side_effect=NotAllowed(MESSAGE)):
        assert MESSAGE not in resolve(client, w, issue).content.decode()
