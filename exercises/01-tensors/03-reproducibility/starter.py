"""试炼 1.3 · 可复现 / Trial 1.3 · Reproducibility.

实现 seed_everything 和 make_loader。/ Implement seed_everything and make_loader.
"""

import random

import numpy as np
import torch
from torch.utils.data import DataLoader


def seed_everything(seed: int) -> None:
    """给 torch、numpy、random（以及有 GPU 时的 CUDA）设置同一个种子。

    Seed torch, numpy and random (and CUDA, when there is a GPU) with `seed`.
    """
    torch.manual_seed(seed)
    # TODO 1: numpy? random? / numpy? random?


def make_loader(dataset, batch_size: int, seed: int) -> DataLoader:
    """返回打乱的、2 个 worker 的 DataLoader，只要 seed 相同，任何进程里都给出相同的批次。

    Return a shuffled DataLoader with 2 workers that yields the same batches in any process for the
    same seed.
    """
    # TODO 2: num_workers=2, generator=..., worker_init_fn=...
    return DataLoader(dataset, batch_size=batch_size, shuffle=True)


if __name__ == "__main__":
    seed_everything(0)
    print(torch.rand(2), np.random.rand(2), random.random())  # noqa: S311
    loader = make_loader(list(range(10)), batch_size=4, seed=0)
    print([batch.tolist() for batch in loader])
