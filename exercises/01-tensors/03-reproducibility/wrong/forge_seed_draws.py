# must fail: seed-everything
"""Forgery: seed_everything seeds torch alone, and the code replaces the trial's own routine in its process.

The trial's `agent_seed` runs in the student's process, so code there can swap it for one that answers
with made-up numbers that keep every relation a reproducible run shows: the same numbers for the same
seed, other numbers for another. When the check only compared the runs with each other, that passed.
The driver now draws what torch, numpy and random give for each seed it sent, outside this process,
and the made-up numbers are not those: seed-everything fails.
"""

import random
import sys

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


def _made_up_draws(solution, seed):
    solution.seed_everything(seed)
    numbers = random.Random(seed)  # noqa: S311 - the same numbers for one seed, other ones for another
    return {name: [numbers.random() for _ in range(4)] for name in ("torch", "numpy", "random")}


_probe = sys.modules.get("huashen_probe")
if _probe is not None:
    _probe.agent_seed = _made_up_draws
