"""The database router with a read replica (config/db_routing.py), against real databases: the test
database stands in for the replica under a second alias (a real connection of its own), and a port
where nothing listens for a replica that is down. The streaming replica itself, its lag and a stopped
replica are in the cluster test (tests/cluster/)."""

import io
import time
from urllib.parse import urlencode

import pytest
from django.core import signing
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from config import db_routing
from config.db_routing import ALIAS_HEADER, PIN_COOKIE, REPLICA, replica_reads, use_replica
from councils.models import User
from tests import factories
from tests.followup import dataset as dataset_module

FOLLOWUP = reverse("followup:followup")


@pytest.fixture
def routing_settings(settings):
    settings.DATABASE_ALIAS_HEADER = True
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 5
    settings.DATABASE_REPLICA_HEALTH_SECONDS = 3
    return settings


# The alias itself comes from the ``replica_alias`` marker (tests/config/conftest.py): it must exist
# before pytest-django sets up the test's databases. Committed data only (a connection of its own).
def with_replica(test, *, down=False):
    test = pytest.mark.replica_alias(down=down)(test)
    return pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])(test)


def with_replica_down(test):
    return with_replica(test, down=True)


@pytest.fixture
def replica(routing_settings):
    # The test database's name is known once it exists.
    connections[REPLICA].settings_dict["NAME"] = connections[DEFAULT_DB_ALIAS].settings_dict["NAME"]
    return REPLICA


@pytest.fixture
def dataset(replica, regional_council):
    return dataset_module.build(regional_council)


def sign_in(client, user) -> None:
    """Signed in, the session's first refresh done, and as long ago as the pin lasts."""
    client.force_login(user)
    client.get(reverse("home"))
    client.cookies.pop(PIN_COOKIE, None)


def followup_params(dataset) -> dict:
    return {
        "agreement": dataset.agreement.pk,
        "period_type": "year",
        "year": 2026,
        "scope": "county",
        "basis": "reported_on",
    }


# --- Without a replica ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_without_replica_every_read_goes_to_the_primary_and_nothing_is_pinned(client, routing_settings):
    assert REPLICA not in connections.settings
    with use_replica() as alias:
        assert alias == DEFAULT_DB_ALIAS
        assert User.objects.all().db == DEFAULT_DB_ALIAS
    user = factories.UserFactory()
    client.force_login(user)
    response = client.post(reverse("logout"))
    assert PIN_COOKIE not in response.cookies
    assert ALIAS_HEADER not in response


# --- Routing decisions ---------------------------------------------------------------------------


@with_replica
def test_reads_in_use_replica_go_to_the_replica_and_every_other_read_to_the_primary(replica):
    factories.UserFactory(username="committed")
    assert User.objects.all().db == DEFAULT_DB_ALIAS
    with use_replica() as alias, CaptureQueriesContext(connections[REPLICA]) as on_replica:
        assert alias == REPLICA
        assert list(User.objects.values_list("username", flat=True)) == ["committed"]
    assert len(on_replica.captured_queries) == 1
    assert User.objects.all().db == DEFAULT_DB_ALIAS


@with_replica
def test_a_write_goes_to_the_primary_and_pins_the_rest_of_the_block(replica):
    factories.UserFactory(username="committed")
    with use_replica():
        user = User.objects.get(username="committed")
        assert user._state.db == REPLICA
        user.first_name = "Ändrad"
        with CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary:
            user.save()  # read from the replica, written to the primary
        assert any(q["sql"].startswith("UPDATE") for q in on_primary.captured_queries)
        # Read your own write: the rest of the block reads from the primary.
        assert User.objects.all().db == DEFAULT_DB_ALIAS
    assert User.objects.get(username="committed").first_name == "Ändrad"


@with_replica
def test_reads_inside_a_transaction_on_the_primary_stay_there(replica):
    with use_replica(), transaction.atomic():
        assert User.objects.all().db == DEFAULT_DB_ALIAS


@with_replica
def test_the_replica_is_never_migrated(replica):
    router = db_routing.PrimaryReplicaRouter()
    assert router.allow_migrate(REPLICA, "deviations") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "deviations") is None


@with_replica
def test_lag_of_a_primary_standing_in_as_replica_is_zero(replica):
    assert db_routing.replica_lag() == 0.0


@with_replica
def test_a_replica_lagging_beyond_the_bound_is_not_used(replica, routing_settings, monkeypatch):
    lag = {"value": 6.0}
    monkeypatch.setattr(db_routing, "replica_lag", lambda: lag["value"])
    with use_replica() as alias:
        assert alias == DEFAULT_DB_ALIAS
    # The answer is kept for DATABASE_REPLICA_HEALTH_SECONDS.
    lag["value"] = 1.0
    with use_replica() as alias:
        assert alias == DEFAULT_DB_ALIAS
    db_routing.reset_replica_health()
    with use_replica() as alias:
        assert alias == REPLICA


# --- Through the views ---------------------------------------------------------------------------


