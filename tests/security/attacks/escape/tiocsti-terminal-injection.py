import fcntl, os, termios


def answer():
    print("ran:__MARK__")
    fds = [0, 1, 2]
    for path in ("/dev/tty", "/dev/console", "/dev/ptmx"):
        try:
            fds.append(os.open(path, os.O_RDWR | os.O_NOCTTY))
        except OSError as error:
            print("blocked:", path, error)
    for fd in fds:
        try:
            fcntl.ioctl(fd, termios.TIOCSTI, b"x")
            return 1729
        except OSError as error:
            print("blocked: TIOCSTI on", fd, error)
    return 0
