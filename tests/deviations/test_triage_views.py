"""Queue, detail and action views: who may see what (404 for the rest), actions, query counts."""

import re

import pytest
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deviations.models import DeviationEvent
from deviations.workflow import RejectReason, Status
from tests import factories
from tests.deviations.triage_world import QUEUE_BUDGET, build_world, fast_passwords  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    return build_world()


def detail_url(deviation):
    return reverse("deviations:detail", args=[deviation.reference])


def action_url(deviation, action):
    return reverse("deviations:transition", args=[deviation.reference, action])


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("start_triage", {"text": ""}, "Påbörja bedömning: rapporten har nu status ”Under bedömning”."),
        (
            "reject",
            {"reason": "not_a_deviation", "text": "Ingen brist."},
            "Avvisa: rapporten har nu status ”Avvisad”.",
        ),
        ("reroute", {"council": "COUNCIL_Z", "text": "Fel område."}, "Rapporten är flyttad till COUNCIL_Z."),
    ],
)
def test_the_message_after_an_action_says_what_it_did(client, w, action, data, message):
    """Not "Klart: <the button's label>": the report's new status, or where it went."""
    w.dev_x.status = Status.SUBMITTED
    w.dev_x.save()
    data = {k: (w.council_z.pk if v == "COUNCIL_Z" else v) for k, v in data.items()}
    client.force_login(w.regional)
    response = client.post(action_url(w.dev_x, action), data, follow=True)
    assert [str(m) for m in response.context["messages"]] == [message.replace("COUNCIL_Z", str(w.council_z))]


def test_the_error_summary_names_a_field_once(client, w):
    """An error that names its field ("Motivering (…) måste fyllas i.") is not prefixed with the label
    again in the summary; one that does not name it is."""
    import html as html_module

    w.dev_x.status = Status.TRIAGE
    w.dev_x.save()
    client.force_login(w.coord_x)
    page = client.post(action_url(w.dev_x, "escalate"), {"text": ""})
    assert page.status_code == 200
    content = html_module.unescape(page.content.decode())
    summary = content[content.index("error-summary") :]
    summary = summary[: summary.index("</ul>")]
    label = str(page.context["form"].fields["text"].label)
    assert f"{label} måste fyllas i." in summary and f"{label}: {label}" not in summary


# --- Scoping -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "sees_x", "sees_y"),
    [
        ("coord_x", True, False),
        ("member_x", True, False),
        ("coord_y", False, True),
        ("regional", True, True),
        ("reporter_a", True, False),
        ("reporter_b", False, True),
        ("responder", False, False),
    ],
)
def test_detail_scoping(client, w, username, sees_x, sees_y):
    client.force_login(getattr(w, username))
    assert client.get(detail_url(w.dev_x)).status_code == (200 if sees_x else 404)
    assert client.get(detail_url(w.dev_y)).status_code == (200 if sees_y else 404)


def test_detail_requires_login(client, w):
    response = client.get(detail_url(w.dev_x))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_counterpart_sees_report_only_while_asked(client, w):
    request = factories.ResponseRequestFactory(deviation=w.dev_x, organization=w.org_psych)
    client.force_login(w.responder)
    response = client.get(detail_url(w.dev_x))
    assert response.status_code == 200
    assert b"rapportor@example.se" not in response.content and b"a@example.se" not in response.content
    assert client.get(detail_url(w.dev_y)).status_code == 404
    request.answered_at = request.requested_at
    request.save()
    assert client.get(detail_url(w.dev_x)).status_code == 404


def test_unconfirmed_report_is_invisible_even_to_its_council(client, w):
    w.dev_x.status = Status.UNCONFIRMED
    w.dev_x.save()
    client.force_login(w.coord_x)
    assert client.get(detail_url(w.dev_x)).status_code == 404


