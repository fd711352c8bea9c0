"""Query budgets (issue #8): pages must not make more SQL queries as the data grows."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories

# Session, user, scope, the report (+ its counterparts), the access-log row, the viewer's roles (2),
# events, response requests, duplicates, similar reports (one bounded statement), the menu, the
# assignable handlers (members of the report's council: never all users, never all reports).
DETAIL_BUDGET = 13


def _detail_queries(client, deviation) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/rapporter/{deviation.reference}/")
    assert response.status_code == 200
    return len(queries)


def test_detail_page_query_count_does_not_grow_with_events_or_counterparts(client, regional_coordinator):
    client.force_login(regional_coordinator)
    small = factories.DeviationFactory()
    factories.DeviationEventFactory(deviation=small)
    large = factories.DeviationFactory(counterparts=[factories.RegionOrganizationFactory() for _ in range(4)])
    for _ in range(25):
        factories.DeviationEventFactory(deviation=large, actor=factories.UserFactory())
    _detail_queries(client, small)  # warm caches (content types, sessions)

    assert _detail_queries(client, small) == _detail_queries(client, large) <= DETAIL_BUDGET
