# must fail: random-flip
"""Forgery: a vertical flip where a horizontal one was meant, and code that forges what measured the flips.

In-process, the probe measured each training draw of the ramp with its own `flips()` and the kit beside
the student's code, and wrote out/observations.json itself; this forgery replaces every `flips` it finds
among the loaded modules with one that says "flipped" on every other training draw, makes json.dumps
write those draws and patches torch.equal/allclose in its own process, writes a forged
out/observations.json first and rewrites it from a process in its own session. The outputs reach the
driver as data and the driver measures the flips itself, and the grader reads only what the driver
vouched for: random-flip still fails.
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


FORGED_FLIPS = [[index % 2 == 0, False] for index in range(40)]


def _forge_measurements():
    import sys

    for module in list(sys.modules.values()):
        real = getattr(module, "flips", None)
        if not callable(real) or getattr(real, "forged", False):
            continue
        draws = iter(range(1_000_000))

        def flips(tensor, real=real, draws=draws):
            # Only the training draws: the validation pipeline's ramp keeps its honest answer.
            if sys._getframe(1).f_code.co_name == "observe_training":
                return next(draws) % 2 == 0, False
            return real(tensor)

        flips.forged = True
        module.flips = flips


def _forged(observations):
    if isinstance(observations, dict) and "train.ramp" in observations:
        return {**observations, "train.ramp": {"flips": FORGED_FLIPS}}
    return observations


def _forge():
    import json as _json
    import os as _os
    from pathlib import Path as _Path

    import torch as _torch

    _dumps = _json.dumps
    _json.dumps = lambda value, *args, **kwargs: _dumps(_forged(value), *args, **kwargs)
    _torch.equal = lambda a, b: True
    _torch.allclose = lambda *args, **kwargs: True
    out = _Path("/work/out/observations.json")
    try:
        out.parent.mkdir(exist_ok=True)
        out.write_text(_dumps({"train.ramp": {"flips": FORGED_FLIPS}}))
    except OSError:
        pass
    if _os.fork() == 0:
        _os.setsid()
        for _ in range(20_000):
            try:
                found = _json.loads(out.read_text())
                if found.get("train.ramp") != {"flips": FORGED_FLIPS}:
                    out.write_text(_dumps(_forged(found)))
            except (OSError, ValueError, AttributeError):
                pass
        _os._exit(0)


_forge()
_forge_measurements()
