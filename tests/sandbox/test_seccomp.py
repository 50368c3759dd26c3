"""The seccomp filter, read back rule by rule: which system calls fail with an error and which kill the job.

The lists below are written out on purpose rather than imported from `workers.sandbox.seccomp`: removing
a call from the policy (say `flock`, which lets two jobs signal each other) must fail a test, not pass it
silently. libseccomp writes the same filter as readable pseudo code (PFC) as well as BPF; the rules are
read from that text. One more test loads the filter into a process and watches it refuse `flock()`.
"""

import errno
import re
import socket
import subprocess
import sys
import termios
from pathlib import Path

import pyseccomp
import pytest

REPO = Path(__file__).resolve().parents[2]

# Fail with EPERM: routes namespaces leave open (flock on shared read-only files, io_uring, keyrings, ...).
DENIED = {
    "flock", "io_uring_setup", "io_uring_enter", "io_uring_register", "userfaultfd", "perf_event_open",
    "name_to_handle_at", "open_by_handle_at", "add_key", "request_key", "keyctl",
}  # fmt: skip
# Kill the job (a sandbox violation): calls no trial has any business making.
KILLED = {
    "ptrace", "process_vm_readv", "process_vm_writev", "kexec_load", "kexec_file_load", "init_module",
    "finit_module", "delete_module", "bpf", "mount", "umount2", "pivot_root", "swapon", "swapoff",
    "reboot", "acct", "setns", "lookup_dcookie", "quotactl",
}  # fmt: skip

RULE = re.compile(r'# filter for syscall "(?P<name>[a-z0-9_]+)"')
ACTION = re.compile(r"action (?P<action>[A-Z_]+(?:\(\d+\))?);")


def filter_rules(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[dict[str, list[str]], str]:
    """Each filtered call's lines of pseudo code, and the whole text, from the filter `write_filter` builds."""
    from workers.sandbox.seccomp import write_filter

    monkeypatch.setattr(pyseccomp.SyscallFilter, "export_bpf", pyseccomp.SyscallFilter.export_pfc)
    target = tmp_path / "filter.pfc"
    with target.open("wb") as handle:
        write_filter(handle)
    text = target.read_text()
    rules: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if match := RULE.search(line):
            current = rules.setdefault(match["name"], [])
        elif "# default action" in line:
            current = None
        elif current is not None:
            current.append(line.strip())
    return rules, text


def actions(lines: list[str]) -> set[str]:
    return {match["action"] for line in lines if (match := ACTION.search(line))}


def test_the_filter_names_every_denied_and_killed_system_call(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # given the filter the sandbox is started with
    # when its rules are read back
    rules, text = filter_rules(monkeypatch, tmp_path)
    # then each denied call fails with EPERM, each killed call kills the process, and nothing else is filtered
    assert {name: actions(rules.get(name, [])) for name in sorted(DENIED)} == {
        name: {f"ERRNO({errno.EPERM})"} for name in sorted(DENIED)
    }
    assert {name: actions(rules.get(name, [])) for name in sorted(KILLED)} == {
        name: {"KILL_PROCESS"} for name in sorted(KILLED)
    }
    assert set(rules) == DENIED | KILLED | {"socket", "ioctl"}
    assert "action ALLOW;" in text.split("# default action")[1].splitlines()[1]


def test_socket_and_ioctl_are_refused_only_for_vsock_and_tiocsti(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # given the filter's rules for socket() and ioctl()
    rules, _text = filter_rules(monkeypatch, tmp_path)
    # then socket(AF_VSOCK, ...) fails with EAFNOSUPPORT and ioctl(fd, TIOCSTI) with EPERM, each on its
    # argument: every other socket and ioctl is allowed (the default action)
    assert actions(rules["socket"]) == {f"ERRNO({errno.EAFNOSUPPORT})"}
    assert any(f"$a0.lo32 == {socket.AF_VSOCK}" in line for line in rules["socket"])
    assert actions(rules["ioctl"]) == {f"ERRNO({errno.EPERM})"}
    assert any(f"== {termios.TIOCSTI}" in line for line in rules["ioctl"] if "$a1" in line)


def test_a_process_under_the_filter_cannot_flock(tmp_path: Path) -> None:
    # given a fresh process that loads the filter into itself instead of handing it to bwrap
    script = (
        "import errno, fcntl, sys\n"
        "import pyseccomp\n"
        "pyseccomp.SyscallFilter.export_bpf = lambda self, target: self.load()\n"
        "from workers.sandbox.seccomp import write_filter\n"
        "write_filter(None)\n"
        "with open(sys.argv[1], 'w') as handle:\n"
        "    try:\n"
        "        fcntl.flock(handle, fcntl.LOCK_EX)\n"
        "    except PermissionError:\n"
        "        print('refused')\n"
        "    else:\n"
        "        print('locked')\n"
    )
    # when it tries to lock a file
    completed = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "shared")],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    # then the call fails with EPERM and the process lives on
    assert (completed.returncode, completed.stdout.strip()) == (0, "refused"), completed.stderr
