import os


def answer():
    print("ran:__MARK__")
    for path in (
        "__ROOT__/platform/huashen/settings.py",
        "__ROOT__/.env",
        "__ROOT__/var",
        "__ROOT__/pyproject.toml",
        "/etc/huashen",
        "/run/secrets",
    ):
        try:
            print(path, os.listdir(path) if os.path.isdir(path) else open(path).read(2000))
            return 1729
        except OSError as error:
            print("blocked:", path, error)
    return 0
