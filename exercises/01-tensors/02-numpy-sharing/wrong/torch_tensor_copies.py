# must fail: shared-both-ways
"""Classic mistake: torch.tensor(arr) is used to "convert", but torch.tensor always copies its input."""

import torch


def shared_tensor(arr):
    return torch.tensor(arr)


def independent_tensor(arr):
    return torch.tensor(arr.copy())


def shared_array(t):
    return t.numpy()
