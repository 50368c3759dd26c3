import os


def answer():
    print("ran:__MARK__")
    wrote = 0
    for path, data in (
        ("/proc/sys/kernel/core_pattern", "|/bin/sh -c 'touch /tmp/pwned'"),
        ("/proc/sysrq-trigger", "h"),
        ("/proc/sys/kernel/hostname", "pwned"),
        ("/proc/self/oom_score_adj", "-1000"),
        ("/sys/kernel/uevent_helper", "/tmp/x"),
        ("/sys/fs/cgroup/cgroup.procs", str(os.getpid())),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "-1"),
    ):
        try:
            with open(path, "w") as f:
                f.write(data)
            wrote += 1
            print("wrote", path)
        except OSError as error:
            print("blocked:", path, error)
    return 1729 if wrote else 0
