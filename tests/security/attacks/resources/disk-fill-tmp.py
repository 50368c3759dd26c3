import os


def answer():
    print("ran:__MARK__")
    written = 0
    try:
        for index in range(64):
            with open(f"/tmp/fill-{index}", "wb") as f:
                for _ in range(4):
                    f.write(b"\x01" * (1 << 20))
                    written += 1 << 20
    except OSError as error:
        print("stopped:", error)
    print("wrote", written >> 20, "MiB")
    return 1729 if written > (24 << 20) else 0
