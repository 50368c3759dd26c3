# trial: sandbox-verify
# max seconds: 30
import os


def export(folder):
    print("ran:__MARK__")
    os.symlink("__CANARY_DIR__/value.txt", "/work/out/value.txt")
    os.mkfifo("/work/out/fifo")
    with open("/work/out/original.txt", "w") as f:
        f.write("1729")
    os.link("/work/out/original.txt", "/work/out/linked.txt")
    os.makedirs("/work/out/sub")
    os.symlink("__CANARY_DIR__", "/work/out/sub/value.txt")
    os.symlink("/etc", "/work/out/etc")
