import socket


def answer():
    print("ran:__MARK__")
    for family, kind, proto in (
        (40, socket.SOCK_STREAM, 0),
        (40, socket.SOCK_DGRAM, 0),
        (socket.AF_PACKET, socket.SOCK_RAW, 0),
        (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP),
    ):
        try:
            socket.socket(family, kind, proto).close()
            print("created", family, kind)
            return 1729
        except OSError as error:
            print("blocked:", family, kind, error)
    return 0
