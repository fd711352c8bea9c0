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
    "DATABASE_REPLICA_URL",
    "DATABASE_REPLICA_MAX_LAG_SECONDS",
    "DATABASE_POOLER",
    "DATABASE_REPLICA_POOLER",
    "DATABASE_POOLER_PREPARED_STATEMENTS",
    "LOGIN_FAILURES_PER_ADDRESS",
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


REPLICA = """
import json, django
from django.conf import settings
replica = settings.DATABASES.get("replica")
print(json.dumps({
    "replica": replica and {k: replica[k] for k in ("NAME", "HOST", "PORT", "TEST", "OPTIONS")},
    "lag": settings.DATABASE_REPLICA_MAX_LAG_SECONDS,
    "routers": settings.DATABASE_ROUTERS,
}))
"""


def test_a_read_replica_is_a_second_alias_and_the_test_database_stands_in_for_it():
    result = run(REPLICA, DEBUG="True", DATABASE_URL="postgres://sb@primary.example.se/samverkan")
    assert json.loads(result.stdout.splitlines()[-1])["replica"] is None
    result = run(
        REPLICA,
        DEBUG="True",
        DATABASE_URL="postgres://sb@primary.example.se/samverkan",
        DATABASE_REPLICA_URL="postgres://sb@replica.example.se:5433/samverkan",
        DATABASE_REPLICA_MAX_LAG_SECONDS="2.5",
    )
    values = json.loads(result.stdout.splitlines()[-1])
    assert values["replica"]["HOST"] == "replica.example.se"
    assert values["replica"]["PORT"] == 5433
    assert values["replica"]["TEST"] == {"MIRROR": "default"}
    assert values["replica"]["OPTIONS"]["connect_timeout"] == 2
    assert values["lag"] == 2.5
    assert values["routers"] == ["config.db_routing.PrimaryReplicaRouter"]


POOLER = """
import json, django
from django.conf import settings
print(json.dumps({
    alias: {k: db.get(k) for k in ("OPTIONS", "DISABLE_SERVER_SIDE_CURSORS")}
    for alias, db in settings.DATABASES.items()
}))
"""


def test_behind_pgbouncer_server_side_cursors_and_prepared_statements_are_off():
    urls = {
        "DEBUG": "True",
        "DATABASE_URL": "postgres://sb@pgbouncer.example.se:6432/samverkan",
        "DATABASE_REPLICA_URL": "postgres://sb@replica.example.se/samverkan",
    }
    direct = json.loads(run(POOLER, **urls).stdout.splitlines()[-1])
    assert not direct["default"]["DISABLE_SERVER_SIDE_CURSORS"]
    assert direct["default"]["OPTIONS"]["prepare_threshold"] == 5
    pooled = json.loads(run(POOLER, **urls, DATABASE_POOLER="pgbouncer").stdout.splitlines()[-1])
    for alias in ("default", "replica"):
        assert pooled[alias]["DISABLE_SERVER_SIDE_CURSORS"] is True
        assert "prepare_threshold" not in pooled[alias]["OPTIONS"]
        # Unnamed server-side statements work in transaction pooling.
        assert pooled[alias]["OPTIONS"]["server_side_binding"] is True
    # The replica reached directly keeps server-side cursors (streamed exports in constant memory);
    # PgBouncer 1.21+ with max_prepared_statements keeps prepared statements.
    mixed = json.loads(
        run(
            POOLER,
            **urls,
            DATABASE_POOLER="pgbouncer",
            DATABASE_REPLICA_POOLER="",
            DATABASE_POOLER_PREPARED_STATEMENTS="True",
        ).stdout.splitlines()[-1]
    )
    assert mixed["default"]["OPTIONS"]["prepare_threshold"] == 5
    assert not mixed["replica"]["DISABLE_SERVER_SIDE_CURSORS"]
    assert run(POOLER, **urls, DATABASE_POOLER="pgpool").returncode != 0


def test_postgresql_is_the_only_database():
    result = run(PRINT, DEBUG="True")
    assert result.returncode != 0
    assert "DATABASE_URL is not set: start the embedded PostgreSQL with `python3 dev.py run`" in result.stderr
    result = run(PRINT, DEBUG="True", DATABASE_URL="sqlite:///db.sqlite3")
    assert result.returncode != 0
    assert "DATABASE_URL must name a PostgreSQL database" in result.stderr


