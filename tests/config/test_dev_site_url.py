"""`python3 dev.py run <address>`: links in e-mails point at the address the server answers on."""

import importlib.util
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dev():
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("address", "url"),
    [
        ("127.0.0.1:8011", "http://127.0.0.1:8011"),
        ("8080", "http://127.0.0.1:8080"),
        ("localhost:9000", "http://localhost:9000"),
        ("[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_site_url_of_a_runserver_address(dev, address, url):
    assert dev.site_url(address) == url


@pytest.mark.parametrize("any_interface", ["0.0.0.0:8080", "[::]:8080", "0:8080"])
def test_site_url_of_every_interface_is_this_machine(dev, any_interface):
    assert dev.site_url(any_interface) == f"http://{socket.gethostname()}:8080"


def run_and_capture(dev, monkeypatch, args, env):
    """Run ``cmd_run`` with the database, manage.py and the worker replaced; returns the environment
    manage.py commands would get."""
    seen = {}

    def manage(*command, env):
        seen.setdefault("env", env)
        seen.setdefault("commands", []).append(command)

    class Worker:
        def __init__(self, *args, **kwargs):
            pass

        def terminate(self):
            pass

        def wait(self, timeout=None):
            pass

    monkeypatch.setattr(dev, "environment", lambda: dict(env))
    monkeypatch.setattr(dev, "manage", manage)
    monkeypatch.setattr(dev.subprocess, "Popen", Worker)
    dev.cmd_run(args)
    return seen


def test_run_with_another_address_sets_the_links_in_e_mails(dev, monkeypatch):
    seen = run_and_capture(dev, monkeypatch, ["127.0.0.1:8011"], {})
    assert seen["env"]["SITE_URL"] == "http://127.0.0.1:8011"
    assert ("runserver", "127.0.0.1:8011") in seen["commands"]


def test_run_without_an_address_links_to_the_default(dev, monkeypatch):
    assert run_and_capture(dev, monkeypatch, [], {})["env"]["SITE_URL"] == "http://127.0.0.1:8000"


def test_a_site_url_set_by_the_developer_wins(dev, monkeypatch):
    seen = run_and_capture(dev, monkeypatch, ["0.0.0.0:8080"], {"SITE_URL": "https://sb.example.se"})
    assert seen["env"]["SITE_URL"] == "https://sb.example.se"
