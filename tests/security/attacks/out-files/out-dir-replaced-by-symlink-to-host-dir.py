import os


def answer():
    print("ran:__MARK__")
    os.rename("/work/out", "/work/out-moved")
    os.symlink("__CANARY_DIR__", "/work/out")
    os._exit(0)
