# must fail: seed-everything, same-order
"""Classic mistake: the seed is hard-coded to 42, whatever the caller asks for."""

import random

import numpy as np
import torch
from torch.utils.data import DataLoader


def seed_everything(seed):
    random.seed(42)
    np.random.seed(42)
    torch.manual_seed(42)


def make_loader(dataset, batch_size, seed):
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        num_workers=2,
        generator=torch.Generator().manual_seed(42),
    )
