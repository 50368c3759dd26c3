"""Another valid set: a multi-stage Dockerfile with an ARG-pinned base, GitLab CI stages, docker CLI, kubectl."""

FILES = {
    "Dockerfile": """\
ARG PYTHON_VERSION=3.11.9
FROM python:${PYTHON_VERSION}-slim AS builder
WORKDIR /build
COPY requirements.txt .
RUN pip wheel --no-cache-dir --wheel-dir /wheels -r requirements.txt

FROM python:${PYTHON_VERSION}-slim
RUN groupadd --gid 10001 svc && useradd --uid 10001 --gid svc --no-create-home svc \\
 && apt-get update && apt-get install -y --no-install-recommends curl \\
 && rm -rf /var/lib/apt/lists/*
COPY --from=builder /wheels /wheels
RUN pip install --no-cache-dir /wheels/* && rm -rf /wheels
WORKDIR /srv
COPY --chown=svc:svc app/ app/
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=2s CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["gunicorn", "-k", "uvicorn.workers.UvicornWorker", "-w", "2", "-b", "0.0.0.0:8080", "app.main:app"]
""",
    "compose.yaml": """\
services:
  web:
    image: registry.gitlab.com/huashen/digits:${IMAGE_TAG:?set IMAGE_TAG}
    ports: ["80:8080"]
    restart: always
""",
    ".gitlab-ci.yml": """\
stages: [test, build, push, deploy]

variables:
  IMAGE: $CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA

unit-tests:
  stage: test
  image: python:3.11.9-slim
  script:
    - pip install -r requirements.txt -r requirements-dev.txt
    - python -m pytest -q

build-image:
  stage: build
  image: docker:27.3
  services: [docker:27.3-dind]
  script:
    - docker build --pull -t "$IMAGE" .
    - docker save "$IMAGE" -o image.tar
  artifacts:
    paths: [image.tar]

push-image:
  stage: push
  image: docker:27.3
  services: [docker:27.3-dind]
  script:
    - echo "$CI_REGISTRY_PASSWORD" | docker login -u "$CI_REGISTRY_USER" --password-stdin "$CI_REGISTRY"
    - docker load -i image.tar
    - docker push "$IMAGE"
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH

release:
  stage: deploy
  image: bitnami/kubectl:1.31
  environment: production
  script:
    - kubectl set image deployment/digits web="$IMAGE"
    - kubectl rollout status deployment/digits --timeout=120s || kubectl rollout undo deployment/digits
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
""",
    "deploy/README.md": "Rollback: `kubectl rollout undo deployment/digits` returns to the previous image tag.\n",
}


def deployment_files():
    return dict(FILES)
