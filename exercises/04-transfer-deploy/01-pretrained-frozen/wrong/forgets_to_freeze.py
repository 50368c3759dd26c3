# must fail: only-head-trainable, backbone-unchanged
"""Classic mistake: the head is marked trainable but nothing is frozen, so training moves the backbone."""

import torch
import torch.nn.functional as F
import torchvision


def load_pretrained():
    return torchvision.models.resnet18(weights="DEFAULT")


def freeze_backbone(model):
    model.fc.weight.requires_grad = True
    model.fc.bias.requires_grad = True
    return model


def train_head(model, images, labels, steps):
    model.eval()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
