# verdicts: error, memory_limit
# explains: processes/threads (limit 48)
import os, time


def answer():
    print("ran:__MARK__")
    while True:
        try:
            os.fork()
        except OSError:
            time.sleep(0.01)
        if len([p for p in os.listdir("/proc") if p.isdigit()]) > 80:
            return 1729  # far past the pids limit of 48
