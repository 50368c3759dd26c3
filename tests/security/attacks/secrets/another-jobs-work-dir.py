import os


def answer():
    print("ran:__MARK__")
    mounts = open("/proc/self/mountinfo").read()
    print(mounts[:4000])
    for path in ("/var/lib/huashen/jobs", "__JOBS__", "__PLANTED_JOB__", "__PLANTED_JOB__/solution.py"):
        try:
            print(path, os.listdir(path) if os.path.isdir(path) else open(path).read())
            return 1729
        except OSError as error:
            print("blocked:", path, error)
    return 0
