"""Settings for Samverkansbrister, read from the environment (django-environ).

One file for every environment: development defaults are safe to run on a laptop, and
``DEBUG=False`` switches on everything production needs (``manage.py check --deploy`` is clean).
"""

import datetime
import importlib.util
import re
from importlib import metadata
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
# Templates, static files and translations: beside the apps in a checkout (BASE_DIR), inside the config
# package in an installed wheel (pyproject.toml maps them there).
SITE_DIR = BASE_DIR if (BASE_DIR / "templates" / "base.html").is_file() else Path(__file__).resolve().parent

env = environ.Env()
# Variables already in the environment win over the file; ENV_FILE points elsewhere (tests use it).
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="") or (
    "django-insecure-development-only-key-never-use-in-production" if DEBUG else ""
)
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Absolute base of links in e-mails (confirmation, status and response links).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # Django's admin on a site that requires two-step verification (identity/admin_site.py).
    "identity.admin_apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    # Built-in widget templates for FORM_RENDERER below.
    "django.forms",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "axes",
    "csp",
    "councils",
    "agreements",
    "deviations",
    "followup",
    "pages",
    # Before allauth: its templates (socialaccount/…) are overridden here.
    "identity",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Federated login over OpenID Connect (identity/adapters.py); allauth.account is required by it,
    # its own pages are not mounted.
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    # Federated login over SAML 2.0 (identity/saml.py).
    "djangosaml2",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "api",
    # After deviations, whose db_worker command (stale-task recovery) overrides the library's.
    "django_tasks_db",
]
if DEBUG and importlib.util.find_spec("devdata"):
    # Demo data (seed_demo): development only, in a checkout; the wheel does not carry it.
    INSTALLED_APPS.append("devdata")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Read-your-writes pin and X-Database-Alias when a read replica is configured (config/db_routing.py);
    # outside the session middleware so a session save counts as a write.
    "config.db_routing.PrimaryPinMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Renews a signed-in session's expiry at most every SESSION_REFRESH_INTERVAL seconds.
    "config.middleware.SessionRefreshMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): a code from the user's TOTP device was entered in this session.
    "django_otp.middleware.OTPMiddleware",
    # Superusers and staff go to two-step verification (or its setup) before anything else.
    "identity.middleware.TwoFactorRequiredMiddleware",
    # django-allauth's request context (federated login).
    "allauth.account.middleware.AccountMiddleware",
    # djangosaml2 keeps the outstanding SAML requests in a cookie-backed session of its own.
    "djangosaml2.middleware.SamlSessionMiddleware",
    # Cache-Control: no-store on every response to a signed-in user.
    "config.middleware.PrivateResponsesMiddleware",
    # Request id and user id for every log line; after authentication so the user is known.
    "config.middleware.RequestIdMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A service's refusal (config.errors) the view did not handle: 404, 400 or 409 with the error page.
    "config.middleware.ApplicationErrorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a login lockout flagged by the axes backend into the lockout page.
    "axes.middleware.AxesMiddleware",
]
# Load tests only (bench/README.md): an X-Query-Count header on every response.
BENCH_QUERY_COUNT = env.bool("BENCH_QUERY_COUNT", default=False)
if BENCH_QUERY_COUNT:
    MIDDLEWARE.insert(0, "config.query_count.QueryCountMiddleware")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SITE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "deviations.context_processors.navigation",
            ],
            # {% url 'name' %} without arguments remembered per node (config/templatetags/memo.py).
            "builtins": ["config.templatetags.url_memo"],
        },
    },
]

# Widgets render through TEMPLATES, so templates/django/forms/ can override a built-in widget template
# (select.html: the options inlined instead of two includes per option), and long select lists are
# cached under a key made of their whole content and the release (config/forms.py).
FORM_RENDERER = "config.forms.CachedChoicesRenderer"

# Per-process cache by default (content-keyed fragments such as the queue's filter form need nothing
# shared); CACHE_URL can name another backend (django-environ cache URL).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}


