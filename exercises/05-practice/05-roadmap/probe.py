"""Probe for trial 5.5, roadmap. Runs inside the sandbox; observes, never judges.

It reads the module-level ROADMAP and records it as JSON. Dates given as `datetime.date` (or
`datetime`) become ISO strings first, so both spellings reach the check the same way.
"""

import datetime

MAX_DEPTH = 8


def plain(value, depth=0):
    """ROADMAP with dates as ISO strings (the rest is kept for `jsonable`)."""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if depth >= MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {key: plain(item, depth + 1) for key, item in list(value.items())[:200]}
    if isinstance(value, list | tuple):
        return [plain(item, depth + 1) for item in list(value)[:200]]
    return value


def probe(ctx):
    module = ctx.load_solution()
    if not hasattr(module, "ROADMAP"):
        ctx.observe("roadmap", {"missing": True})
        return
    roadmap = module.ROADMAP
    ctx.observe("roadmap", {"type": type(roadmap).__qualname__, "value": plain(roadmap)})
