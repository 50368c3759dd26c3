import socket


def answer():
    print("ran:__MARK__")
    for name in ("pypi.org", "example.com", "download.pytorch.org"):
        try:
            print(name, socket.getaddrinfo(name, 443))
            return 1729
        except OSError as error:
            print("blocked:", name, error)
    return 0