@pytest.mark.parametrize(
    ("username", "expected"),
    [("coord_x", 200), ("regional", 200), ("reporter_a", 404), ("responder", 404)],
)
def test_queue_access(client, w, username, expected):
    client.force_login(getattr(w, username))
    assert client.get(reverse("deviations:queue")).status_code == expected


def test_queue_shows_only_own_councils_reports(client, w):
    client.force_login(w.coord_x)
    content = client.get(reverse("deviations:queue")).content.decode()
    assert w.dev_x.reference in content and w.dev_y.reference not in content


def test_escalated_queue_is_for_regional_coordinators_only(client, w):
    w.dev_y.status = Status.ESCALATED
    w.dev_y.save()
    client.force_login(w.coord_x)
    assert client.get(reverse("deviations:escalated")).status_code == 404
    client.force_login(w.regional)
    content = client.get(reverse("deviations:escalated")).content.decode()
    assert w.dev_y.reference in content and w.dev_x.reference not in content


def test_detail_page_forms_are_cached_by_content_language_and_release(client, w, settings):
    """crispy's rendering of the page's unbound forms costs about a quarter of the page's CPU: kept
    under keys made of the forms' content, the language and the release (cached_forms), so each
    language gets its own HTML and a deploy never serves the previous release's."""
    cache.clear()
    client.force_login(w.coord_x)
    swedish = client.get(detail_url(w.dev_x)).content.decode()
    english = client.get("/en" + detail_url(w.dev_x)).content.decode()
    for content, label in ((swedish, "Anteckning"), (english, "Note")):
        assert 'name="intern-text"' in content and 'name="rapportor-text"' in content
        assert re.search(rf'<label\s+for="id_intern-text"[^>]*>\s*{label}<', content)
    stored = set(cache._cache)
    # The forms, and the contributing factors' checkboxes (config.render_cache.content_key).
    assert stored and all(
        ":crispy:" in key or ":template.cache.report_factor_groups." in key for key in stored
    )
    assert sum(":template.cache.report_factor_groups." in key for key in stored) == 2  # sv, en
    settings.RELEASE = "next-release"
    client.get(detail_url(w.dev_x))
    assert set(cache._cache) > stored  # the new release's own entries


# --- Detail page: only allowed actions -------------------------------------------------------------


def test_detail_shows_only_allowed_actions(client, w):
    client.force_login(w.coord_x)
    content = client.get(detail_url(w.dev_x)).content.decode()
    assert action_url(w.dev_x, "start_triage") in content
    assert action_url(w.dev_x, "reject") in content
    assert action_url(w.dev_x, "close") not in content
    assert action_url(w.dev_x, "start_regional_analysis") not in content
    client.force_login(w.reporter_a)
    content = client.get(detail_url(w.dev_x)).content.decode()
    assert "/atgard/" not in content


def test_reporter_sees_reporter_visible_notes_but_not_internal_ones(client, w):
    factories.DeviationEventFactory(deviation=w.dev_x, text="HEMLIG intern text")
    factories.DeviationEventFactory(
        deviation=w.dev_x, text="Till dig som rapporterade", visibility=DeviationEvent.Visibility.REPORTER
    )
    client.force_login(w.reporter_a)
    content = client.get(detail_url(w.dev_x)).content.decode()
    assert "Till dig som rapporterade" in content and "HEMLIG" not in content
    client.force_login(w.coord_x)
    content = client.get(detail_url(w.dev_x)).content.decode()
    assert "Till dig som rapporterade" in content and "HEMLIG" in content


# --- Transitions through the view -------------------------------------------------------------------


def test_transition_view_applies_simple_action(client, w):
    client.force_login(w.coord_x)
    response = client.post(action_url(w.dev_x, "start_triage"))
    assert response.status_code == 302
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == Status.TRIAGE


def test_transition_not_allowed_becomes_a_message_not_an_error(client, w):
    client.force_login(w.coord_x)
    response = client.post(action_url(w.dev_x, "close"), {"text": "x"}, follow=True)
    assert response.status_code == 200
    assert "inte tillåten" in response.content.decode()
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == Status.SUBMITTED
    assert not w.dev_x.events.exists()


