"""A non-editable install works: the wheel holds the templates, static files and translations, leaves the
development code out, and the lock files pin every dependency pyproject.toml names."""

import os
import re
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("*.whl")
    return built


def test_the_wheel_holds_templates_static_files_and_translations_and_no_development_code(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "config/templates/base.html",
        "config/static/css/app.css",
        "config/locale/en/LC_MESSAGES/django.mo",
        "deviations/templates/deviations/queue.html",
        "deviations/migrations/0001_initial.py",
        "deviations/data/given_names.txt",  # the name warning's lists
        "deviations/data/surnames.txt",
    ):
        assert expected in names, expected
    tops = {name.split("/")[0] for name in names}
    assert not tops & {"tests", "bench", "devdata", "templates", "static", "locale"}
    assert not any(name.endswith((".pyc", ".po~")) or "__pycache__" in name for name in names)


def test_an_installed_wheel_runs_without_the_source_tree(wheel, tmp_path):
    """The wheel unpacked alone on sys.path (the dependencies from this environment, not the checkout):
    Django starts, finds the templates, the static files and the English catalogue."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    dependencies = sysconfig.get_paths()["purelib"]
    code = (
        "import django, sys; django.setup();"
        "from django.conf import settings; from django.template.loader import get_template;"
        "from django.contrib.staticfiles import finders; from django.utils import translation;"
        "import config; assert not config.__file__.startswith(sys.argv[1]), config.__file__;"
        "get_template('base.html'); get_template('deviations/queue.html');"
        "assert finders.find('css/app.css');"
        "translation.activate('en'); print(translation.gettext('Överenskommelse'))"
    )
    env = {
        **os.environ,
        # Only the unpacked wheel and the installed dependencies: no checkout, no editable install.
        "PYTHONPATH": os.pathsep.join([str(site), dependencies]),
        "PYTHONNOUSERSITE": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "ENV_FILE": os.devnull,
        "DEBUG": "False",
        "SECRET_KEY": "x" * 60,
    }
    result = subprocess.run(
        [sys.executable, "-S", "-c", code, str(ROOT)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Agreement"


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for requirement in requirements:
        name, version = re.match(r"([A-Za-z0-9_.\-\[\]]+)==([^;\s]+)", requirement).groups()
        pins[re.sub(r"\[.*\]", "", name).lower().replace("_", "-")] = version
    return pins


def _locked(path: Path) -> dict[str, str]:
    return {
        m.group(1).lower().replace("_", "-"): m.group(2)
        for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==(\S+)", path.read_text(), re.MULTILINE)
    }


def test_the_lock_files_pin_what_pyproject_names_with_hashes():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    production = _locked(ROOT / "requirements" / "production.lock")
    development = _locked(ROOT / "requirements" / "dev.lock")
    for name, version in _pins(project["dependencies"]).items():
        assert production.get(name) == version, f"{name}: run `python3 dev.py lock`"
        assert development.get(name) == version, f"{name}: run `python3 dev.py lock`"
    for name, version in _pins(project["optional-dependencies"]["dev"]).items():
        assert development.get(name) == version, f"{name}: run `python3 dev.py lock`"
    for lock in ("production.lock", "dev.lock"):
        text = (ROOT / "requirements" / lock).read_text()
        # One block per package: "name==version ; markers \" then its "--hash=sha256:..." lines.
        blocks = [b for b in re.split(r"\n(?=\S)", text) if re.match(r"[A-Za-z0-9]", b)]
        assert blocks and all("--hash=sha256:" in block for block in blocks), lock
