"""试炼 3.1 · 灵眼初开 / Trial 3.1 · Opening the Eye.

实现 build_transforms(size)，返回 (训练变换, 验证变换)。
Implement build_transforms(size), returning (train_transform, val_transform).
"""

from torchvision import transforms

MEAN = (0.485, 0.456, 0.406)  # ImageNet 的 RGB 均值 / ImageNet's RGB mean
STD = (0.229, 0.224, 0.225)  # ImageNet 的 RGB 标准差 / ImageNet's RGB std


def build_transforms(size=224):
    """返回 (train_transform, val_transform)：输入 PIL 图片，输出 3×size×size 的归一化 float32 张量。

    Return (train_transform, val_transform): each takes a PIL image and returns a normalised
    3×size×size float32 tensor.
    """
    # TODO 1: 训练变换 = 缩放 + 随机裁剪 + 随机水平翻转 + 亮度抖动 + ToTensor + Normalize
    #         train = resize + random crop + random horizontal flip + brightness jitter + ToTensor + Normalize
    train_transform = transforms.Compose([transforms.ToTensor()])
    # TODO 2: 验证变换 = 缩放 + 中心裁剪 + ToTensor + Normalize（没有任何随机操作）
    #         val = resize + centre crop + ToTensor + Normalize (nothing random)
    val_transform = transforms.Compose([transforms.ToTensor()])
    return train_transform, val_transform


if __name__ == "__main__":
    from pathlib import Path

    from PIL import Image

    photo = Image.open(Path("public") / "photo.png").convert("RGB")
    train, val = build_transforms()
    print(train(photo).shape, val(photo).shape)
