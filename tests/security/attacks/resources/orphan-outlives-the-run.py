import os, signal, time


def answer():
    print("ran:__MARK__")
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, signal.SIG_IGN)
            os.closerange(0, 1024)
            while True:
                time.sleep(1)
        os._exit(0)
    os.wait()
    return 0
