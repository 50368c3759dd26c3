from pathlib import Path

import pytest

from tests.curriculum.malformed import copy_valid


@pytest.fixture
def valid_root(tmp_path: Path) -> Path:
    """A fresh, writable copy of tests/fixtures/exercises/valid/."""
    return copy_valid(tmp_path / "exercises")
