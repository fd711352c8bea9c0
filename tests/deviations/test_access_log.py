"""The access log: every opening of a report's detail page is recorded and readable by admins only."""

import pytest

from deviations.models import AccessLog
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator_and_report():
    council = factories.CouncilFactory()
    coordinator = factories.UserFactory(username="samordnare")
    factories.CouncilMembershipFactory(council=council, user=coordinator)
    return coordinator, factories.DeviationFactory(council=council, reference="SB-2026-00007")


def test_opening_the_detail_page_is_logged(client, coordinator_and_report):
    coordinator, report = coordinator_and_report
    client.force_login(coordinator)
    assert client.get(f"/rapporter/{report.reference}/").status_code == 200
    assert client.get(f"/rapporter/{report.reference}/").status_code == 200
    logs = list(AccessLog.objects.all())
    assert len(logs) == 2
    assert {(log.user, log.deviation) for log in logs} == {(coordinator, report)}
    assert all(log.at is not None for log in logs)


def test_a_refused_detail_page_is_not_logged(client, coordinator_and_report):
    _, report = coordinator_and_report
    client.force_login(factories.UserFactory())
    assert client.get(f"/rapporter/{report.reference}/").status_code == 404
    assert client.get("/rapporter/SB-2026-99999/").status_code == 404
    assert not AccessLog.objects.exists()


def test_admin_lists_and_searches_the_log_by_reference(client, superuser, coordinator_and_report):
    coordinator, report = coordinator_and_report
    other = factories.DeviationFactory(council=report.council, reference="SB-2026-00008")
    AccessLog.objects.create(user=coordinator, deviation=report)
    AccessLog.objects.create(user=coordinator, deviation=other)
    client.force_login(superuser)
    response = client.get("/admin/deviations/accesslog/", {"q": "SB-2026-00007"})
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert [row.deviation for row in rows] == [report]
    assert response.context["cl"].model_admin.list_filter


def test_admin_log_is_read_only(client, superuser, coordinator_and_report):
    coordinator, report = coordinator_and_report
    log = AccessLog.objects.create(user=coordinator, deviation=report)
    client.force_login(superuser)
    assert client.get("/admin/deviations/accesslog/add/").status_code == 403
    response = client.post(f"/admin/deviations/accesslog/{log.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    response = client.get(f"/admin/deviations/accesslog/{log.pk}/change/")
    assert response.status_code == 200  # a view-only page
    assert b'name="_save"' not in response.content
    assert AccessLog.objects.filter(pk=log.pk).exists()


def test_staff_without_permission_cannot_read_the_log(client, coordinator_and_report):
    staff = factories.UserFactory(username="personal", is_staff=True)
    client.force_login(staff)
    assert client.get("/admin/deviations/accesslog/").status_code == 403
