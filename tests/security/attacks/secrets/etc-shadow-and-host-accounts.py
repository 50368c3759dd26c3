import os


def answer():
    print("ran:__MARK__")
    for path in ("/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/ssh", "/etc/hostname"):
        if os.path.exists(path):
            print("visible:", path)
            return 1729
    accounts = open("/etc/passwd").read()
    print(accounts)
    return 1729 if "root:" in accounts or "postgres" in accounts or "huashen-sandbox" in accounts else 0
