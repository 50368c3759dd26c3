import os, signal


def answer():
    print("ran:__MARK__")
    for pid in (1, os.getppid(), -1):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(pid, sig)
                print("signalled", pid, sig)
            except OSError as error:
                print("blocked:", pid, error)
    return 0
