import os

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from config.query_count import QueryCountMiddleware
from councils.models import User
from tests import factories

MIDDLEWARE_PATH = "config.query_count.QueryCountMiddleware"


@pytest.mark.skipif(
    os.environ.get("BENCH_QUERY_COUNT"), reason="BENCH_QUERY_COUNT is set in this environment"
)
def test_query_count_middleware_is_off_unless_bench_asks_for_it():
    assert MIDDLEWARE_PATH not in django_settings.MIDDLEWARE


@pytest.mark.django_db
def test_header_holds_the_number_of_queries_the_view_ran():
    def view(request):
        for _ in range(3):
            User.objects.count()
        return HttpResponse("ok")

    response = QueryCountMiddleware(view)(RequestFactory().get("/"))

    assert response["X-Query-Count"] == "3"


@pytest.mark.django_db
def test_header_is_zero_for_a_view_without_queries():
    response = QueryCountMiddleware(lambda request: HttpResponse("ok"))(RequestFactory().get("/"))

    assert response["X-Query-Count"] == "0"


@pytest.mark.django_db
def test_header_counts_every_query_of_a_real_request_including_middleware(
    client, settings, regional_coordinator
):
    settings.MIDDLEWARE = [MIDDLEWARE_PATH, *settings.MIDDLEWARE]
    deviation = factories.DeviationFactory()
    client.force_login(regional_coordinator)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/rapporter/{deviation.reference}/")

    assert response.status_code == 200
    assert int(response["X-Query-Count"]) == len(queries) > 0
