# Production image: gunicorn serves the app, whitenoise the static files. Configuration comes from the
# environment (see README): at least SECRET_KEY, DATABASE_URL and ALLOWED_HOSTS.
#
# The app is installed as a wheel (templates, static files and translations inside it), with every
# dependency from the hash-pinned requirements/production.lock; no source tree in the image.

FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    STATIC_ROOT=/app/staticfiles \
    DEBUG=False

# WeasyPrint (PDF export) needs Pango and HarfBuzz, SAML login xmlsec1; curl is not needed (the
# healthcheck uses Python).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 xmlsec1 \
       fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first (cached while only the code changes): the whole tree, pinned with hashes.
COPY requirements/production.lock /tmp/production.lock
RUN pip install --require-hashes -r /tmp/production.lock

COPY --from=build /wheels /wheels
RUN pip install --no-deps /wheels/*.whl \
    && useradd --system --uid 1000 --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /app/staticfiles \
    && chown -R app:app /app/staticfiles

USER app
EXPOSE 8000

# docker-compose.yml overrides this with migrate + load_reference_data + collectstatic first.
# No access log: request paths can carry tokens; the app logs each request without them (config/log.py).
# config/gunicorn.py: bind 0.0.0.0:8000, WEB_CONCURRENCY workers (3), a timeout that fits the longest export.
CMD ["gunicorn", "config.wsgi", "-c", "config/gunicorn.py"]
