# must fail: inputs-unchanged
"""Subtle mistake: like the official training loop, the box is pasted straight into the caller's `images`
(the partner pixels are copied first, so the result itself is right): the caller's batch is changed."""

import numpy as np
import torch


def rand_bbox(height, width, lam, generator):
    """A box whose unclipped area is (1 - lam) of the image, centred uniformly, clipped at the border."""
    cut_ratio = np.sqrt(1.0 - lam)
    cut_h = int(height * cut_ratio)
    cut_w = int(width * cut_ratio)
    cy = generator.integers(height)
    cx = generator.integers(width)
    y1 = int(np.clip(cy - cut_h // 2, 0, height))
    y2 = int(np.clip(cy + cut_h // 2, 0, height))
    x1 = int(np.clip(cx - cut_w // 2, 0, width))
    x2 = int(np.clip(cx + cut_w // 2, 0, width))
    return y1, y2, x1, x2


def cutmix(images, labels, alpha, generator):
    """Paste a box of a shuffled batch into `images`; mix the one-hot `labels` by the pasted area."""
    _, _, height, width = images.shape
    lam = generator.beta(alpha, alpha)
    index = torch.from_numpy(generator.permutation(images.shape[0]))
    y1, y2, x1, x2 = rand_bbox(height, width, lam, generator)
    images[:, :, y1:y2, x1:x2] = images[index, :, y1:y2, x1:x2]  # in place, as the official code does
    mixed = images
    # The box may have been clipped at the border: the label must say what the image really shows.
    lam = 1.0 - (y2 - y1) * (x2 - x1) / (height * width)
    return mixed, lam * labels + (1.0 - lam) * labels[index]


WRITEUP = """
What I reproduced: CutMix (Yun et al., ICCV 2019), Algorithm A1 and the official PyTorch code
(clovaai/CutMix-PyTorch, train.py: rand_bbox and the cutmix branch of the training loop).

Differences I noted:
1. Randomness. The official code draws lam with np.random.beta and the box with np.random.randint, and
   the partner order with torch.randperm, i.e. two global generators. I take everything from one
   numpy Generator passed in, so a call is reproducible on its own and does not disturb other code.
2. Labels. The official loop returns target_a, target_b and lam and mixes the two losses:
   lam * CE(out, a) + (1 - lam) * CE(out, b). I return soft labels lam * y + (1 - lam) * y[index];
   with cross_entropy on probabilities this is the same loss, and it composes with Mixup or label
   smoothing.
3. Naming. rand_bbox calls size[2] "W" and size[3] "H" although NCHW puts the height at size[2]. It is
   consistent, so the result is right, but I renamed the variables to height/width while reading.
4. The lam correction. The box is clipped at the image border, so its area is often smaller than
   1 - lam. Like the official code (and unlike the paper's pseudo-code) I recompute lam from the box.
   Without it, the labels claim more of the partner than the image shows; my first version had this
   bug, and it only showed for boxes near a corner.
5. torchvision.transforms.v2.CutMix pairs each image with its neighbour (batch.roll(1)) instead of a
   random permutation and takes integer labels plus num_classes; the box logic is the same.

Sanity checks: I coded each pixel with its own index, ran cutmix on a batch of 8 and decoded the
output: every patch is one rectangle copied from the same place of one partner, and the label weights
equal the pasted fractions, also for boxes clipped at a corner. Next I want to train a small CNN on the
upsampled digits with and without CutMix and compare the train/test gap, as the paper does on CIFAR.
"""
