"""Trial 5.4's static rules, as the statement words them: what a pinned base image is and when a
HEALTHCHECK can report a failing service. Fast: the rules are plain functions of check.py."""

import importlib.util
from pathlib import Path

import pytest

CHECK = (
    Path(__file__).resolve().parents[2] / "exercises" / "05-practice" / "04-deploy-automation" / "check.py"
)


@pytest.fixture(scope="module")
def rules():
    spec = importlib.util.spec_from_file_location("deploy_automation_check", CHECK)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def problem_of(rules, image: str):
    return rules.image_problem({"raw": image, "image": image, "line": 1}, set())


@pytest.mark.parametrize(
    "image",
    [
        "python:3.11-slim",
        "python:3.11.9-slim",
        "ubuntu:22.04",
        "debian:bookworm-20240513",
        "nvidia/cuda:12.4.1-runtime-ubuntu22.04",
        "python@sha256:" + "ab" * 32,
        "registry.example.com:5000/team/base:1.2",
    ],
)
def test_pinned_bases(rules, image: str) -> None:
    assert problem_of(rules, image) is None


@pytest.mark.parametrize(
    "image",
    ["python:3-slim", "python:3", "python:slim", "node:lts", "python:latest", "python", "ubuntu:jammy"],
)
def test_bases_that_move(rules, image: str) -> None:
    assert problem_of(rules, image) is not None


@pytest.mark.parametrize(
    "arguments",
    [
        "--interval=30s CMD python -c \"import urllib.request; urllib.request.urlopen('http://localhost:8000/healthz')\"",
        "--interval=15s CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1",
        "CMD curl --fail http://localhost:8000/healthz",
        'CMD ["curl", "-f", "http://localhost:8000/healthz"]',
        "CMD wget -qO- http://localhost:8000/healthz || (echo down; exit 1)",
    ],
)
def test_health_checks_that_can_fail(rules, arguments: str) -> None:
    assert rules.health_problem(arguments) is None


@pytest.mark.parametrize(
    "arguments",
    [
        "CMD curl -f http://localhost:8000/healthz || exit 0",
        "CMD curl -f http://localhost:8000/healthz || true",
        "CMD curl -f http://localhost:8000/healthz || echo unhealthy",
        "CMD curl -f http://localhost:8000/healthz; exit 0",
        "CMD curl http://localhost:8000/healthz",
        '--retries=3 CMD ["CMD-SHELL", "curl -f http://localhost:8000/healthz || exit 0"]',
    ],
)
def test_health_checks_that_never_fail(rules, arguments: str) -> None:
    assert rules.health_problem(arguments) is not None
