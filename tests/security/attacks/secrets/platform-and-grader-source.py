import os


def answer():
    print("ran:__MARK__")
    for path in (
        "__ROOT__/platform/huashen/grading/services.py",
        "__ROOT__/workers/grader.py",
        "__ROOT__/workers/checker.py",
        "__ROOT__/tests/security/conftest.py",
        "__ROOT__",
    ):
        if os.path.exists(path):
            print("visible:", path)
            return 1729
    return 0
