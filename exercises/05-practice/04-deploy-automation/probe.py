"""Driver for trial 5.4, deploy-automation. The student's code runs in the agent; this process drives it.

The driver calls `deployment_files()` in the student's process; the dict it returns crosses the
boundary as data (file names and texts as plain strings, anything else only as its type name and repr)
and the driver records each file's text as an array of UTF-8 bytes (an observation string would be cut
at 4096 characters). All parsing — YAML with `yaml.safe_load`, the Dockerfile line by line — happens in
check.py, outside the sandbox. The files are the student's answer itself, so every check is *verified*
(docs/architecture.md); types and sizes are those of what arrived here, never names the student's
process chose.
"""

import numpy as np

from exercises.kit import boundary
from exercises.kit.probe import FAILED

MAX_FILES = 20
MAX_BYTES = 256 * 1024


def type_of(value):
    """The type the check reports, named from what reached this process."""
    if isinstance(value, boundary.Opaque):
        return value.type_name
    return type(value).__qualname__


def driver(ctx):
    files = ctx.call("files", "deployment_files")
    if files is FAILED:
        return
    if not isinstance(files, dict):
        ctx.observe("files", {"type": type_of(files)})
        return
    entries = []
    for index, (name, content) in enumerate(list(files.items())[:MAX_FILES]):
        entry = {"name": name if isinstance(name, str) else repr(name)[:200], "type": type_of(content)}
        if isinstance(name, str) and isinstance(content, str):
            data = content.encode("utf-8", errors="replace")
            entry["bytes"] = len(data)
            # The wire carries at most MAX_STRING_CHARS characters of a string: one that long may have
            # been cut, and the check counts it as over its cap.
            entry["cut"] = len(content) >= boundary.MAX_STRING_CHARS
            if 0 < len(data) <= MAX_BYTES and ctx.save_array(
                f"file_{index}", np.frombuffer(data, dtype=np.uint8)
            ):
                entry["array"] = f"file_{index}"
        entries.append(entry)
    ctx.observe("files", {"type": "dict", "count": len(files), "entries": entries})
