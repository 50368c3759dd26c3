import socket


def answer():
    print("ran:__MARK__")
    try:
        with socket.create_connection(("1.1.1.1", 80), timeout=3):
            return 1729
    except OSError as error:
        print("blocked:", error)
    return 0
