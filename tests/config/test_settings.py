"""Settings come from the environment. Each case imports the settings in a fresh interpreter."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VARIABLES = (
    "DEBUG",
    "SECRET_KEY",
    "DATABASE_URL",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "EMAIL_URL",
    "SITE_URL",
    "TASKS_BACKEND",
    "RESPONSE_DEADLINE_DAYS",
    "SECURE_SSL_REDIRECT",
    "TIME_ZONE",
    "LANGUAGE_CODE",
    "RELEASE",
)
PRODUCTION = {
    "DEBUG": "False",
    "SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-0123456789",
    "DATABASE_URL": "postgres://sb:hemligt@db.example.se:5433/samverkan",
    "ALLOWED_HOSTS": "samverkan.example.se,www.samverkan.example.se",
    "CSRF_TRUSTED_ORIGINS": "https://samverkan.example.se",
    "SITE_URL": "https://samverkan.example.se/",
    "EMAIL_URL": "smtp+tls://avsandare:losen@smtp.example.se:587",
}
PRINT = """
import json, django
from django.conf import settings
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "SECRET_KEY": settings.SECRET_KEY,
    "DB": {k: settings.DATABASES["default"][k] for k in ("ENGINE", "NAME", "USER", "HOST", "PORT")},
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "CSRF_TRUSTED_ORIGINS": settings.CSRF_TRUSTED_ORIGINS,
    "SITE_URL": settings.SITE_URL,
    "MAILER": settings.MAILERS["default"],
    "TASKS": settings.TASKS["default"]["BACKEND"],
    "RESPONSE_DEADLINE_DAYS": settings.RESPONSE_DEADLINE_DAYS,
    "SESSION_COOKIE_SECURE": getattr(settings, "SESSION_COOKIE_SECURE", False),
    "CSRF_COOKIE_SECURE": getattr(settings, "CSRF_COOKIE_SECURE", False),
    "SECURE_SSL_REDIRECT": getattr(settings, "SECURE_SSL_REDIRECT", False),
    "SECURE_HSTS_SECONDS": getattr(settings, "SECURE_HSTS_SECONDS", 0),
    "SECURE_PROXY_SSL_HEADER": getattr(settings, "SECURE_PROXY_SSL_HEADER", None),
    "TIME_ZONE": settings.TIME_ZONE,
    "LANGUAGE_CODE": settings.LANGUAGE_CODE,
}))
"""


def run(code_or_args, **env):
    """Run python in a clean environment (none of the variables above inherited), from the project root
    and with no .env file influence beyond what the test passes."""
    clean = {k: v for k, v in os.environ.items() if k not in VARIABLES and not k.startswith("DJANGO")}
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings", ENV_FILE=os.devnull)
    args = ["-c", code_or_args] if isinstance(code_or_args, str) else code_or_args
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def settings_with(**env):
    result = run(PRINT, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_values_come_from_the_environment():
    values = settings_with(**PRODUCTION, RESPONSE_DEADLINE_DAYS="30")
    assert values["DEBUG"] is False
    assert values["SECRET_KEY"] == PRODUCTION["SECRET_KEY"]
    assert values["DB"] == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "samverkan",
        "USER": "sb",
        "HOST": "db.example.se",
        "PORT": 5433,
    }
    assert values["ALLOWED_HOSTS"] == ["samverkan.example.se", "www.samverkan.example.se"]
    assert values["CSRF_TRUSTED_ORIGINS"] == ["https://samverkan.example.se"]
    assert values["SITE_URL"] == "https://samverkan.example.se"
    assert values["MAILER"]["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert values["MAILER"]["OPTIONS"]["host"] == "smtp.example.se"
    assert values["MAILER"]["OPTIONS"]["port"] == 587
    assert values["MAILER"]["OPTIONS"]["use_tls"] is True
    assert values["TASKS"] == "django_tasks_db.DatabaseBackend"
    assert values["RESPONSE_DEADLINE_DAYS"] == 30
    # DEBUG off means production-safe.
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SECURE_SSL_REDIRECT"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["TIME_ZONE"] == "Europe/Stockholm"
    assert values["LANGUAGE_CODE"] == "sv"


def test_development_defaults():
    values = settings_with(DEBUG="True")
    assert values["DEBUG"] is True
    assert values["SECRET_KEY"].startswith("django-insecure")
    assert values["DB"]["ENGINE"] == "django.db.backends.sqlite3"
    assert values["DB"]["NAME"] == str(ROOT / "db.sqlite3")
    assert values["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"]
    assert values["MAILER"]["BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert values["SITE_URL"] == "http://127.0.0.1:8000"
    assert not values["SESSION_COOKIE_SECURE"]
    assert not values["SECURE_SSL_REDIRECT"]


def test_debug_is_off_unless_asked_for_and_then_needs_a_secret_key():
    result = run(PRINT)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    result = run(PRINT, DEBUG="False")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **{**PRODUCTION, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


DB_OPTIONS = """
import json, django
from django.conf import settings
print(json.dumps(settings.DATABASES["default"].get("OPTIONS", {})))
"""


def test_postgresql_prepares_statements_but_plans_each_for_its_values():
    url = "postgres://sb:hemligt@db.example.se:5433/samverkan"
    result = run(DB_OPTIONS, DEBUG="True", DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    options = json.loads(result.stdout.strip().splitlines()[-1])
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5
    # A generic plan for a prepared statement knows no filter values (a filtered queue page went from
    # 2 to 270 ms): every execution is planned for its values.
    assert "-c plan_cache_mode=force_custom_plan" in options["options"]
    assert "-c jit=off" in options["options"]
    assert "-c enable_memoize=off" in options["options"]
    result = run(DB_OPTIONS, DEBUG="True", DATABASE_URL=url, DATABASE_SERVER_SIDE_BINDING="False")
    options = json.loads(result.stdout.strip().splitlines()[-1])
    assert "server_side_binding" not in options and "plan_cache_mode" not in options["options"]
    assert "-c enable_memoize=off" in options["options"]


def test_the_database_connection_uses_custom_plans(postgres_only):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "force_custom_plan"
        cursor.execute("SHOW enable_memoize")
        assert cursor.fetchone()[0] == "off"


def test_the_release_comes_from_the_environment_or_the_installed_version():
    code = "from django.conf import settings; print(settings.RELEASE)"
    installed = run("from importlib.metadata import version; print(version('samverkansbrister'))")
    assert run(code, **PRODUCTION).stdout.strip() == installed.stdout.strip() != ""
    assert run(code, **PRODUCTION, RELEASE="2026.11.3-abc1234").stdout.strip() == "2026.11.3-abc1234"