def test_transition_view_on_foreign_report_is_404(client, w):
    client.force_login(w.coord_y)
    assert client.post(action_url(w.dev_x, "start_triage")).status_code == 404
    assert client.get(action_url(w.dev_x, "reject")).status_code == 404


def test_close_requires_feedback(client, w):
    w.dev_x.status = Status.TRIAGE
    w.dev_x.save()
    client.force_login(w.coord_x)
    response = client.post(action_url(w.dev_x, "close"), {"text": ""})
    assert response.status_code == 200
    assert "måste fyllas i" in response.content.decode()
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == Status.TRIAGE


def test_reject_as_duplicate_by_reference(client, w, mailoutbox, django_capture_on_commit_callbacks):
    other = factories.DeviationFactory(council=w.council_x, municipality=w.muni_x)
    client.force_login(w.coord_x)
    response = client.post(
        action_url(w.dev_x, "reject"),
        {"reason": RejectReason.DUPLICATE, "duplicate_reference": w.dev_y.reference, "text": "Samma"},
    )
    assert response.status_code == 200, "a report of another council is not found by reference"
    assert "ingen rapport med det referensnumret" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            action_url(w.dev_x, "reject"),
            {
                "reason": RejectReason.DUPLICATE,
                "duplicate_reference": other.reference.lower(),
                "text": "Samma",
            },
        )
    assert response.status_code == 302
    w.dev_x.refresh_from_db()
    assert (w.dev_x.status, w.dev_x.duplicate_of, w.dev_x.reject_reason) == (
        Status.REJECTED,
        other,
        RejectReason.DUPLICATE,
    )
    assert [m.to for m in mailoutbox] == [["a@example.se"]]
    assert "Samma" not in mailoutbox[0].body


def test_reject_form_has_no_select_of_reports(client, w):
    factories.DeviationFactory.create_batch(3, council=w.council_x, municipality=w.muni_x)
    client.force_login(w.coord_x)
    content = client.get(action_url(w.dev_x, "reject")).content.decode()
    assert 'name="duplicate_reference"' in content
    assert "<select" in content  # the reason only
    assert content.count("<option") == len(RejectReason.choices)


def test_reroute_via_view_sends_to_new_council(client, w, mailoutbox, django_capture_on_commit_callbacks):
    factories.CouncilMembershipFactory(council=w.council_y, user=factories.UserFactory(username="coord_y2"))
    client.force_login(w.coord_x)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            action_url(w.dev_x, "reroute"), {"council": w.council_y.pk, "text": "Fel område"}
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("deviations:queue")
    w.dev_x.refresh_from_db()
    assert w.dev_x.council == w.council_y
    assert sorted(mailoutbox[0].to) == ["coord_y2@example.se", "coord_y@example.se"]


def test_escalate_notifies_regional_coordinators(client, w, mailoutbox, django_capture_on_commit_callbacks):
    w.dev_x.status = Status.TRIAGE
    w.dev_x.save()
    client.force_login(w.coord_x)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(action_url(w.dev_x, "escalate"), {"text": "Återkommande i hela länet"})
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == Status.ESCALATED
    assert len(mailoutbox) == 1
    assert sorted(mailoutbox[0].to) == ["regional@example.se"]
    assert w.dev_x.reference in mailoutbox[0].subject
    assert "Återkommande" not in mailoutbox[0].body and w.dev_x.description not in mailoutbox[0].body


# --- Assignment and notes -------------------------------------------------------------------------


def test_assign_to_council_member_writes_event(client, w):
    client.force_login(w.coord_x)
    response = client.post(
        reverse("deviations:assign", args=[w.dev_x.reference]), {"assignee": w.member_x.pk}
    )
    assert response.status_code == 302
    w.dev_x.refresh_from_db()
    assert w.dev_x.assigned_to == w.member_x
    event = w.dev_x.events.get()
    assert (event.kind, event.actor) == (DeviationEvent.Kind.ASSIGNMENT, w.coord_x)


