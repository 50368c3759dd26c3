# verdicts: output_limit
import sys


def answer():
    print("ran:__MARK__")
    for _ in range(10**6):
        sys.stderr.write("x" * 65536)
    return 1729
