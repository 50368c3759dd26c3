# must fail: logits
"""Classic mistake: forward returns softmax probabilities, although CrossEntropyLoss expects raw scores."""

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        return torch.softmax(self.fc(x), dim=1)