def test_cannot_assign_to_someone_outside_the_council(client, w):
    client.force_login(w.coord_x)
    client.post(reverse("deviations:assign", args=[w.dev_x.reference]), {"assignee": w.coord_y.pk})
    w.dev_x.refresh_from_db()
    assert w.dev_x.assigned_to is None
    assert not w.dev_x.events.exists()


def test_reporter_cannot_assign_or_add_notes(client, w):
    client.force_login(w.reporter_a)
    client.post(reverse("deviations:assign", args=[w.dev_x.reference]), {"me": "1"})
    client.post(reverse("deviations:note", args=[w.dev_x.reference, "intern"]), {"intern-text": "x"})
    w.dev_x.refresh_from_db()
    assert w.dev_x.assigned_to is None
    assert not w.dev_x.events.exists()


def test_notes_internal_and_reporter_visible(client, w, mailoutbox, django_capture_on_commit_callbacks):
    client.force_login(w.member_x)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("deviations:note", args=[w.dev_x.reference, "intern"]), {"intern-text": "Internt"}
        )
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("deviations:note", args=[w.dev_x.reference, "rapportor"]), {"rapportor-text": "Synligt"}
        )
    assert [m.to for m in mailoutbox] == [["a@example.se"]]
    assert "Synligt" not in mailoutbox[0].body and w.dev_x.reference in mailoutbox[0].subject
    visibilities = dict(w.dev_x.events.values_list("text", "visibility"))
    assert visibilities == {
        "Internt": DeviationEvent.Visibility.INTERNAL,
        "Synligt": DeviationEvent.Visibility.REPORTER,
    }


@pytest.mark.parametrize(
    ("visibility", "text", "message"),
    [
        ("intern", "", "Anteckningen får inte vara tom."),
        ("intern", "Ring 811218-9876 om detta", "personnummer"),
        ("rapportor", "   ", "Anteckningen får inte vara tom."),
    ],
)
def test_a_refused_note_is_shown_in_an_error_summary_with_the_text_kept(client, w, visibility, text, message):
    """The note's form comes back with an error summary (which app.js focuses: seen and announced, not
    only on the field far down the page), linked to the field, the text kept; nothing is saved."""
    client.force_login(w.member_x)
    response = client.post(
        reverse("deviations:note", args=[w.dev_x.reference, visibility]), {f"{visibility}-text": text}
    )
    assert response.status_code == 200
    content = response.content.decode()
    summary = content[content.index('class="alert alert-danger error-summary"') :]
    summary = summary[: summary.index("</div>")]
    assert message in summary and f'href="#id_{visibility}-text"' in summary
    if text.strip():
        assert text in content[content.index(f'id="id_{visibility}-text"') :]
    assert not w.dev_x.events.exists()


# --- Queue: filters, sorting, keyset pagination, query counts --------------------------------------


def _queue_refs(client, **params):
    response = client.get(reverse("deviations:queue"), params)
    assert response.status_code == 200
    return [d.reference for d in response.context["page"]], response


