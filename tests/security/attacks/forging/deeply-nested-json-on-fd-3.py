import os


def answer():
    print("ran:__MARK__")
    os.write(3, b"[" * 100000 + b"\n")  # json.loads raises RecursionError, not ValueError
    os.write(3, b'{"metrics": ' + b"[" * 100000 + b"}\n")
    return 0
