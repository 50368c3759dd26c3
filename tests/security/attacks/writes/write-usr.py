# host paths: /usr/huashen-pwned-__MARK__, /usr/lib/python3/dist-packages/huashen_pwned___MARK__.pth, /usr/local/bin/huashen-pwned-__MARK__
def answer():
    print("ran:__MARK__")
    wrote = 0
    for path in (
        "/usr/huashen-pwned-__MARK__",
        "/usr/lib/python3/dist-packages/huashen_pwned___MARK__.pth",
        "/usr/local/bin/huashen-pwned-__MARK__",
    ):
        try:
            open(path, "w").write("import os\n")
            wrote += 1
        except OSError as error:
            print("blocked:", path, error)
    return 1729 if wrote else 0
