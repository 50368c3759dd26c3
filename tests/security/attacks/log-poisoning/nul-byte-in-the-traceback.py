# verdicts: error
# wait seconds: 15
print("ran:__MARK__")
raise ValueError("bad\x00byte")
