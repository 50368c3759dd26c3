# must fail: same-order, same-augmentation
"""Classic mistake: everything is seeded once at import, and the loader relies on that.

Anything that draws random numbers between the import and the loader's first epoch (a model's
initialisation, another library, the grader) changes the shuffle and the workers' seeds: the loader is
not reproducible on its own.
"""

import random

import numpy as np
import torch
from torch.utils.data import DataLoader


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


seed_everything(0)


def make_loader(dataset, batch_size, seed):
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=2)
