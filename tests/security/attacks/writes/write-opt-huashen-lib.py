def answer():
    print("ran:__MARK__")
    wrote = 0
    for path, mode in (
        ("/opt/huashen/lib/harness/run.py", "a"),
        ("/opt/huashen/lib/exercises/kit/observations.py", "a"),
        ("/opt/huashen/lib/exercises/kit/pwned___MARK__.py", "w"),
        ("/opt/huashen/lib/etc/passwd", "a"),
    ):
        try:
            open(path, mode).write("\n# pwned __MARK__\n")
            wrote += 1
        except OSError as error:
            print("blocked:", path, error)
    return 1729 if wrote else 0
