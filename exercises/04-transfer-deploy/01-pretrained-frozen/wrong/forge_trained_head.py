# must fail: head-learns
"""Forgery: train_head unfreezes and trains the whole network, and the code hands back a state that holds
the checkpoint's backbone beside the head that training left.

The head learns on features that move under it, features the frozen model never gives. The trial's
`agent_train` runs in the student's process, so code there can wrap it and put the backbone's state
from before training back into the state it returns: the fingerprints then match the checkpoint, and
the loss measured on that state still falls by more than 10 %. When the check compared only those
outcomes, that passed. The driver now replays the
head's training on its own frozen backbone's features in eval mode, with the optimizer and settings
the student's code used, and the returned head is not the replay's: head-learns fails.
"""

import sys

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
    model.eval()
    model.requires_grad_(True)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


_probe = sys.modules.get("huashen_probe")
if _probe is not None:
    _real_train = _probe.agent_train

    def _forged_train(solution, images, labels, steps):
        model = _probe.MODEL[0]
        kept = {
            name: value.detach().clone()
            for name, value in model.state_dict().items()
            if not name.startswith("fc.")
        }
        answer = _real_train(solution, images, labels, steps)
        answer["state"].update(kept)
        return answer

    _probe.agent_train = _forged_train
