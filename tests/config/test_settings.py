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
)
PRODUCTION = {
    "DEBUG": "False",
    "SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-0123456789",
    "DATABASE_URL": "postgres://sb:hemligt@db.example.se:5433/samverkan",
    "ALLOWED_HOSTS": "samverkan.example.se,www.samverkan.example.se",
    "CSRF_TRUSTED_ORIGINS": "https://samverkan.example.se",
    "SITE_URL": "https://samverkan.example.se/",
    "EMAIL_URL": "smtp+tls://avsandare:losen@smtp.example.se:587",
    # The legal pages name the deploying organisation (pages/checks.py warns on the examples).
    "ORGANIZATION_NAME": "Region Exempel",
    "ORGANIZATION_EMAIL": "registrator@region.example.se",
    "DPO_EMAIL": "dataskyddsombud@region.example.se",
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
    # dev.py's embedded PostgreSQL: a Unix socket directory in the project.
    url = f"postgres://postgres@/samverkansbrister?host={ROOT / '.pgdata'}"
    values = settings_with(DEBUG="True", DATABASE_URL=url)
    assert values["DEBUG"] is True
    assert values["SECRET_KEY"].startswith("django-insecure")
    assert values["DB"]["ENGINE"] == "django.db.backends.postgresql"
    assert values["DB"]["NAME"] == "samverkansbrister"
    assert values["DB"]["HOST"] == str(ROOT / ".pgdata")
    assert values["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"]
    assert values["MAILER"]["BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert values["SITE_URL"] == "http://127.0.0.1:8000"
    assert not values["SESSION_COOKIE_SECURE"]
    assert not values["SECURE_SSL_REDIRECT"]


def test_postgresql_is_the_only_database():
    result = run(PRINT, DEBUG="True")
    assert result.returncode != 0
    assert "DATABASE_URL is not set: start the embedded PostgreSQL with `python3 dev.py run`" in result.stderr
    result = run(PRINT, DEBUG="True", DATABASE_URL="sqlite:///db.sqlite3")
    assert result.returncode != 0
    assert "DATABASE_URL must name a PostgreSQL database" in result.stderr


def test_debug_is_off_unless_asked_for_and_then_needs_a_secret_key():
    result = run(PRINT)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    result = run(PRINT, DEBUG="False")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        # The checks ask the server's version (generated columns): the suite's own database.
        **{**PRODUCTION, "DATABASE_URL": os.environ["DATABASE_URL"]},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


DB_OPTIONS = """
import json, django
from django.conf import settings
print(json.dumps(settings.DATABASES["default"].get("OPTIONS", {})))
"""


def test_postgresql_prepares_statements_and_sends_no_startup_options():
    url = "postgres://sb:hemligt@db.example.se:5433/samverkan"
    result = run(DB_OPTIONS, DEBUG="True", DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    options = json.loads(result.stdout.strip().splitlines()[-1])
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5
    # No libpq startup options: PgBouncer refuses them. The planner settings live on the database.
    assert "options" not in options
    result = run(DB_OPTIONS, DEBUG="True", DATABASE_URL=url, DATABASE_SERVER_SIDE_BINDING="False")
    options = json.loads(result.stdout.strip().splitlines()[-1])
    assert "server_side_binding" not in options and "prepare_threshold" not in options


def _show(cursor, name):
    cursor.execute(f"SHOW {name}")
    return cursor.fetchone()[0]


def test_the_database_stores_the_planner_settings_for_every_session(db):
    """Set by the migration with ALTER DATABASE: a new session (as through PgBouncer) has them."""
    import psycopg
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase "
            "WHERE d.datname = current_database() AND s.setrole = 0"
        )
        (stored,) = cursor.fetchone()
    assert {"jit=off", "plan_cache_mode=force_custom_plan"} <= set(stored)
    params = connection.get_connection_params()
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params) as fresh, fresh.cursor() as cursor:
        assert _show(cursor, "plan_cache_mode") == "force_custom_plan"
        assert _show(cursor, "jit") == "off"
        # Memoize stays on for everything but the queue's page query.
        assert _show(cursor, "enable_memoize") == "on"


def test_planner_settings_hold_for_one_transaction_only(transactional_db):
    from django.db import connection

    from config.db import QUEUE_PLANNER_SETTINGS, planner_settings

    with planner_settings(QUEUE_PLANNER_SETTINGS), connection.cursor() as cursor:
        assert _show(cursor, "enable_memoize") == "off"
    with connection.cursor() as cursor:
        assert _show(cursor, "enable_memoize") == "on"


def test_configure_database_prints_and_applies_the_statements(db, capsys):
    from django.core.management import call_command
    from django.db import connection

    call_command("configure_database", "--print", "--role", "samverkan_app")
    name = connection.settings_dict["NAME"]
    assert capsys.readouterr().out.splitlines() == [
        f'ALTER ROLE "samverkan_app" IN DATABASE "{name}" SET jit = off;',
        f'ALTER ROLE "samverkan_app" IN DATABASE "{name}" SET plan_cache_mode = force_custom_plan;',
    ]
    call_command("configure_database")
    assert f'ALTER DATABASE "{name}" SET jit = off' in capsys.readouterr().out
