# verdicts: memory_limit
def answer():
    print("ran:__MARK__")
    blocks = []
    while len(blocks) < 64:
        blocks.append(b"\x01" * (32 << 20))  # touched pages, not a lazy allocation
    return 1729  # 2 GiB resident: the 384 MB limit did not hold
