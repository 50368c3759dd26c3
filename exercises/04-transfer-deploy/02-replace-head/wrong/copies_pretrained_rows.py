# must fail: fresh-init
"""Classic mistake: the new head starts from the first rows of the pretrained ImageNet head, which
belong to other classes (tench, goldfish, …), instead of a fresh random initialisation."""

import time

import torch
import torch.nn.functional as F
import torchvision
from torch import nn


def replace_head(model: nn.Module, num_classes: int) -> nn.Module:
    if isinstance(getattr(model, "fc", None), nn.Linear):
        old = model.fc
        model.fc = nn.Linear(old.in_features, num_classes)
        with torch.no_grad():
            model.fc.weight.copy_(old.weight[:num_classes])
            model.fc.bias.copy_(old.bias[:num_classes])
    elif isinstance(model.classifier, nn.Linear):
        model.classifier = nn.Linear(model.classifier.in_features, num_classes)
    else:  # a Sequential ending in Linear, as in EfficientNet: (Dropout, Linear)
        model.classifier[-1] = nn.Linear(model.classifier[-1].in_features, num_classes)
    return model


def fine_tune(model, optimizer, images, labels, epochs, batch_size):
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(images))
        for start in range(0, len(images), batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images[batch]), labels[batch])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


def unfreeze_last_block(model, head_lr):
    for parameter in model.layer4.parameters():
        parameter.requires_grad = True
    return torch.optim.Adam(
        [
            {"params": model.fc.parameters(), "lr": head_lr},
            {"params": model.layer4.parameters(), "lr": head_lr / 10},
        ]
    )


def accuracy(model, images, labels):
    model.eval()
    with torch.no_grad():
        return (model(images).argmax(1) == labels).float().mean().item()


def compare_strategies(train_images, train_labels, val_images, val_labels, num_classes, epochs):
    rows = []
    for strategy in ("frozen", "layer4"):
        model = torchvision.models.resnet18(weights="DEFAULT")
        model.requires_grad_(False)
        model = replace_head(model, num_classes)
        if strategy == "frozen":
            optimizer = torch.optim.Adam(model.fc.parameters(), lr=1e-2)
        else:
            optimizer = unfreeze_last_block(model, 1e-2)
        model.train()
        started = time.perf_counter()
        fine_tune(model, optimizer, train_images, train_labels, epochs, 32)
        seconds = time.perf_counter() - started
        rows.append(
            {
                "strategy": strategy,
                "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
                "val_accuracy": accuracy(model, val_images, val_labels),
                "train_seconds": seconds,
            }
        )
    return rows