def _installed_version() -> str:
    try:
        return metadata.version("samverkansbrister")
    except metadata.PackageNotFoundError:
        return "unknown"


# The deployed release (e.g. a git tag or commit, set by the deploy), by default the installed package's
# version. Part of every render-cache key with the template sources (config/render_cache.py), so HTML
# cached by one release is never served by the next.
RELEASE = env.str("RELEASE", default="") or _installed_version()

# --- Database: PostgreSQL everywhere (14 or newer). ---
# ``python3 dev.py run|test`` start an embedded PostgreSQL and set DATABASE_URL (also in the
# development .env); production and CI point it at their server.
DATABASE_URL = env.str("DATABASE_URL", default="")
if not DATABASE_URL:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "DATABASE_URL is not set: start the embedded PostgreSQL with `python3 dev.py run` (or "
        "`python3 dev.py db`), or point DATABASE_URL at a PostgreSQL database."
    )


def _database(url: str, *, pooler: str) -> dict:
    """One PostgreSQL connection's settings from its URL (DATABASE_URL, DATABASE_REPLICA_URL), reached
    directly (``pooler`` empty) or through PgBouncer in transaction mode (``pgbouncer``)."""
    from django.core.exceptions import ImproperlyConfigured

    database = env.db_url_config(url)
    if database["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL database (postgres://...).")
    if pooler not in {"", "pgbouncer"}:
        raise ImproperlyConfigured("DATABASE_POOLER must be empty or 'pgbouncer'.")
    options = database.setdefault("OPTIONS", {})
    # A Unix-socket directory given as ``?host=/path`` (the embedded server's URL) is the connection's host.
    if not database["HOST"] and "host" in options:
        database["HOST"] = options.pop("host")
    # Behind PgBouncer a kept connection is one to PgBouncer (cheap); it lends a server connection per
    # transaction.
    database["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    database["CONN_HEALTH_CHECKS"] = True
    database["ATOMIC_REQUESTS"] = False
    # Planner settings (jit, plan_cache_mode) are set on the database with ALTER DATABASE ... SET by a
    # migration and the ``configure_database`` command, not as libpq startup options, so they hold behind
    # PgBouncer too (README, "PostgreSQL settings").
    if env.bool("DATABASE_SERVER_SIDE_BINDING", default=True):
        # psycopg 3 binds parameters on the server (less Python work per query than client-side
        # interpolation); unnamed statements work through PgBouncer in transaction mode too.
        options["server_side_binding"] = True
        # Statements run repeatedly on a persistent connection (CONN_MAX_AGE) are also prepared (Django
        # turns psycopg's preparation off unless prepare_threshold is given); the database's
        # plan_cache_mode=force_custom_plan then plans every execution for its values. Named prepared
        # statements do not survive PgBouncer's transaction pooling before 1.21 (or without its
        # max_prepared_statements): DATABASE_POOLER_PREPARED_STATEMENTS=True only where they do.
        if not pooler or env.bool("DATABASE_POOLER_PREPARED_STATEMENTS", default=False):
            options["prepare_threshold"] = 5
    if pooler:
        # QuerySet.iterator()'s server-side cursors are WITH HOLD cursors outside a transaction, which
        # transaction pooling hands to another client: off. The report exports declare theirs inside a
        # transaction, which keeps it on one server connection (config.spreadsheets.server_side_rows).
        database["DISABLE_SERVER_SIDE_CURSORS"] = True
    return database


# DATABASE_POOLER=pgbouncer: DATABASE_URL names a PgBouncer in transaction mode (README, "Several nodes").
DATABASE_POOLER = env.str("DATABASE_POOLER", default="")
DATABASES = {"default": _database(DATABASE_URL, pooler=DATABASE_POOLER)}
# A streaming read replica of the primary (README, "Several nodes"): the follow-up, its exports and the
# meeting packs read from it (config/db_routing.py); without it every query goes to the primary.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = _database(
        DATABASE_REPLICA_URL, pooler=env.str("DATABASE_REPLICA_POOLER", default=DATABASE_POOLER)
    )
    # A replica that does not answer costs one request at most this long per health check.
    DATABASES["replica"]["OPTIONS"].setdefault("connect_timeout", 2)
    # Tests run against one database: the replica alias is the test database itself.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["config.db_routing.PrimaryReplicaRouter"]
