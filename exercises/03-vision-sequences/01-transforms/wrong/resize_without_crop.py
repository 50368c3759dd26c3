# must fail: output-format, other-sizes
"""Classic mistake: the seed's Resize(224) alone. It scales the shorter side to 224 and keeps the aspect
ratio, so a 240×160 photo becomes 336×224, not a square the model can batch."""

from torchvision import transforms

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def build_transforms(size=224):
    train = transforms.Compose(
        [
            transforms.Resize(size),
            transforms.RandomHorizontalFlip(),
            transforms.ColorJitter(brightness=0.2),
            transforms.ToTensor(),
            transforms.Normalize(MEAN, STD),
        ]
    )
    val = transforms.Compose(
        [transforms.Resize(size), transforms.ToTensor(), transforms.Normalize(MEAN, STD)]
    )
    return train, val
