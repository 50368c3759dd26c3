# verdicts: sandbox_violation
import ctypes, os


def answer():
    print("ran:__MARK__")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(165, b"none", b"/work", b"tmpfs", 0, None) == 0:  # SYS_mount
        return 1729
    print("mount failed:", os.strerror(ctypes.get_errno()))
    return 0
