# host paths: /huashen-pwned-__MARK__, /etc/huashen-pwned-__MARK__
import os


def answer():
    print("ran:__MARK__")
    wrote = 0
    for path in (
        "/huashen-pwned-__MARK__",
        "/etc/huashen-pwned-__MARK__",
        "/etc/ld.so.cache",
        "/etc/passwd",
        "/proc/huashen-pwned-__MARK__",
    ):
        try:
            open(path, "a").write("pwned")
            wrote += 1
        except OSError as error:
            print("blocked:", path, error)
    try:
        os.mkdir("/var")
        wrote += 1
    except OSError as error:
        print("blocked: mkdir /var", error)
    return 1729 if wrote else 0
