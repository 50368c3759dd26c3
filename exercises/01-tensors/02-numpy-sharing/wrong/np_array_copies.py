# must fail: shared-array
"""Classic mistake: np.array(t) looks like t.numpy() but makes a copy of the tensor's data."""

import numpy as np
import torch


def shared_tensor(arr):
    return torch.from_numpy(arr)


def independent_tensor(arr):
    return torch.tensor(arr.copy())


def shared_array(t):
    return np.array(t)
