"""试炼 1.2 · 共享内存 / Trial 1.2 · Shared memory.

实现下面三个函数。/ Implement the three functions below.
"""

import numpy as np
import torch


def shared_tensor(arr: np.ndarray) -> torch.Tensor:
    """返回与 arr 共享内存的张量：改一边，另一边跟着变。

    Return a tensor that shares arr's memory: a write to either one shows up in the other.
    """
    # TODO 1: 哪个函数不复制数据？/ which function does not copy the data?
    return torch.tensor(arr)  # 这会复制！/ this copies!


def independent_tensor(arr: np.ndarray) -> torch.Tensor:
    """返回 arr 的独立副本：之后谁改谁，互不影响。

    Return an independent copy of arr: later writes to either one never reach the other.
    """
    # TODO 2
    raise NotImplementedError("independent_tensor: 还没写 / not written yet")


def shared_array(t: torch.Tensor) -> np.ndarray:
    """返回与 CPU 张量 t 共享内存的 NumPy 数组。

    Return a NumPy array that shares the memory of the CPU tensor t.
    """
    # TODO 3
    raise NotImplementedError("shared_array: 还没写 / not written yet")


if __name__ == "__main__":
    arr = np.ones((2, 2))
    t = shared_tensor(arr)
    arr[0, 0] = 5
    print(t)  # 共享时，这里能看到 5 / with shared memory, the 5 shows up here
