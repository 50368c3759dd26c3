# wait seconds: 15
import os


def answer():
    print("ran:__MARK__")
    os.write(3, b'{"step": NaN, "metrics": {"loss": NaN, "accuracy": Infinity}}\n')
    return 0
