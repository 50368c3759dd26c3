# must fail: same-augmentation
"""Classic mistake: to make workers differ, worker_init_fn re-seeds numpy and random from OS entropy.

The workers do differ now, but nothing ties their numbers to the loader's seed any more: two runs
shuffle alike and augment differently.
"""

import random

import numpy as np
import torch
from torch.utils.data import DataLoader


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def fresh_worker_seed(worker_id):
    np.random.seed()
    random.seed()


def make_loader(dataset, batch_size, seed):
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        num_workers=2,
        worker_init_fn=fresh_worker_seed,
        generator=torch.Generator().manual_seed(seed),
    )
