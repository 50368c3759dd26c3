"""Second reference for trial 3.1, written differently: torchvision.transforms.v2, a random resized crop,
and a squashing Resize((size, size)) for validation. It must pass every check too."""

import torch
from torchvision.transforms import v2

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def to_normalized_tensor():
    return [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)]


def build_transforms(size: int = 224):
    train = v2.Compose(
        [
            v2.RandomResizedCrop(size, scale=(0.6, 1.0), antialias=True),
            v2.RandomHorizontalFlip(p=0.5),
            v2.ColorJitter(brightness=0.25, contrast=0.1, saturation=0.1),
            *to_normalized_tensor(),
        ]
    )
    val = v2.Compose([v2.Resize((size, size), antialias=True), *to_normalized_tensor()])
    return train, val
