# host paths: __VENV__/huashen-pwned-__MARK__, __SITE_PACKAGES__/huashen_pwned___MARK__.pth, __SITE_PACKAGES__/torch/huashen_pwned___MARK__.py
import os, sys, sysconfig


def answer():
    print("ran:__MARK__")
    wrote = 0
    for path in (
        os.path.join(sys.prefix, "huashen-pwned-__MARK__"),
        os.path.join(sysconfig.get_paths()["purelib"], "huashen_pwned___MARK__.pth"),
        os.path.join(sysconfig.get_paths()["purelib"], "torch", "huashen_pwned___MARK__.py"),
    ):
        try:
            open(path, "w").write("import os\n")
            wrote += 1
        except OSError as error:
            print("blocked:", path, error)
    return 1729 if wrote else 0
