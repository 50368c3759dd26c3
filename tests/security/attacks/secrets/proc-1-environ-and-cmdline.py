def answer():
    print("ran:__MARK__")
    leaked = False
    for name in ("environ", "cmdline"):
        try:
            data = open("/proc/1/" + name, "rb").read()
        except OSError as error:
            print("blocked:", name, error)
            continue
        print(name, data.replace(b"\0", b" ")[:8000])
        leaked = leaked or (name == "environ" and bool(data))
    return 1729 if leaked else 0