# Reads fall back to the primary while the replica lags more than this (seconds) or does not answer;
# the answer is cached per process for DATABASE_REPLICA_HEALTH_SECONDS. A browser that wrote stays on
# the primary for their sum (read your writes).
DATABASE_REPLICA_MAX_LAG_SECONDS = env.float("DATABASE_REPLICA_MAX_LAG_SECONDS", default=5.0)
DATABASE_REPLICA_HEALTH_SECONDS = env.float("DATABASE_REPLICA_HEALTH_SECONDS", default=3.0)
# An X-Database-Alias response header naming the database a view's replica reads went to.
DATABASE_ALIAS_HEADER = env.bool("DATABASE_ALIAS_HEADER", default=DEBUG)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "councils.User"
# django-axes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's password check, off when LOCAL_LOGIN_ENABLED is False.
    "identity.backends.LocalPasswordBackend",
    # SAML 2.0 assertions (djangosaml2); OIDC logins go through allauth's adapters instead.
    "identity.saml.SamlBackend",
]
# False: nobody signs in with a password (login page, admin); only through an identity provider.
LOCAL_LOGIN_ENABLED = env.bool("LOCAL_LOGIN_ENABLED", default=True)
# The name authenticator apps show next to the code (django-otp).
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Samverkansbrister")

