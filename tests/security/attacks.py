"""The attack submissions: each is the student code of one named case, a file under
`tests/security/attacks/<group>/<name>.py`, grouped by threat (network, secrets, writes, out-files,
forging, resources, escape, pickles, log-poisoning), linted like any code and discovered like the trials'
wrong/ folders. A file's leading comment lines may say what differs from the defaults:
`# verdicts: sandbox_violation, failed`, `# trial: sandbox-arrays`, `# host paths: /tmp/a, /tmp/b`,
`# max seconds: 60`, `# wait seconds: 15`, `# explains: <words the "error" message must hold>`.

Every attack defines `answer()` for the test-only trials `sandbox-probe` (the probe observes what
`answer()` returns) and `sandbox-arrays` (the probe saves it as out/arrays/answer.npy), or `export(folder)`
for `sandbox-verify` (the grader copies the first run's out/ files into a second sandbox that runs only
the trial's verify.py, and the check echoes what that step saw). The hidden expectation is 1729, so each attack is written to return 1729 **only when the attack succeeded**: a
`passed` verdict is a hole the host can see, never something the student claims. Every attack first
prints `ran:__MARK__`, which the host must find in the stored log and the Redis stream (proof that the
code really ran, and that the leak scan looks where the student's output goes).

Placeholders (`__MARK__`, `__ROOT__`, ...) are filled by `tests.security.conftest.SecurityHost.render`
with facts that are not secrets (paths, ports, pids); the honeytokens and canary secrets are never in
the code.
"""

import re
from dataclasses import dataclass
from pathlib import Path

PROBE = "sandbox-probe"
ARRAYS = "sandbox-arrays"
VERIFY = "sandbox-verify"  # export(folder) writes out/ files; a second, fresh sandbox (verify.py) reads them

TIME_LIMIT = ("time_limit",)
VIOLATION = ("sandbox_violation",)


@dataclass(frozen=True)
class Attack:
    name: str
    code: str
    verdicts: tuple[str, ...] = ("failed",)  # what the host must see (never "passed")
    trial: str = PROBE
    host_paths: tuple[str, ...] = ()  # host files the attack tries to create: must not exist after
    max_seconds: float = 40.0  # from submit to the stored verdict
    wait_seconds: float = 40.0  # when the host stops waiting for a verdict (a poisoned one never comes)
    explains: str = ""  # what the verdict's English message must say, when it is "error"


FOLDER = Path(__file__).resolve().parent / "attacks"
_HEADER = re.compile(r"# (verdicts|trial|host paths|max seconds|wait seconds|explains): (.*)")


def read_attack(path: Path) -> Attack:
    """One attack file: its name is the file's, its options come from its leading comment lines."""
    code = path.read_text(encoding="utf-8")
    options: dict = {}
    for line in code.splitlines():
        found = _HEADER.fullmatch(line)
        if found is None:
            break
        key, value = found.group(1), found.group(2).strip()
        if key in ("verdicts", "host paths"):
            options[key.replace(" ", "_")] = tuple(item.strip() for item in value.split(",") if item.strip())
        elif key in ("max seconds", "wait seconds"):
            options[key.replace(" ", "_")] = float(value)
        else:
            options[key] = value
    return Attack(path.stem, code, **options)


def load(group: str) -> list[Attack]:
    """The attacks of one group, by name."""
    paths = sorted((FOLDER / group).glob("*.py"))
    assert paths, f"no attacks under {FOLDER / group}"
    return [read_attack(path) for path in paths]


NETWORK = load("network")
SECRETS = load("secrets")
WRITES = load("writes")
OUT_FILES = load("out-files")
FORGING = load("forging")
RESOURCES = load("resources")
ESCAPE = load("escape")
PICKLES = load("pickles")
POISON = load("log-poisoning")

GROUPS = {
    "network": NETWORK,
    "secrets": SECRETS,
    "writes": WRITES,
    "out-files": OUT_FILES,
    "forging": FORGING,
    "resources": RESOURCES,
    "escape": ESCAPE,
    "pickles": PICKLES,
    "log-poisoning": POISON,
}

# What the first of two submissions leaves behind; the second returns 1729 if it is still there.
PERSISTENCE_PLACES = {
    "tmp": "/tmp/huashen-persist-__MARK__",
    "dev-shm": "/dev/shm/huashen-persist-__MARK__",
    "work": "/work/huashen-persist-__MARK__",
}
PERSIST_WRITE = """
import os
def answer():
    print("ran:__MARK__")
    open("__PLACE__", "w").write("left behind")
    os.chmod("__PLACE__", 0o666)
    print("__PLACE__ exists now:", os.path.exists("__PLACE__"))
    return 0
"""
PERSIST_READ = """
import os
def answer():
    print("ran:__MARK__")
    found = os.path.exists("__PLACE__")
    print("__PLACE__ still there:", found)
    return 1729 if found else 0
"""
# /dev: the runs of a warm zygote share it. Writing there must fail (a file, a folder, a link); the
# second submission reads as above.
DEV_PLACE = "/dev/huashen-persist-__MARK__"
DEV_WRITE = """
import os
def answer():
    print("ran:__MARK__")
    wrote = []
    for suffix, make in (("", lambda path: open(path, "w").write("left behind")), ("-dir", os.mkdir),
                         ("-link", lambda path: os.symlink("/work", path))):
        try:
            make("__PLACE__" + suffix)
            wrote.append(suffix)
        except OSError as error:
            print("blocked:", suffix, error)
    return 1729 if wrote else 0
"""
