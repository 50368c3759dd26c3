import os


def answer():
    print("ran:__MARK__")
    print(sorted(os.listdir("/dev")))
    for path in (
        "/dev/mem",
        "/dev/kmem",
        "/dev/port",
        "/dev/kmsg",
        "/dev/sda",
        "/dev/vda",
        "/dev/nvme0n1",
        "/dev/vsock",
        "/dev/vhost-vsock",
        "/dev/fuse",
        "/dev/nvidiactl",
        "/dev/net/tun",
    ):
        try:
            os.close(os.open(path, os.O_RDONLY))
            print("opened", path)
            return 1729
        except OSError as error:
            print("blocked:", path, error)
    return 0