# --- Federated login (identity/; README "Federated login"). ---
# OpenID Connect providers: added in the admin (Social applications, provider "OpenID Connect") or
# here as JSON, a list of {"provider_id", "name", "client_id", "secret", "settings": {"server_url",
# "accepted_acr", …}}.
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "APPS": env.json("SSO_OIDC_PROVIDERS", default=[]),
        "OAUTH_PKCE_ENABLED": True,
    }
}
SOCIALACCOUNT_ADAPTER = "identity.adapters.SocialAccountAdapter"
ACCOUNT_ADAPTER = "identity.adapters.AccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
# Logins start with a POST from the login page (CSRF-protected), never from a plain link.
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
# Accepted assurance levels (OIDC acr, SAML AuthnContextClassRef); empty accepts any. A login below
# them is refused with a message. E.g. http://id.elegnamnden.se/loa/1.0/loa3 for LoA3.
SSO_ACCEPTED_ACR = env.list("SSO_ACCEPTED_ACR", default=[])
# Levels that prove multi-factor authentication: such a login counts as two-step verification
# (superusers and staff need no TOTP code on top).
SSO_MULTI_FACTOR_ACR = env.list(
    "SSO_MULTI_FACTOR_ACR",
    default=[
        "http://id.elegnamnden.se/loa/1.0/loa3",
        "http://id.elegnamnden.se/loa/1.0/loa4",
        "http://id.swedenconnect.se/loa/1.0/uncertified-loa3",
    ],
)
# Claim (OIDC) / attribute (SAML) names for the user's e-mail and name.
SSO_CLAIM_NAMES = {
    "email": env.str("SSO_CLAIM_EMAIL", default="email"),
    "first_name": env.str("SSO_CLAIM_FIRST_NAME", default="given_name"),
    "last_name": env.str("SSO_CLAIM_LAST_NAME", default="family_name"),
}
# Claims/attributes holding an organisation identifier (organisation number, HSA-id), tried in order
# against the admin's Organisationsidentiteter; then the e-mail domain decides.
SSO_ORGANIZATION_CLAIMS = env.list(
    "SSO_ORGANIZATION_CLAIMS", default=["organization_number", "orgAffiliation", "hsa_id"]
)
# SAML 2.0: the service provider's key pair (PEM files) switches SAML on; IdPs from metadata files and
# URLs here, and in the admin (SAML-identitetsleverantörer).
SSO_SAML_SP_KEY_FILE = env.str("SSO_SAML_SP_KEY_FILE", default="")
SSO_SAML_SP_CERT_FILE = env.str("SSO_SAML_SP_CERT_FILE", default="")
SSO_SAML_ENTITY_ID = env.str("SSO_SAML_ENTITY_ID", default="")  # default: the metadata URL
SSO_SAML_XMLSEC_BINARY = env.str("SSO_SAML_XMLSEC_BINARY", default="/usr/bin/xmlsec1")
SSO_SAML_IDP_METADATA = {
    "local": env.list("SSO_SAML_IDP_METADATA_FILES", default=[]),
    "remote": [{"url": url} for url in env.list("SSO_SAML_IDP_METADATA_URLS", default=[])],
}
# Seconds an IdP metadata URL's answer is kept before it is fetched again (identity.saml.remote_metadata).
SSO_SAML_METADATA_MAX_AGE = env.int("SSO_SAML_METADATA_MAX_AGE", default=3600)
# Per IdP entity id, the accepted AuthnContextClassRef values (overrides SSO_ACCEPTED_ACR), as JSON.
SSO_SAML_ACCEPTED_ACR = env.json("SSO_SAML_ACCEPTED_ACR", default={})
# Per SAML IdP entity id, whom it may sign in, as JSON: {"<entity id>": {"email_domains": [...],
# "organizations": [<organisation identifiers>]}} (identity/trust.py; the admin's IdPs have fields for
# it). An IdP without any signs in nobody.
SSO_SAML_IDP_TRUST = env.json("SSO_SAML_IDP_TRUST", default={})
# The certificate (PEM file) that signs the metadata at SSO_SAML_IDP_METADATA_URLS (a federation's,
# e.g. Sambi's): when set, metadata from those URLs is used only if it carries a valid signature by it.
SSO_SAML_METADATA_CERT_FILE = env.str("SSO_SAML_METADATA_CERT_FILE", default="")
# Attribute friendly names (pysaml2 maps the urn:oid names) for e-mail and name.
SSO_SAML_ATTRIBUTES = {
    "email": env.str("SSO_SAML_ATTRIBUTE_EMAIL", default="mail"),
    "first_name": env.str("SSO_SAML_ATTRIBUTE_FIRST_NAME", default="givenName"),
    "last_name": env.str("SSO_SAML_ATTRIBUTE_LAST_NAME", default="sn"),
}
SAML_CONFIG_LOADER = "identity.saml.config_loader"
SAML_ATTRIBUTE_MAPPING = {saml: (field,) for field, saml in SSO_SAML_ATTRIBUTES.items()}
SAML_DJANGO_USER_MAIN_ATTRIBUTE = "email"
SAML_DJANGO_USER_MAIN_ATTRIBUTE_LOOKUP = "__iexact"
SAML_CREATE_UNKNOWN_USER = True
# The IdP posts the assertion from its own site: the SAML session cookie must be SameSite=None (and
# therefore Secure, i.e. HTTPS); Lax only where IdP and service are one site (tests on 127.0.0.1).
SAML_SESSION_COOKIE_SAMESITE = env.str("SSO_SAML_COOKIE_SAMESITE", default="None")
ACS_DEFAULT_REDIRECT_URL = "/"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language and time: Swedish first, English available. ---
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="sv")
LANGUAGES = [("sv", _("Svenska")), ("en", _("English"))]
LOCALE_PATHS = [SITE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Stockholm")
USE_I18N = True
USE_TZ = True

# --- Static files, served by whitenoise. ---
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [SITE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- E-mail: console backend unless EMAIL_URL says otherwise. ---
_email = env.email_url("EMAIL_URL", default="consolemail://")
_email_options = {
    "host": _email.get("EMAIL_HOST"),
    "port": _email.get("EMAIL_PORT"),
    "username": _email.get("EMAIL_HOST_USER"),
    "password": _email.get("EMAIL_HOST_PASSWORD"),
    "use_tls": _email.get("EMAIL_USE_TLS"),
    "use_ssl": _email.get("EMAIL_USE_SSL"),
    # Seconds an SMTP connection may wait for the server (connect, each reply); then the attempt fails
    # and the mail is tried again later (deviations/tasks.py).
    "timeout": env.int("EMAIL_TIMEOUT", default=30),
}
MAILERS = {
    "default": {
        "BACKEND": _email["EMAIL_BACKEND"],
        "OPTIONS": {k: v for k, v in _email_options.items() if v}
        if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
        else {},
    }
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Samverkansbrister <noreply@samverkansbrister.se>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Background work: Django's tasks framework with a database-backed worker (django-tasks-db). ---
# Run the worker with `manage.py db_worker`. TASKS_BACKEND=django.tasks.backends.immediate.ImmediateBackend
# runs tasks in-process (used by the test suite).
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
    }
}
# A task RUNNING for longer than this was left by a worker that died: the worker queues it again.
TASKS_STALE_AFTER_SECONDS = env.int("TASKS_STALE_AFTER_SECONDS", default=15 * 60)
# Seconds between two folds of the follow-up summary's pending changes into it, by every running worker
# (deviations/summary.py). The follow-up reads the pending changes too, so this bounds their number, not
# what the follow-up shows.
FOLLOWUP_FOLD_INTERVAL = env.float("FOLLOWUP_FOLD_INTERVAL", default=2.0)

# --- The read API (/api/v1/, api/): Django REST Framework, OpenAPI 3 (drf-spectacular). ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Personal tokens ("Authorization: Bearer sb_…"), hashed at rest, expiring (django-rest-knox).
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PageLimitPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.handler",
    # Rate limits per user (token or session) and per client address, counted in the rate limits' cache
    # that every process and node shares (RATELIMIT_CACHE_URL; api/throttling.py).
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.UserRateThrottle",
        "api.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_RATE_USER", default="600/hour"),
        "anon": env.str("API_RATE_ANON", default="60/hour"),
    },
}
KNOX_TOKEN_MODEL = "api.ApiToken"
# knox's own migrations create its default token table even when the model is swapped (an orphan table
# whose foreign key to users stops test databases from being flushed); our api.ApiToken is the table.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Bearer",
    # Recognisable in secret scanners and logs' redaction.
    "TOKEN_PREFIX": "sb_",
    "TOKEN_TTL": datetime.timedelta(days=90),
}
# The longest lifetime a user may give a token, and how many a user may hold.
API_TOKEN_MAX_DAYS = env.int("API_TOKEN_MAX_DAYS", default=365)
API_TOKENS_PER_USER = env.int("API_TOKENS_PER_USER", default=10)
SPECTACULAR_SETTINGS = {
    "TITLE": "Samverkansbrister API",
    "DESCRIPTION": _("Läs-API för samverkansbrister i Stockholms län (version 1)."),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema is public, like /api/v1/api-info; the data behind it is not.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"YesNoUnknownEnum": "deviations.models.YesNoUnknown"},
    # Every operation documents its problem+json answers (400, 401, 404, 429).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_problem_responses",
    ],
}