def test_queue_filters(client, w):
    other_org = factories.OrganizationFactory(name="Annan org")
    late = factories.DeviationFactory(
        council=w.council_x, municipality=w.muni_x, reporting_organization=other_org
    )
    factories.ResponseRequestFactory(deviation=late, organization=w.org_psych, due_on="2020-01-01")
    w.dev_x.assigned_to = w.coord_x
    w.dev_x.status = Status.TRIAGE
    w.dev_x.save()
    client.force_login(w.regional)
    assert _queue_refs(client, status="triage")[0] == [w.dev_x.reference]
    assert _queue_refs(client, council=w.council_y.pk)[0] == [w.dev_y.reference]
    refs, response = _queue_refs(client, overdue="on")
    assert refs == [late.reference]
    # The row is flagged (the overdue requests are read for the page's rows only).
    assert [d.reference for d in response.context["page"] if d.response_overdue] == [late.reference]
    assert 'text-bg-danger">Försenat yttrande' in response.content.decode()
    _, everything = _queue_refs(client)
    assert [d.reference for d in everything.context["page"] if d.response_overdue] == [late.reference]
    assert _queue_refs(client, organization=other_org.pk)[0] == [late.reference]
    # Counterpart organisations count too.
    assert set(_queue_refs(client, organization=w.org_psych.pk)[0]) == {w.dev_x.reference}
    assert _queue_refs(client, q=w.dev_y.reference)[0] == [w.dev_y.reference]
    client.force_login(w.coord_x)
    assert _queue_refs(client, assigned="me")[0] == [w.dev_x.reference]
    assert _queue_refs(client, assigned="none")[0] == [late.reference]


def test_queue_free_text_search(client, w):
    w.dev_y.description = "Psykiatrin vägrade ta emot patienten på grund av pågående missbruk."
    w.dev_y.save()
    client.force_login(w.regional)
    assert _queue_refs(client, q="missbruk")[0] == [w.dev_y.reference]


def test_queue_counts_per_status_ignore_status_filter(client, w):
    w.dev_y.status = Status.TRIAGE
    w.dev_y.save()
    client.force_login(w.regional)
    _, response = _queue_refs(client, status="triage")
    counts = {row["value"]: row["count"] for row in response.context["status_rows"]}
    assert counts[Status.TRIAGE] == 1 and counts[Status.SUBMITTED] == 1


def test_queue_with_an_invalid_status_shows_no_rows_but_the_counts_of_the_other_filters(client, w):
    client.force_login(w.regional)
    refs, response = _queue_refs(client, status="bogus", council=w.council_x.pk)
    assert refs == []
    assert response.context["filter"].form.errors
    counts = {row["value"]: row["count"] for row in response.context["status_rows"]}
    assert counts[Status.SUBMITTED] == 1  # dev_x only: the council filter still applies


def test_queue_sort_whitelist_and_keyset_pages(client, w):
    refs = [
        factories.DeviationFactory(council=w.council_x, municipality=w.muni_x).reference for _ in range(30)
    ]
    client.force_login(w.coord_x)
    first, response = _queue_refs(client, sort="reference")
    all_refs = sorted([*refs, w.dev_x.reference])
    assert first == all_refs[:25]
    page = response.context["page"]
    assert page.previous_cursor is None and page.next_cursor
    second, response = _queue_refs(client, sort="reference", after=page.next_cursor)
    assert second == all_refs[25:]
    assert response.context["page"].next_cursor is None
    back, _ = _queue_refs(client, sort="reference", before=response.context["page"].previous_cursor)
    assert back == all_refs[:25]
    # Unknown sort keys and forged cursors fall back to the first page by newest.
    fallback, _ = _queue_refs(client, sort="description", after="forged")
    assert len(fallback) == 25
    desc, _ = _queue_refs(client, sort="-reference")
    assert desc == list(reversed(all_refs))[:25]


def _count_queue_queries(client, user):
    client.force_login(user)
    client.get(reverse("deviations:queue"))  # a fresh session is saved once (SessionRefreshMiddleware)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("deviations:queue"), {"size": 100})
    assert response.status_code == 200
    return len(ctx.captured_queries), len(response.context["page"])


