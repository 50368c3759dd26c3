"""Another valid spelling: torch.as_tensor and np.asarray share; from_numpy(...).clone() copies."""

import numpy as np
import torch


def shared_tensor(arr):
    return torch.as_tensor(arr)


def independent_tensor(arr):
    return torch.from_numpy(arr).clone()


def shared_array(t):
    return np.asarray(t.detach().cpu())
