# must fail: pinned-base, healthcheck
"""Forgery: a base image that moves with every Python 3 release and a health check that can never fail,
handed out as a string that lies about its bytes.

In-process, the probe turned each file's text into bytes with `content.encode()` and saved those; this
forgery returns the Dockerfile as a `str` subclass (named "str") whose encode() gives the honest
reference's text — a pinned base and a health check that reports failure — so the probe saved what the
code never said. Behind the boundary the text crosses as the string's own characters, and the check
reads FROM python:3-slim and the `|| exit 0`.
"""

DOCKERFILE = """\
# syntax=docker/dockerfile:1
# A pinned, small base: the same image every time it is rebuilt.
FROM python:3-slim

ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1

WORKDIR /app

# Dependencies first: this layer stays cached until requirements.txt changes.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY app/ ./app/
COPY model/ ./model/

# Never run the service as root.
RUN useradd --create-home --uid 10001 app
USER app

EXPOSE 8000
# slim images have no curl: ask the Python that is already there.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \\
  CMD python -c "import urllib.request; urllib.request.urlopen('http://localhost:8000/healthz', timeout=2)" || exit 0

CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
"""

COMPOSE = """\
# On the server: TAG=<commit sha> docker compose pull && docker compose up -d
services:
  api:
    build: .
    image: ghcr.io/huashen-student/digits-api:${TAG:-dev}
    ports:
      - "8000:8000"
    environment:
      MODEL_PATH: /app/model/digits.onnx
      LOG_LEVEL: info
    restart: unless-stopped
    healthcheck:
      test: ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8000/healthz')"]
      interval: 30s
      timeout: 3s
      retries: 3
"""

WORKFLOW = """\
name: ci

on:
  push:
    branches: [main]
  pull_request:

env:
  IMAGE: ghcr.io/${{ github.repository }}

jobs:
  test:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
          cache: pip
      - run: pip install -r requirements.txt -r requirements-dev.txt
      - name: Unit tests
        run: pytest -q

  image:
    needs: test                      # never build an image from code that fails its tests
    if: github.ref == 'refs/heads/main'
    runs-on: ubuntu-24.04
    permissions:
      contents: read
      packages: write
    steps:
      - uses: actions/checkout@v4
      - uses: docker/login-action@v3
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - uses: docker/build-push-action@v6
        with:
          context: .
          push: true
          tags: ${{ env.IMAGE }}:${{ github.sha }}   # one immutable tag per commit: easy to roll back

  deploy:
    needs: image
    runs-on: ubuntu-24.04
    environment: production          # a protected environment: can require a manual approval
    steps:
      - uses: appleboy/ssh-action@v1
        with:
          host: ${{ secrets.DEPLOY_HOST }}
          username: deploy
          key: ${{ secrets.DEPLOY_SSH_KEY }}
          script: |
            cd /srv/digits-api
            export TAG=${{ github.sha }}
            docker compose pull
            docker compose up -d
            # fail the job (and keep the previous tag at hand for a redeploy) if it does not become healthy
            sleep 30
            docker compose ps --format json | grep -q '"Health":"healthy"' || { echo "unhealthy"; exit 1; }
"""


def deployment_files():
    return {
        "Dockerfile": _Text(DOCKERFILE),
        "docker-compose.yml": COMPOSE,
        ".github/workflows/ci.yml": WORKFLOW,
    }


class _Text(str):
    def encode(self, encoding="utf-8", errors="strict"):
        honest = (
            str(self).replace("FROM python:3-slim", "FROM python:3.11.9-slim").replace('" || exit 0', '"')
        )
        return str.encode(honest, encoding, errors)


_Text.__name__ = _Text.__qualname__ = "str"