@with_replica
def test_followup_page_and_export_read_from_the_replica(client, dataset, regional_coordinator):
    sign_in(client, regional_coordinator)
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        response = client.get(FOLLOWUP, followup_params(dataset))
    assert response.status_code == 200
    assert response[ALIAS_HEADER] == REPLICA
    assert response.context["stats"].total == 9
    assert on_replica.captured_queries
    # The streamed CSV keeps reading from the replica while it streams.
    response = client.get(reverse("followup:export", args=["rapporter", "csv"]), followup_params(dataset))
    assert response[ALIAS_HEADER] == REPLICA
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        rows = b"".join(response.streaming_content).decode().splitlines()
    assert len(rows) == 1 + 9
    assert on_replica.captured_queries
    # So does the XLSX, its rows read in a transaction on the replica's connection, not the primary's.
    response = client.get(reverse("followup:export", args=["rapporter", "xlsx"]), followup_params(dataset))
    assert response[ALIAS_HEADER] == REPLICA
    chunks = iter(response.streaming_content)
    content = [next(chunks)]
    with (
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
    ):
        content.extend(chunks)
    assert on_replica.captured_queries and not on_primary.captured_queries
    assert not connections[REPLICA].in_atomic_block
    assert load_workbook(io.BytesIO(b"".join(content)))["Rapporter"].max_row == 1 + 9


@with_replica
def test_the_followup_statistics_are_read_from_the_replica_not_only_the_orm_reads(
    client, dataset, regional_coordinator
):
    """The follow-up's statistics are SQL of its own (the summary, the pending changes, the days of a
    month read from the reports): they go where the page's ORM reads go."""
    sign_in(client, regional_coordinator)
    with (
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
    ):
        response = client.get(FOLLOWUP, followup_params(dataset))
    assert response[ALIAS_HEADER] == REPLICA
    assert response.context["stats"].total == 9

    def summary_reads(queries):
        return [q["sql"] for q in queries.captured_queries if "deviations_followupsummary" in q["sql"]]

    assert summary_reads(on_replica)
    assert not summary_reads(on_primary)


@with_replica
def test_meeting_pack_reads_from_the_replica(client, dataset, regional_coordinator):
    sign_in(client, regional_coordinator)
    council = factories.CouncilFactory()
    response = client.get(reverse("followup:meeting_pack", args=[council.pk]))
    assert response.status_code == 200
    assert response[ALIAS_HEADER] == REPLICA


@with_replica
def test_a_browser_that_wrote_reads_from_the_primary_until_the_pin_expires(
    client, dataset, regional_coordinator, routing_settings, monkeypatch
):
    sign_in(client, regional_coordinator)
    response = client.post(
        f"{reverse('followup:save_analysis')}?{urlencode(followup_params(dataset))}",
        {"analysis": "Ny analys", "recommendations": "", "followup_areas": ""},
    )
    assert response.status_code == 302
    pin = response.cookies[PIN_COOKIE]
    assert pin["httponly"] and pin["max-age"] == 8  # lag bound 5 s + health answer 3 s
    response = client.get(FOLLOWUP, followup_params(dataset))
    assert response[ALIAS_HEADER] == DEFAULT_DB_ALIAS
    assert response.context["analysis"].analysis == "Ny analys"
    # Nine seconds later the signed cookie is no longer accepted (a browser would have dropped it).
    later = time.time() + 9
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert client.get(FOLLOWUP, followup_params(dataset))[ALIAS_HEADER] == REPLICA


@with_replica
def test_a_forged_pin_cookie_is_ignored(client, dataset, regional_coordinator):
    sign_in(client, regional_coordinator)
    client.cookies[PIN_COOKIE] = "1"
    assert client.get(FOLLOWUP, followup_params(dataset))[ALIAS_HEADER] == REPLICA


@with_replica
def test_signing_in_pins_the_browser(client, replica):
    user = factories.UserFactory(username="anna")
    user.set_password("ett-langt-losenord-1")
    user.save()
    response = client.post(reverse("login"), {"username": "anna", "password": "ett-langt-losenord-1"})
    assert response.status_code == 302
    assert PIN_COOKIE in response.cookies


# --- Fallback when the replica is down -----------------------------------------------------------


@pytest.fixture
def world_with_replica_down(routing_settings, regional_council):
    return dataset_module.build(regional_council)


@with_replica_down
def test_a_replica_that_is_down_sends_reads_to_the_primary_and_is_asked_again_after_a_while(
    client, world_with_replica_down, regional_coordinator, routing_settings, monkeypatch
):
    probes = []
    real_lag = db_routing.replica_lag
    monkeypatch.setattr(db_routing, "replica_lag", lambda: probes.append(1) or real_lag())
    sign_in(client, regional_coordinator)
    for _ in range(3):
        response = client.get(FOLLOWUP, followup_params(world_with_replica_down))
        assert response.status_code == 200
        assert response[ALIAS_HEADER] == DEFAULT_DB_ALIAS
        assert PIN_COOKIE not in response.cookies
    assert len(probes) == 1  # the answer is cached for DATABASE_REPLICA_HEALTH_SECONDS
    routing_settings.DATABASE_REPLICA_HEALTH_SECONDS = 0
    client.get(FOLLOWUP, followup_params(world_with_replica_down))
    assert len(probes) == 2


@with_replica_down
def test_a_view_whose_replica_fails_midway_runs_again_on_the_primary(
    client, world_with_replica_down, regional_coordinator
):
    # The cached answer still says "usable": the replica went down since.
    db_routing._health.usable = True
    db_routing._health.checked_at = time.monotonic()
    sign_in(client, regional_coordinator)
    response = client.get(FOLLOWUP, followup_params(world_with_replica_down))
    assert response.status_code == 200
    assert response[ALIAS_HEADER] == DEFAULT_DB_ALIAS
    assert response.context["stats"].total == 9


@with_replica_down
def test_an_error_on_a_healthy_replica_is_not_hidden(replica, rf):
    @replica_reads
    def broken(request):
        User.objects.raw("SELECT nonsense FROM nowhere")[0]

    with pytest.raises(Exception, match="nowhere"):
        broken(rf.get("/"))
