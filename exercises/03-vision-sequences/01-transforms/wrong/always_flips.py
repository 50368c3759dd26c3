# must fail: random-flip, brightness-jitter
"""Classic mistake: RandomHorizontalFlip(p=1.0) and ColorJitter(brightness=0): every image is flipped
(which only mirrors the data set) and the brightness never changes, so nothing is random."""

from torchvision import transforms

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def build_transforms(size=224):
    train = transforms.Compose(
        [
            transforms.Resize(size),
            transforms.CenterCrop(size),
            transforms.RandomHorizontalFlip(p=1.0),
            transforms.ColorJitter(brightness=0),
            transforms.ToTensor(),
            transforms.Normalize(MEAN, STD),
        ]
    )
    val = transforms.Compose(
        [
            transforms.Resize(size),
            transforms.CenterCrop(size),
            transforms.ToTensor(),
            transforms.Normalize(MEAN, STD),
        ]
    )
    return train, val
