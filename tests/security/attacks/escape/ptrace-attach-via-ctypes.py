# verdicts: sandbox_violation
import ctypes, os


def answer():
    print("ran:__MARK__")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.ptrace(16, 1, 0, 0) == 0:  # PTRACE_ATTACH to pid 1
        return 1729
    print("ptrace failed:", os.strerror(ctypes.get_errno()))
    return 0
