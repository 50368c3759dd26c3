import os, signal


def answer():
    print("ran:__MARK__")
    visible = {int(p) for p in os.listdir("/proc") if p.isdigit()}
    reached = []
    for pid in [*__HOST_PIDS__, *range(2, 32768)]:
        if pid in visible:
            continue
        try:
            os.kill(pid, signal.SIGKILL)
            reached.append(pid)
        except OSError:
            pass
    print("reached outside the sandbox:", reached)
    return 1729 if reached else 0
