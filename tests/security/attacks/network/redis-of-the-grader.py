import socket


def answer():
    print("ran:__MARK__")
    for host in ("127.0.0.1", "localhost", "::1", *__HOST_IPS__):
        try:
            with socket.create_connection((host, __REDIS_PORT__), timeout=2) as s:
                s.sendall(b"PING\r\n")
                print("reply", s.recv(16))
                return 1729
        except OSError as error:
            print("blocked:", host, error)
    return 0
