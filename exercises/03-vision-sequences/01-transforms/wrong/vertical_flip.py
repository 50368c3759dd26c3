# must fail: random-flip
"""Classic mistake: RandomVerticalFlip where a horizontal flip was meant. A mirrored street is still a
street; an upside-down one is not what the model will ever see."""

import torch
from torchvision.transforms import v2

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def build_transforms(size=224):
    tail = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize(MEAN, STD)]
    train = v2.Compose(
        [v2.Resize(size), v2.RandomCrop(size), v2.RandomVerticalFlip(), v2.ColorJitter(brightness=0.2), *tail]
    )
    val = v2.Compose([v2.Resize(size), v2.CenterCrop(size), *tail])
    return train, val
