# max seconds: 20
import os


def answer():
    print("ran:__MARK__")
    # valid JSON (trailing spaces are whitespace) that is over the 1 MiB cap
    with open("/work/out/observations.json", "w") as f:
        f.write('{"answer": 1729}' + " " * (2 << 20))
    open("/work/out/error.json", "w").close()
    for size in (2 << 30, 15 << 20):
        try:
            os.truncate("/work/out/error.json", size)
            print("sparse error.json of", size, "bytes")
            break
        except OSError as error:
            print("no sparse file of", size, "bytes:", error)
    os._exit(0)