def test_the_login_limit_per_address_must_be_a_rate():
    setting = "from django.conf import settings; print(settings.LOGIN_FAILURES_PER_ADDRESS)"
    code = f"import django; django.setup(); {setting}"
    result = run(code, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "100/h"
    result = run(code, **PRODUCTION, LOGIN_FAILURES_PER_ADDRESS="30/15m")
    assert result.stdout.strip().splitlines()[-1] == "30/15m"
    for wrong in ("100", "100 per hour", "0/h", "-5/h"):
        result = run(code, **PRODUCTION, LOGIN_FAILURES_PER_ADDRESS=wrong)
        assert result.returncode != 0
        assert "LOGIN_FAILURES_PER_ADDRESS must be a rate like 100/h" in result.stderr


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


def test_demo_data_app_and_its_command_exist_only_in_development():
    """``devdata`` (seed_demo: accounts with a known password) is installed only when DEBUG is on."""
    apps = 'from django.conf import settings; print("devdata" in settings.INSTALLED_APPS)'
    development = {"DEBUG": "True", "DATABASE_URL": PRODUCTION["DATABASE_URL"]}
    assert run(apps, **development).stdout.strip() == "True"
    production = run(apps, **PRODUCTION)
    assert production.returncode == 0, production.stderr
    assert production.stdout.strip() == "False"
    help_text = run(["manage.py", "help", "seed_demo"], **PRODUCTION)
    assert help_text.returncode != 0
    assert "Unknown command: 'seed_demo'" in help_text.stderr
    assert run(["manage.py", "help", "seed_demo"], **development).returncode == 0


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
        assert _show(cursor, "enable_memoize") == "on"


def test_planner_settings_hold_for_one_transaction_only(transactional_db):
    from django.db import connection

    from config.db import planner_settings

    with planner_settings({"enable_memoize": "off"}), connection.cursor() as cursor:
        assert _show(cursor, "enable_memoize") == "off"
    with connection.cursor() as cursor:
        assert _show(cursor, "enable_memoize") == "on"


def test_settings_for_a_block_are_restored_after_it_inside_the_transaction(db):
    """``settings_for_block`` (the follow-up summary's generic plan): the block's statements have the
    settings, the rest of the caller's transaction the values from before, also ones set locally."""
    from django.db import connection

    from config.db import settings_for_block

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_memoize = off")
        before = _show(cursor, "plan_cache_mode")
        with settings_for_block(cursor, {"plan_cache_mode": "force_generic_plan", "enable_memoize": "on"}):
            assert _show(cursor, "plan_cache_mode") == "force_generic_plan"
            assert _show(cursor, "enable_memoize") == "on"
        assert _show(cursor, "plan_cache_mode") == before
        assert _show(cursor, "enable_memoize") == "off"


def test_a_block_asking_for_the_settings_in_effect_sends_nothing(db, django_assert_num_queries):
    """Inside ``planner_settings`` (a filing's generic plans), ``settings_for_block`` asking for the same
    values (the summary's pending rows) sends no statement; asking for others, it sets and restores
    them as always, to the block's values. Outside the block it sends them again."""
    from django.db import connection

    from config.db import planner_settings, settings_for_block

    generic = {"plan_cache_mode": "force_generic_plan"}

    def block(settings, *, statements):
        # A cursor made inside the count (Django logs the statements of cursors made while it counts).
        with (
            django_assert_num_queries(statements),
            connection.cursor() as cursor,
            settings_for_block(cursor, settings),
        ):
            return _show(cursor, next(iter(settings)))

    with planner_settings(generic):
        assert block(generic, statements=1) == "force_generic_plan"  # the SHOW only
        assert block({"plan_cache_mode": "auto"}, statements=3) == "auto"  # set, SHOW, restore
        with connection.cursor() as cursor:
            assert _show(cursor, "plan_cache_mode") == "force_generic_plan"
            # Its values are in effect inside an inner block too.
            with settings_for_block(cursor, {"enable_memoize": "off"}):
                assert block(generic, statements=1) == "force_generic_plan"
                assert block({"enable_memoize": "off"}, statements=1) == "off"
            assert _show(cursor, "enable_memoize") == "on"
    assert block(generic, statements=3) == "force_generic_plan"


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


def test_the_release_comes_from_the_environment_or_the_installed_version():
    code = "from django.conf import settings; print(settings.RELEASE)"
    installed = run("from importlib.metadata import version; print(version('samverkansbrister'))")
    assert run(code, **PRODUCTION).stdout.strip() == installed.stdout.strip() != ""
    assert run(code, **PRODUCTION, RELEASE="2026.11.3-abc1234").stdout.strip() == "2026.11.3-abc1234"


def test_smtp_has_a_timeout_and_the_stale_task_limit_comes_from_the_environment():
    code = (
        "import json, django; from django.conf import settings as s; django.setup(); "
        "print(json.dumps([s.MAILERS['default']['OPTIONS'].get('timeout'), s.TASKS_STALE_AFTER_SECONDS]))"
    )
    result = run(code, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [30, 900]
    result = run(code, **PRODUCTION, EMAIL_TIMEOUT="5", TASKS_STALE_AFTER_SECONDS="300")
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [5, 300]
