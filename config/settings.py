"""Settings for Samverkansbrister, read from the environment (django-environ).

One file for every environment: development defaults are safe to run on a laptop, and
``DEBUG=False`` switches on everything production needs (``manage.py check --deploy`` is clean).
"""

import datetime
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

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
    "django_tasks_db",
    "axes",
    "csp",
    "councils",
    "agreements",
    "deviations",
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
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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
    # Request id and user id for every log line; after authentication so the user is known.
    "config.middleware.RequestIdMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
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
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "deviations.context_processors.navigation",
            ],
        },
    },
]

# Widgets render through TEMPLATES, so templates/django/forms/ can override a built-in widget template
# (select.html: the options inlined instead of two includes per option), and long select lists are
# cached under a key made of their whole content (config/forms.py).
FORM_RENDERER = "config.forms.CachedChoicesRenderer"

# Per-process cache by default (content-keyed fragments such as the queue's filter form need nothing
# shared); CACHE_URL can name another backend (django-environ cache URL).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

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
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL database (postgres://...).")
_db_options = DATABASES["default"].setdefault("OPTIONS", {})
# A Unix-socket directory given as ``?host=/path`` (the embedded server's URL) is the connection's host.
if not DATABASES["default"]["HOST"] and "host" in _db_options:
    DATABASES["default"]["HOST"] = _db_options.pop("host")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Planner settings (jit, plan_cache_mode) are set on the database with ALTER DATABASE ... SET by a
# migration and the ``configure_database`` command, not as libpq startup options, so they hold behind
# PgBouncer too (README, "PostgreSQL settings").
if env.bool("DATABASE_SERVER_SIDE_BINDING", default=True):
    # psycopg 3 binds parameters on the server (less Python work per query than client-side
    # interpolation) and prepares statements run repeatedly on a persistent connection (CONN_MAX_AGE;
    # Django turns psycopg's preparation off unless prepare_threshold is given). The database's
    # plan_cache_mode=force_custom_plan then plans every execution for its values. Turn it off behind
    # a connection pooler that cannot keep prepared statements (PgBouncer before 1.21 in transaction
    # mode, or without max_prepared_statements).
    _db_options["server_side_binding"] = True
    _db_options["prepare_threshold"] = 5
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
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Stockholm")
USE_I18N = True
USE_TZ = True

# --- Static files, served by whitenoise. ---
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
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

# --- Forms. ---
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

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
# The address is REMOTE_ADDR (django-ipware is not installed); see docs/operations.md for proxies.
# Axes logs usernames and addresses by default: log neither (usernames may be e-mail addresses).
AXES_CLIENT_STR_CALLABLE = "config.log.axes_client_str"
AXES_VERBOSE = False

# --- Logging: key=value lines with request id, user id and reference numbers only. ---
# Never log e-mail addresses, names or report texts. ``config.log`` documents the format.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "config.log.RequestContextFilter"},
    },
    "formatters": {
        "keyvalue": {"()": "config.log.KeyValueFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "keyvalue",
            "filters": ["request_context"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # SQL parameters can hold anything a user typed.
        "django.db.backends": {"level": "WARNING"},
        # Lockouts are worth a line; every single login attempt is not.
        "axes": {"level": "WARNING"},
    },
}
