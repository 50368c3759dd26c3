# wait seconds: 15
import os


def answer():
    print("ran:__MARK__")
    os.write(3, b'{"step": 1, "metrics": {"loss": "\\ud800"}}\n')
    return 0
