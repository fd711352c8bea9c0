"""What the queue page keeps between requests: each row's HTML by its content (``{% queue_rows %}``),
the names of the reference data and the filter form by the reference data's version. A change to a
report, a name, an assignee, the language or the release shows at once; nobody sees a row their
queue does not list."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements.models import Organization
from councils.models import Municipality
from deviations import selectors
from deviations.services.assignment import assign_deviation
from deviations.services.transitions import apply_transition
from deviations.workflow import Status
from tests import factories
from tests.deviations.triage_world import QUEUE_BUDGET, build_world, fast_passwords  # noqa: F401

pytestmark = pytest.mark.django_db

QUEUE = reverse("deviations:queue")


@pytest.fixture
def w(db):
    cache.clear()
    return build_world()


def _row_keys() -> list[str]:
    # locmem's own keys are ":<version>:<key>".
    return [key.split(":", 2)[2] for key in cache._cache if "queue-row:" in key]


def _row_fragments() -> list[str]:
    return [cache.get(key) for key in _row_keys()]


def _row(html: str, reference: str) -> str:
    start = html.rindex("<tr>", 0, html.index(f'value="{reference}"'))
    return html[start : html.index("</tr>", start) + len("</tr>")]


def test_a_row_renders_what_the_report_shows(client, w):
    second = factories.RegionOrganizationFactory(name="Beroendevård Ö")
    w.dev_x.counterpart_organizations.add(second)
    assign_deviation(deviation=w.dev_x, assignee=w.member_x, actor=w.coord_x)
    w.member_x.first_name, w.member_x.last_name = "Maria", "Ek"
    w.member_x.save()
    client.force_login(w.regional)
    row = _row(client.get(QUEUE).content.decode(), w.dev_x.reference)
    assert f'<a href="/rapporter/{w.dev_x.reference}/">{w.dev_x.reference}</a>' in row
    assert '<span class="badge status-badge status-submitted">Inkommen</span>' in row
    assert '<td lang="sv">Psykisk ohälsa<br><span class="small">Utskrivning</span></td>' in row
    assert "<td>Samråd X</td>" in row  # the council column of the regional level
    # Counterparts in the order of their names, the assignee by name.
    assert "<td>Socialtjänst X → Beroendevård Ö, Psykiatri Syd</td>" in row
    assert "<td>Maria Ek</td>" in row
    assert f'<td class="text-nowrap">{w.dev_x.occurred_on.isoformat()}</td>' in row


def test_rows_are_served_from_the_cache_and_a_change_shows_at_once(client, w):
    client.force_login(w.coord_x)
    first = _row(client.get(QUEUE).content.decode(), w.dev_x.reference)
    assert _row_fragments() == [f"\n    {first}\n  "]
    assert _row(client.get(QUEUE).content.decode(), w.dev_x.reference) == first
    assert len(_row_fragments()) == 1
    # The report changes: another row content, another key.
    triaged = apply_transition(deviation=w.dev_x, action="start_triage", actor=w.coord_x)
    assign_deviation(deviation=triaged, assignee=w.member_x, actor=w.coord_x)
    row = _row(client.get(QUEUE).content.decode(), w.dev_x.reference)
    assert "status-triage" in row and f"<td>{w.member_x.get_full_name() or w.member_x.username}</td>" in row
    # A renamed colleague and a renamed organisation show on the next page.
    w.member_x.first_name, w.member_x.last_name = "Kerstin", "Berg"
    w.member_x.save()
    Organization.objects.filter(pk=w.org_psych.pk).update(name="Psykiatri Omdöpt")  # no signals
    row = _row(client.get(QUEUE).content.decode(), w.dev_x.reference)
    assert "Kerstin Berg" in row and "Psykiatri Omdöpt" in row and "Psykiatri Syd" not in row


def test_rows_follow_the_language_of_the_request(client, w):
    client.force_login(w.coord_x)
    assert "Inkommen" in _row(client.get(QUEUE).content.decode(), w.dev_x.reference)
    row = _row(client.get(f"/en{QUEUE}").content.decode(), w.dev_x.reference)
    assert "Received" in row and "Inkommen" not in row
    assert f'href="/en/rapporter/{w.dev_x.reference}/"' in row
    assert f"Select {w.dev_x.reference}" in row


def test_rows_cached_by_one_release_are_not_served_by_the_next(client, w, settings):
    client.force_login(w.coord_x)
    settings.RELEASE = "2026.1"
    client.get(QUEUE)
    (key,) = _row_keys()
    cache.set(key, cache.get(key).replace("Inkommen", "Release 2026.1"))
    assert "Release 2026.1" in client.get(QUEUE).content.decode()
    settings.RELEASE = "2026.2"
    html = client.get(QUEUE).content.decode()
    assert "Release 2026.1" not in html and "Inkommen" in html
    assert len(_row_fragments()) == 2


def test_nobody_sees_a_row_their_queue_does_not_list(client, w):
    client.force_login(w.coord_y)
    assert w.dev_y.reference in client.get(QUEUE).content.decode()  # its row is now in the cache
    client.force_login(w.coord_x)
    html = client.get(QUEUE).content.decode()
    assert w.dev_x.reference in html and w.dev_y.reference not in html
    client.force_login(w.member_x)
    html = client.get(QUEUE, {"status": [Status.SUBMITTED]}).content.decode()
    assert w.dev_y.reference not in html


def test_the_filter_form_shows_a_change_of_the_councils_area_at_once(client, w):
    """The municipalities offered come from the council's area (a many-to-many table): adding one,
    even with SQL the ORM never sees, is a new version of the reference data, hence a new form."""
    client.force_login(w.coord_x)
    assert "Zstad" not in client.get(QUEUE).content.decode()
    zstad = factories.MunicipalityFactory(name="Zstad")
    assert "Zstad" not in client.get(QUEUE, {"municipality": ""}).content.decode()  # not in the area
    through = w.council_x.municipalities.through
    through.objects.bulk_create([through(council_id=w.council_x.pk, municipality_id=zstad.pk)])
    assert f'<option value="{zstad.pk}">Zstad</option>' in client.get(QUEUE).content.decode()
    Municipality.objects.filter(pk=zstad.pk).update(name="Zköping")
    html = client.get(QUEUE).content.decode()
    assert "Zköping" in html and "Zstad" not in html


def test_without_a_known_version_nothing_is_cached_by_it(client, w):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM agreements_referencedataversion")
    client.force_login(w.coord_x)
    client.get(QUEUE)
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(QUEUE)
        assert response.context["filter_cache_key"] is None
        assert "Psykiatri Syd" in response.content.decode()
        # Every time: the four lists of names and the filter form's four choice lists.
        assert len(queries) == QUEUE_BUDGET + 4 + 4


def test_names_of_reference_rows_added_after_the_version_was_read_are_read_afresh(w):
    """A report filed with a new organisation between the version's read and the page's."""
    names = selectors.reference_names(None)
    newcomer = factories.RegionOrganizationFactory(name="Ny organisation")
    w.dev_x.counterpart_organizations.add(newcomer)
    rows = selectors.queue_rows(
        [
            selectors.queue_queryset(
                type(w.dev_x).objects.filter(pk=w.dev_x.pk), today=w.dev_x.occurred_on
            ).get()
        ],
        names=names,
    )
    assert rows[0].counterparts == "Ny organisation, Psykiatri Syd"


def test_each_filter_of_the_queue_has_its_own_filters_and_fields(w):
    """The filters are copied per instance sharing their settings, and the form class is made once per
    set of filters: nothing one user's filter changes reaches another's."""
    from django.http import QueryDict

    from deviations import queues

    today = w.dev_x.occurred_on
    member = queues.queue_filterset(w.coord_x, queues.MAIN, QueryDict("overdue=on"), today=today)
    regional = queues.queue_filterset(w.regional, queues.MAIN, QueryDict("overdue=on"), today=today)
    assert set(member.filters) != set(regional.filters)  # no council choice for a member of one council
    shared = set(member.filters) & set(regional.filters)
    assert all(member.filters[name] is not regional.filters[name] for name in shared)
    assert all(member.filters[name].parent is member for name in member.filters)
    assert member.filters["overdue"].filter.f is member.filters["overdue"]  # its method: this filterset
    assert member.form.fields["municipality"] is not regional.form.fields["municipality"]
    assert list(member.form.fields["municipality"].queryset) == [w.muni_x]
    assert {w.muni_x, w.muni_y} <= set(regional.form.fields["municipality"].queryset)
    # Same filters, another user: the same form class, fields of their own.
    other = queues.queue_filterset(w.member_x, queues.MAIN, QueryDict(), today=today)
    assert type(other.form) is type(member.form)
    assert other.form.fields["status"] is not member.form.fields["status"]
    assert [d.reference for d in member.qs] == [] and member.is_valid()


@pytest.mark.parametrize("params", [{}, {"status": ["triage", "closed"], "q": 'a "b" & <c>', "after": "x"}])
def test_the_forms_hidden_fields_are_written_as_their_widgets_write_them(client, w, params):
    client.force_login(w.regional)
    for url in (QUEUE, reverse("deviations:escalated")):
        response = client.get(url, params)
        html = response.content.decode()
        save_filter, bulk = response.context["save_filter_form"], response.context["bulk_form"]
        assert f"{save_filter['queue']}{save_filter['query']}" in html
        assert str(bulk["queue"]) in html
