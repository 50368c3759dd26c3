"""试炼 5.1 · 复现论文：CutMix / Trial 5.1 · Reproduce a paper: CutMix.

实现 cutmix()，并在 WRITEUP 里写下复现记录。/ Implement cutmix() and write your notes in WRITEUP.
"""

import numpy as np
import torch


def cutmix(images: torch.Tensor, labels: torch.Tensor, alpha: float, generator: np.random.Generator):
    """对一批图像做 CutMix，返回 (mixed_images, mixed_labels)。

    images: (N, C, H, W) 浮点张量；labels: (N, K) one-hot（或软）标签；
    alpha: Beta(alpha, alpha) 的参数；generator: np.random.default_rng(seed)，所有随机数都从它取。

    Apply CutMix to a batch and return (mixed_images, mixed_labels).
    images: (N, C, H, W) float; labels: (N, K) one-hot (or soft); alpha: the Beta(alpha, alpha) parameter;
    generator: np.random.default_rng(seed) — take every random number from it.
    """
    # TODO 1: lam = generator.beta(alpha, alpha)；index = generator.permutation(N)
    # TODO 2: 边长 = 边 * sqrt(1 - lam)，中心用 generator.integers 抽，再裁剪到图像内
    #         side = size * sqrt(1 - lam), centre from generator.integers, clip to the image
    # TODO 3: 把 images[index] 的框粘贴进来；按真实框面积重新算 lam，再混合标签
    #         paste the box of images[index]; recompute lam from the real box area, then mix the labels
    raise NotImplementedError("cutmix: 还没写 / not written yet")


# 复现记录（至少 200 字，中文或英文）：复现了什么、和论文/官方代码的差异、验证与结果、经验。
# Your write-up (at least 200 characters, Chinese or English): what you reproduced, the differences
# from the paper / official code, how you checked it and what you saw, and what you learned.
WRITEUP = """
TODO
"""


if __name__ == "__main__":
    # 在自己的电脑上试一试 / try it on your own machine
    images = torch.rand(4, 3, 32, 32)
    labels = torch.eye(10)[torch.tensor([0, 1, 2, 3])]
    mixed, mixed_labels = cutmix(images, labels, 1.0, np.random.default_rng(0))
    print(mixed.shape, mixed_labels)
