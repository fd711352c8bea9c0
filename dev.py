#!/usr/bin/env python3
"""The two commands of this project, for a fresh clone on a machine with Python 3.12+.

    python3 dev.py run     # virtualenv, install, migrate, reference + demo data, serve on :8000
    python3 dev.py test    # the whole test suite (pytest); extra arguments go to pytest
    python3 dev.py messages  # update locale/*/django.po from the code and compile the .mo files

Only the standard library is used here, so it runs before anything is installed. It creates
``.venv`` with the first Python >= 3.12 it finds (Django 6 needs 3.12) and re-runs itself inside it.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
MIN_PYTHON = (3, 12)
STAMP = VENV / ".installed-from"


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
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT, **kwargs)


def ensure_venv() -> None:
    if not VENV_PYTHON.exists():
        run(find_python(), "-m", "venv", VENV)
    pyproject = (ROOT / "pyproject.toml").read_bytes()
    if not STAMP.exists() or STAMP.read_bytes() != pyproject:
        run(VENV_PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        run(VENV_PYTHON, "-m", "pip", "install", "--quiet", "-e", ".[dev]")
        STAMP.write_bytes(pyproject)


def ensure_dotenv() -> None:
    """A development ``.env`` (git-ignored) so that a plain ``.venv/bin/python manage.py ...`` works
    too; production never has one (the Docker image excludes it) and sets its own environment."""
    dotenv = ROOT / ".env"
    if not dotenv.exists():
        dotenv.write_text(
            "# Development settings written by dev.py; never use this file in production.\nDEBUG=True\n"
        )


def environment() -> dict:
    env = dict(os.environ)
    # Development defaults; production sets DEBUG=False and a real SECRET_KEY.
    env.setdefault("DEBUG", "True")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def manage(*args, env):
    run(VENV_PYTHON, "manage.py", *args, env=env)


def cmd_run(extra: list[str]) -> None:
    env = environment()
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
    result = subprocess.run([str(VENV_PYTHON), "-m", "pytest", *extra], cwd=ROOT, env=env)
    sys.exit(result.returncode)


# Where no user-facing strings live (tests/config/test_i18n.py extracts with the same list).
MESSAGES_IGNORE = [".venv", "node_modules", "tests", "bench", "staticfiles"]


def cmd_messages(extra: list[str]) -> None:
    """Extract the (Swedish) strings into locale/en and locale/sv, keeping existing translations, and
    compile them. Needs GNU gettext (``apt install gettext``). New strings get an empty msgstr, changed
    ones a fuzzy guess: translate them in locale/en/LC_MESSAGES/django.po, run this again, commit both
    the .po and the .mo files."""
    env = environment()
    ignore = [f"--ignore={pattern}" for pattern in MESSAGES_IGNORE]
    manage("makemessages", "-l", "en", "-l", "sv", "--no-obsolete", *ignore, *extra, env=env)
    manage("compilemessages", *ignore, env=env)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in {"run", "test", "messages", "--install-only"}:
        sys.exit(__doc__)
    ensure_venv()
    ensure_dotenv()
    if sys.argv[1] == "--install-only":
        return
    {"run": cmd_run, "test": cmd_test, "messages": cmd_messages}[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
