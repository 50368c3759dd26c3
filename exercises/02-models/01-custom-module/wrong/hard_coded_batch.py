# must fail: output-shape, flatten-in-forward
"""Classic mistake: the batch size of the training script (64) is written into forward."""

from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        x = x.view(64, 784)
        return self.fc(x)
