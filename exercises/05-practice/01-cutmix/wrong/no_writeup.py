# must fail: writeup
"""Classic mistake: the code is right but the write-up, the other half of a reproduction, is missing."""

import numpy as np
import torch


def cutmix(images, labels, alpha, generator):
    _, _, height, width = images.shape
    lam = generator.beta(alpha, alpha)
    index = torch.from_numpy(generator.permutation(images.shape[0]))
    cut_ratio = np.sqrt(1.0 - lam)
    cut_h, cut_w = int(height * cut_ratio), int(width * cut_ratio)
    cy, cx = generator.integers(height), generator.integers(width)
    y1, y2 = np.clip(cy - cut_h // 2, 0, height), np.clip(cy + cut_h // 2, 0, height)
    x1, x2 = np.clip(cx - cut_w // 2, 0, width), np.clip(cx + cut_w // 2, 0, width)
    mixed = images.clone()
    mixed[:, :, y1:y2, x1:x2] = images[index, :, y1:y2, x1:x2]
    lam = 1.0 - (y2 - y1) * (x2 - x1) / (height * width)
    return mixed, lam * labels + (1.0 - lam) * labels[index]


WRITEUP = "Reproduced CutMix. It works."
