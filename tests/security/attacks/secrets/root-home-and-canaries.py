import os


def answer():
    print("ran:__MARK__")
    for path in ("/root", "/home", "__CANARY_ROOT__", "__CANARY_TMP__", "__CANARY_DIR__/observations.json"):
        try:
            print(path, os.listdir(path) if os.path.isdir(path) else open(path).read())
            return 1729
        except OSError as error:
            print("blocked:", path, error)
    return 0
