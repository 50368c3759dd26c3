"""试炼 4.2 · 改头换面 / Trial 4.2 · A new head.

实现下面四个函数。/ Implement the four functions below.
"""

import torch
import torchvision
from torch import nn


def replace_head(model: nn.Module, num_classes: int) -> nn.Module:
    """把模型的分类头换成一个新的、随机初始化的 nn.Linear(原输入维度, num_classes)，返回模型。

    Replace the model's head with a new, randomly initialised nn.Linear(old in_features, num_classes).
    ResNet: model.fc; EfficientNet: the last layer of model.classifier.
    """
    # TODO 1: model.fc = nn.Linear(model.fc.in_features, num_classes)；没有 fc 的模型呢？/ and without fc?
    return model


def fine_tune(model, optimizer, images, labels, epochs: int, batch_size: int) -> list[float]:
    """用给定的优化器训练 epochs 轮，每轮按 batch_size 分批遍历全部数据；返回每个 batch 的损失。

    Train for `epochs` passes over all images in batches of `batch_size`; return every batch's loss.
    """
    # TODO 2: 每个 batch：zero_grad → 前向 → 损失 → backward → step / each batch: zero_grad, forward, loss, backward, step
    raise NotImplementedError("fine_tune: 还没写 / not written yet")


def unfreeze_last_block(model, head_lr: float) -> torch.optim.Optimizer:
    """解冻 model.layer4，返回一个优化器：分类头用 head_lr，layer4 用更低的学习率。

    Unfreeze model.layer4 and return an optimizer: head_lr for the head, a lower rate for layer4.
    """
    # TODO 3: 两个参数组 / two parameter groups: [{"params": ..., "lr": ...}, {...}]
    raise NotImplementedError("unfreeze_last_block: 还没写 / not written yet")


def compare_strategies(
    train_images, train_labels, val_images, val_labels, num_classes: int, epochs: int
) -> list[dict]:
    """分别用“只训练分类头”和“再解冻 layer4”两种策略训练，返回对比表（两行 dict）。

    Train with both strategies and return the comparison table: two dicts with the keys
    "strategy" ("frozen" / "layer4"), "trainable_params", "val_accuracy", "train_seconds".
    """
    # TODO 4: 每种策略都从新加载的预训练模型开始；time.perf_counter() 计时
    #         start each strategy from a freshly loaded pretrained model; time it with time.perf_counter()
    raise NotImplementedError("compare_strategies: 还没写 / not written yet")


if __name__ == "__main__":
    model = torchvision.models.resnet18(weights="DEFAULT")
    model.requires_grad_(False)
    model = replace_head(model, 10)
    print(model.fc)
    print(model(torch.zeros(2, 3, 32, 32)).shape)  # torch.Size([2, 10])
