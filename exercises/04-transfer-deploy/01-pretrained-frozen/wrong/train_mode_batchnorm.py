# must fail: batchnorm-statistics-kept
"""Classic mistake: the parameters are frozen, but model.train() lets every BatchNorm layer keep
updating its running mean and variance from the new data, so the "frozen" backbone still changes."""

import torch
import torch.nn.functional as F
import torchvision


def load_pretrained():
    return torchvision.models.resnet18(weights="DEFAULT")


def freeze_backbone(model):
    for parameter in model.parameters():
        parameter.requires_grad = False
    for parameter in model.fc.parameters():
        parameter.requires_grad = True
    return model


def train_head(model, images, labels, steps):
    model.train()
    optimizer = torch.optim.Adam(model.fc.parameters(), lr=1e-2)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
