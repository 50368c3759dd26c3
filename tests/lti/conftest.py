"""LTI tests: the stand-in LMS as a process of its own; Huashen through Django's test client."""

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from lti_tool.models import Key

from huashen.lti import services
from tests.lti.standin import StandInProcess


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandInProcess]:
    process = StandInProcess(
        port=free_port(), tool_base="http://testserver", log=Path(tmp_path_factory.mktemp("lms")) / "lms.log"
    )
    yield process
    process.stop()


@pytest.fixture
def lms(db: None, standin: StandInProcess, settings):  # type: ignore[no-untyped-def]
    """The stand-in registered in Huashen, and Huashen's JWKS handed to it (the test server has no port)."""
    registration = services.registration_create(**standin.registration_fields())
    standin.configure(tool_jwks=Key.objects.as_jwks(), fail_scores=0)
    return registration
