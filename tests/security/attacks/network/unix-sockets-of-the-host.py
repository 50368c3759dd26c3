import socket

PATHS = [
    __UNIX_SOCKETS__,
    "/var/run/postgresql/.s.PGSQL.5432",
    "/run/redis/redis-server.sock",
    "/var/run/redis/redis.sock",
    "/var/run/docker.sock",
    "/run/dbus/system_bus_socket",
    "/run/systemd/private",
    "/tmp/.X11-unix/X0",
    "\0/tmp/.X11-unix/X0",
    "\0huashen",
]


def answer():
    print("ran:__MARK__")
    for path in PATHS:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(2)
                s.connect(path)
                return 1729
        except OSError as error:
            print("blocked:", repr(path), error)
    return 0
