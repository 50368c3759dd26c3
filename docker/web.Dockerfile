# syntax=docker/dockerfile:1
# The web side: Django + Channels under Daphne, and the platform Celery worker (same image, other command).
# No torch here: only pyproject.toml's [project.dependencies] are installed.
#
#   docker build -f docker/web.Dockerfile -t huashen-web .      (from the repository root)

# --- the progressive-enhancement script (frontend/dist/frontend/app.js) -----------------------------
FROM node:20-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/tsconfig.json frontend/vite.config.ts ./
COPY frontend/src/ src/
RUN npm run build

# --- the web image ----------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app/platform:/app \
    DJANGO_SETTINGS_MODULE=huashen.settings \
    HUASHEN_VAR_DIR=/app/var

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin huashen

WORKDIR /app

# The base dependencies only. pyproject.toml declares no build system and the repository is not one
# installable package (platform/, workers/, exercises/ side by side), so `pip install .` cannot build it:
# read [project.dependencies] and install those, then run the code from /app through PYTHONPATH.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY manage.py ./
COPY platform/ platform/
# The platform imports the message contract (workers.protocol) and syncs the exercise bundles.
COPY workers/ workers/
COPY exercises/ exercises/
COPY --from=frontend /src/frontend/dist/ frontend/dist/

# Translations (*.mo are not committed) and static files (served by WhiteNoise when DEBUG=0).
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && python manage.py compilemessages \
    && apt-get purge -y --auto-remove gettext \
    && rm -rf /var/lib/apt/lists/* \
    && python manage.py collectstatic --noinput \
    && chown -R huashen:huashen /app/var

USER huashen

EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "huashen.asgi:application"]
