# verdicts: time_limit
def answer():
    print("ran:__MARK__")
    while True:
        pass
