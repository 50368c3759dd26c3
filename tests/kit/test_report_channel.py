"""The kit's event channel uses fd 3 only when it is the write end of a pipe (the grader's event pipe).

In a pytest-xdist worker fd 3 is the read end of the controller's command pipe: the channel once made it
non-blocking there, and the worker's next idle read failed and ended the worker mid-run.
"""

import os

import pytest

from exercises.kit import report


@pytest.fixture
def fd3(monkeypatch: pytest.MonkeyPatch):
    """Put `fd` at a spare number standing in for fd 3, and a fresh channel that has not looked yet."""
    held: list[int] = []

    def place(fd: int) -> int:
        spare = os.dup(fd)
        held.append(spare)
        monkeypatch.setattr(report, "EVENTS_FD", spare)
        return spare

    monkeypatch.setattr(report, "_channel", report._Channel())
    yield place
    for fd in held:
        os.close(fd)


def test_the_read_end_of_someone_elses_pipe_is_left_alone(fd3) -> None:
    read_end, write_end = os.pipe()
    try:
        placed = fd3(read_end)
        assert report._channel.send(b"{}\n", always=True) is False
        assert report._channel.usable is False
        assert os.get_blocking(placed), "the channel made a pipe it does not own non-blocking"
    finally:
        os.close(read_end)
        os.close(write_end)


def test_the_write_end_of_a_pipe_carries_the_line(fd3) -> None:
    read_end, write_end = os.pipe()
    try:
        fd3(write_end)
        assert report._channel.send(b'{"step": 1}\n', always=True) is True
        assert os.read(read_end, 100) == b'{"step": 1}\n'
    finally:
        os.close(read_end)
        os.close(write_end)


def test_a_file_that_is_not_a_pipe_is_not_used(fd3) -> None:
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        fd3(null)
        assert report._channel.send(b"{}\n", always=True) is False
    finally:
        os.close(null)
