"""Trial 4.1, a second reference written differently: requires_grad_() on whole modules, the weights
enum instead of the string, BatchNorm layers switched to eval one by one, and the frozen backbone run
once (its features cached) since it cannot change."""

import torch
from torch import nn
from torchvision.models import ResNet18_Weights, resnet18


def load_pretrained():
    return resnet18(weights=ResNet18_Weights.IMAGENET1K_V1)


def freeze_backbone(model):
    model.requires_grad_(False)
    model.fc.requires_grad_(True)
    return model


def train_head(model, images, labels, steps):
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.eval()
    backbone = nn.Sequential(*(child for name, child in model.named_children() if name != "fc"))
    with torch.inference_mode():
        features = torch.flatten(backbone(images), 1)
    features = features.clone()  # inference tensors cannot be saved for backward; a clone can
    optimizer = torch.optim.SGD(model.fc.parameters(), lr=0.1, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    history = []
    for _ in range(steps):
        loss = criterion(model.fc(features), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        history.append(float(loss.detach()))
    return history
