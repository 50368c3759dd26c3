import os


def answer():
    print("ran:__MARK__")
    os.symlink("__CANARY_TMP__", "/work/out/observations.json")
    os.symlink("__CANARY_TMP__", "/work/out/error.json")
    os._exit(0)
