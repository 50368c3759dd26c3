# must fail: seed-everything, same-order, same-augmentation
"""Classic mistake: nothing is seeded at all, and the loader takes whatever state the generators are in.

The two fresh processes are forked from one process, but each fills its generators from fresh entropy
before anything else, as a new interpreter would start: they shuffle and augment differently.
"""

import torch
from torch.utils.data import DataLoader


def seed_everything(seed):
    torch.initial_seed()  # reads the seed, sets nothing


def make_loader(dataset, batch_size, seed):
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=2)
