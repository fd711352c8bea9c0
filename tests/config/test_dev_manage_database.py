"""A plain ``.venv/bin/python manage.py …`` in a development checkout reaches the embedded PostgreSQL
that dev.py's ``.env`` names, also when no dev.py is running it: manage.py starts it for the command
(``dev.join_embedded_database_for``) and it stops when the command ends."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
import dev
import psycopg

dev.ROOT = Path({project!r})
dev.PGDATA = dev.ROOT / ".pgdata"
dev.join_embedded_database_for({{}})
with psycopg.connect(host=str(dev.PGDATA), user="postgres", dbname=dev.DEV_DATABASE) as conn:
    print("answered", conn.execute("SELECT 1").fetchone()[0])
"""


@pytest.fixture
def project():
    # Readable by the server's own user (the embedded server does not run as root).
    directory = Path(tempfile.mkdtemp(prefix="sb-dev-manage-"))
    directory.chmod(0o755)
    yield directory
    subprocess.run(["rm", "-rf", str(directory)], check=False)


def run(project: Path) -> subprocess.CompletedProcess:
    code = SCRIPT.format(root=str(ROOT), project=str(project))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def test_the_dotenv_url_of_a_stopped_embedded_server_starts_it_for_the_command(project):
    (project / ".pgdata").mkdir(mode=0o755)
    (project / ".env").write_text(
        f"DEBUG=True\nDATABASE_URL=postgres://postgres@/samverkansbrister?host={project}/.pgdata\n"
    )
    result = run(project)
    assert "answered 1" in result.stdout, result.stderr[-2000:]
    assert not list((project / ".pgdata").glob(".s.PGSQL.*"))  # stopped when the command ended


def test_another_database_is_left_alone(project):
    (project / ".pgdata").mkdir(mode=0o755)
    (project / ".env").write_text("DEBUG=True\nDATABASE_URL=postgres://postgres@127.0.0.1:5432/other\n")
    result = run(project)
    assert "answered" not in result.stdout
    assert not (project / ".pgdata" / "PG_VERSION").exists()  # no server was made there


FRESH = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
import dev
import psycopg

dev.ROOT = Path({project!r})
dev.PGDATA = dev.ROOT / ".pgdata"
environ = {{}}
dev.join_embedded_database_for(environ)
print("url", environ["DATABASE_URL"])
with psycopg.connect(host=str(dev.PGDATA), user="postgres", dbname=dev.DEV_DATABASE) as conn:
    print("answered", conn.execute("SELECT 1").fetchone()[0])
"""


def test_a_fresh_checkout_without_any_database_url_gets_the_embedded_server(project):
    """No DATABASE_URL and no .env (a fresh clone): ``manage.py makemigrations --check`` and the like
    run against the embedded server, made in ``.pgdata`` for the command and stopped after it."""
    code = FRESH.format(root=str(ROOT), project=str(project))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=180
    )
    assert f"url postgres://postgres@/samverkansbrister?host={project}/.pgdata" in result.stdout, (
        result.stderr[-2000:]
    )
    assert "answered 1" in result.stdout
    assert not list((project / ".pgdata").glob(".s.PGSQL.*"))  # stopped when the command ended
