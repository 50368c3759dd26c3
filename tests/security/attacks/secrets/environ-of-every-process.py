import os

MARKERS = (b"REDIS_URL", b"DATABASE_URL", b"HONEYTOKEN", b"SECRET", b"CELERY", b"PYTHONPATH")


def answer():
    print("ran:__MARK__")
    pids = {int(p) for p in os.listdir("/proc") if p.isdigit()} | set(__HOST_PIDS__)
    hit = False
    for pid in sorted(pids):
        try:
            data = open(f"/proc/{pid}/environ", "rb").read()
        except OSError as error:
            print("blocked:", pid, error)
            continue
        print(pid, data.replace(b"\0", b" ")[:4000])
        hit = hit or any(marker in data for marker in MARKERS)
    return 1729 if hit else 0
