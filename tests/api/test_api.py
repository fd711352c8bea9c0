"""The read API: the national REST API profile's conventions, scoping like the web pages, tokens."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api import services
from api.models import ApiToken
from deviations import summary
from deviations.models import AccessLog
from deviations.workflow import Status
from tests import factories

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


@pytest.fixture
def world(db):
    class W:
        pass

    w = W()
    w.regional_council = factories.RegionalCouncilFactory()
    w.regional = factories.UserFactory(username="regional")
    factories.CouncilMembershipFactory(council=w.regional_council, user=w.regional)
    w.muni_x = factories.MunicipalityFactory(name="Xköping")
    w.council_x = factories.CouncilFactory(name="Samråd X", municipalities=[w.muni_x])
    w.council_y = factories.CouncilFactory(name="Samråd Y")
    w.coord_x = factories.UserFactory(username="coord_x")
    factories.CouncilMembershipFactory(council=w.council_x, user=w.coord_x)
    w.reporter = factories.UserFactory(username="reporter")
    w.agreement = factories.AgreementFactory(code="PSYK")
    w.x = [
        factories.DeviationFactory(
            council=w.council_x,
            municipality=w.muni_x,
            agreement=w.agreement,
            reporter=w.reporter,
            reporter_name="Anna Rapportör",
            reporter_email="anna@example.se",
            reporter_phone="070-111 11 11",
        )
        for _ in range(3)
    ]
    w.y = factories.DeviationFactory(council=w.council_y, agreement=w.agreement)
    w.unconfirmed = factories.DeviationFactory(status=Status.UNCONFIRMED, council=w.council_x)
    w.issue = factories.SystemicIssueFactory(created_by=w.regional, agreements=[w.agreement])
    summary.rebuild()  # the reports were made by factories, past the services that keep it
    return w


def client_with_token(user, days=30) -> APIClient:
    _token, secret = services.create_token(user=user, name="Test", days=days)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def refs(response):
    return sorted(r["reference"] for r in response.json()["results"])


def test_api_info_is_public(client):
    response = client.get("/api/v1/api-info")
    assert response.status_code == 200
    body = response.json()
    assert body["apiName"] == "samverkansbrister" and body["apiVersion"] == "1.0.0"
    assert body["apiStatus"] == "active" and body["apiDocumentation"].endswith("/api/dokumentation/")


def test_without_credentials_the_answer_is_a_problem_document(client, world):
    response = client.get("/api/v1/reports/")
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == 401 and body["title"] and body["instance"] == "/api/v1/reports/"


def test_unknown_paths_and_bad_tokens_are_problem_documents(client, world):
    response = client.get("/api/v1/finns-inte")
    assert (response.status_code, response["Content-Type"]) == (404, PROBLEM)
    response = client.get("/api/v1/reports/", HTTP_AUTHORIZATION="Bearer sb_nonsense")
    assert (response.status_code, response["Content-Type"]) == (401, PROBLEM)


def test_reports_are_scoped_like_the_web_pages(world):
    # A local coordinator sees their council's reports, never another council's or unconfirmed ones.
    assert refs(client_with_token(world.coord_x).get("/api/v1/reports/")) == sorted(
        d.reference for d in world.x
    )
    assert client_with_token(world.coord_x).get(f"/api/v1/reports/{world.y.reference}").status_code == 404
    assert client_with_token(world.regional).get("/api/v1/reports/").json()["count"] == 4
    # A reporter sees their own reports.
    assert refs(client_with_token(world.reporter).get("/api/v1/reports/")) == sorted(
        d.reference for d in world.x
    )
    other = factories.UserFactory()
    assert client_with_token(other).get("/api/v1/reports/").json()["count"] == 0


def test_reports_carry_no_contact_data_and_reading_one_is_logged(world):
    client = client_with_token(world.coord_x)
    deviation = world.x[0]
    response = client.get(f"/api/v1/reports/{deviation.reference}")
    assert response.status_code == 200
    text = response.content.decode()
    for secret in ("Anna Rapportör", "anna@example.se", "070-111 11 11", "reporter_email", "reporter"):
        assert secret not in text.replace("reporting_organization", "")
    assert AccessLog.objects.filter(user=world.coord_x, deviation=deviation).count() == 1


def test_paging_follows_the_profile(world):
    for _ in range(22):
        factories.DeviationFactory(council=world.council_x, municipality=world.muni_x)
    client = client_with_token(world.coord_x)
    first = client.get("/api/v1/reports/").json()
    assert (first["page"], first["limit"], first["count"], len(first["results"])) == (1, 20, 25, 20)
    assert first["previous"] is None and "page=2" in first["next"]
    second = client.get("/api/v1/reports/", {"page": 2, "limit": 20}).json()
    assert len(second["results"]) == 5 and second["next"] is None
    assert client.get("/api/v1/reports/", {"limit": 1000}).json()["limit"] == 100
    # Past the last page: an empty page; below 1 or not a number: a 400 problem.
    beyond = client.get("/api/v1/reports/", {"page": 9}).json()
    assert beyond["results"] == [] and beyond["next"] is None and "page=2" in beyond["previous"]
    for bad in ({"page": 0}, {"page": "x"}, {"limit": 0}):
        response = client.get("/api/v1/reports/", bad)
        assert (response.status_code, response["Content-Type"]) == (400, PROBLEM), bad


def test_filters_are_query_parameters_and_bad_values_are_a_400_problem(world):
    client = client_with_token(world.regional)
    world.y.status = Status.CLOSED
    world.y.save(update_fields=["status"])
    assert refs(client.get("/api/v1/reports/", {"status": "closed"})) == [world.y.reference]
    assert (
        client.get("/api/v1/reports/", {"agreement": "PSYK", "council": world.council_x.pk}).json()["count"]
        == 3
    )
    response = client.get("/api/v1/reports/", {"status": "nonsense", "reported_from": "igår"})
    assert (response.status_code, response["Content-Type"]) == (400, PROBLEM)
    assert {"status", "reported_from"} <= set(response.json()["errors"])


def test_systemic_issues_are_for_the_regional_level_only(world):
    assert client_with_token(world.regional).get("/api/v1/systemic-issues/").json()["count"] == 1
    assert (
        client_with_token(world.regional).get(f"/api/v1/systemic-issues/{world.issue.pk}").status_code == 200
    )
    for user in (world.coord_x, world.reporter):
        assert client_with_token(user).get("/api/v1/systemic-issues/").status_code == 404
        assert client_with_token(user).get(f"/api/v1/systemic-issues/{world.issue.pk}").status_code == 404


def test_statistics_use_the_follow_up_selection_and_mask_small_numbers_locally(world):
    year = timezone.localdate().year
    params = {"agreement": world.agreement.pk, "period_type": "year", "year": year, "scope": "county"}
    regional = client_with_token(world.regional).get("/api/v1/statistics/", params)
    assert regional.status_code == 200
    body = regional.json()
    assert body["total"] == 4 and body["masked"] is False and body["scope"]["kind"] == "county"
    # A local coordinator may not choose the county; their council is theirs, masked.
    local = client_with_token(world.coord_x)
    refused = local.get("/api/v1/statistics/", params)
    assert (refused.status_code, refused["Content-Type"]) == (400, PROBLEM)
    assert "scope" in refused.json()["errors"]
    own = local.get("/api/v1/statistics/", {**params, "scope": f"council:{world.council_x.pk}"}).json()
    assert own["total"] == 3 and own["masked"] is True
    # Without any follow-up scope: nothing to see.
    assert client_with_token(world.reporter).get("/api/v1/statistics/", params).status_code == 404


def test_a_browser_session_reads_the_api_too(client, world):
    client.force_login(world.coord_x)
    assert client.get("/api/v1/reports/").json()["count"] == 3


def test_the_api_is_read_only(world):
    client = client_with_token(world.regional)
    response = client.post("/api/v1/reports/", {}, format="json")
    assert (response.status_code, response["Content-Type"]) == (405, PROBLEM)
    assert client.delete(f"/api/v1/reports/{world.x[0].reference}").status_code == 405


# --- Tokens -----------------------------------------------------------------------------------------


def test_tokens_are_stored_hashed_and_shown_once(client, world):
    client.force_login(world.coord_x)
    response = client.post(reverse("api_pages:tokens"), {"name": "Excel", "days": 90})
    assert response.status_code == 200
    secret = response.context["new_token"]
    assert secret.startswith("sb_")
    token = ApiToken.objects.get(user=world.coord_x)
    assert secret not in (token.digest, token.token_key) and token.digest != secret
    assert token.expiry.date() == (timezone.now() + datetime.timedelta(days=90)).date()
    # Shown once: the list page afterwards holds only its beginning.
    page = client.get(reverse("api_pages:tokens")).content.decode()
    assert secret not in page and token.token_key in page


def test_an_expired_token_is_refused(world):
    client = client_with_token(world.coord_x, days=30)
    ApiToken.objects.update(expiry=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get("/api/v1/reports/")
    assert (response.status_code, response["Content-Type"]) == (401, PROBLEM)


def test_a_revoked_token_is_refused_and_only_its_owner_may_revoke_it(client, world):
    api = client_with_token(world.coord_x)
    token = ApiToken.objects.get(user=world.coord_x)
    client.force_login(world.regional)
    assert client.post(reverse("api_pages:revoke", args=[token.token_key])).status_code == 404
    assert api.get("/api/v1/reports/").status_code == 200
    client.force_login(world.coord_x)
    assert client.post(reverse("api_pages:revoke", args=[token.token_key])).status_code == 302
    assert api.get("/api/v1/reports/").status_code == 401


def test_a_deactivated_users_token_is_refused(world):
    api = client_with_token(world.coord_x)
    world.coord_x.is_active = False
    world.coord_x.save(update_fields=["is_active"])
    assert api.get("/api/v1/reports/").status_code == 401


def test_token_form_refuses_bad_input(client, world):
    client.force_login(world.coord_x)
    response = client.post(reverse("api_pages:tokens"), {"name": "", "days": 9999})
    assert response.status_code == 200 and not ApiToken.objects.exists()
    assert set(response.context["form"].errors) == {"name", "days"}
    response = client.post(reverse("api_pages:tokens"), {"name": "Nyckel 811218-9876", "days": 30})
    assert "personnummer" in str(response.context["form"].errors["name"]) and not ApiToken.objects.exists()


def test_requests_are_rate_limited_in_the_cache_every_node_shares(world, settings):
    from django.core.cache import cache, caches
    from rest_framework.throttling import UserRateThrottle

    shared = caches["ratelimit"]  # RATELIMIT_CACHE_URL: a PostgreSQL table, not a per-process cache
    shared.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "3/minute", "anon": "3/minute"},
    }
    UserRateThrottle.THROTTLE_RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    try:
        client = client_with_token(world.coord_x)
        codes = [client.get("/api/v1/reports/").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        response = client.get("/api/v1/reports/")
        assert response["Content-Type"] == PROBLEM and int(response["Retry-After"]) > 0
        key = f"throttle_user_{world.coord_x.pk}"
        assert len(shared.get(key)) == 3 and cache.get(key) is None
    finally:
        from rest_framework.settings import api_settings

        UserRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        shared.clear()


def test_documentation_pages_in_swedish_and_english(client):
    swedish = client.get(reverse("api_pages:documentation"))
    assert swedish.status_code == 200 and "Sidindelning" in swedish.content.decode()
    assert "/api/v1/reports/" in swedish.content.decode()
    english = client.get("/en" + reverse("api_pages:documentation"))
    assert english.status_code == 200 and "Paging" in english.content.decode()


def test_the_committed_schema_is_the_generated_one():
    from pathlib import Path

    from django.core.management import call_command
    from django.utils import translation

    committed = Path(__file__).resolve().parents[2] / "api" / "openapi.yaml"
    generated = Path(committed.parent / ".openapi.check.yaml")
    try:
        with translation.override("sv"):
            call_command("spectacular", "--file", str(generated), "--validate", "--fail-on-warn")
        assert generated.read_text() == committed.read_text(), (
            "run: manage.py spectacular --file api/openapi.yaml"
        )
    finally:
        generated.unlink(missing_ok=True)
