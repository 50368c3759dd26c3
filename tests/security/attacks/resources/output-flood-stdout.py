# verdicts: output_limit
def answer():
    print("ran:__MARK__")
    line = "flood " * 1000
    for _ in range(10**6):
        print(line)
    return 1729
