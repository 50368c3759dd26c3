# must fail: fresh-randomness
"""Classic mistake: worker_init_fn seeds every worker with the same seed.

Reproducible, yes — but worker 0 and worker 1 replay the same random stream, and every epoch replays
it again, so the "random" augmentation is the same for many items.
"""

import random

import numpy as np
import torch
from torch.utils.data import DataLoader


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def make_loader(dataset, batch_size, seed):
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        num_workers=2,
        worker_init_fn=lambda worker_id: seed_everything(seed),
        generator=torch.Generator().manual_seed(seed),
    )
