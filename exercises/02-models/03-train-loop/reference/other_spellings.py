"""Another correct loop: model.zero_grad(), clipping by hand (the norm reported after clipping),
set_grad_enabled(False) for validation. The grader's replay uses clip_grad_norm_; the rounding differs
in the last bits, well inside its tolerance."""

import torch
from torch import nn

try:
    from exercises.kit.report import report
except ImportError:  # outside the grader: print instead of charting

    def report(step=None, **metrics):
        print(step, metrics)


def clip_by_hand(parameters, max_norm):
    """Scale every gradient down together when their total norm exceeds max_norm; the norm after."""
    grads = [p.grad for p in parameters if p.grad is not None]
    total = torch.sqrt(sum((g.detach() ** 2).sum() for g in grads))
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        for g in grads:
            g.mul_(scale)
        return total * scale
    return total


def train(model, optimizer, train_loader, val_loader, epochs, max_grad_norm):
    criterion = nn.CrossEntropyLoss()
    parameters = list(model.parameters())
    step = 0
    for _ in range(epochs):
        model.train()
        for x, y in train_loader:
            model.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            norm = clip_by_hand(parameters, max_grad_norm)
            optimizer.step()
            report(step=step, loss=loss.item(), grad_norm=norm.item())
            step += 1
        model.eval()
        correct = 0
        with torch.set_grad_enabled(False):
            for x, y in val_loader:
                correct += (model(x).argmax(dim=1) == y).sum().item()
        report(step=step, val_accuracy=correct / len(val_loader.dataset))


def predict(model, x):
    model.eval()
    with torch.set_grad_enabled(False):
        return model(x).argmax(dim=1)
