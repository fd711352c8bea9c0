"""Production settings: ``check --deploy`` is clean and every response carries the security headers."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(__file__).resolve().parents[2]
APP_DIRS = ["templates", "agreements", "councils", "deviations", "pages", "identity"]


def production_environment(tmp_path) -> dict:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "samverkansbrister.example.se",
        "CSRF_TRUSTED_ORIGINS": "https://samverkansbrister.example.se",
        # The checks ask the server's version (generated columns): the suite's own database.
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "EMAIL_URL": "smtp+tls://mailer:hemligt@smtp.example.se:587",
        "SITE_URL": "https://samverkansbrister.example.se",
        # The legal pages name the deploying organisation (pages/checks.py warns on the examples).
        "ORGANIZATION_NAME": "Region Exempel",
        "ORGANIZATION_EMAIL": "registrator@region.example.se",
        "DPO_EMAIL": "dataskyddsombud@region.example.se",
    }


def test_check_deploy_is_clean_with_a_production_environment(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=production_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    env = production_environment(tmp_path)
    del env["SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_settings_secure_cookies_hsts_and_https(tmp_path):
    code = (
        "import django, json; from django.conf import settings; django.setup(); print(json.dumps({k: "
        "getattr(settings, k) for k in ('SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
        "'SESSION_COOKIE_HTTPONLY', 'SECURE_HSTS_SECONDS', 'SECURE_SSL_REDIRECT', 'SECURE_REDIRECT_EXEMPT', "
        "'SECURE_HSTS_INCLUDE_SUBDOMAINS')}))"
    )
    env = {**production_environment(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True, check=True
    )
    import json

    values = json.loads(result.stdout)
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 60 * 60 * 24 * 365
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_REDIRECT_EXEMPT"] == [r"^healthz$"]


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/konto/logga-in/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if " " in part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert directives["base-uri"] == "'self'"
    assert directives["object-src"] == "'none'"


@pytest.mark.django_db
def test_pages_carry_the_other_security_headers(client):
    response = client.get("/konto/logga-in/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    assert "microphone=()" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_no_template_uses_inline_scripts_or_styles():
    """The CSP forbids them, so a template that has one would break in the browser."""
    import re

    offenders = []
    for path in (p for app in APP_DIRS for p in (BASE_DIR / app).glob("**/*.html")):
        text = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"<style\b", text):
            offenders.append(str(path))
        if re.search(r"\sstyle=\"", text) or re.search(r"\son[a-z]+=\"", text):
            offenders.append(str(path))
    assert offenders == []


def test_session_cookie_settings():
    assert settings.SESSION_COOKIE_HTTPONLY is True
    # Inactivity expiry without a write per request: SessionRefreshMiddleware renews the session at
    # most every SESSION_REFRESH_INTERVAL seconds (tests/councils/test_login_security.py).
    assert settings.SESSION_SAVE_EVERY_REQUEST is False
    assert "config.middleware.SessionRefreshMiddleware" in settings.MIDDLEWARE
    middleware = settings.MIDDLEWARE
    assert middleware.index("config.middleware.SessionRefreshMiddleware") == (
        middleware.index("django.contrib.sessions.middleware.SessionMiddleware") + 1
    )
    assert 0 < settings.SESSION_REFRESH_INTERVAL <= settings.SESSION_COOKIE_AGE // 10
