# trial: sandbox-verify
import os


def export(folder):
    print("ran:__MARK__")
    os.rename("/work/out", "/work/out-moved")
    os.symlink("__CANARY_DIR__", "/work/out")  # holds value.txt: the verify step would echo it
    os._exit(0)
