import copy
import socket

import pytest
from django.db import DEFAULT_DB_ALIAS, connections

from config import db_routing


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Tests marked ``replica_alias`` get a ``replica`` database alias before pytest-django sets up
    their databases (it must exist then): the test database itself under a second connection, or with
    ``replica_alias(down=True)`` a server that does not answer (a port where nothing listens)."""
    marker = item.get_closest_marker("replica_alias")
    if marker is None:
        return
    settings_dict = copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict)
    if marker.kwargs.get("down"):
        settings_dict.update(HOST="127.0.0.1", PORT=_closed_port(), CONN_MAX_AGE=0)
        settings_dict["OPTIONS"] = {**settings_dict["OPTIONS"], "connect_timeout": 2}
    settings_dict["TEST"] = {"MIRROR": DEFAULT_DB_ALIAS}
    connections.settings[db_routing.REPLICA] = settings_dict
    db_routing.reset_replica_health()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    if item.get_closest_marker("replica_alias") is None:
        return
    if db_routing.REPLICA in connections.settings:
        connections[db_routing.REPLICA].close()
        del connections[db_routing.REPLICA]
        del connections.settings[db_routing.REPLICA]
    db_routing.reset_replica_health()