# --- Forms. ---
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
# The blank choice of django-filter's selects (Django's own is set in deviations.apps).
FILTERS_EMPTY_CHOICE_LABEL = _("Alla")

# --- Domain settings. ---
# Days a counterpart organisation has to answer a response request (yttrande).
RESPONSE_DEADLINE_DAYS = env.int("RESPONSE_DEADLINE_DAYS", default=60)
# Reporter contact details are erased this many months after a report is closed.
CONTACT_RETENTION_MONTHS = env.int("CONTACT_RETENTION_MONTHS", default=12)
# Unconfirmed reports (e-mail never confirmed) are purged after this many days.
UNCONFIRMED_RETENTION_DAYS = env.int("UNCONFIRMED_RETENTION_DAYS", default=7)
# Hours a confirmation link is valid.
CONFIRMATION_MAX_AGE_HOURS = env.int("CONFIRMATION_MAX_AGE_HOURS", default=24)
# Where reports about children and young people go instead (the BUS process).
BUS_URL = env.str("BUS_URL", default="https://www.storsthlm.se/verksamhetsomraden/socialtjanst/bus")

# --- The deploying organisation: named on the legal pages (pages/), receives accessibility feedback. ---
# ``manage.py check --deploy`` warns while the example values below are still in place (pages/checks.py).
ORGANIZATION_NAME = env.str("ORGANIZATION_NAME", default="Exempelorganisationen")
ORGANIZATION_NUMBER = env.str("ORGANIZATION_NUMBER", default="")
ORGANIZATION_ADDRESS = env.str("ORGANIZATION_ADDRESS", default="")
ORGANIZATION_EMAIL = env.str("ORGANIZATION_EMAIL", default="registrator@example.se")
ORGANIZATION_PHONE = env.str("ORGANIZATION_PHONE", default="")
# The data protection officer (dataskyddsombud) of the organisation responsible for the personal data.
DPO_EMAIL = env.str("DPO_EMAIL", default="dataskyddsombud@example.se")
DPO_PHONE = env.str("DPO_PHONE", default="")
# Where the accessibility statement's feedback form sends its messages (default: the organisation).
ACCESSIBILITY_EMAIL = env.str("ACCESSIBILITY_EMAIL", default=ORGANIZATION_EMAIL)
# The deploying organisation's own assessment of the service and the statement's last update (ISO dates).
ACCESSIBILITY_ASSESSED_ON = datetime.date.fromisoformat(
    env.str("ACCESSIBILITY_ASSESSED_ON", default="2026-12-01")
)
ACCESSIBILITY_UPDATED_ON = datetime.date.fromisoformat(
    env.str("ACCESSIBILITY_UPDATED_ON", default="2026-12-01")
)
# Days the login records (django-axes: username, address, browser) are kept: what the privacy page
# states; the daily ``axes_reset_logs --age`` job must use the same number (docs/operations.md).
LOGIN_LOG_RETENTION_DAYS = env.int("LOGIN_LOG_RETENTION_DAYS", default=30)

