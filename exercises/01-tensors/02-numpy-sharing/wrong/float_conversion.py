# must fail: shared-both-ways, dtype-kept
"""Classic mistake: .float() "to be safe" turns float64 and integer arrays into float32 copies."""

import torch


def shared_tensor(arr):
    return torch.from_numpy(arr).float()


def independent_tensor(arr):
    return torch.tensor(arr.copy(), dtype=torch.float32)


def shared_array(t):
    return t.numpy()
