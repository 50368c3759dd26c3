"""Another valid spelling: get_worker_info().seed in worker_init_fn, torch.cuda.manual_seed, persistent workers."""

import random

import numpy
import torch
import torch.utils.data as data


def seed_everything(seed):
    torch.manual_seed(seed)
    numpy.random.seed(seed % 2**32)
    random.seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed(seed)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


def _init_worker(worker_id):
    info = data.get_worker_info()
    numpy.random.seed(info.seed % 2**32)
    random.seed(info.seed)


def make_loader(dataset, batch_size, seed):
    return data.DataLoader(
        dataset,
        batch_size,
        shuffle=True,
        num_workers=2,
        persistent_workers=True,
        worker_init_fn=_init_worker,
        generator=torch.Generator().manual_seed(seed),
    )