def test_queue_query_count_is_constant_whatever_the_page_size(client, w, django_assert_max_num_queries):
    for _ in range(4):
        factories.DeviationFactory(council=w.council_x, municipality=w.muni_x, assigned_to=w.member_x)
    small, rows_small = _count_queue_queries(client, w.coord_x)
    for _ in range(45):
        factories.DeviationFactory(council=w.council_x, municipality=w.muni_x, assigned_to=w.member_x)
    large, rows_large = _count_queue_queries(client, w.coord_x)
    assert (rows_small, rows_large) == (5, 50)
    assert small == large
    with django_assert_max_num_queries(QUEUE_BUDGET):
        response = client.get(reverse("deviations:queue"), {"size": 25})
    # A deep page (keyset cursor) and a filtered page cost the same number of queries.
    cursor = response.context["page"].next_cursor
    with CaptureQueriesContext(connection) as deep:
        assert client.get(reverse("deviations:queue"), {"size": 25, "after": cursor}).status_code == 200
    params = {"status": ["submitted", "triage"], "assigned": "none"}
    with CaptureQueriesContext(connection) as new_filter:
        assert client.get(reverse("deviations:queue"), params).status_code == 200
    with CaptureQueriesContext(connection) as filtered:
        assert client.get(reverse("deviations:queue"), params).status_code == 200
    assert len(deep.captured_queries) == len(filtered.captured_queries) == QUEUE_BUDGET
    assert not any("DISTINCT" in q["sql"] for q in filtered.captured_queries)
    # A filter not seen before renders its form: plus one query per reference choice list (agreements,
    # categories, municipalities, organisations: no council choice for a member of one council).
    assert len(new_filter.captured_queries) == QUEUE_BUDGET + 4


def test_queue_names_are_read_once_per_version_of_the_reference_data(client, w):
    client.force_login(w.coord_x)
    client.get(reverse("deviations:queue"))
    w.agreement.name = "Omdöpt överenskommelse"
    w.agreement.short_name = ""
    w.agreement.save()
    with CaptureQueriesContext(connection) as changed:
        html = client.get(reverse("deviations:queue")).content.decode()
    assert "Omdöpt överenskommelse" in html
    # A new version: the four lists of names and the filter form's four choice lists, once.
    assert len(changed.captured_queries) == QUEUE_BUDGET + 4 + 4
    with CaptureQueriesContext(connection) as again:
        assert "Omdöpt överenskommelse" in client.get(reverse("deviations:queue")).content.decode()
    assert len(again.captured_queries) == QUEUE_BUDGET


def _filter_form(html: str) -> str:
    return html[html.index('<form method="get"') :].split("</form>", 1)[0]


def _filter_form_fragments():
    return [key for key in cache._cache if "queue-filter-form" in key]


def test_queue_filter_form_is_cached_by_its_content(client, w):
    cache.clear()
    client.force_login(w.regional)
    url = reverse("deviations:queue")
    first = client.get(url).content.decode()
    assert len(_filter_form_fragments()) == 1
    # Same language, values and choices: served from the cache (no new fragment), same HTML.
    assert client.get(url, {"after": "x", "sort": "reference"}).status_code == 200
    assert len(_filter_form_fragments()) == 1
    assert _filter_form(client.get(url).content.decode()) == _filter_form(first)
    # A renamed organisation is part of the key: it shows at once, no invalidation needed.
    w.org_psych.name = "Psykiatri Omdöpt"
    w.org_psych.save()
    assert "Psykiatri Omdöpt" in client.get(url).content.decode()
    assert len(_filter_form_fragments()) == 2


def test_queue_filter_form_cached_by_one_release_is_not_served_by_the_next(client, w, settings):
    cache.clear()
    client.force_login(w.regional)
    url = reverse("deviations:queue")
    settings.RELEASE = "2026.1"
    first = client.get(url)
    key = make_template_fragment_key("queue-filter-form", [first.context["filter_cache_key"]])
    cache.set(key, "<p>Filter form of release 2026.1</p>")
    assert "Filter form of release 2026.1" in client.get(url).content.decode()
    settings.RELEASE = "2026.2"
    second = client.get(url)
    assert second.context["filter_cache_key"] != first.context["filter_cache_key"]
    assert "Filter form of release 2026.1" not in second.content.decode()
    assert _filter_form(second.content.decode()) == _filter_form(first.content.decode())
    assert len(_filter_form_fragments()) == 2


