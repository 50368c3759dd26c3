# max seconds: 20
import os


def answer():
    print("ran:__MARK__")
    os.mkfifo("/work/out/observations.json")
    os.mkfifo("/work/out/error.json")
    os._exit(0)
