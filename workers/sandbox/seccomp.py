"""The seccomp filter: what namespaces do not stop.

Namespaces leave some routes open: AF_VSOCK sockets (to the hypervisor), flock() on shared read-only
files (two concurrent jobs can signal each other), io_uring (a second syscall interface that filters
do not see), the x32 ABI, TIOCSTI. Those fail with EPERM. Calls that no trial has any business making
(ptrace, kernel modules, keyrings, bpf, mount, kexec, ...) kill the job: the verdict is
"sandbox violation". Non-native architectures are killed by libseccomp's bad-arch action.
"""

import errno
import socket
import termios
from typing import IO

DENIED = (
    "flock",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "userfaultfd",
    "perf_event_open",
    "name_to_handle_at",
    "open_by_handle_at",
    "add_key",
    "request_key",
    "keyctl",
)
KILLED = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "bpf",
    "mount",
    "umount2",
    "pivot_root",
    "swapon",
    "swapoff",
    "reboot",
    "acct",
    "setns",
    "lookup_dcookie",
    "quotactl",
)


def write_filter(target: IO[bytes]) -> None:
    """Compile the filter to classic BPF into `target` (bwrap reads it with --seccomp FD)."""
    import pyseccomp as seccomp

    policy = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in DENIED:
        policy.add_rule(seccomp.ERRNO(errno.EPERM), name)
    for name in KILLED:
        policy.add_rule(seccomp.KILL_PROCESS, name)
    # socket(AF_VSOCK, ...) and socketpair: the one address family that crosses a network namespace.
    policy.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket", seccomp.Arg(0, seccomp.EQ, socket.AF_VSOCK))
    # ioctl(fd, TIOCSTI): typing into a terminal (also closed by --new-session).
    policy.add_rule(
        seccomp.ERRNO(errno.EPERM), "ioctl", seccomp.Arg(1, seccomp.MASKED_EQ, 0xFFFFFFFF, termios.TIOCSTI)
    )
    policy.export_bpf(target)
