"""WCAG 3.1.2 Language of parts: on English pages, the Swedish content (agreement, commitment and
category names, texts people wrote) sits in an element marked ``lang="sv"``, so a screen reader reads
it with Swedish pronunciation. Each page is read with an HTML parser that knows every text's language."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import translation

from deviations import tokens
from deviations.models import DeviationEvent
from deviations.response_tokens import make_token
from deviations.workflow import Status
from tests import factories

pytestmark = pytest.mark.django_db

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class TextLanguages(HTMLParser):
    """Every text of a page with the language it is in (the nearest ``lang``); not the ``<title>``,
    which cannot mark a part."""

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, str]] = []
        self.texts: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        lang = dict(attrs).get("lang") or (self.stack[-1][1] if self.stack else "")
        self.stack.append((tag, lang))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        if data.strip() and self.stack and all(tag not in {"title", "script"} for tag, _ in self.stack):
            self.texts.append((" ".join(data.split()), self.stack[-1][1]))


def languages_of(html: str, phrase: str) -> list[str]:
    parser = TextLanguages()
    parser.feed(html)
    return [lang for text, lang in parser.texts if phrase in text]


def assert_marked_swedish(response, *phrases):
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en"' in html
    for phrase in phrases:
        found = languages_of(html, phrase)
        assert found, f"{phrase!r} is not on {response.request['PATH_INFO']}"
        assert set(found) == {"sv"}, f"{phrase!r} on {response.request['PATH_INFO']} is in {found}"


def en(name, *args) -> str:
    with translation.override("en"):
        return reverse(name, args=args)


@pytest.fixture
def world(db):
    from types import SimpleNamespace

    w = SimpleNamespace()
    w.agreement = factories.AgreementFactory(name="Missbruk och beroende", valid_from="2019-01-01")
    w.commitment = factories.CommitmentFactory(agreement=w.agreement, title="Information vid utskrivning")
    w.category = factories.DeviationCategoryFactory(name="Nykterhetskrav", agreements=[w.agreement])
    w.council = factories.CouncilFactory(name="Samråd Norr")
    w.coordinator = factories.UserFactory(username="samordnare")
    factories.CouncilMembershipFactory(council=w.council, user=w.coordinator)
    w.reporter = factories.UserFactory(username="rapportor")
    w.deviation = factories.DeviationFactory(
        agreement=w.agreement,
        commitment=w.commitment,
        category=w.category,
        council=w.council,
        reporter=w.reporter,
        status=Status.AWAITING_RESPONSE,
        description="Vården krävde nykterhet innan bedömning.",
    )
    factories.DeviationEventFactory(
        deviation=w.deviation,
        kind=DeviationEvent.Kind.FEEDBACK,
        visibility=DeviationEvent.Visibility.REPORTER,
        text="Samrådet har tagit upp frågan.",
    )
    w.request = factories.ResponseRequestFactory(deviation=w.deviation, message="Hur ser er rutin ut?")
    return w


def test_the_report_form_marks_agreement_commitment_and_category_options(client, world):
    assert_marked_swedish(
        client.get(en("deviations:report_form")),
        str(world.agreement),
        str(world.commitment),
        str(world.category),
    )


def test_the_status_page_marks_names_texts_and_feedback(client, world):
    client.force_login(world.reporter)
    response = client.get(en("deviations:status", tokens.status_token(world.deviation)))
    assert_marked_swedish(
        response,
        str(world.agreement),
        str(world.category),
        str(world.commitment),
        world.deviation.description,
        "Samrådet har tagit upp frågan.",
    )


def test_my_reports_marks_names(client, world):
    client.force_login(world.reporter)
    assert_marked_swedish(client.get(en("deviations:my_reports")), str(world.agreement), str(world.category))


def test_the_counterparts_list_of_requests_marks_names(client, world):
    counterpart = factories.UserFactory(organization=world.request.organization)
    client.force_login(counterpart)
    response = client.get(en("deviations:my_response_requests"))
    assert_marked_swedish(response, str(world.agreement), str(world.category))


def test_the_detail_page_and_the_queue_mark_names_and_texts(client, world):
    client.force_login(world.coordinator)
    assert_marked_swedish(
        client.get(en("deviations:detail", world.deviation.reference)),
        str(world.agreement),
        str(world.commitment),
        str(world.category),
        world.deviation.description,
        world.deviation.consequence,
        "Samrådet har tagit upp frågan.",
    )
    assert_marked_swedish(client.get(en("deviations:queue")), str(world.agreement), str(world.category))


def test_the_answer_page_marks_names_texts_and_the_question(client, world):
    assert_marked_swedish(
        client.get(en("deviations:respond", make_token(world.request))),
        str(world.agreement),
        str(world.category),
        world.deviation.description,
        "Hur ser er rutin ut?",
    )


def test_a_systemic_issue_marks_its_title_description_and_agreements(client, world, regional_coordinator):
    issue = factories.SystemicIssueFactory(title="Nykterhetskrav i psykiatrin", agreements=[world.agreement])
    factories.SystemicActionFactory(issue=issue, description="Gemensam rutin tas fram.")
    client.force_login(regional_coordinator)
    assert_marked_swedish(
        client.get(en("deviations:systemic_detail", issue.pk)),
        "Nykterhetskrav i psykiatrin",
        issue.description,
        str(world.agreement),
        "Gemensam rutin tas fram.",
    )


def test_the_checker_finds_unmarked_swedish():
    html = '<html lang="en"><p>Agreement: <span lang="sv">Missbruk</span></p><td>Missbruk</td></html>'
    assert languages_of(html, "Missbruk") == ["sv", "en"]
