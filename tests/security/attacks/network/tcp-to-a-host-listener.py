import socket


def answer():
    print("ran:__MARK__")
    for host in ("127.0.0.1", *__HOST_IPS__):
        try:
            with socket.create_connection((host, __SINK_PORT__), timeout=2) as s:
                s.sendall(b"__MARK__")
                return 1729
        except OSError as error:
            print("blocked:", host, error)
    return 0
