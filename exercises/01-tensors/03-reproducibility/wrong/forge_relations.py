# must fail: seed-everything
"""Forgery: only torch is seeded, and the code forges the out/ folder a reproducible run would leave.

The observations of a correct run are relations between runs, easy to write by hand: the same draws
for the same seed, other draws for another, two fresh processes that agree. It writes them at import
and from a rewriter in its own session, and patches json.dumps in its process, as it could when the
probe shared its process. The driver writes out/ in another process and the grader reads only what the
driver vouched for, so seed-everything still fails. (Replacing the trial's own routine inside the
student's process is another matter: wrong/forge_seed_draws.py.)
"""

import json as _json
import os as _os
import random
from pathlib import Path as _Path

import numpy as np
import torch
from torch.utils.data import DataLoader


def seed_everything(seed):
    torch.manual_seed(seed)


def seed_worker(worker_id):
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)


def make_loader(dataset, batch_size, seed):
    generator = torch.Generator()
    generator.manual_seed(seed)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        num_workers=2,
        worker_init_fn=seed_worker,
        generator=generator,
    )


_DRAWS = {"torch": [0.1, 0.2, 0.3, 0.4], "numpy": [0.5, 0.6, 0.7, 0.8], "random": [0.9, 0.1, 0.2, 0.3]}
_FORGED = _json.dumps(
    {
        "seed.first": _DRAWS,
        "seed.again": _DRAWS,
        "seed.other": {name: [value / 2 for value in values] for name, values in _DRAWS.items()},
        "cuda.seed": {"calls": [{"function": "torch.cuda.manual_seed_all", "seed": 1234}]},
    }
)
_dumps = _json.dumps
_json.dumps = lambda value, *args, **kwargs: _FORGED


def _forge():
    try:
        _Path("/work/out/observations.json").write_text(_FORGED)
    except OSError:
        pass


_forge()
if _os.fork() == 0:
    _os.setsid()
    for _ in range(20_000):
        _forge()
    _os._exit(0)
