"""Reference solution for trial 2.3: the standard loop, clipping, and grad-norm reports."""

import torch
from torch import nn

try:
    from exercises.kit.report import report
except ImportError:  # outside the grader: print instead of charting

    def report(step=None, **metrics):
        print(step, metrics)


def train(model, optimizer, train_loader, val_loader, epochs, max_grad_norm):
    criterion = nn.CrossEntropyLoss()
    step = 0
    for epoch in range(epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            grad_norm = nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            optimizer.step()
            report(step=step, loss=loss.item(), grad_norm=grad_norm.item())
            step += 1

        model.eval()
        total_loss, correct, count = 0.0, 0, 0
        with torch.no_grad():
            for x, y in val_loader:
                scores = model(x)
                total_loss += criterion(scores, y).item() * len(y)
                correct += (scores.argmax(dim=1) == y).sum().item()
                count += len(y)
        report(step=step, val_loss=total_loss / count, val_accuracy=correct / count)
        print(
            f"epoch {epoch + 1}/{epochs}: val_loss {total_loss / count:.4f}, accuracy {correct / count:.3f}"
        )


def predict(model, x):
    model.eval()
    with torch.no_grad():
        return model(x).argmax(dim=1)
