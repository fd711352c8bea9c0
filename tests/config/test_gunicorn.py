"""The gunicorn settings every server of the app uses (config/gunicorn.py), read by gunicorn itself."""

import subprocess
import sys
from pathlib import Path

from gunicorn.app.wsgiapp import WSGIApplication

ROOT = Path(__file__).resolve().parents[2]
CONFIG = "config/gunicorn.py"

#: The longest request measured: the streamed XLSX of an agreement-year at national scale (10M
#: reports), in seconds of CPU (bench/RESULTS.md, 2026-12-04 evening).
LONGEST_REQUEST = 27


def loaded(monkeypatch, **environ):
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", ["gunicorn", "config.wsgi", "-c", CONFIG])
    monkeypatch.chdir(ROOT)
    app = WSGIApplication()  # parses argv and loads the file, as `gunicorn` does
    return app.cfg


def test_a_sync_worker_is_not_killed_in_the_middle_of_the_longest_export(monkeypatch):
    """A sync worker tells the arbiter it is alive only between requests: a request longer than the
    timeout is cut off, a streamed download half-sent. gunicorn's default (30 s) is barely above the
    national year's XLSX on an idle machine."""
    cfg = loaded(monkeypatch)
    assert cfg.worker_class_str == "sync"
    assert cfg.timeout >= 4 * LONGEST_REQUEST
    assert cfg.graceful_timeout >= LONGEST_REQUEST


def test_no_access_log_and_the_bind_and_workers_of_production(monkeypatch):
    cfg = loaded(monkeypatch)
    assert cfg.accesslog is None
    assert cfg.bind == ["0.0.0.0:8000"]
    assert cfg.workers == 3
    assert loaded(monkeypatch, WEB_CONCURRENCY="8").workers == 8


def test_gunicorn_accepts_the_file():
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-c", CONFIG, "--check-config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_every_way_of_serving_the_app_uses_it():
    for name in ("Dockerfile", "docker-compose.yml", "README.md", "bench/run.py", "bench/cluster.py"):
        text = (ROOT / name).read_text()
        assert CONFIG in text, name
    assert "--workers 3`" not in (ROOT / "README.md").read_text()
