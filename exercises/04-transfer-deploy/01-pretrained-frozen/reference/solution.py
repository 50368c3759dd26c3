"""Trial 4.1 reference: load the ImageNet weights, freeze everything but the head, train the head alone."""

import torch
import torch.nn.functional as F
import torchvision
from torch import nn


def load_pretrained() -> nn.Module:
    # weights="DEFAULT" reads $TORCH_HOME/hub/checkpoints/resnet18-f37072fd.pth (downloads it if missing).
    return torchvision.models.resnet18(weights="DEFAULT")


def freeze_backbone(model: nn.Module) -> nn.Module:
    for parameter in model.parameters():
        parameter.requires_grad = False
    for parameter in model.fc.parameters():
        parameter.requires_grad = True
    return model


def train_head(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, steps: int) -> list[float]:
    # eval(): BatchNorm keeps using (and keeps) the pretrained running statistics. The head is a plain
    # Linear layer, so train or eval mode makes no difference to it.
    model.eval()
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
