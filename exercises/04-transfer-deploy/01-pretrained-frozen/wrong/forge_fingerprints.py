# must fail: only-head-trainable, backbone-unchanged
"""Forgery: the backbone is never frozen, and the code patches what fingerprinted it in-process.

The in-process probe fingerprinted the trained backbone and counted trainable parameters beside the
student's code. This forgery wraps the kit's fingerprint() to fingerprint the untouched checkpoint
instead and patches torch.equal/allclose, in its own process. The driver fingerprints the state_dict it
receives, with its own kit: backbone-unchanged still fails, and only-head-trainable with it.
"""

import os

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


def _forge_fingerprints():
    import torch as _torch

    import exercises.kit.weights as _weights

    _original = _weights.fingerprint

    def _pretrained(state, names):
        pristine = _weights.load_state(_weights.checkpoint_path(os.environ["TORCH_HOME"]))
        return _original({n: pristine.get(n, state[n]) for n in names}, names)

    _weights.fingerprint = _pretrained
    _torch.equal = lambda a, b: True
    _torch.allclose = lambda *args, **kwargs: True


_forge_fingerprints()
