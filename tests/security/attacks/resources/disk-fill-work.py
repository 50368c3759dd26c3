import os


def answer():
    print("ran:__MARK__")
    written = 0
    try:
        for index in range(64):
            with open(f"/work/fill-{index}", "wb") as f:
                for _ in range(4):
                    f.write(b"\x01" * (1 << 20))
                    written += 1 << 20
    except OSError as error:
        print("stopped:", error)
    print("wrote", written >> 20, "MiB")
    for index in range(64):
        try:
            os.remove(f"/work/fill-{index}")
        except OSError:
            pass
    return 1729 if written > (24 << 20) else 0  # the disk limit is 16 MB
