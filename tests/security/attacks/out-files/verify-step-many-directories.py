# verdicts: failed, memory_limit
# trial: sandbox-verify
# max seconds: 20
import os


def export(folder):
    print("ran:__MARK__")
    (folder / "value.txt").write_text("42")
    os.chdir("/work/out")
    for index in range(250_000):  # about 1.5 s here; the host copies and chmods each one, unmetered
        os.mkdir(f"d{index}")
