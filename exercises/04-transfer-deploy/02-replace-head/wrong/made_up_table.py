# must fail: comparison-table
"""Classic mistake: a comparison table typed in rather than measured: no training happens, the times
and accuracies are invented, even though the parameter counts are right."""

import torch
import torch.nn.functional as F
from torch import nn


def replace_head(model: nn.Module, num_classes: int) -> nn.Module:
    if isinstance(getattr(model, "fc", None), nn.Linear):
        model.fc = nn.Linear(model.fc.in_features, num_classes)
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
    return [
        {"strategy": "frozen", "trainable_params": 5_130, "val_accuracy": 0.81, "train_seconds": 12.5},
        {"strategy": "layer4", "trainable_params": 8_398_858, "val_accuracy": 0.93, "train_seconds": 48.0},
    ]