# --- Sessions and security. Production-safe whenever DEBUG is off. ---
# A session ends after SESSION_COOKIE_AGE seconds *without activity*. Its expiry is pushed forward by
# config.middleware.SessionRefreshMiddleware at most every SESSION_REFRESH_INTERVAL seconds rather
# than on every request (SESSION_SAVE_EVERY_REQUEST would make every page view a database write), so
# a session ends between SESSION_COOKIE_AGE - SESSION_REFRESH_INTERVAL and SESSION_COOKIE_AGE after
# the last request.
# Django's database sessions, their read compiled once per process (config/sessions.py).
SESSION_ENGINE = "config.sessions"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 8)
SESSION_REFRESH_INTERVAL = min(5 * 60, SESSION_COOKIE_AGE // 10)
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=False)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Matched against the path without its leading slash: /healthz stays reachable over plain HTTP
    # for load balancers and probes inside the private network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Content Security Policy (django-csp 4). Everything comes from our own origin: no inline scripts or
# styles, no CDN. ``data:`` images only for the SVG icons Bootstrap's CSS embeds (and SVG charts).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        **({} if DEBUG else {"upgrade-insecure-requests": True}),
    },
}

# Permissions-Policy (django-permissions-policy): the app needs none of these browser features.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "usb",
        "xr-spatial-tracking",
    )
}

