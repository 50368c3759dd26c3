# verdicts: error
# explains: processes/threads (limit 48)
import threading, time


def answer():
    print("ran:__MARK__")
    started = 0
    while True:
        try:
            threading.Thread(target=time.sleep, args=(600,), daemon=True).start()
            started += 1
        except RuntimeError:
            print("threads started:", started)
            time.sleep(600)
        if started > 100:
            return 1729  # far past the pids limit of 48
