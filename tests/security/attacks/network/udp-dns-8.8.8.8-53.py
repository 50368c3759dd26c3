import socket

QUERY = bytes.fromhex("1234010000010000000000000470797069036f72670000010001")  # A? pypi.org


def answer():
    print("ran:__MARK__")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(3)
            s.sendto(QUERY, ("8.8.8.8", 53))
            if s.recvfrom(512)[0]:
                return 1729
    except OSError as error:
        print("blocked:", error)
    return 0
