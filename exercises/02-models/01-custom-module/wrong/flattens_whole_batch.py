# must fail: output-shape, flatten-in-forward
"""Classic mistake: x.view(-1) flattens the whole batch into one vector, losing the batch dimension."""

from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        x = x.view(-1)
        return self.fc(x)
