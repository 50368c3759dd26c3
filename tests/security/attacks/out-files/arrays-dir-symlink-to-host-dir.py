# trial: sandbox-arrays
import os


def answer():
    print("ran:__MARK__")
    os.symlink("__CANARY_DIR__/arrays", "/work/out/arrays")
    os._exit(0)
