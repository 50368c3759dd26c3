"""Another valid spelling: set_to_none by hand, inference_mode, a manual norm, and reports every 5 steps."""

import torch
import torch.nn.functional as F

from exercises.kit import report as charts


def validate(model, loader):
    model.eval()
    losses = []
    with torch.inference_mode():
        for inputs, targets in loader:
            losses.append(F.cross_entropy(model(inputs), targets))
    return torch.stack(losses).mean().item()


def train(model, optimizer, train_loader, val_loader, epochs, max_grad_norm):
    history = []
    for epoch in range(epochs):
        model.train(True)
        for batch, (inputs, targets) in enumerate(train_loader):
            for parameter in model.parameters():
                parameter.grad = None
            F.cross_entropy(model(inputs), targets).backward()
            grads = [p.grad for p in model.parameters() if p.grad is not None]
            norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
            if norm > max_grad_norm:
                for g in grads:
                    g.mul_(max_grad_norm / (norm + 1e-6))
            if batch % 5 == 0:
                charts.report(step=epoch * len(train_loader) + batch, grad_norm=float(norm))
            optimizer.step()
        history.append(validate(model, val_loader))
    return history


@torch.no_grad()
def predict(model, x):
    model.train(False)
    return model(x).max(dim=1).indices
