# trial: sandbox-verify
# max seconds: 30
import os


def export(folder):
    print("ran:__MARK__")
    (folder / "value.txt").write_text("42")
    os.chdir("/work/out")
    for _ in range(1500):  # deeper than the host's recursion limit (os.makedirs itself would recurse)
        os.mkdir("d")
        os.chdir("d")
    os.chdir("/work")
