# host paths: /tmp/huashen-pwned-__MARK__
import os

PAYLOAD = "import pathlib; pathlib.Path('/tmp/huashen-pwned-__MARK__').touch()\nANSWER = 1729\n"


def answer():
    print("ran:__MARK__")
    for folder in ("/work", "/work/out"):
        for name in ("json.py", "numpy.py", "sitecustomize.py", "usercustomize.py"):
            open(os.path.join(folder, name), "w").write(PAYLOAD)
        for package in ("exercises", "exercises/kit", "workers"):
            os.makedirs(os.path.join(folder, package), exist_ok=True)
            open(os.path.join(folder, package, "__init__.py"), "w").write(PAYLOAD)
        for name in ("check.py", "observations.py"):
            open(os.path.join(folder, "exercises/kit", name), "w").write(PAYLOAD)
        open(os.path.join(folder, "huashen.pth"), "w").write("import json\n")
    return 0
