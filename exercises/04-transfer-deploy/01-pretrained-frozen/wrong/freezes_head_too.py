# must fail: only-head-trainable, head-learns
"""Classic mistake: every parameter is frozen, the head included, so nothing can learn."""

import torch
import torch.nn.functional as F
import torchvision


def load_pretrained():
    return torchvision.models.resnet18(weights="DEFAULT")


def freeze_backbone(model):
    for parameter in model.parameters():
        parameter.requires_grad = False
    return model


def train_head(model, images, labels, steps):
    model.eval()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()  # raises: no tensor here requires grad
        optimizer.step()
        losses.append(loss.item())
    return losses
