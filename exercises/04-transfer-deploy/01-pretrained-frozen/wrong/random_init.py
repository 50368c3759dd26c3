# must fail: pretrained-weights
"""Classic mistake: resnet18() without `weights` builds the architecture with random weights."""

import torch
import torch.nn.functional as F
from torchvision.models import resnet18


def load_pretrained():
    return resnet18()


def freeze_backbone(model):
    for parameter in model.parameters():
        parameter.requires_grad = False
    for parameter in model.fc.parameters():
        parameter.requires_grad = True
    return model


def train_head(model, images, labels, steps):
    model.eval()
    optimizer = torch.optim.Adam(model.fc.parameters(), lr=1e-2)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