def test_queue_filter_form_shows_the_submitted_values_and_never_caches_errors(client, w):
    cache.clear()
    client.force_login(w.regional)
    url = reverse("deviations:queue")
    one = client.get(url, {"council": w.council_x.pk}).content.decode()
    other = client.get(url, {"council": w.council_y.pk}).content.decode()
    assert f'<option value="{w.council_x.pk}" selected>' in one
    assert f'<option value="{w.council_y.pk}" selected>' in other
    assert f'<option value="{w.council_x.pk}" selected>' not in other
    fragments = len(_filter_form_fragments())
    # A search text is never kept in the cache.
    response = client.get(url, {"q": "utskrivning Svensson"})
    assert response.context["filter_cache_key"] is None
    assert 'value="utskrivning Svensson"' in response.content.decode()
    assert len(_filter_form_fragments()) == fragments
    response = client.get(url, {"occurred_after": "inte-ett-datum"})
    assert response.context["filter"].form.errors
    assert response.context["filter_cache_key"] is None
    assert "is-invalid" in response.content.decode()
    assert len(_filter_form_fragments()) == fragments


def test_status_counts_are_bounded_and_say_so(client, w, monkeypatch):
    from deviations import selectors

    monkeypatch.setattr(selectors, "STATUS_COUNT_LIMIT", 3)
    for _ in range(5):
        factories.DeviationFactory(council=w.council_x, municipality=w.muni_x, status="triage")
    client.force_login(w.coord_x)
    response = client.get(reverse("deviations:queue"))
    row = next(r for r in response.context["status_rows"] if r["value"] == "triage")
    assert row == row | {"count": 3, "capped": True}
    assert response.context["total_capped"]
    assert "fler än 3" in response.content.decode()


def test_detail_query_count_does_not_grow_with_the_table(client, w):
    client.force_login(w.coord_x)
    client.get(detail_url(w.dev_x))  # a fresh session is saved once (SessionRefreshMiddleware)
    with CaptureQueriesContext(connection) as ctx:
        client.get(detail_url(w.dev_x))
    before = len(ctx.captured_queries)
    factories.DeviationFactory.create_batch(
        20, council=w.council_x, municipality=w.muni_x, agreement=w.agreement, category=w.category
    )
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(detail_url(w.dev_x))
    assert len(ctx.captured_queries) == before
    assert len(response.context["similar"]) == 5


def test_free_text_search_uses_the_search_index(db):
    from django.db import connection as conn

    from deviations.filters import text_search
    from deviations.models import Deviation

    with conn.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = text_search(Deviation.objects.order_by(), "utskrivning missbruk").explain()
    assert "deviation_search_idx" in plan


@pytest.mark.parametrize("username", ["coord_y", "reporter_b", "responder"])
def test_every_report_action_url_is_404_on_a_foreign_report(client, w, username):
    client.force_login(getattr(w, username))
    ref = w.dev_x.reference
    assert client.post(reverse("deviations:assign", args=[ref]), {"me": "1"}).status_code == 404
    assert (
        client.post(reverse("deviations:note", args=[ref, "intern"]), {"intern-text": "x"}).status_code == 404
    )
    assert client.get(action_url(w.dev_x, "reject")).status_code == 404
    assert client.post(action_url(w.dev_x, "start_triage")).status_code == 404
    w.dev_x.refresh_from_db()
    assert (w.dev_x.status, w.dev_x.assigned_to) == (Status.SUBMITTED, None)
    assert not w.dev_x.events.exists()


def test_status_counts_of_a_filter_that_matches_nothing_are_zero(db):
    from deviations.models import Deviation
    from deviations.selectors import status_counts

    factories.DeviationFactory()
    assert status_counts(Deviation.objects.filter(pk__in=[])) == {}
