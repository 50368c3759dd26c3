"""The Linux constants and the libc handle the warm sandbox needs, in one place.

Read by the host side (`pool.py`) and by the zygote inside the sandbox, which has no `workers` package:
`pool.py` copies this file beside `zygote.py`, so it may import only the standard library. Values are
x86_64 Linux's (the syscall numbers are the same on arm64 for open_tree and move_mount).
"""

import ctypes

# unshare(2) / setns(2) namespace flags
CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

# mount(2) flags
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 16384, 1 << 18

# prctl(2) options
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_SECCOMP = 22
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
SECCOMP_MODE_FILTER = 2
LINUX_CAPABILITY_VERSION_3 = 0x20080522
SYS_CAPSET = 126  # x86_64

# ioctl(2) on a network interface
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1

# open_tree(2) / move_mount(2): a work dir cloned into a run's mount namespace
SYS_OPEN_TREE, SYS_MOVE_MOUNT = 428, 429
OPEN_TREE_CLONE, OPEN_TREE_CLOEXEC = 1, 0o2000000
MOVE_MOUNT_F_EMPTY_PATH = 4
AT_FDCWD = -100

libc = ctypes.CDLL(None, use_errno=True)
