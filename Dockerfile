# Image for web, worker and beat (see docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml requirements.lock ./
COPY . .
RUN pip install -c requirements.lock . \
 && DJANGO_SECRET_KEY=build-only python manage.py compilemessages --ignore=.venv \
 && DJANGO_ENV=production DJANGO_SECRET_KEY=build-only PII_HASH_KEY=build-only DJANGO_STATIC_ROOT=/app/staticfiles python manage.py collectstatic --noinput \
 && useradd --system --uid 1000 portal \
 && mkdir -p /app/var/media && chown -R portal:portal /app/var
# /app/var/media exists, owned by the app user, before the `media` volume is first mounted there:
# Docker then creates the volume with that owner, so uploads are writable by the app.
USER portal
EXPOSE 8000
CMD ["gunicorn", "guarantee_portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
