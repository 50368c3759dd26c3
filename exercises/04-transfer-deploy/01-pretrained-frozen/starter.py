"""试炼 4.1 · 借力前人 / Trial 4.1 · Standing on shoulders.

实现下面三个函数。/ Implement the three functions below.
"""

import torch
import torchvision
from torch import nn


def load_pretrained() -> nn.Module:
    """返回加载了 ImageNet 预训练权重的 ResNet-18（原样返回，包括它的 1000 类分类头）。

    Return a ResNet-18 with its ImageNet weights, exactly as loaded (1000-class head included).
    """
    # TODO 1: torchvision.models.resnet18(weights=...)  —— 不传 weights 就是随机初始化！
    #         without weights you get a random initialisation!
    return torchvision.models.resnet18()


def freeze_backbone(model: nn.Module) -> nn.Module:
    """冻结除分类头 model.fc 以外的所有参数，返回模型。

    Freeze every parameter except those of the head, model.fc; return the model.
    """
    # TODO 2: 先全部 requires_grad = False，再把 model.fc 的参数设回 True
    #         first requires_grad = False everywhere, then True again for model.fc's parameters
    return model


def train_head(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, steps: int) -> list[float]:
    """只训练分类头：在整批 images/labels 上做 steps 步优化，返回每一步的损失（float）。

    Train the head only: `steps` optimizer steps on the whole batch; return each step's loss as a float.
    """
    # TODO 3: 优化器只拿需要梯度的参数；想一想 BatchNorm 在 train() 模式下会改变什么
    #         give the optimizer the trainable parameters; think about what BatchNorm changes in train()
    raise NotImplementedError("train_head: 还没写 / not written yet")


if __name__ == "__main__":
    model = freeze_backbone(load_pretrained())
    print(sum(p.numel() for p in model.parameters() if p.requires_grad), "trainable parameters")
