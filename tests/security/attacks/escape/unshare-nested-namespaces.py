import ctypes, os

FLAGS = {
    "user": 0x10000000,
    "mount": 0x00020000,
    "net": 0x40000000,
    "pid": 0x20000000,
    "cgroup": 0x02000000,
    "user+mount": 0x10020000,
}


def answer():
    print("ran:__MARK__")
    libc = ctypes.CDLL(None, use_errno=True)
    for name, flag in FLAGS.items():
        if libc.unshare(flag) == 0:
            print("unshared", name)
            return 1729
        print("blocked:", name, os.strerror(ctypes.get_errno()))
    return 0
