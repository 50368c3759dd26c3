import socket


def answer():
    print("ran:__MARK__")
    sent = 0
    for host in ("127.0.0.1", "255.255.255.255", *__HOST_IPS__):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
                s.sendto(b"__MARK__", (host, __SINK_PORT__))
                sent += 1
        except OSError as error:
            print("blocked:", host, error)
    print("datagrams handed to the kernel:", sent)
    return 0  # the host's UDP sink says whether any arrived
