"""schemathesis against the API's own OpenAPI schema: for a bounded number of generated requests per
operation, no 5xx, and every response (status code, content type, body) matches the schema."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api import services
from deviations.workflow import Status
from tests import factories

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())

#: No 5xx, and every answer (status code, content type, headers, body) as the schema says. (Whether the
#: API is strict or lenient about input the schema does not allow is not checked here.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

#: Examples per operation: enough to walk every parameter's edge cases, bounded for CI.
MAX_EXAMPLES = 25


@pytest.fixture
def regional_token(db):
    regional = factories.UserFactory(username="regional-api")
    factories.CouncilMembershipFactory(council=factories.RegionalCouncilFactory(), user=regional)
    council = factories.CouncilFactory()
    agreement = factories.AgreementFactory(code="PSYK")
    for status in (Status.SUBMITTED, Status.CLOSED, Status.ESCALATED):
        factories.DeviationFactory(council=council, agreement=agreement, status=status)
    factories.SystemicIssueFactory(created_by=regional, agreements=[agreement])
    _token, secret = services.create_token(user=regional, name="schemathesis", days=1)
    return secret


@pytest.fixture(autouse=True)
def _in_the_test_transaction(settings):
    """The WSGI app is called in-process, inside the test's transaction: like Django's test client,
    keep the request signals from closing that connection. Generated requests come fast: no rate limit
    here (test_api.py tests it)."""
    from django.core import signals
    from django.db import close_old_connections

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
def test_every_operation_answers_within_its_schema(case, regional_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {regional_token}"}, checks=CHECKS)
