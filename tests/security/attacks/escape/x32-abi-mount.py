# verdicts: sandbox_violation, failed
import ctypes, os


def answer():
    print("ran:__MARK__")
    libc = ctypes.CDLL(None, use_errno=True)
    result = libc.syscall(0x40000000 | 165, b"none", b"/work", b"tmpfs", 0, None)
    print("x32 mount:", result, os.strerror(ctypes.get_errno()))
    return 1729 if result == 0 else 0
