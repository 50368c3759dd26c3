"""The sandbox student code runs in: bubblewrap namespaces + cgroups + rlimits + seccomp.

Policy (what is mounted, which variables exist, which limits apply) is data in `policy.py`, unit-tested
without a sandbox; `runner.py` is the small wrapper that builds the command line, starts it with the
right privileges, caps output, enforces the wall clock, kills the whole tree and reports what happened.
`selftest.py` proves the sandbox sound at worker start; a grader that fails it consumes nothing.
"""

from workers.sandbox.policy import SandboxPolicy, bwrap_argv
from workers.sandbox.runner import SandboxOutcome, run_sandboxed

__all__ = ["SandboxOutcome", "SandboxPolicy", "bwrap_argv", "run_sandboxed"]
