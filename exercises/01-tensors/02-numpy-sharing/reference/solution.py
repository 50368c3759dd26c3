"""Reference solution for trial 1.2: from_numpy and .numpy() share; torch.tensor(arr.copy()) does not."""

import numpy as np
import torch


def shared_tensor(arr: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(arr)


def independent_tensor(arr: np.ndarray) -> torch.Tensor:
    return torch.tensor(arr.copy())


def shared_array(t: torch.Tensor) -> np.ndarray:
    return t.numpy()
