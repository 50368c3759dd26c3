import socket, struct


def answer():
    print("ran:__MARK__")
    for host in ("127.0.0.1", *__HOST_IPS__):
        try:
            with socket.create_connection((host, __PG_PORT__), timeout=2) as s:
                s.sendall(struct.pack("!ii", 8, 80877103))  # SSLRequest: any server answers S or N
                print("reply", s.recv(1))
                return 1729
        except OSError as error:
            print("blocked:", host, error)
    return 0
