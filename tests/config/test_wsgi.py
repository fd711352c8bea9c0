"""The WSGI application gunicorn serves (config/wsgi.py)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
{load}
names = ("deviations.views.reporting", "followup.views", "saml2")
print(sorted(name for name in names if name in sys.modules))
"""


def _loaded_after(load: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(load=load)],
        cwd=ROOT,
        env=os.environ,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout.strip().splitlines()[-1]


def test_a_worker_loads_the_views_when_it_starts_not_in_its_first_request():
    """Otherwise some user's first request to a new worker waits for the imports (~0.9 s measured)."""
    assert _loaded_after("import django; django.setup()") == "[]"
    assert _loaded_after("import config.wsgi") == "['deviations.views.reporting', 'followup.views', 'saml2']"
