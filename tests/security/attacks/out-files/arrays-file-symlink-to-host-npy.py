# trial: sandbox-arrays
import os


def answer():
    print("ran:__MARK__")
    os.makedirs("/work/out/arrays", exist_ok=True)
    os.symlink("__CANARY_NPY__", "/work/out/arrays/answer.npy")
    os._exit(0)
