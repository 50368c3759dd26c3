"""Driver for trial 5.5, roadmap. The student's code runs in the agent; this process drives it.

The trial's routine `agent_roadmap` reads the module-level ROADMAP in the student's process and hands
it over unchanged, with dates (`datetime.date` or `datetime`) as ISO strings so that both spellings
reach the check the same way. It crosses the boundary as data — dicts, lists, strings and numbers
rebuilt here; anything else only as its type name and repr — and the driver records it. The roadmap is
the student's answer itself, so what arrives is exactly what the check must judge: every check is
*verified* (docs/architecture.md). Its type is the type of what arrived, never a name the student's
process chose.
"""

import datetime

from exercises.kit import boundary
from exercises.kit.probe import FAILED

MAX_DEPTH = 8
MAX_ITEMS = 200


def plain(value, depth=0):
    """ROADMAP with dates as ISO strings (containers cut at MAX_ITEMS items, MAX_DEPTH levels)."""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if depth >= MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {key: plain(item, depth + 1) for key, item in list(value.items())[:MAX_ITEMS]}
    if isinstance(value, list | tuple):
        return [plain(item, depth + 1) for item in list(value)[:MAX_ITEMS]]
    return value


def agent_roadmap(solution):
    """In the agent: {"missing": True}, or {"value": ROADMAP} as plain data."""
    if not hasattr(solution, "ROADMAP"):
        return {"missing": True}
    return {"value": plain(solution.ROADMAP)}


def type_of(value):
    """The type the check reports, named from what reached this process (an object the agent could
    only describe keeps the name it gave: the check never accepts that as a dict)."""
    if isinstance(value, boundary.Opaque):
        return value.type_name
    return type(value).__qualname__


def driver(ctx):
    ctx.load_solution()
    answer = ctx.run("roadmap", "agent_roadmap")
    if answer is FAILED:
        return
    if not isinstance(answer, dict) or not (answer.get("missing") is True or "value" in answer):
        ctx.observe("roadmap", {"type": type_of(answer), "value": answer})
        return
    if answer.get("missing") is True:
        ctx.observe("roadmap", {"missing": True})
        return
    value = answer["value"]
    ctx.observe("roadmap", {"type": type_of(value), "value": value})
