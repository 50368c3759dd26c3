# verdicts: memory_limit
import torch


def answer():
    print("ran:__MARK__")
    # With what importing torch takes (~280 MB), past the 384 MB limit; on the warm path too, where
    # the zygote imported torch before the job.
    held = bytearray(200 << 20)  # zero-filled: every page touched
    print(len(held))
    return 1729
