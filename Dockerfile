# Production image: gunicorn serves the app, whitenoise the static files. Configuration comes from the
# environment (see README): at least SECRET_KEY, DATABASE_URL and ALLOWED_HOSTS.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DEBUG=False

# WeasyPrint (PDF export) needs Pango and HarfBuzz, SAML login xmlsec1; curl is not needed (the
# healthcheck uses Python).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 xmlsec1 \
       fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first (cached while only the code changes): the pinned list from pyproject.toml.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
       > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

COPY . .
RUN pip install --no-deps -e . \
    && useradd --system --uid 1000 --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /app/staticfiles \
    && chown -R app:app /app/staticfiles

USER app
EXPOSE 8000

# docker-compose.yml overrides this with migrate + load_reference_data + collectstatic first.
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