# Login throttling (django-axes): 5 failures for one username from one address lock that pair out
# for 15 minutes; a successful login resets the count. The lockout page is Swedish.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
# Axes logs usernames and addresses by default: log neither (usernames may be e-mail addresses).
AXES_CLIENT_STR_CALLABLE = "config.log.axes_client_str"
# A personnummer typed as the username is counted and stored as a keyed hash, never as typed.
AXES_USERNAME_CALLABLE = "identity.backends.throttled_username"
AXES_VERBOSE = False
# And failed password logins per client address over all usernames (password spraying), counted in the
# shared rate-limit cache (config/ratelimits.py): far above what one address mistypes, since a whole
# municipality may sit behind one NAT address. "N/m", "N/h" or "N/d" (django-ratelimit's rates).
LOGIN_FAILURES_PER_ADDRESS = env.str("LOGIN_FAILURES_PER_ADDRESS", default="100/h")
if not re.fullmatch(r"[1-9][0-9]*/[0-9]*[smhd]", LOGIN_FAILURES_PER_ADDRESS):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"LOGIN_FAILURES_PER_ADDRESS must be a rate like 100/h, not {LOGIN_FAILURES_PER_ADDRESS!r}."
    )

# --- The client's address: login throttling (axes, through django-ipware) and the rate limits. ---
# TRUSTED_PROXY_COUNT reverse proxies stand in front of the app, each appending the address it was
# called from to X-Forwarded-For (nginx: $proxy_add_x_forwarded_for). The client is then the entry that
# many places from the right: entries further left are whatever the client sent, and are ignored. A
# header with fewer entries did not pass all the proxies and is not believed (REMOTE_ADDR is used). 0
# (the default): REMOTE_ADDR, X-Forwarded-For ignored. The app must be reachable only through them.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    # django-ipware counts the proxies that appear in the header: all but the one calling the app.
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT - 1
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
    AXES_IPWARE_PROXY_COUNT = None
# Optionally also the proxies' addresses (IPs, prefixes or networks), matched against the header's
# rightmost entries.
AXES_IPWARE_PROXY_TRUSTED_IPS = env.list("TRUSTED_PROXY_IPS", default=[]) or None
# Axes asks the same function as the rate limits (which reads the settings above through django-ipware).
AXES_CLIENT_IP_CALLABLE = "config.ratelimits.client_address"
# More entries than the proxies account for are expected (a client's own forward proxy adds one), not
# a reason to distrust the header: the client is still counted from the right.
IPWARE_STRICT = False

# --- Rate limits on anonymous POSTs (config/ratelimits.py), counted in a cache all nodes share. ---
# The default is PostgreSQL (the cache table is created by a migration): shared by every process and
# node with nothing more to run. RATELIMIT_CACHE_URL may name another shared cache (redis://…).
CACHES["ratelimit"] = env.cache("RATELIMIT_CACHE_URL", default="dbcache://ratelimit_cache")
if CACHES["ratelimit"]["BACKEND"].endswith("DatabaseCache"):
    # One row per counter; expired rows are deleted first when the table grows past this.
    CACHES["ratelimit"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 10_000)
RATELIMIT_USE_CACHE = "ratelimit"
# Off only where many simulated reporters share one address (the cluster test, load tests); never in
# production.
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_IP_META_KEY = "config.ratelimits.client_address"

# --- Logging: key=value lines with request id, user id and reference numbers only. ---
# Never log e-mail addresses, names or report texts. ``config.log`` documents the format.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "config.log.RequestContextFilter"},
        # pysaml2/djangosaml2 would log NameIDs, attributes and whole assertions (identity/log.py).
        "saml_libraries": {"()": "identity.log.SamlLibraryFilter"},
    },
    "formatters": {
        "keyvalue": {"()": "config.log.KeyValueFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "keyvalue",
            "filters": ["request_context", "saml_libraries"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # SQL parameters can hold anything a user typed.
        "django.db.backends": {"level": "WARNING"},
        # Lockouts are worth a line; every single login attempt is not.
        "axes": {"level": "WARNING"},
        # runserver's request lines (development only) through our handler, whose filter shortens the
        # signed links in their paths: Django's own configuration gives this logger a handler of its
        # own that does not propagate, so the root's filter would never see them.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
