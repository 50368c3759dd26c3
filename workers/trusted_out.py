"""The out/ files of a boundary trial that the check may read: only those the driver vouched for.

On a boundary trial (`exercises.kit.driver`: probe.py defines `driver(ctx)`) the student's code runs in
its own process, and only the driver holds the job's event pipe (fd 3). At its end the driver sends one
line there, the result manifest `{"kind": "boundary-result", "files": {path: sha256}}`. The student's
process shares the driver's uid and can write /work/out; so after the whole process tree is dead the
grader copies into a fresh folder of its own exactly the files the manifest names whose contents hash
to what the driver wrote — regular files, no links, within the kit's size caps — and the check reads
that folder. A missing manifest (the driver was killed, or never ran) or a file that differs leaves the
folder without it: no observation, so the checks that needed it fail. Whether a trial is a boundary
trial is read from the bundle on the host, never from anything the job sent.

A boundary trial's verify step (verify.py, a second and fresh sandbox) receives as /work/first/ that
same folder: only the files the first run's driver vouched for, among them `files/<name>`, the copies
it kept of what the student's code wrote (an exported model). When verify.py is itself a driver, its
own out/ goes through the same manifest before the check reads it.
"""

from __future__ import annotations

import ast
import hashlib
import logging
import os
import re
from pathlib import Path
from typing import Any

from exercises.kit.observations import (
    ARRAY_KEY,
    ARRAYS_DIR,
    ARTIFACT_NAME,
    ARTIFACTS_DIR,
    ERROR_FILE,
    FILE_NAME,
    FILES_DIR,
    MAX_ARRAY_BYTES,
    MAX_ERROR_BYTES,
    MAX_FILE_BYTES,
    MAX_OBSERVATIONS_BYTES,
    OBSERVATIONS_FILE,
    open_directory,
    read_regular_file,
)

logger = logging.getLogger(__name__)

RESULT_KIND = "boundary-result"  # exercises.kit.driver.RESULT_KIND (workers never imports the driver)
MAX_ARTIFACT_BYTES = 512 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def is_boundary_exercise(bundle: Path, probe: str = "probe.py") -> bool:
    """Whether the bundle's probe.py (or its verify step, `probe="verify.py"`) defines a top-level
    `driver` function (read, never run)."""
    try:
        tree = ast.parse((bundle / probe).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return False
    return any(isinstance(node, ast.FunctionDef) and node.name == "driver" for node in tree.body)


def _cap(name: str) -> int | None:
    """The size cap of a manifest path, or None for a path the driver never writes."""
    if name == OBSERVATIONS_FILE:
        return MAX_OBSERVATIONS_BYTES
    if name == ERROR_FILE:
        return MAX_ERROR_BYTES
    folder, _, file = name.partition("/")
    if folder == ARRAYS_DIR and file.endswith(".npy") and ARRAY_KEY.match(file[:-4]):
        return MAX_ARRAY_BYTES
    if folder == ARTIFACTS_DIR and ARTIFACT_NAME.match(file):
        return MAX_ARTIFACT_BYTES
    if folder == FILES_DIR and FILE_NAME.match(file):
        return MAX_FILE_BYTES
    return None


class ResultManifest:
    """Collects the driver's manifest from the job's events (the first one; there is only one)."""

    def __init__(self) -> None:
        self.files: dict[str, str] | None = None

    def offer(self, event: dict[str, Any]) -> bool:
        """Take `event` if it is the manifest; True when it was one (it is not shown as a metric)."""
        if event.get("kind") != RESULT_KIND:
            return False
        files = event.get("files")
        if self.files is None and isinstance(files, dict):
            self.files = {
                str(name): str(digest)
                for name, digest in files.items()
                if isinstance(digest, str) and _SHA256.match(digest) and _cap(str(name)) is not None
            }
        return True


def copy_verified(out: Path, manifest: ResultManifest, target: Path) -> list[str]:
    """Copy into `target` (an empty folder of the grader's) each manifest file of `out` whose sha256
    matches; return what was missing or differed (for the log)."""
    if manifest.files is None:
        return ["no result manifest from the driver"]
    problems: list[str] = []
    out_fd = open_directory(out)
    if out_fd is None:
        return ["out/ is not a folder"]
    try:
        for name, digest in sorted(manifest.files.items()):
            cap = _cap(name)
            assert cap is not None
            folder, _, file = name.rpartition("/")
            folder_fd = open_directory(folder, dir_fd=out_fd) if folder else out_fd
            if folder_fd is None:
                problems.append(f"{name}: its folder is gone or not a folder")
                continue
            try:
                data = read_regular_file(file, dir_fd=folder_fd, max_bytes=cap)
            except Exception as error:
                problems.append(f"{name}: {error}")
                continue
            finally:
                if folder_fd != out_fd:
                    os.close(folder_fd)
            if hashlib.sha256(data).hexdigest() != digest:
                problems.append(f"{name}: not what the driver wrote")
                continue
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(data)
    finally:
        os.close(out_fd)
    return problems
