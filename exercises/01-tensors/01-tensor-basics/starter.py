"""试炼 1.1 · 张量初成 / Trial 1.1 · First tensors.

实现下面三个函数。/ Implement the three functions below.
"""

import torch


def make_tensor(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """返回形状为 shape、类型为 dtype 的随机张量，放在最好的可用设备上。

    Return a tensor of random values with this shape and dtype, on the best available device.
    """
    # TODO 1: device = "cuda" if torch.cuda.is_available() else "cpu"
    # TODO 2: 浮点类型用 torch.rand；整数用 torch.randint；bool 呢？
    #         floats: torch.rand; integers: torch.randint; and bool?
    raise NotImplementedError("make_tensor: 还没写 / not written yet")


def describe(t: torch.Tensor) -> dict:
    """返回 {"shape": ..., "dtype": ..., "device": ...}，dtype 与 device 用字符串。

    Return {"shape": ..., "dtype": ..., "device": ...} with dtype and device as strings,
    e.g. {"shape": (2, 3), "dtype": "torch.float32", "device": "cpu"}.
    """
    # TODO 3: t.shape, t.dtype, t.device —— 哪些需要 str()? / which ones need str()?
    raise NotImplementedError("describe: 还没写 / not written yet")


def round_trip(t: torch.Tensor) -> torch.Tensor:
    """把 t 移到最好的设备，再移回 CPU；数值不能变。

    Move t to the best device and back to the CPU; the values must not change.
    """
    # TODO 4: t.to(device) ... .cpu()
    raise NotImplementedError("round_trip: 还没写 / not written yet")


if __name__ == "__main__":
    # 在自己的电脑上试一试 / try it on your own machine
    x = make_tensor((2, 3), torch.float32)
    print(describe(x))
    print(round_trip(x).device)
