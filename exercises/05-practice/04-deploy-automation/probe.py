"""Probe for trial 5.4, deploy-automation. Runs inside the sandbox; observes, never judges.

It calls `deployment_files()` and hands each file's text out unchanged, as an array of UTF-8 bytes (an
observation string would be cut at 4096 characters). All parsing — YAML with `yaml.safe_load`, the
Dockerfile line by line — happens in check.py, outside the sandbox.
"""

import numpy as np

from exercises.kit.probe import FAILED

MAX_FILES = 20
MAX_BYTES = 256 * 1024


def probe(ctx):
    files = ctx.call("files", "deployment_files")
    if files is FAILED:
        return
    if not isinstance(files, dict):
        ctx.observe("files", {"type": type(files).__qualname__})
        return
    entries = []
    for index, (name, content) in enumerate(list(files.items())[:MAX_FILES]):
        entry = {
            "name": name if isinstance(name, str) else repr(name)[:200],
            "type": type(content).__qualname__,
        }
        if isinstance(name, str) and isinstance(content, str):
            data = content.encode("utf-8", errors="replace")
            entry["bytes"] = len(data)
            if 0 < len(data) <= MAX_BYTES and ctx.save_array(
                f"file_{index}", np.frombuffer(data, dtype=np.uint8)
            ):
                entry["array"] = f"file_{index}"
        entries.append(entry)
    ctx.observe("files", {"type": "dict", "count": len(files), "entries": entries})
