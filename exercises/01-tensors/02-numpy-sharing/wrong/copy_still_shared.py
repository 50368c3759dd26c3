# must fail: independent-copy
"""Classic mistake: the "copy" is built with from_numpy/as_tensor, so it still shares the array's memory."""

import torch


def shared_tensor(arr):
    return torch.from_numpy(arr)


def independent_tensor(arr):
    return torch.as_tensor(arr)


def shared_array(t):
    return t.numpy()
