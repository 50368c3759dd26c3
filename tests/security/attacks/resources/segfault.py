# verdicts: error
# explains: crashed (SIGSEGV)
import ctypes


def answer():
    print("ran:__MARK__")
    ctypes.string_at(0)
    return 1729
