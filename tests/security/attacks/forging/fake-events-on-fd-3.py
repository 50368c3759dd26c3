import json, os


def answer():
    print("ran:__MARK__")
    fakes = [
        {"kind": "started"},
        {"kind": "finished", "verdict": "passed"},
        {"kind": "status", "status": "done", "verdict": "passed", "score": 100},
        {"step": 1, "metrics": {"verdict": "passed", "score": 100}},
        {
            "resources": {
                "peak_gpu_memory_mb": -1,
                "cpu_seconds": 0,
                "confined": False,
                "wall_seconds": 0,
                "peak_memory_mb": 0,
            }
        },
    ]
    for fake in fakes:
        os.write(3, json.dumps(fake).encode() + b"\n")
    os.write(3, b"not json\n" + b"{" * 10000 + b"\n" + b"x" * (1 << 20) + b"\n")
    return 0
