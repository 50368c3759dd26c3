# must fail: normalization
"""Classic mistake: ToTensor() without Normalize, so inputs lie in [0, 1] instead of the zero-centred
range a pretrained network was trained on."""

from torchvision import transforms


def build_transforms(size=224):
    train = transforms.Compose(
        [
            transforms.Resize(size),
            transforms.RandomCrop(size),
            transforms.RandomHorizontalFlip(),
            transforms.ColorJitter(brightness=0.2),
            transforms.ToTensor(),
        ]
    )
    val = transforms.Compose([transforms.Resize(size), transforms.CenterCrop(size), transforms.ToTensor()])
    return train, val
