"""Trial 4.2, a second reference written differently: the head is found as the model's last Linear
layer wherever it sits, batches come from a DataLoader, the second parameter group is added with
add_param_group, and SGD with momentum replaces Adam."""

import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torchvision.models import ResNet18_Weights, resnet18


def replace_head(model, num_classes):
    name, last = [(name, module) for name, module in model.named_modules() if isinstance(module, nn.Linear)][
        -1
    ]
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, nn.Linear(last.in_features, num_classes))
    return model


def fine_tune(model, optimizer, images, labels, epochs, batch_size):
    loader = DataLoader(TensorDataset(images, labels), batch_size=batch_size, shuffle=True)
    criterion = nn.CrossEntropyLoss()
    history = []
    for _ in range(epochs):
        for batch_images, batch_labels in loader:
            loss = criterion(model(batch_images), batch_labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            history.append(float(loss.detach()))
    return history


def unfreeze_last_block(model, head_lr):
    model.layer4.requires_grad_(True)
    optimizer = torch.optim.SGD(model.fc.parameters(), lr=head_lr, momentum=0.9)
    optimizer.add_param_group({"params": list(model.layer4.parameters()), "lr": head_lr * 0.3})
    return optimizer


@torch.inference_mode()
def accuracy(model, images, labels):
    model.eval()
    return float((model(images).argmax(dim=1) == labels).double().mean())


def compare_strategies(train_images, train_labels, val_images, val_labels, num_classes, epochs):
    table = []
    for strategy in ["frozen", "layer4"]:
        model = replace_head(resnet18(weights=ResNet18_Weights.DEFAULT).requires_grad_(False), num_classes)
        if strategy == "layer4":
            optimizer = unfreeze_last_block(model, 0.05)
        else:
            optimizer = torch.optim.SGD(model.fc.parameters(), lr=0.05, momentum=0.9)
        model.train()
        start = time.perf_counter()
        fine_tune(model, optimizer, train_images, train_labels, epochs, 64)
        elapsed = time.perf_counter() - start
        table.append(
            {
                "strategy": strategy,
                "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
                "val_accuracy": accuracy(model, val_images, val_labels),
                "train_seconds": elapsed,
            }
        )
    return table
