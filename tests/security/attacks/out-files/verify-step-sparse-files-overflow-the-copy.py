# trial: sandbox-verify
# max seconds: 30
import os


def export(folder):
    print("ran:__MARK__")
    (folder / "value.txt").write_text("42")
    for index in range(6):
        path = f"/work/out/sparse-{index}"
        open(path, "w").close()
        os.truncate(path, 15 << 20)  # no blocks here; the host's copy writes them all
