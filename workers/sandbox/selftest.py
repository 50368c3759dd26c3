"""The startup self-test: a grader proves its sandbox sound before it consumes a single request.

Fails closed: any problem means the worker does not consume its queue. It checks the facts the security
model rests on, from inside a real sandbox run: the job is not root, has no capabilities, has no network,
cannot write the system, /dev or the Python environment, sees no launcher environment, and is confined by
cgroups where that is required.
"""

import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workers.protocol import Limits
from workers.sandbox.policy import SANDBOX_USER, SandboxPolicy
from workers.sandbox.runner import SandboxOutcome, is_root, job_dir, run_sandboxed, sandbox_account

if TYPE_CHECKING:
    from workers.sandbox.warm.pool import WarmPool

PROBE = r"""
import json, os, socket, sys
facts = {"uid": os.getuid(), "pid": os.getpid(), "cap_eff": open("/proc/self/status").read().split("CapEff:")[1].split()[0]}
try:
    socket.create_connection(("1.1.1.1", 53), timeout=1); facts["network"] = True
except OSError:
    facts["network"] = False
for path in ("/usr/huashen-selftest", sys.prefix + "/huashen-selftest", "/dev/huashen-selftest"):
    try:
        open(path, "w"); facts["writable:" + path] = True
    except OSError:
        pass
try:
    facts["launcher_env"] = open("/proc/1/environ").read().count("=")
except PermissionError:
    facts["launcher_env"] = 0  # the warm path's init is not dumpable: nothing of it is visible
facts["work_writable"] = os.access("/work", os.W_OK)
print(json.dumps(facts))
"""


def self_test(*, require_cgroups: bool) -> list[str]:
    """Problems found (empty when the sandbox is sound)."""
    problems = []
    if shutil.which("bwrap") is None:
        return ["bubblewrap (bwrap) is not installed: apt-get install bubblewrap"]
    if is_root() and sandbox_account() is None:
        return [f"running as root but the {SANDBOX_USER} account is missing (scripts/install.sh creates it)"]
    if not is_root() and require_cgroups:
        problems.append("a distributed grader must run as root (or with delegated cgroups) to confine jobs")
    lib = Path(tempfile.mkdtemp(prefix="huashen-selftest-"))
    lib.chmod(0o755)
    try:
        outcome, output = _run_probe(lib, run_sandboxed, require_cgroups=require_cgroups)
    finally:
        shutil.rmtree(lib, ignore_errors=True)
    return _judge(outcome, output, problems, require_cgroups=require_cgroups)


def warm_self_test(pool: "WarmPool") -> list[str]:
    """The same probe and the same judgement through the warm path (its zygote), before the pool runs
    any job. Problems found (empty when sound); the pool runs nothing warm otherwise."""
    from workers.sandbox.warm.pool import WarmUnavailable

    zygote = pool.zygote
    if zygote is None:
        return ["no zygote to test"]

    def run_warm(policy: SandboxPolicy, limits: Limits, **kwargs: Any) -> SandboxOutcome:
        # The pool's own mounts (the probe is /work/probe.py and needs none of them).
        setup = pool.setup
        policy = dataclasses.replace(
            policy, lib_dir=setup.lib_dir, torch_home=setup.torch_home, devices=setup.devices
        )
        return pool.run(policy, limits, zygote=zygote, **kwargs)

    try:
        outcome, output = _run_probe(pool.setup.lib_dir, run_warm, require_cgroups=True)
    except WarmUnavailable as error:
        return [f"the warm sandbox does not start a run: {error}"]
    problems = _judge(outcome, output, [], require_cgroups=True)
    facts = _facts(output)
    if facts is not None and facts.get("pid") != 2:
        problems.append(f"the warm run is not pid 2 of its own PID namespace: {facts.get('pid')}")
    return problems


def _run_probe(
    lib: Path, run: Callable[..., SandboxOutcome], *, require_cgroups: bool
) -> tuple[SandboxOutcome, list[str]]:
    output: list[str] = []
    with job_dir(f"selftest-{os.getpid()}", size_mb=16) as work:
        (work / "probe.py").write_text(PROBE)
        (work / "probe.py").chmod(0o644)
        policy = SandboxPolicy.for_job(
            work_dir=work, lib_dir=lib, script="/work/probe.py", env={}, tmp_bytes=16 * 1024 * 1024
        )
        outcome = run(
            policy,
            Limits(wall_seconds=20, cpu_seconds=20, memory_mb=1024, pids=16, output_kb=64, disk_mb=16),
            job_name=f"selftest-{os.getpid()}",
            on_output=lambda stream, text: output.append(text) if stream == "stdout" else None,
            on_event=lambda event: None,
            **({"require_cgroups": require_cgroups} if run is run_sandboxed else {}),
        )
    return outcome, output


def _facts(output: list[str]) -> dict[str, Any] | None:
    try:
        facts = json.loads("".join(output).strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    return facts if isinstance(facts, dict) else None


def _judge(
    outcome: SandboxOutcome, output: list[str], problems: list[str], *, require_cgroups: bool
) -> list[str]:
    if outcome.launch_error:
        return [*problems, f"the sandbox does not start: {outcome.launch_error}"]
    if require_cgroups and not outcome.confined:
        problems.append("cgroups are unavailable: memory and process limits cannot be enforced")
    facts = _facts(output)
    if facts is None:
        return [*problems, f"the self-test probe did not report (exit {outcome.exit_code})"]
    if facts.get("uid") == 0:
        problems.append("the job runs as root inside the sandbox")
    if facts.get("cap_eff") != "0000000000000000":
        problems.append(f"the job has capabilities: CapEff {facts.get('cap_eff')}")
    if facts.get("network"):
        problems.append("the job reached the network")
    if any(key.startswith("writable:") for key in facts):
        problems.append(f"the job can write the system: {[k for k in facts if k.startswith('writable:')]}")
    if facts.get("launcher_env"):
        problems.append("the launcher's environment is visible inside (/proc/1/environ)")
    if not facts.get("work_writable"):
        problems.append("the job cannot write its work dir")
    return problems
