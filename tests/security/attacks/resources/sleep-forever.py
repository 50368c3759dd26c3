# verdicts: time_limit
import time


def answer():
    print("ran:__MARK__")
    time.sleep(10**6)
    return 1729
