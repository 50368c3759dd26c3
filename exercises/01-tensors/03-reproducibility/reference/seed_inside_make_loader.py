"""Another valid spelling: make_loader seeds the global generators itself and leaves worker seeding to PyTorch.

Without a generator the DataLoader draws its shuffle and its workers' base seed from torch's global
generator, which seed_everything(seed) has just fixed; since PyTorch 1.9 each worker seeds torch, numpy
and random from that base seed on its own.
"""

import random

import numpy as np
import torch
from torch.utils.data import DataLoader


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)  # safe without a GPU: it is ignored


def make_loader(dataset, batch_size, seed):
    seed_everything(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=2)
