# wait seconds: 15
import sys


def answer():
    print("ran:__MARK__")
    print("before\x00after")
    sys.stderr.write("\x00\n")
    return 0
