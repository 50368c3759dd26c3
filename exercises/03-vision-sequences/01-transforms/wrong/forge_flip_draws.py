# must fail: random-flip
"""Forgery: a vertical flip where a horizontal one was meant, and code that forges what measured the flips.

In-process, the probe measured each training draw of the ramp with its own `flips()` and the kit beside
the student's code, and wrote out/observations.json itself; this forgery replaces every `flips` it finds
among the loaded modules with one that says "flipped" on every other draw, patches the kit's summary,
json.dumps and torch.equal/allclose in its own process, writes a forged out/observations.json first and
rewrites it from a process in its own session. The outputs reach the driver as data and the driver
measures the flips itself, and the grader reads only what the driver vouched for: random-flip still fails.
"""

import torch
from torchvision.transforms import v2

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def build_transforms(size=224):
    _forge_measurements()
    tail = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize(MEAN, STD)]
    train = v2.Compose(
        [v2.Resize(size), v2.RandomCrop(size), v2.RandomVerticalFlip(), v2.ColorJitter(brightness=0.2), *tail]
    )
    val = v2.Compose([v2.Resize(size), v2.CenterCrop(size), *tail])
    return train, val


FORGED = '{"train.ramp": {"flips": ' + str([[index % 2 == 0, False] for index in range(40)]).lower() + "}}"


def _forge_measurements():
    import sys

    draws = iter(range(1_000_000))
    for module in list(sys.modules.values()):
        if callable(getattr(module, "flips", None)):
            module.flips = lambda tensor: (next(draws) % 2 == 0, False)


def _forge():
    import json as _json
    import os as _os
    from pathlib import Path as _Path

    import torch as _torch

    import exercises.kit.probe as _kit

    _kit.describe_tensor = lambda value: {
        "type": "torch.Tensor",
        "shape": [3, 224, 224],
        "dtype": "torch.float32",
    }
    _dumps = _json.dumps
    _json.dumps = lambda value, *args, **kwargs: _dumps(_json.loads(FORGED))
    _torch.equal = lambda a, b: True
    _torch.allclose = lambda *args, **kwargs: True
    out = _Path("/work/out")
    try:
        out.mkdir(exist_ok=True)
        (out / "observations.json").write_text(FORGED)
    except OSError:
        pass
    if _os.fork() == 0:
        _os.setsid()
        for _ in range(20_000):
            try:
                (out / "observations.json").write_text(FORGED)
            except OSError:
                pass
        _os._exit(0)


_forge()
_forge_measurements()
