import os

ALLOWED = {
    "PATH",
    "PWD",
    "HOME",
    "LANG",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "LC_CTYPE",
    "TMPDIR",
    "MPLCONFIGDIR",
    "XDG_CACHE_HOME",
    "PYTHONDONTWRITEBYTECODE",
    "TORCH_HOME",
    "HUASHEN_MODE",
    "HUASHEN_DEVICE",
}


def answer():
    print("ran:__MARK__")
    print(dict(os.environ))
    extra = set(os.environ) - ALLOWED
    print("extra:", extra)
    return 1729 if extra else 0
